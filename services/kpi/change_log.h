// ChangeLog: kpi-service's change log as its readers see it. Every write
// appends its changes in the same transaction as the values (kpi_store.h);
// here they are read back: a KPI's history page by page (GetHistory), and
// the stream of every change after a sequence (WatchChanges), each actual's
// change with the figures it brings when asked.
//
// Those figures are what notification-service evaluates from: the region's
// new progress point, then the point of every region above it that is
// computed from its children, level by level up to the area (the rule
// decided once, by RegionTree), and the KPI's figures generation, so a
// follower patches the series it keeps and never calls back. A change
// followed by a baseline or target change comes without figures: they would
// fit no series the follower has.
//
// Reads run on one consistent snapshot of a reader connection and never wait
// for the writer. Thread-safe.
#ifndef SUISHIN_SERVICES_KPI_CHANGE_LOG_H_
#define SUISHIN_SERVICES_KPI_CHANGE_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/log_stream.h"
#include "services/kpi/figure_cache.h"
#include "services/kpi/kpi_store.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

class ChangeLog {
 public:
  // `store` and `cache` (which knows when baselines or targets last moved)
  // must outlive the log.
  ChangeLog(KpiStore* store, FigureCache* cache) : store_(store), cache_(cache) {}

  ChangeLog(const ChangeLog&) = delete;
  ChangeLog& operator=(const ChangeLog&) = delete;

  // One page of a KPI's history (of one region or year when the request
  // names it), oldest first. INVALID_ARGUMENT naming the field; NOT_FOUND
  // for an unknown KPI or a region it does not track.
  absl::Status GetHistory(const v1::GetHistoryRequest& request, v1::GetHistoryResponse* response);

  // Up to `limit` changes after sequence `after` (of one KPI when `kpi_id`
  // is not empty), and how far the read looked, for WatchChanges; with the
  // actuals' figures (Change.figures) when `with_figures`.
  absl::StatusOr<LogBatch<v1::Change>> ReadChanges(int64_t after, const std::string& kpi_id,
                                                   int limit, bool with_figures = false);

 private:
  // Sets the figures of the actuals' changes among `changes`, from the
  // snapshot `tx` reads (the changes' own).
  absl::Status AttachFigures(KpiTransaction& tx, std::vector<v1::Change>& changes);

  KpiStore* const store_;
  FigureCache* const cache_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_CHANGE_LOG_H_
