// Opens plan-service's store from its --plan_db setting: a PostgreSQL
// database when the setting is a postgresql:// URL (several replicas can
// share it), otherwise the SQLite file at that path.
#ifndef SUISHIN_SERVICES_PLAN_OPEN_PLAN_STORE_H_
#define SUISHIN_SERVICES_PLAN_OPEN_PLAN_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/plan/plan_store.h"

namespace suishin::plan {

// `readers`: connections that serve reads side by side (at least 1).
absl::StatusOr<std::unique_ptr<PlanStore>> OpenPlanStore(const std::string& location,
                                                         int readers = 4);

}  // namespace suishin::plan

#endif  // SUISHIN_SERVICES_PLAN_OPEN_PLAN_STORE_H_
