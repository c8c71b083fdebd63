// notification-service: lagging-KPI alerts, subscriptions and webhooks.
// For now it serves its API (answering UNIMPLEMENTED), health and reflection.
#include <string>

#include "absl/flags/flag.h"
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

int main(int argc, char** argv) {
  suishin::BlockTerminationSignals();
  suishin::InitFlags(argc, argv,
                     "notification-service: lagging-KPI alerts over gRPC and webhooks.\n"
                     "Every flag may also be set as SUISHIN_<FLAG> in the environment.");
  suishin::SetLogService("notification-service");
  const std::string listen = absl::GetFlag(FLAGS_notification_listen);
  if (!suishin::ConfigurationIsValid(
          {suishin::ValidateAddress("--notification_listen", listen),
           suishin::ValidateAddress("--kpi_address", absl::GetFlag(FLAGS_kpi_address)),
           suishin::ParseRedisUrl(absl::GetFlag(FLAGS_redis_url)).status()})) {
    return 2;
  }
  suishin::notification::NotificationServiceImpl service;
  return suishin::ServeUntilTerminated(
      listen, {{suishin::notification::v1::NotificationService::service_full_name(), &service}},
      {{"kpi_address", absl::GetFlag(FLAGS_kpi_address)}});
}
