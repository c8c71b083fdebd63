// plan-service: regions, projects and initiatives, in its own SQLite file.
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/log.h"
#include "common/server.h"
#include "services/plan/plan_catalog.h"
#include "services/plan/plan_service.h"
#include "services/plan/sqlite_plan_store.h"

ABSL_FLAG(std::string, plan_listen, "127.0.0.1:50061",
          "host:port to serve gRPC on (port 0 picks one)");
ABSL_FLAG(std::string, plan_db, "plan.db", "path of plan-service's SQLite file");
ABSL_FLAG(std::string, port_file, "", "when set, write the bound port to this file");
ABSL_FLAG(int, shutdown_grace_ms, 5000, "how long running calls may finish after SIGTERM");

int main(int argc, char** argv) {
  suishin::BlockTerminationSignals();
  suishin::InitFlags(argc, argv,
                     "plan-service: regions, projects and initiatives over gRPC.\n"
                     "Every flag may also be set as SUISHIN_<FLAG> in the environment.");
  suishin::SetLogService("plan-service");
  const std::string listen = absl::GetFlag(FLAGS_plan_listen);
  if (auto status = suishin::ValidateAddress("--plan_listen", listen); !status.ok()) {
    suishin::LogError("bad_config", {{"error", std::string(status.message())}});
    return 2;
  }
  auto store = suishin::plan::SqlitePlanStore::Open(absl::GetFlag(FLAGS_plan_db));
  if (!store.ok()) {
    suishin::LogError("store_open_failed", {{"path", absl::GetFlag(FLAGS_plan_db)},
                                            {"error", std::string(store.status().message())}});
    return 1;
  }
  suishin::plan::PlanCatalog catalog(store->get());
  suishin::plan::PlanServiceImpl service(&catalog);
  auto host = suishin::ServiceHost::Start(
      listen, {{suishin::plan::v1::PlanService::service_full_name(), &service}});
  if (!host.ok()) {
    suishin::LogError("listen_failed", {{"error", std::string(host.status().message())}});
    return 1;
  }
  if (auto status = suishin::WritePortFile(absl::GetFlag(FLAGS_port_file), (*host)->port());
      !status.ok()) {
    suishin::LogError("port_file_failed", {{"error", std::string(status.message())}});
    return 1;
  }
  suishin::LogInfo("listening",
                   {{"address", (*host)->address()}, {"db", absl::GetFlag(FLAGS_plan_db)}});
  const int signal_number = suishin::WaitForTerminationSignal();
  suishin::LogInfo("shutting_down", {{"signal", absl::StrCat(signal_number)}});
  (*host)->Shutdown(absl::Milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms)));
  suishin::LogInfo("stopped");
  return 0;
}
