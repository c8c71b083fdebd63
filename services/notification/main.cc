// notification-service: follows kpi-service's changes, keeps lagging-KPI
// alerts, and delivers them to gRPC subscribers and signed webhooks.
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/channel.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/redis_client.h"
#include "common/server.h"
#include "services/notification/alert_book.h"
#include "services/notification/http_client.h"
#include "services/notification/kpi_follower.h"
#include "services/notification/notification_service.h"
#include "services/notification/sqlite_notification_store.h"
#include "services/notification/webhook_dispatcher.h"

ABSL_FLAG(std::string, notification_listen, "127.0.0.1:50063",
          "host:port to serve gRPC on (port 0 picks one)");
ABSL_FLAG(std::string, notification_db, "notification.db",
          "path of notification-service's SQLite file");
ABSL_FLAG(std::string, kpi_address, "127.0.0.1:50062", "kpi-service to follow");
ABSL_FLAG(int, kpi_timeout_ms, 5000, "deadline of each call to kpi-service");
ABSL_FLAG(std::string, redis_url, "redis://127.0.0.1:6379/0",
          "Redis for the active alerts per region; empty for none");
ABSL_FLAG(std::string, now, "",
          "evaluate as if it were this time (RFC 3339, e.g. 2020-01-01T00:00:00+09:00); "
          "empty for the real clock");
ABSL_FLAG(std::string, evaluation_interval, "1h",
          "how often every KPI is evaluated again (reporting deadlines pass by themselves)");
ABSL_FLAG(std::string, webhook_retry_delays, "5s,5m,30m,2h,5h,10h,10h",
          "delays before each retry of a failed webhook delivery");
ABSL_FLAG(int, webhook_timeout_ms, 5000, "how long a webhook endpoint may take to answer");

int main(int argc, char** argv) {
  suishin::BlockTerminationSignals();
  suishin::InitFlags(argc, argv,
                     "notification-service: lagging-KPI alerts over gRPC and webhooks.\n"
                     "Every flag may also be set as SUISHIN_<FLAG> in the environment.");
  suishin::SetLogService("notification-service");
  const std::string listen = absl::GetFlag(FLAGS_notification_listen);
  const std::string kpi_address = absl::GetFlag(FLAGS_kpi_address);
  const std::string redis_url = absl::GetFlag(FLAGS_redis_url);
  absl::Time fixed_now;
  std::string now_error;
  const bool fixed = !absl::GetFlag(FLAGS_now).empty();
  if (fixed &&
      !absl::ParseTime(absl::RFC3339_full, absl::GetFlag(FLAGS_now), &fixed_now, &now_error)) {
    now_error = absl::StrCat("--now=\"", absl::GetFlag(FLAGS_now),
                             "\" is not an RFC 3339 time: ", now_error);
  } else {
    now_error.clear();
  }
  absl::Duration interval;
  const bool interval_ok =
      absl::ParseDuration(absl::GetFlag(FLAGS_evaluation_interval), &interval) &&
      interval > absl::ZeroDuration();
  auto delays = suishin::notification::ParseRetryDelays("--webhook_retry_delays",
                                                        absl::GetFlag(FLAGS_webhook_retry_delays));
  if (!suishin::ConfigurationIsValid(
          {suishin::ValidateAddress("--notification_listen", listen),
           suishin::ValidateAddress("--kpi_address", kpi_address),
           redis_url.empty() ? absl::OkStatus() : suishin::ParseRedisUrl(redis_url).status(),
           now_error.empty() ? absl::OkStatus() : absl::InvalidArgumentError(now_error),
           interval_ok ? absl::OkStatus()
                       : absl::InvalidArgumentError(absl::StrCat(
                             "--evaluation_interval=\"", absl::GetFlag(FLAGS_evaluation_interval),
                             "\" is not a positive duration such as 1h")),
           delays.status(),
           absl::GetFlag(FLAGS_kpi_timeout_ms) > 0 && absl::GetFlag(FLAGS_webhook_timeout_ms) > 0
               ? absl::OkStatus()
               : absl::InvalidArgumentError("--kpi_timeout_ms and --webhook_timeout_ms must be "
                                            "positive")})) {
    return 2;
  }
  auto store =
      suishin::notification::SqliteNotificationStore::Open(absl::GetFlag(FLAGS_notification_db));
  if (!store.ok()) {
    suishin::LogError("store_open_failed", {{"path", absl::GetFlag(FLAGS_notification_db)},
                                            {"error", std::string(store.status().message())}});
    return 1;
  }
  std::unique_ptr<suishin::Clock> clock;
  if (fixed) {
    clock = std::make_unique<suishin::FixedClock>(fixed_now);
  } else {
    clock = std::make_unique<suishin::RealClock>();
  }
  std::unique_ptr<suishin::RedisClient> redis;
  if (!redis_url.empty()) {
    redis = std::make_unique<suishin::RedisClient>(*suishin::ParseRedisUrl(redis_url));
  }
  auto transport = suishin::notification::NewCurlTransport();
  suishin::notification::WebhookDispatcher::Options dispatch;
  dispatch.retry_delays = *delays;
  dispatch.timeout = absl::Milliseconds(absl::GetFlag(FLAGS_webhook_timeout_ms));
  // Deliveries run on real time even when --now pins the evaluation clock:
  // retries must come due.
  suishin::RealClock delivery_clock;
  suishin::notification::WebhookDispatcher dispatcher(store->get(), transport.get(),
                                                      &delivery_clock, dispatch);
  suishin::notification::KpiFollower* follower_ptr = nullptr;
  suishin::notification::AlertBook::Hooks hooks;
  hooks.outbox_added = [&dispatcher] { dispatcher.Wake(); };
  hooks.rules_changed = [&follower_ptr](const std::string& kpi_id) {
    if (follower_ptr != nullptr) follower_ptr->RequestEvaluation(kpi_id);
  };
  auto book = suishin::notification::AlertBook::Create(store->get(), clock.get(), redis.get(),
                                                       std::move(hooks));
  if (!book.ok()) {
    suishin::LogError("store_read_failed", {{"error", std::string(book.status().message())}});
    return 1;
  }
  auto kpi_stub = suishin::kpi::v1::KpiService::NewStub(suishin::MakeChannel(kpi_address));
  suishin::notification::KpiFollower::Options follow;
  follow.rpc_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_kpi_timeout_ms));
  follow.full_evaluation_interval = interval;
  suishin::notification::KpiFollower follower(kpi_stub.get(), book->get(), follow);
  follower_ptr = &follower;
  suishin::notification::NotificationServiceImpl service(book->get());
  dispatcher.Start();
  follower.Start();
  const int exit_code = suishin::ServeUntilTerminated(
      listen, {{suishin::notification::v1::NotificationService::service_full_name(), &service}},
      {{"db", absl::GetFlag(FLAGS_notification_db)},
       {"kpi_address", kpi_address},
       {"redis_url", redis_url},
       {"clock", fixed ? absl::GetFlag(FLAGS_now) : "real"}});
  follower.Stop();
  dispatcher.Stop();
  return exit_code;
}
