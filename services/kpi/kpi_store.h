// Where kpi-service keeps its data.
//
// Like plan-service's store, a KpiStore runs units of work: a function given
// a KpiTransaction, committed whole when it returns OK and rolled back whole
// otherwise, serialised with every other unit. The rules live in KpiCatalog;
// the store only keeps and finds messages.
//
// This first version holds KPI definitions; baselines, targets, actuals and
// the change log come with the KPI service issue as further methods and
// schema migrations.
#ifndef SUISHIN_SERVICES_KPI_KPI_STORE_H_
#define SUISHIN_SERVICES_KPI_KPI_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
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

class KpiTransaction {
 public:
  virtual ~KpiTransaction() = default;

  // nullopt when there is no such KPI.
  virtual absl::StatusOr<std::optional<v1::Kpi>> FindKpi(absl::string_view id) = 0;
  // KPIs (of one project when `project_id` is not empty) with keys after
  // `after_key`, in key order, at most `limit`.
  virtual absl::StatusOr<std::vector<KeyedKpi>> ListKpis(absl::string_view project_id,
                                                         int64_t after_key, int limit) = 0;
  // Adds a KPI, or replaces the one with the same id (keeping its key).
  virtual absl::Status PutKpi(const v1::Kpi& kpi) = 0;
};

class KpiStore {
 public:
  virtual ~KpiStore() = default;

  // Runs `body` as one unit of work, all or nothing. Safe from several threads.
  virtual absl::Status Run(const std::function<absl::Status(KpiTransaction&)>& body) = 0;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_STORE_H_
