// kpi-service: KPIs of the projects plan-service keeps, in its own SQLite file.
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/audit.h"
#include "common/auth.h"
#include "common/channel.h"
#include "common/config.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/postgres.h"
#include "common/redis_client.h"
#include "common/sequence_feed.h"
#include "common/server.h"
#include "common/tls.h"
#include "services/kpi/figure_cache.h"
#include "services/kpi/kpi_catalog.h"
#include "services/kpi/kpi_service.h"
#include "services/kpi/kpi_writer.h"
#include "services/kpi/open_kpi_store.h"
#include "services/kpi/plan_directory.h"
#include "services/kpi/replica_sync.h"

ABSL_FLAG(std::string, kpi_listen, "127.0.0.1:50062",
          "host:port to serve gRPC on (port 0 picks one)");
ABSL_FLAG(std::string, kpi_db, "kpi.db",
          "kpi-service's store: a SQLite file's path, or a postgresql:// URL (for replicas)");
ABSL_FLAG(int, replica_poll_ms, 500,
          "with a PostgreSQL store: how often to look for other replicas' writes when no "
          "notification comes");
ABSL_FLAG(std::string, plan_address, "127.0.0.1:50061", "plan-service to check projects with");
ABSL_FLAG(int, plan_timeout_ms, 2000, "deadline of each call to plan-service");
ABSL_FLAG(std::string, redis_url, "redis://127.0.0.1:6379/0",
          "Redis for cached figures; empty for none");
ABSL_FLAG(std::string, redis_key_prefix, "suishin",
          "what every Redis key of this installation starts with (before a ':'), so "
          "installations can share one Redis");
ABSL_FLAG(bool, cache, true, "cache computed progress and aggregates (in this process and Redis)");
ABSL_FLAG(int, stats_interval_s, 60,
          "how often to log cache hits and misses and the writes per group commit (0: never)");
ABSL_FLAG(int64_t, import_max_rows, 1000000, "rows one ImportActuals stream may carry");
ABSL_FLAG(int, import_max_rows_per_message, 10000, "rows one ImportActualsRequest may carry");
ABSL_FLAG(int, import_max_row_errors, 20,
          "bad rows of a refused import listed in its answer (all are counted)");
ABSL_FLAG(int, import_idle_timeout_s, 30,
          "seconds an ImportActuals stream may stay quiet before it is ended, nothing stored");
ABSL_FLAG(int, import_max_concurrent, 4,
          "ImportActuals streams open at once, per client and in all");

namespace {

// The write path: writes committed and the groups they were committed in
// (writes / groups is how many shared each fsync).
void LogWriteStats(const suishin::kpi::KpiWriter& writer) {
  const auto stats = writer.stats();
  suishin::LogInfo("write_stats", {{"writes", absl::StrCat(stats.writes)},
                                   {"groups", absl::StrCat(stats.groups)},
                                   {"refused_full", absl::StrCat(stats.refused_full)}});
}

void LogCacheStats(const suishin::kpi::FigureCache& cache) {
  const suishin::kpi::FigureCache::Stats stats = cache.stats();
  suishin::LogInfo("cache_stats", {{"local_hits", absl::StrCat(stats.local_hits)},
                                   {"redis_hits", absl::StrCat(stats.redis_hits)},
                                   {"misses", absl::StrCat(stats.misses)},
                                   {"redis_errors", absl::StrCat(stats.redis_errors)}});
}

}  // namespace

