#include "services/kpi/open_kpi_store.h"

#include "common/postgres.h"
#include "services/kpi/postgres_kpi_store.h"
#include "services/kpi/sqlite_kpi_store.h"

namespace suishin::kpi {

absl::StatusOr<std::unique_ptr<KpiStore>> OpenKpiStore(const std::string& location) {
  if (IsPostgresUrl(location)) return PostgresKpiStore::Open(location);
  return SqliteKpiStore::Open(location);
}

}  // namespace suishin::kpi
