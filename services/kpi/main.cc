// kpi-service: KPIs of the projects plan-service keeps, in its own SQLite file.
#include <string>

#include "absl/flags/flag.h"
#include "common/channel.h"
#include "common/config.h"
#include "common/log.h"
#include "common/redis_client.h"
#include "common/server.h"
#include "services/kpi/kpi_catalog.h"
#include "services/kpi/kpi_service.h"
#include "services/kpi/plan_directory.h"
#include "services/kpi/sqlite_kpi_store.h"

ABSL_FLAG(std::string, kpi_listen, "127.0.0.1:50062",
          "host:port to serve gRPC on (port 0 picks one)");
ABSL_FLAG(std::string, kpi_db, "kpi.db", "path of kpi-service's SQLite file");
ABSL_FLAG(std::string, plan_address, "127.0.0.1:50061", "plan-service to check projects with");
ABSL_FLAG(int, plan_timeout_ms, 2000, "deadline of each call to plan-service");
ABSL_FLAG(std::string, redis_url, "redis://127.0.0.1:6379/0", "Redis for cached figures");

int main(int argc, char** argv) {
  suishin::BlockTerminationSignals();
  suishin::InitFlags(argc, argv,
                     "kpi-service: KPIs, baselines, targets, actuals and progress over gRPC.\n"
                     "Every flag may also be set as SUISHIN_<FLAG> in the environment.");
  suishin::SetLogService("kpi-service");
  const std::string listen = absl::GetFlag(FLAGS_kpi_listen);
  const std::string plan_address = absl::GetFlag(FLAGS_plan_address);
  if (!suishin::ConfigurationIsValid(
          {suishin::ValidateAddress("--kpi_listen", listen),
           suishin::ValidateAddress("--plan_address", plan_address),
           suishin::ParseRedisUrl(absl::GetFlag(FLAGS_redis_url)).status(),
           absl::GetFlag(FLAGS_plan_timeout_ms) > 0
               ? absl::OkStatus()
               : absl::InvalidArgumentError("--plan_timeout_ms must be positive")})) {
    return 2;
  }
  auto store = suishin::kpi::SqliteKpiStore::Open(absl::GetFlag(FLAGS_kpi_db));
  if (!store.ok()) {
    suishin::LogError("store_open_failed", {{"path", absl::GetFlag(FLAGS_kpi_db)},
                                            {"error", std::string(store.status().message())}});
    return 1;
  }
  auto plans =
      suishin::kpi::NewGrpcPlanDirectory(suishin::MakeChannel(plan_address), plan_address,
                                         absl::Milliseconds(absl::GetFlag(FLAGS_plan_timeout_ms)));
  suishin::kpi::KpiCatalog catalog(store->get());
  suishin::kpi::KpiServiceImpl service(&catalog, plans.get());
  return suishin::ServeUntilTerminated(
      listen, {{suishin::kpi::v1::KpiService::service_full_name(), &service}},
      {{"db", absl::GetFlag(FLAGS_kpi_db)}, {"plan_address", plan_address}});
}