int main(int argc, char** argv) {
  suishin::BlockTerminationSignals();
  suishin::InitFlags(argc, argv,
                     "kpi-service: KPIs, baselines, targets, actuals and progress over gRPC.\n"
                     "Every flag may also be set as SUISHIN_<FLAG> in the environment.");
  suishin::SetLogService("kpi-service");
  const std::string listen = absl::GetFlag(FLAGS_kpi_listen);
  const std::string plan_address = absl::GetFlag(FLAGS_plan_address);
  const std::string redis_url = absl::GetFlag(FLAGS_redis_url);
  if (!suishin::ConfigurationIsValid(
          {suishin::ValidateAddress("--kpi_listen", listen),
           suishin::CheckListenAddress("--kpi_listen", listen, suishin::ProcessTls(),
                                       suishin::ProcessAuth()),
           suishin::ValidateAddress("--plan_address", plan_address),
           redis_url.empty() ? absl::OkStatus() : suishin::ParseRedisUrl(redis_url).status(),
           suishin::ValidateRedisKeyPrefix(absl::GetFlag(FLAGS_redis_key_prefix)),
           absl::GetFlag(FLAGS_plan_timeout_ms) > 0
               ? absl::OkStatus()
               : absl::InvalidArgumentError("--plan_timeout_ms must be positive"),
           absl::GetFlag(FLAGS_replica_poll_ms) > 0
               ? absl::OkStatus()
               : absl::InvalidArgumentError("--replica_poll_ms must be positive"),
           absl::GetFlag(FLAGS_import_max_rows) > 0 &&
                   absl::GetFlag(FLAGS_import_max_rows_per_message) > 0 &&
                   absl::GetFlag(FLAGS_import_max_row_errors) > 0 &&
                   absl::GetFlag(FLAGS_import_idle_timeout_s) > 0 &&
                   absl::GetFlag(FLAGS_import_max_concurrent) > 0
               ? absl::OkStatus()
               : absl::InvalidArgumentError(
                     "--import_max_rows, --import_max_rows_per_message, --import_max_row_errors, "
                     "--import_idle_timeout_s and --import_max_concurrent must be at least 1")})) {
    return 2;
  }
  auto store = suishin::kpi::OpenKpiStore(absl::GetFlag(FLAGS_kpi_db));
  if (!store.ok()) {
    suishin::LogError("store_open_failed",
                      {{"store", suishin::StoreForLog(absl::GetFlag(FLAGS_kpi_db))},
                       {"error", std::string(store.status().message())}});
    return 1;
  }
  auto audit = suishin::OpenProcessAuditTrail(absl::GetFlag(FLAGS_kpi_db));
  if (!audit.ok()) {
    suishin::LogError("audit_open_failed", {{"error", std::string(audit.status().message())}});
    return 1;
  }
  auto plans =
      suishin::kpi::NewGrpcPlanDirectory(suishin::MakeChannel(plan_address), plan_address,
                                         absl::Milliseconds(absl::GetFlag(FLAGS_plan_timeout_ms)));
  std::unique_ptr<suishin::RedisClient> redis;
  if (!redis_url.empty()) {
    suishin::RedisOptions redis_options = *suishin::ParseRedisUrl(redis_url);
    redis_options.key_prefix = absl::GetFlag(FLAGS_redis_key_prefix);
    redis = std::make_unique<suishin::RedisClient>(std::move(redis_options));
  }
  suishin::kpi::FigureCache::Options cache_options;
  cache_options.enabled = absl::GetFlag(FLAGS_cache);
  suishin::kpi::FigureCache cache(redis.get(), cache_options);
  suishin::SequenceFeed feed;
  const suishin::Limits& limits = suishin::ProcessLimits();
  suishin::kpi::KpiWriter::Options writer_options;
  writer_options.max_queued = static_cast<size_t>(limits.max_queued_writes);
  suishin::kpi::ReadModel reads(store->get(), &cache);
  // Declared before the writer, destroyed after it: the writer calls it.
  std::unique_ptr<suishin::kpi::ReplicaSync> replicas;
  auto writer =
      suishin::kpi::KpiWriter::Create(store->get(), &cache, &reads, &feed, writer_options);
  if (!writer.ok()) {
    suishin::LogError("store_read_failed", {{"error", std::string(writer.status().message())}});
    return 1;
  }
  suishin::kpi::KpiCatalog catalog(store->get(), &cache, &reads);
  suishin::kpi::ReplicaSync::Options replica_options;
  replica_options.poll_interval = absl::Milliseconds(absl::GetFlag(FLAGS_replica_poll_ms));
  replicas = suishin::kpi::FollowReplicas(store->get(), &cache, &reads, &feed, writer->get(),
                                          &catalog, replica_options);
  suishin::kpi::KpiServiceImpl::Options service_options;
  service_options.import.max_rows = absl::GetFlag(FLAGS_import_max_rows);
  service_options.import.max_rows_per_message = absl::GetFlag(FLAGS_import_max_rows_per_message);
  service_options.import.max_row_errors = absl::GetFlag(FLAGS_import_max_row_errors);
  service_options.import_idle_timeout = absl::Seconds(absl::GetFlag(FLAGS_import_idle_timeout_s));
  service_options.max_concurrent_imports = absl::GetFlag(FLAGS_import_max_concurrent);
  suishin::kpi::KpiServiceImpl service(&catalog, writer->get(), plans.get(), &feed,
                                       service_options);
  // Read when Prometheus scrapes (served from ServeUntilTerminated, stopped
  // before these go).
  prometheus::Gauge& head = suishin::ProcessGauge(
      "suishin_change_log_head", "the last sequence of the change log this replica has folded in");
  prometheus::Counter& hits = suishin::ProcessCounter(
      "suishin_cache_requests_total", "figure cache lookups, by result", {{"result", "hit"}});
  prometheus::Counter& misses = suishin::ProcessCounter(
      "suishin_cache_requests_total", "figure cache lookups, by result", {{"result", "miss"}});
  suishin::Metrics::Process().OnScrape([&, counted = suishin::kpi::FigureCache::Stats()]() mutable {
    head.Set(static_cast<double>(feed.last()));
    const suishin::kpi::FigureCache::Stats now = cache.stats();
    hits.Increment(static_cast<double>(now.local_hits + now.redis_hits - counted.local_hits -
                                       counted.redis_hits));
    misses.Increment(static_cast<double>(now.misses - counted.misses));
    counted = now;
  });
  absl::Notification stopped;
  std::thread stats_logger([&] {
    const int interval = absl::GetFlag(FLAGS_stats_interval_s);
    if (interval <= 0) return;
    while (!stopped.WaitForNotificationWithTimeout(absl::Seconds(interval))) {
      LogCacheStats(cache);
      LogWriteStats(**writer);
    }
  });
  const int exit_code = suishin::ServeUntilTerminated(
      listen, {{suishin::kpi::v1::KpiService::service_full_name(), &service}},
      {{"db", suishin::StoreForLog(absl::GetFlag(FLAGS_kpi_db))},
       {"plan_address", plan_address},
       {"redis_url", suishin::RedactRedisUrl(redis_url)},
       {"cache", absl::GetFlag(FLAGS_cache) ? "on" : "off"}});
  stopped.Notify();
  stats_logger.join();
  LogCacheStats(cache);
  LogWriteStats(**writer);
  return exit_code;
}
