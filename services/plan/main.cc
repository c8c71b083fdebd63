// plan-service: regions, projects and initiatives, in its own SQLite file.
#include <string>

#include "absl/flags/flag.h"
#include "common/config.h"
#include "common/log.h"
#include "common/server.h"
#include "services/plan/plan_catalog.h"
#include "services/plan/plan_service.h"
#include "services/plan/sqlite_plan_store.h"

ABSL_FLAG(std::string, plan_listen, "127.0.0.1:50061",
          "host:port to serve gRPC on (port 0 picks one)");
ABSL_FLAG(std::string, plan_db, "plan.db", "path of plan-service's SQLite file");

int main(int argc, char** argv) {
  suishin::BlockTerminationSignals();
  suishin::InitFlags(argc, argv,
                     "plan-service: regions, projects and initiatives over gRPC.\n"
                     "Every flag may also be set as SUISHIN_<FLAG> in the environment.");
  suishin::SetLogService("plan-service");
  const std::string listen = absl::GetFlag(FLAGS_plan_listen);
  const std::string db = absl::GetFlag(FLAGS_plan_db);
  if (!suishin::ConfigurationIsValid({suishin::ValidateAddress("--plan_listen", listen)})) {
    return 2;
  }
  auto store = suishin::plan::SqlitePlanStore::Open(db);
  if (!store.ok()) {
    suishin::LogError("store_open_failed",
                      {{"path", db}, {"error", std::string(store.status().message())}});
    return 1;
  }
  suishin::plan::PlanCatalog catalog(store->get());
  suishin::plan::PlanServiceImpl service(&catalog);
  return suishin::ServeUntilTerminated(
      listen, {{suishin::plan::v1::PlanService::service_full_name(), &service}}, {{"db", db}});
}
