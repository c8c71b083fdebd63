// notification-service: follows kpi-service's changes, keeps lagging-KPI
// alerts, and delivers them to gRPC subscribers and signed webhooks. Its
// store is a SQLite file or a PostgreSQL database (OpenNotificationStore).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/audit.h"
#include "common/auth.h"
#include "common/channel.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/postgres.h"
#include "common/redis_client.h"
#include "common/server.h"
#include "common/tls.h"
#include "common/work_signal.h"
#include "services/notification/alert_book.h"
#include "services/notification/event_sync.h"
#include "services/notification/http_client.h"
#include "services/notification/kpi_follower.h"
#include "services/notification/leader_lease.h"
#include "services/notification/notification_service.h"
#include "services/notification/open_notification_store.h"
#include "services/notification/secret_sealer.h"
#include "services/notification/set_aside_kpis.h"
#include "services/notification/webhook_circuits.h"
#include "services/notification/webhook_dispatcher.h"

ABSL_FLAG(std::string, notification_listen, "127.0.0.1:50063",
          "host:port to serve gRPC on (port 0 picks one)");
ABSL_FLAG(std::string, notification_db, "notification.db",
          "path of notification-service's SQLite file, or a postgresql:// URL of its "
          "PostgreSQL database (replicas may share one)");
ABSL_FLAG(std::string, kpi_address, "127.0.0.1:50062", "kpi-service to follow");
ABSL_FLAG(int, kpi_timeout_ms, 5000, "deadline of each call to kpi-service");
ABSL_FLAG(std::string, redis_url, "redis://127.0.0.1:6379/0",
          "Redis for the active alerts per region; empty for none");
ABSL_FLAG(std::string, redis_key_prefix, "suishin",
          "what every Redis key of this installation starts with (before a ':'), so "
          "installations can share one Redis");
ABSL_FLAG(std::string, now, "",
          "evaluate as if it were this time (RFC 3339, e.g. 2020-01-01T00:00:00+09:00); "
          "empty for the real clock");
ABSL_FLAG(std::string, evaluation_interval, "1h",
          "how often every KPI is evaluated again (reporting deadlines pass by themselves)");
ABSL_FLAG(std::string, webhook_retry_delays, "5s,5m,30m,2h,5h,10h,10h",
          "delays before each retry of a failed webhook delivery");
ABSL_FLAG(int, webhook_timeout_ms, 5000, "how long a webhook endpoint may take to answer");
ABSL_FLAG(int, leader_lease_ms, 5000,
          "with a PostgreSQL store: how long the leader's lease runs unrenewed (a standby takes "
          "over within about 4/3 of it after the leader dies)");
ABSL_FLAG(int, replica_poll_ms, 500,
          "with a PostgreSQL store: how often to look for other replicas' events when no "
          "notification comes");
ABSL_FLAG(int, webhook_workers, 4,
          "webhook deliveries in flight at once (to different endpoints; one per endpoint)");
ABSL_FLAG(int, webhook_circuit_failures, 5,
          "failed deliveries in a row after which an endpoint's circuit opens");
ABSL_FLAG(std::string, webhook_circuit_delay, "1s",
          "how long an endpoint's circuit first stays open before one probe; doubles each time");
ABSL_FLAG(std::string, webhook_circuit_max_delay, "5m",
          "the longest an endpoint's circuit stays open before the next probe");
ABSL_FLAG(std::string, set_aside_delay, "1s",
          "how long a KPI whose evaluation failed is set aside before it is tried again; doubles "
          "with each failure in a row");
ABSL_FLAG(std::string, set_aside_max_delay, "10m",
          "the longest a KPI whose evaluation keeps failing waits before it is tried again");
ABSL_FLAG(int, notification_db_readers, 4,
          "read-only database connections serving reads and streams beside the writer");
