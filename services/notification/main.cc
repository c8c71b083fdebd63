// notification-service: lagging-KPI alerts, subscriptions and webhooks.
// For now it serves its API (answering UNIMPLEMENTED), health and reflection.
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/log.h"
#include "common/redis_client.h"
#include "common/server.h"
#include "services/notification/notification_service.h"

ABSL_FLAG(std::string, notification_listen, "127.0.0.1:50063",
          "host:port to serve gRPC on (port 0 picks one)");
ABSL_FLAG(std::string, notification_db, "notification.db",
          "path of notification-service's SQLite file");
ABSL_FLAG(std::string, kpi_address, "127.0.0.1:50062", "kpi-service to follow");
ABSL_FLAG(std::string, redis_url, "redis://127.0.0.1:6379/0", "Redis for active alerts");
ABSL_FLAG(std::string, port_file, "", "when set, write the bound port to this file");
ABSL_FLAG(int, shutdown_grace_ms, 5000, "how long running calls may finish after SIGTERM");

int main(int argc, char** argv) {
  suishin::BlockTerminationSignals();
  suishin::InitFlags(argc, argv,
                     "notification-service: lagging-KPI alerts over gRPC and webhooks.\n"
                     "Every flag may also be set as SUISHIN_<FLAG> in the environment.");
  suishin::SetLogService("notification-service");
  const std::string listen = absl::GetFlag(FLAGS_notification_listen);
  for (auto status : {suishin::ValidateAddress("--notification_listen", listen),
                      suishin::ValidateAddress("--kpi_address", absl::GetFlag(FLAGS_kpi_address)),
                      suishin::ParseRedisUrl(absl::GetFlag(FLAGS_redis_url)).status()}) {
    if (!status.ok()) {
      suishin::LogError("bad_config", {{"error", std::string(status.message())}});
      return 2;
    }
  }
  suishin::notification::NotificationServiceImpl service;
  auto host = suishin::ServiceHost::Start(
      listen, {{suishin::notification::v1::NotificationService::service_full_name(), &service}});
  if (!host.ok()) {
    suishin::LogError("listen_failed", {{"error", std::string(host.status().message())}});
    return 1;
  }
  if (auto status = suishin::WritePortFile(absl::GetFlag(FLAGS_port_file), (*host)->port());
      !status.ok()) {
    suishin::LogError("port_file_failed", {{"error", std::string(status.message())}});
    return 1;
  }
  suishin::LogInfo("listening", {{"address", (*host)->address()}});
  const int signal_number = suishin::WaitForTerminationSignal();
  suishin::LogInfo("shutting_down", {{"signal", absl::StrCat(signal_number)}});
  (*host)->Shutdown(absl::Milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms)));
  suishin::LogInfo("stopped");
  return 0;
}
