#include "services/plan/open_plan_store.h"

#include "common/postgres.h"
#include "services/plan/postgres_plan_store.h"
#include "services/plan/sqlite_plan_store.h"

namespace suishin::plan {

absl::StatusOr<std::unique_ptr<PlanStore>> OpenPlanStore(const std::string& location, int readers) {
  if (IsPostgresUrl(location)) return PostgresPlanStore::Open(location, readers);
  return SqlitePlanStore::Open(location, readers);
}

}  // namespace suishin::plan
