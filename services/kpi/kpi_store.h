// Where kpi-service keeps its data: KPI definitions, baselines, targets with
// their revisions, yearly actuals, and the ordered change log.
//
// Like plan-service's store, a KpiStore runs units of work: a function given
// a KpiTransaction, committed whole when it returns OK and rolled back whole
// otherwise, serialised with every other unit. The rules live in KpiCatalog;
// the store only keeps and finds records. Every write to a KPI's values goes
// with an AppendChange in the same unit, so the change log and the data can
// never disagree, and a change's sequence is durable once Run returns.
#ifndef SUISHIN_SERVICES_KPI_KPI_STORE_H_
#define SUISHIN_SERVICES_KPI_KPI_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

// A stored KPI with the key that orders it (insertion order).
struct KeyedKpi {
  int64_t key;
  v1::Kpi kpi;
};

// Which changes to read.
struct ChangeQuery {
  // Only sequences at or after this.
  int64_t from_sequence = 1;
  // When not empty, only this KPI; then only this region; then only this year.
  std::string kpi_id;
  std::string region_id;
  int fiscal_year = 0;
  int limit = 1000;
};

class KpiTransaction {
 public:
  virtual ~KpiTransaction() = default;

  // ---- Definitions ----
  // nullopt when there is no such KPI.
  virtual absl::StatusOr<std::optional<v1::Kpi>> FindKpi(absl::string_view id) = 0;
  // KPIs (of one project when `project_id` is not empty) with keys after
  // `after_key`, in key order, at most `limit`.
  virtual absl::StatusOr<std::vector<KeyedKpi>> ListKpis(absl::string_view project_id,
                                                         int64_t after_key, int limit) = 0;
  // Adds a KPI, or replaces the one with the same id (keeping its key).
  virtual absl::Status PutKpi(const v1::Kpi& kpi) = 0;

  // ---- Baselines and targets: at most one of each per KPI and region ----
  virtual absl::StatusOr<std::vector<v1::Baseline>> Baselines(absl::string_view kpi_id) = 0;
  virtual absl::Status PutBaseline(absl::string_view kpi_id, const v1::Baseline& baseline) = 0;
  virtual absl::StatusOr<std::vector<v1::Target>> Targets(absl::string_view kpi_id) = 0;
  virtual absl::Status PutTarget(absl::string_view kpi_id, const v1::Target& target) = 0;

  // ---- Actuals: at most one per KPI, region and fiscal year ----
  virtual absl::StatusOr<std::optional<v1::Actual>> FindActual(absl::string_view kpi_id,
                                                               absl::string_view region_id,
                                                               int fiscal_year) = 0;
  // Actuals of a KPI (in one region when `region_id` is not empty), ordered
  // by region and year.
  virtual absl::StatusOr<std::vector<v1::Actual>> Actuals(absl::string_view kpi_id,
                                                          absl::string_view region_id) = 0;
  // Adds an actual, or replaces the one for the same KPI, region and year.
  virtual absl::Status PutActual(const v1::Actual& actual) = 0;
  // Adds an actual if there is none for its KPI, region and year: true when
  // added, false (storing nothing) when one is there.
  virtual absl::StatusOr<bool> InsertActualIfAbsent(const v1::Actual& actual) = 0;

  // ---- The change log ----
  // Appends `change` (its sequence must be unset) and returns the sequence
  // it got: the next after the last, without gaps. `change` is borrowed
  // while it is written and left as it was.
  virtual absl::StatusOr<int64_t> AppendChange(v1::Change& change) = 0;
  // Changes matching `query`, in sequence order.
  virtual absl::StatusOr<std::vector<v1::Change>> Changes(const ChangeQuery& query) = 0;
  // The last sequence of each KPI: its cache generation.
  virtual absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> LastSequences() = 0;
};

class KpiStore {
 public:
  virtual ~KpiStore() = default;

  // Runs `body` as one unit of work, all or nothing. Safe from several threads.
  virtual absl::Status Run(const std::function<absl::Status(KpiTransaction&)>& body) = 0;

  // Runs `body`, which only reads, on a consistent snapshot of everything
  // committed when it starts. It never waits for a unit of work in progress:
  // a long import (whose unit of work stays open while the client sends rows)
  // must not hold up the readers on gRPC's threads, or the import's own
  // reads of the client stream could find no thread to run on.
  virtual absl::Status Read(const std::function<absl::Status(KpiTransaction&)>& body) = 0;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_STORE_H_
