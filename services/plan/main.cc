// plan-service: regions, projects and initiatives, in its own SQLite file or
// PostgreSQL database.
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/audit.h"
#include "common/auth.h"
#include "common/config.h"
#include "common/log.h"
#include "common/postgres.h"
#include "common/server.h"
#include "common/tls.h"
#include "services/plan/open_plan_store.h"
#include "services/plan/plan_catalog.h"
#include "services/plan/plan_service.h"

ABSL_FLAG(std::string, plan_listen, "127.0.0.1:50061",
          "host:port to serve gRPC on (port 0 picks one)");
ABSL_FLAG(std::string, plan_db, "plan.db",
          "path of plan-service's SQLite file, or a postgresql:// URL of its PostgreSQL "
          "database (replicas may share one)");
ABSL_FLAG(int, plan_db_readers, 4, "database connections serving reads beside the writer");
ABSL_FLAG(int, import_plan_max_items, 10000,
          "regions, projects and initiatives one ImportPlan may carry together");

namespace {

// A flag that must be at least 1.
absl::Status ValidatePositive(const char* flag, int value) {
  if (value >= 1) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", flag, "=", value, " must be at least 1"));
}

}  // namespace

int main(int argc, char** argv) {
  suishin::BlockTerminationSignals();
  suishin::InitFlags(argc, argv,
                     "plan-service: regions, projects and initiatives over gRPC.\n"
                     "Every flag may also be set as SUISHIN_<FLAG> in the environment.");
  suishin::SetLogService("plan-service");
  const std::string listen = absl::GetFlag(FLAGS_plan_listen);
  const std::string db = absl::GetFlag(FLAGS_plan_db);
  const int readers = absl::GetFlag(FLAGS_plan_db_readers);
  const int import_max_items = absl::GetFlag(FLAGS_import_plan_max_items);
  if (!suishin::ConfigurationIsValid(
          {suishin::ValidateAddress("--plan_listen", listen),
           suishin::CheckListenAddress("--plan_listen", listen, suishin::ProcessTls(),
                                       suishin::ProcessAuth()),
           ValidatePositive("plan_db_readers", readers),
           ValidatePositive("import_plan_max_items", import_max_items)})) {
    return 2;
  }
  auto store = suishin::plan::OpenPlanStore(db, readers);
  if (!store.ok()) {
    suishin::LogError("store_open_failed", {{"store", suishin::StoreForLog(db)},
                                            {"error", std::string(store.status().message())}});
    return 1;
  }
  auto audit = suishin::OpenProcessAuditTrail(db);
  if (!audit.ok()) {
    suishin::LogError("audit_open_failed", {{"error", std::string(audit.status().message())}});
    return 1;
  }
  suishin::plan::PlanCatalog::Options options;
  options.import_max_items = import_max_items;
  suishin::plan::PlanCatalog catalog(store->get(), options);
  suishin::plan::PlanServiceImpl service(&catalog);
  return suishin::ServeUntilTerminated(
      listen, {{suishin::plan::v1::PlanService::service_full_name(), &service}},
      {{"db", suishin::StoreForLog(db)}});
}