ABSL_FLAG(int, max_rule_overrides, 1000, "per-KPI rule overrides that may be stored");
ABSL_FLAG(int, max_silences, 1000, "silences that may be live (not expired, not ended) at once");
ABSL_FLAG(int, max_webhooks, 100, "webhooks that may be registered");
ABSL_FLAG(int, max_webhook_url_chars, 2000, "characters of a webhook URL");
ABSL_FLAG(std::string, webhook_secret_key_file, "",
          "the key webhook secrets are sealed with in the database (base64 of 32 bytes, made "
          "on first start when the file does not exist); empty: <notification_db>.secret-key, "
          "or for a postgresql:// URL <database name>.secret-key in the working directory");
ABSL_FLAG(std::string, webhook_allow_targets, "",
          "comma-separated IP addresses, ranges (10.20.0.0/16) and host names webhooks may reach "
          "although they are not public (loopback, private, link-local, ...); empty: public "
          "addresses only");

namespace {

// A flag that must be at least 1.
absl::Status ValidatePositive(const char* flag, int value) {
  if (value >= 1) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", flag, "=", value, " must be at least 1"));
}

// A flag holding a positive duration ("1s", "10m").
absl::Status ParsePositiveDuration(const char* flag, const std::string& text, absl::Duration* out) {
  if (absl::ParseDuration(text, out) && *out > absl::ZeroDuration()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, "=\"", text, "\" is not a positive duration such as 1s or 10m"));
}

}  // namespace

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
  suishin::notification::WebhookCircuits::Options circuits;
  circuits.failures_to_open = absl::GetFlag(FLAGS_webhook_circuit_failures);
  suishin::notification::SetAsideKpis::Options set_aside;
  const int readers = absl::GetFlag(FLAGS_notification_db_readers);
  suishin::notification::AlertBook::Options book_options;
  book_options.rules.max_rule_overrides = absl::GetFlag(FLAGS_max_rule_overrides);
  book_options.silences.max_silences = absl::GetFlag(FLAGS_max_silences);
  book_options.webhooks.max_webhooks = absl::GetFlag(FLAGS_max_webhooks);
  book_options.webhooks.max_url_chars = absl::GetFlag(FLAGS_max_webhook_url_chars);
  absl::StatusOr<suishin::notification::TargetPolicy> targets =
      suishin::notification::TargetPolicy::Parse(absl::GetFlag(FLAGS_webhook_allow_targets));
  if (targets.ok()) book_options.webhooks.targets = *targets;
  if (!suishin::ConfigurationIsValid(
          {suishin::ValidateAddress("--notification_listen", listen),
           suishin::CheckListenAddress("--notification_listen", listen, suishin::ProcessTls(),
                                       suishin::ProcessAuth()),
           suishin::ValidateAddress("--kpi_address", kpi_address),
           redis_url.empty() ? absl::OkStatus() : suishin::ParseRedisUrl(redis_url).status(),
           suishin::ValidateRedisKeyPrefix(absl::GetFlag(FLAGS_redis_key_prefix)),
           now_error.empty() ? absl::OkStatus() : absl::InvalidArgumentError(now_error),
           interval_ok ? absl::OkStatus()
                       : absl::InvalidArgumentError(absl::StrCat(
                             "--evaluation_interval=\"", absl::GetFlag(FLAGS_evaluation_interval),
                             "\" is not a positive duration such as 1h")),
           delays.status(),
           absl::GetFlag(FLAGS_kpi_timeout_ms) > 0 && absl::GetFlag(FLAGS_webhook_timeout_ms) > 0
               ? absl::OkStatus()
               : absl::InvalidArgumentError("--kpi_timeout_ms and --webhook_timeout_ms must be "
                                            "positive"),
           ValidatePositive("webhook_workers", absl::GetFlag(FLAGS_webhook_workers)),
           ValidatePositive("webhook_circuit_failures", circuits.failures_to_open),
           ParsePositiveDuration("webhook_circuit_delay",
                                 absl::GetFlag(FLAGS_webhook_circuit_delay), &circuits.base_delay),
           ParsePositiveDuration("webhook_circuit_max_delay",
                                 absl::GetFlag(FLAGS_webhook_circuit_max_delay),
                                 &circuits.max_delay),
           ParsePositiveDuration("set_aside_delay", absl::GetFlag(FLAGS_set_aside_delay),
                                 &set_aside.base_delay),
           ParsePositiveDuration("set_aside_max_delay", absl::GetFlag(FLAGS_set_aside_max_delay),
                                 &set_aside.max_delay),
           ValidatePositive("notification_db_readers", readers),
           ValidatePositive("leader_lease_ms", absl::GetFlag(FLAGS_leader_lease_ms)),
           ValidatePositive("replica_poll_ms", absl::GetFlag(FLAGS_replica_poll_ms)),
           ValidatePositive("max_rule_overrides", book_options.rules.max_rule_overrides),
           ValidatePositive("max_silences", book_options.silences.max_silences),
           ValidatePositive("max_webhooks", book_options.webhooks.max_webhooks),
           ValidatePositive("max_webhook_url_chars", book_options.webhooks.max_url_chars),
           targets.status()})) {
    return 2;
  }
  const std::string db = absl::GetFlag(FLAGS_notification_db);
  std::string key_file = absl::GetFlag(FLAGS_webhook_secret_key_file);
  if (key_file.empty()) key_file = suishin::LocalFileFor(db, ".secret-key");
  auto sealer = suishin::notification::SecretSealer::LoadOrCreate(key_file);
  if (!sealer.ok()) {
    suishin::LogError("bad_config", {{"error", std::string(sealer.status().message())}});
    return 2;
  }
  auto store = suishin::notification::OpenNotificationStore(db, *std::move(sealer), readers);
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
  std::unique_ptr<suishin::Clock> clock;
  if (fixed) {
    clock = std::make_unique<suishin::FixedClock>(fixed_now);
  } else {
    clock = std::make_unique<suishin::RealClock>();
  }
  std::unique_ptr<suishin::RedisClient> redis;
  if (!redis_url.empty()) {
    suishin::RedisOptions redis_options = *suishin::ParseRedisUrl(redis_url);
    redis_options.key_prefix = absl::GetFlag(FLAGS_redis_key_prefix);
    redis = std::make_unique<suishin::RedisClient>(std::move(redis_options));
  }
  auto transport = suishin::notification::NewCurlTransport(book_options.webhooks.targets);
  // The wiring, in one pass: each part is made after what it uses. The
  // book's writer raises the two signals after the commits that concern
  // them; the dispatcher and the follower, made after it, wait on them.
  suishin::WorkSignal outbox_added;
  suishin::WorkSignal evaluate_again;
  auto book = suishin::notification::AlertBook::Create(
      store->get(), clock.get(), redis.get(), {&outbox_added, &evaluate_again}, book_options);
  if (!book.ok()) {
    suishin::LogError("store_read_failed", {{"error", std::string(book.status().message())}});
    return 1;
  }
  suishin::notification::AlertBook* const book_ptr = book->get();
  suishin::notification::WebhookDispatcher::Options dispatch;
  dispatch.retry_delays = *delays;
  dispatch.timeout = absl::Milliseconds(absl::GetFlag(FLAGS_webhook_timeout_ms));
  dispatch.workers = absl::GetFlag(FLAGS_webhook_workers);
  dispatch.circuits = circuits;
  // Deliveries run on real time even when --now pins the evaluation clock:
  // retries must come due.
  suishin::RealClock delivery_clock;
  suishin::notification::WebhookDispatcher dispatcher(
      store->get(),
      [book_ptr](suishin::notification::NotificationStore::Body body) {
        return book_ptr->writer().Write(std::move(body));
      },
      &outbox_added, transport.get(), &delivery_clock, dispatch);
  // The stream follows kpi-service on a channel with keepalive (MakeChannel):
  // a half-open connection ends the stream, which resumes from the cursor.
  auto kpi_stub = suishin::kpi::v1::KpiService::NewStub(suishin::MakeChannel(kpi_address));
  suishin::notification::KpiFollower::Options follow;
  follow.rpc_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_kpi_timeout_ms));
  follow.full_evaluation_interval = interval;
  follow.set_aside = set_aside;
  suishin::notification::KpiFollower follower(kpi_stub.get(), book_ptr, &evaluate_again, follow);
  suishin::notification::NotificationServiceImpl service(book_ptr,
                                                         {&follower, &dispatcher.circuits()});
  // Replicas on one PostgreSQL: every one serves reads and streams (its feed
  // kept in step by EventSync); the lease's holder alone evaluates and
  // delivers. One process alone leads from the start.
  std::unique_ptr<suishin::notification::EventSync> events;
  std::unique_ptr<suishin::notification::LeaderLease> lease;
  std::atomic<bool> lost_lead{false};
  if ((*store)->Shared()) {
    suishin::notification::EventSync::Options sync_options;
    sync_options.poll_interval = absl::Milliseconds(absl::GetFlag(FLAGS_replica_poll_ms));
    events = std::make_unique<suishin::notification::EventSync>(
        store->get(), &book_ptr->events().feed(), &evaluate_again, book_ptr->events().feed().last(),
        sync_options);
    suishin::notification::LeaderLease::Options lease_options;
    lease_options.holder = suishin::notification::DefaultLeaseHolder();
    lease_options.ttl = absl::Milliseconds(absl::GetFlag(FLAGS_leader_lease_ms));
    lease = std::make_unique<suishin::notification::LeaderLease>(
        store->get(), lease_options,
        [&] {
          dispatcher.Start();
          follower.Start();
        },
        [&] {
          // Stop, to come back as a standby (the unit or pod restarts it).
          lost_lead = true;
          kill(getpid(), SIGTERM);
        });
    book_ptr->writer().set_replicas({lease.get(), events.get()});
    events->Start();
    lease->Start();
  } else {
    dispatcher.Start();
    follower.Start();
  }
  // Read when Prometheus scrapes (served from ServeUntilTerminated, stopped
  // before these go).
  prometheus::Gauge& evaluated = suishin::ProcessGauge("suishin_follower_evaluated_through",
                                                       "the last kpi-service change evaluated");
  prometheus::Gauge& lag = suishin::ProcessGauge(
      "suishin_follower_lag_changes", "changes received from kpi-service and not yet evaluated");
  prometheus::Gauge& outbox =
      suishin::ProcessGauge("suishin_outbox_depth", "webhook deliveries waiting in the outbox");
  prometheus::Gauge& dead =
      suishin::ProcessGauge("suishin_dead_letters", "webhook deliveries given up on, kept");
  prometheus::Gauge& leading = suishin::ProcessGauge(
      "suishin_leader", "1 while this replica evaluates and delivers (holds the lease)");
  suishin::Metrics::Process().OnScrape([&] {
    // evaluated_through() is the next to evaluate.
    const int64_t through = std::max<int64_t>(follower.evaluated_through() - 1, 0);
    evaluated.Set(static_cast<double>(through));
    lag.Set(static_cast<double>(std::max<int64_t>(follower.received_through() - through, 0)));
    leading.Set(lease == nullptr || lease->token() > 0 ? 1 : 0);
    (void)(*store)->Read([&](suishin::notification::NotificationTransaction& tx) -> absl::Status {
      absl::StatusOr<int64_t> waiting = tx.CountDeliveries();
      absl::StatusOr<int64_t> letters = tx.CountDeadLetters();
      if (waiting.ok()) outbox.Set(static_cast<double>(*waiting));
      if (letters.ok()) dead.Set(static_cast<double>(*letters));
      return absl::OkStatus();
    });
  });
  const int exit_code = suishin::ServeUntilTerminated(
      listen, {{suishin::notification::v1::NotificationService::service_full_name(), &service}},
      {{"db", suishin::StoreForLog(db)},
       {"kpi_address", kpi_address},
       {"redis_url", suishin::RedactRedisUrl(redis_url)},
       {"clock", fixed ? absl::GetFlag(FLAGS_now) : "real"}});
  // No more won or lost; a leader gives the lease up for a standby (its
  // writes still queued are fenced from then on).
  if (lease != nullptr) lease->Stop();
  // Both write through the book: stopped while it is still here.
  follower.Stop();
  dispatcher.Stop();
  if (events != nullptr) events->Stop();
  return lost_lead ? 1 : exit_code;
}
