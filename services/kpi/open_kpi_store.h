// Opens kpi-service's store from its --kpi_db setting: a PostgreSQL database
// when the setting is a postgresql:// URL (several replicas can share it),
// otherwise the SQLite file at that path.
#ifndef SUISHIN_SERVICES_KPI_OPEN_KPI_STORE_H_
#define SUISHIN_SERVICES_KPI_OPEN_KPI_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/kpi/kpi_store.h"

namespace suishin::kpi {

absl::StatusOr<std::unique_ptr<KpiStore>> OpenKpiStore(const std::string& location);

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_OPEN_KPI_STORE_H_
