// KpiCatalog: the rules of kpi-service, one method per RPC (or per step,
// where an RPC must first ask plan-service).
//
// Each method validates every field (INVALID_ARGUMENT naming the field and the
// value), checks identities (NOT_FOUND, ALREADY_EXISTS) and writes through the
// store in one unit of work, so a refused request stores nothing.
// Thread-safe: the store serialises units of work.
#ifndef SUISHIN_SERVICES_KPI_KPI_CATALOG_H_
#define SUISHIN_SERVICES_KPI_KPI_CATALOG_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/kpi/kpi_store.h"
#include "services/kpi/plan_directory.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

class KpiCatalog {
 public:
  // `store` must outlive the catalog. `now` gives the time stamped on writes.
  explicit KpiCatalog(KpiStore* store, std::function<absl::Time()> now = absl::Now);

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

 private:
  KpiStore* store_;
  std::function<absl::Time()> now_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_CATALOG_H_
