// KpiCatalog: the rules of kpi-service, one method per RPC (or per step,
// where an RPC must first ask plan-service).
//
// Writes validate every field (INVALID_ARGUMENT naming the field and the
// value), check identities (NOT_FOUND, ALREADY_EXISTS), and store the value
// together with a change-log entry in one unit of work, so a refused request
// stores nothing and every accepted change has a sequence. After the commit a
// write bumps the KPI's cache generation and wakes WatchChanges streams,
// before it returns.
//
// Reads compute progress (progress.h) from one consistent snapshot of a
// KPI's data and keep the result in the FigureCache.
//
// Thread-safe: the store serialises units of work; the cache and feed are
// thread-safe.
#ifndef SUISHIN_SERVICES_KPI_KPI_CATALOG_H_
#define SUISHIN_SERVICES_KPI_KPI_CATALOG_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sequence_feed.h"
#include "services/kpi/figure_cache.h"
#include "services/kpi/kpi_store.h"
#include "services/kpi/plan_directory.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

class KpiCatalog {
 public:
  // Reads the change log's last sequences into `cache` and `feed`. `store`,
  // `cache` and `feed` must outlive the catalog. `now` stamps writes.
  static absl::StatusOr<std::unique_ptr<KpiCatalog>> Create(
      KpiStore* store, FigureCache* cache, SequenceFeed* feed,
      std::function<absl::Time()> now = absl::Now);

  KpiCatalog(const KpiCatalog&) = delete;
  KpiCatalog& operator=(const KpiCatalog&) = delete;

  // CreateKpi, step 1: the request's fields alone, with defaults filled in
  // (direction INCREASE; aggregation SUM for counts and amounts, REPORTED for
  // percentages; progress method by direction). Returns the KPI to create.
  absl::StatusOr<v1::Kpi> PrepareKpi(const v1::CreateKpiRequest& request) const;

  // CreateKpi, step 2, once plan-service has answered for the KPI's project:
  // the area must be the project's (filled in when empty) and every region
  // within it; then the KPI is stored.
  absl::Status CreateKpi(v1::Kpi kpi, const ProjectScope& scope, v1::CreateKpiResponse* response);

  absl::Status GetKpi(const v1::GetKpiRequest& request, v1::GetKpiResponse* response);
  absl::Status ListKpis(const v1::ListKpisRequest& request, v1::ListKpisResponse* response);

  absl::Status SetBaseline(const v1::SetBaselineRequest& request,
                           v1::SetBaselineResponse* response);
  absl::Status ReviseTarget(const v1::ReviseTargetRequest& request,
                            v1::ReviseTargetResponse* response);
  absl::Status RecordActual(const v1::RecordActualRequest& request,
                            v1::RecordActualResponse* response);
  // Where ImportRows reads its rows from, batch by batch, while it applies
  // them; a client stream or a vector.
  class RowSource {
   public:
    virtual ~RowSource() = default;
    // Fills `batch` with the next rows and returns true, or returns false at
    // the end. May block until rows arrive.
    virtual bool Next(std::vector<v1::ImportRow>* batch) = 0;
    // True when the client gave up: nothing must be stored.
    virtual bool Cancelled() = 0;
  };

  // Applies every row of `source` in one unit of work, or none: then
  // INVALID_ARGUMENT and `response` lists every bad row (or CANCELLED).
  // Runs for as long as the source keeps sending: call it off the gRPC
  // threads.
  absl::Status ImportRows(RowSource& source, v1::ImportActualsResponse* response);
  absl::Status ImportRows(const std::vector<v1::ImportRow>& rows,
                          v1::ImportActualsResponse* response);

  absl::Status GetProgress(const v1::GetProgressRequest& request,
                           v1::GetProgressResponse* response);
  absl::Status GetAggregate(const v1::GetAggregateRequest& request,
                            v1::GetAggregateResponse* response);
  absl::Status GetKpiTable(const v1::GetKpiTableRequest& request,
                           v1::GetKpiTableResponse* response);
  absl::Status GetHistory(const v1::GetHistoryRequest& request, v1::GetHistoryResponse* response);

  // Up to `limit` changes from `from_sequence` on (of one KPI when `kpi_id`
  // is not empty), for WatchChanges.
  absl::StatusOr<std::vector<v1::Change>> ReadChanges(int64_t from_sequence,
                                                      const std::string& kpi_id, int limit);

  SequenceFeed& feed() { return *feed_; }

 private:
  KpiCatalog(KpiStore* store, FigureCache* cache, SequenceFeed* feed,
             std::function<absl::Time()> now);

  // After a commit: the cache generation and the feed learn of `changes`.
  void Published(const std::vector<std::pair<std::string, int64_t>>& changes);

  KpiStore* store_;
  FigureCache* cache_;
  SequenceFeed* feed_;
  std::function<absl::Time()> now_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_CATALOG_H_
