// loadgen: a benchmark program for the Suishin services (not a test).
//
//   loadgen seed --plan ADDR --kpi ADDR [--kpis 200] [--municipal_kpis 10] [--years 20]
//   loadgen rpc --target ADDR --method health|aggregate|progress|record [--channels 4]
//               [--inflight 64] [--seconds 10] [--warmup 2] [--distinct] [--warmup_pass]
//               [--idle_streams N]
//   loadgen import --plan ADDR --kpi ADDR [--rows 1000000] [--batch 1000]
//   loadgen sqlite-baseline --db PATH [--rows 1000000]
//   loadgen alerts --kpi ADDR --notification ADDR [--changes 2000] [--burst 5000]
//   loadgen http-paths --target ADDR --out FILE [--years 20]   (the gateway's
//               GetAggregate routes of the rpc aggregate run, one per line, for wrk)
//
// tools/loadgen/bench.sh starts the services and runs them all side by side.
// Every run first prints the machine and its own command line, so a figure
// pasted anywhere says where it came from.
//
// Flags come from the command line only (absl::ParseCommandLine, without the
// SUISHIN_* environment fallbacks the services use), so the printed command
// line is the whole configuration of the run.
#include <sched.h>
#include <sys/utsname.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/channel.h"
#include "common/config.h"
#include "common/tls.h"
#include "tools/loadgen/alert_load.h"
#include "tools/loadgen/import_load.h"
#include "tools/loadgen/loader.h"
#include "tools/loadgen/rpc_load.h"
#include "tools/loadgen/synthetic_dataset.h"

ABSL_FLAG(std::string, plan, "", "seed, import: plan-service host:port");
ABSL_FLAG(std::string, kpi, "", "seed, import, alerts: kpi-service host:port");
ABSL_FLAG(std::string, notification, "",
          "alerts: notification-service host:port (following the --kpi kpi-service)");
ABSL_FLAG(std::string, target, "", "rpc, http-paths: the server to load (ask), host:port");
ABSL_FLAG(std::string, out, "", "http-paths: the file to write");
ABSL_FLAG(std::string, method, "health", "rpc: health, aggregate, progress, table or record");
ABSL_FLAG(std::string, project, "dohoku-anzen-anshin", "rpc --method table: the project");
ABSL_FLAG(int, as_of, 2019, "rpc --method table: the table as of this fiscal year");
ABSL_FLAG(int, channels, 4, "rpc: channels (TCP connections) to spread the calls over");
ABSL_FLAG(int, inflight, 64, "rpc: calls in flight at any time, over all channels");
ABSL_FLAG(double, seconds, 10, "rpc: length of the measured window");
ABSL_FLAG(double, warmup, 2, "rpc: seconds of calls before the window, not counted");
ABSL_FLAG(bool, distinct, false,
          "rpc: every call a request never sent before in this run (cache misses); the run "
          "ends early when they run out");
ABSL_FLAG(int, idle_streams, 0,
          "rpc: WatchChanges streams (each filtered on a KPI nothing writes) held open during "
          "the run");
ABSL_FLAG(bool, warmup_pass, false,
          "rpc: before the warm-up, send every distinct request once (fills a cache)");
ABSL_FLAG(std::string, label, "",
          "rpc, alerts: name of the result line (default: the method; alerts: \"alerts\")");
ABSL_FLAG(std::string, kpi_prefix, "kpi-", "rpc, alerts: only KPIs whose id starts with this");
ABSL_FLAG(int, kpis, 200, "seed: number of KPIs");
ABSL_FLAG(int, municipal_kpis, 10,
          "seed: KPIs tracked in every 市町村 (\"muni-001\" …, area 北海道)");
ABSL_FLAG(int, first_year, 2005, "seed, rpc: first fiscal year (the baseline's)");
ABSL_FLAG(int, years, 20, "seed, rpc: fiscal years of actuals; the target is in the last");
ABSL_FLAG(int64_t, rows, 1000000, "import, sqlite-baseline: actual rows to load");
ABSL_FLAG(int, batch, 1000, "seed, import: rows per ImportActualsRequest message");
ABSL_FLAG(std::string, db, "", "sqlite-baseline: the SQLite file to write");
ABSL_FLAG(int, changes, 2000, "alerts: changes measured one at a time (latency)");
ABSL_FLAG(int, warmup_changes, 20, "alerts: changes before those, not counted");
ABSL_FLAG(int, burst, 5000,
          "alerts: changes sent as fast as they are answered (throughput), in the burst (every "
          "event awaited) and again in the flood (none awaited)");
ABSL_FLAG(int, burst_inflight, 8, "alerts: RecordActual calls in flight in the burst and flood");
ABSL_FLAG(int, event_timeout_ms, 5000,
          "alerts: how long a change's event may take before it counts as missing");
ABSL_FLAG(int, catch_up_timeout_s, 180,
          "alerts: how long notification-service may take to catch up at the start, and to "
          "carry the flood");
ABSL_FLAG(bool, restore, true, "alerts: put the changed actuals back at the end");
ABSL_FLAG(int, timeout_ms, 10000, "deadline of each call, in milliseconds");
ABSL_FLAG(int, import_timeout_s, 600, "import: deadline of the ImportActuals call, in seconds");

namespace {

namespace loadgen = suishin::loadgen;

constexpr char kUsage[] =
    "loadgen COMMAND --flags: a load generator for the Suishin services.\n"
    "  seed --plan ADDR --kpi ADDR [--kpis 200 --municipal_kpis 10 --years 20]\n"
    "      load a synthetic Hokkaido dataset (ImportPlan, CreateKpi, ImportActuals)\n"
    "  rpc --target ADDR --method health|aggregate|progress [--channels 4 --inflight 64\n"
    "      --seconds 10 --warmup 2 --distinct --warmup_pass --label NAME]\n"
    "      closed-loop callback-API load; prints QPS, p50/p90/p99/max, errors by code\n"
    "  import --plan ADDR --kpi ADDR [--rows 1000000 --batch 1000]\n"
    "      the rows/s of one ImportActuals stream of synthetic actuals\n"
    "  sqlite-baseline --db PATH [--rows 1000000]\n"
    "      the rows/s of a plain SQLite loop inserting the same rows\n"
    "  alerts --kpi ADDR --notification ADDR [--changes 2000 --burst 5000 --burst_inflight 8]\n"
    "      RecordActual → alert event latency (p50/p90/p99/max) and the changes/s the whole\n"
    "      pipeline carries (kpi-service → notification-service → Subscribe)\n"
    "See tools/loadgen/bench.sh for a whole run; --helpfull lists every flag.";

// A usage error: exits with status 2.
[[noreturn]] void UsageExit(const std::string& message) {
  std::cerr << "loadgen: " << message << "\n";
  std::exit(2);
}

// The CPUs this process may run on, as nproc(1) counts them.
int ProcessorCount() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return 0;
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (absl::StartsWith(line, "model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// argv as a shell would take it back: words with anything unusual quoted.
std::string CommandLine(int argc, char** argv) {
  std::vector<std::string> words;
  for (int i = 0; i < argc; ++i) {
    std::string word = argv[i];
    if (word.empty() || word.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;#~") != std::string::npos) {
      std::string quoted = "'";
      for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
      word = quoted + "'";
    }
    words.push_back(std::move(word));
  }
  return absl::StrJoin(words, " ");
}

void PrintHeader(int argc, char** argv) {
  utsname name{};
  uname(&name);
  std::cout << "machine: nproc=" << ProcessorCount() << ", cpu=" << CpuModel()
            << ", host=" << name.nodename << ", kernel=" << name.release << "\n"
            << "command: " << CommandLine(argc, argv) << "\n"
            << "time: " << absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone())
            << std::endl;
}

std::string RequireAddress(const char* flag, const std::string& value) {
  if (value.empty()) UsageExit(absl::StrCat(flag, " is required"));
  if (absl::Status status = suishin::ValidateAddress(flag, value); !status.ok()) {
    UsageExit(std::string(status.message()));
  }
  return value;
}

absl::Duration CallTimeout() {
  const int ms = absl::GetFlag(FLAGS_timeout_ms);
  if (ms <= 0) UsageExit("--timeout_ms must be positive");
  return absl::Milliseconds(ms);
}

int Fail(const absl::Status& status) {
  std::cout.flush();
  std::cerr << "loadgen: " << status.message() << "\n";
  return 1;
}

int Seed() {
  const std::string plan_address = RequireAddress("--plan", absl::GetFlag(FLAGS_plan));
  const std::string kpi_address = RequireAddress("--kpi", absl::GetFlag(FLAGS_kpi));
  loadgen::SeedOptions options;
  options.kpis = absl::GetFlag(FLAGS_kpis);
  options.municipal_kpis = absl::GetFlag(FLAGS_municipal_kpis);
  options.first_year = absl::GetFlag(FLAGS_first_year);
  options.years = absl::GetFlag(FLAGS_years);
  if (absl::Status status = loadgen::ValidateSeedOptions(options); !status.ok()) {
    UsageExit(std::string(status.message()));
  }
  const int batch = absl::GetFlag(FLAGS_batch);
  if (batch < 1) UsageExit("--batch must be positive");
  const absl::Duration timeout = CallTimeout();

  const absl::Time start = absl::Now();
  const loadgen::SeedDataset seed = loadgen::MakeSeedDataset(options);
  int rates = 0;
  for (const auto& kpi : seed.kpis)
    rates += kpi.aggregation() == suishin::kpi::v1::AGGREGATION_RULE_RATIO;
  std::cout << "seed: " << seed.plan.regions_size() << " regions, " << seed.plan.projects_size()
            << " projects, " << seed.kpis.size() << " KPIs (" << seed.kpis.size() - rates
            << " counts, " << rates << " rates), " << seed.rows.size()
            << " rows (a baseline, a target and " << options.years
            << " actuals per KPI and subprefecture, or 市町村 for the " << options.municipal_kpis
            << " municipal KPIs, fiscal years " << options.first_year << "–"
            << options.first_year + options.years - 1 << ")" << std::endl;

  auto plan = suishin::plan::v1::PlanService::NewStub(suishin::MakeChannel(plan_address));
  auto kpi = suishin::kpi::v1::KpiService::NewStub(suishin::MakeChannel(kpi_address));
  if (absl::Status status = loadgen::LoadPlan(*plan, seed.plan, timeout, std::cout); !status.ok()) {
    return Fail(status);
  }
  if (absl::Status status = loadgen::CreateKpis(*kpi, seed.kpis, 4, timeout, std::cout);
      !status.ok()) {
    return Fail(status);
  }
  size_t next = 0;
  auto next_batch = [&](suishin::kpi::v1::ImportActualsRequest& request) {
    if (next >= seed.rows.size()) return false;
    for (size_t end = std::min(seed.rows.size(), next + batch); next < end; ++next) {
      *request.add_rows() = seed.rows[next];
    }
    return true;
  };
  auto progress = [&](int64_t sent) {
    std::cout << "rows: " << sent << "/" << seed.rows.size() << " sent" << std::endl;
  };
  absl::StatusOr<loadgen::ImportResult> imported = loadgen::StreamImport(
      *kpi, next_batch, absl::Seconds(absl::GetFlag(FLAGS_import_timeout_s)), progress);
  if (!imported.ok()) {
    return Fail(absl::Status(imported.status().code(),
                             absl::StrCat(imported.status().message(),
                                          "\nseed: the plan and the KPIs are loaded; baselines, "
                                          "targets and actuals are not")));
  }
  std::cout << "rows: " << imported->rows_applied << " applied by ImportActuals in "
            << absl::FormatDuration(absl::Trunc(imported->elapsed, absl::Milliseconds(1)))
            << "\nseed: done in "
            << absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(1)))
            << std::endl;
  const double import_s = absl::ToDoubleSeconds(imported->elapsed);
  std::cout << absl::StrFormat("RESULT label=seed kpis=%d rows=%d import_s=%.3f rows_per_s=%.0f\n",
                               seed.kpis.size(), imported->rows_applied, import_s,
                               import_s > 0 ? imported->rows_applied / import_s : 0.0);
  return 0;
}

// The gateway routes of `rpc --method aggregate`'s requests, for wrk.
int HttpPaths() {
  const std::string target = RequireAddress("--target", absl::GetFlag(FLAGS_target));
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) UsageExit("--out: the file to write the paths to");
  const int first_year = absl::GetFlag(FLAGS_first_year);
  const int last_year = first_year + absl::GetFlag(FLAGS_years) - 1;
  absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> channels =
      loadgen::ConnectChannels(target, 1, absl::Seconds(5));
  if (!channels.ok()) return Fail(channels.status());
  absl::StatusOr<std::vector<std::string>> paths = loadgen::AggregatePaths(
      (*channels)[0], absl::GetFlag(FLAGS_kpi_prefix), first_year, last_year, CallTimeout());
  if (!paths.ok()) return Fail(paths.status());
  std::ofstream file(out, std::ios::trunc);
  for (const std::string& path : *paths) file << path << "\n";
  if (!file) return Fail(absl::InternalError(absl::StrCat("cannot write ", out)));
  std::cout << "http-paths: " << paths->size() << " GetAggregate routes in " << out << std::endl;
  return 0;
}

int Rpc() {
  const std::string target = RequireAddress("--target", absl::GetFlag(FLAGS_target));
  const std::string method = absl::GetFlag(FLAGS_method);
  const int channel_count = absl::GetFlag(FLAGS_channels);
  loadgen::LoadOptions options;
  options.inflight = absl::GetFlag(FLAGS_inflight);
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  options.warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup));
  options.distinct = absl::GetFlag(FLAGS_distinct);
  options.call_timeout = CallTimeout();
  if (channel_count < 1) UsageExit("--channels must be at least 1");
  if (options.inflight < 1) UsageExit("--inflight must be at least 1");
  if (options.duration <= absl::ZeroDuration()) UsageExit("--seconds must be positive");
  if (options.warmup < absl::ZeroDuration()) UsageExit("--warmup must not be negative");
  const int first_year = absl::GetFlag(FLAGS_first_year);
  const int last_year = first_year + absl::GetFlag(FLAGS_years) - 1;
  const std::string label =
      absl::GetFlag(FLAGS_label).empty() ? method : absl::GetFlag(FLAGS_label);

  absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> channels =
      loadgen::ConnectChannels(target, channel_count, absl::Seconds(5));
  if (!channels.ok()) return Fail(channels.status());
  absl::StatusOr<std::unique_ptr<loadgen::CallSource>> source;
  std::string what;
  if (method == "health") {
    source = loadgen::MakeHealthSource(*channels);
    what = "grpc.health.v1.Health/Check with service \"\"";
  } else if (method == "aggregate") {
    source = loadgen::MakeAggregateSource(*channels, absl::GetFlag(FLAGS_kpi_prefix), first_year,
                                          last_year, options.call_timeout);
    what =
        absl::StrCat("GetAggregate over (KPI, area, fiscal year ", first_year, "–", last_year, ")");
  } else if (method == "progress") {
    source = loadgen::MakeProgressSource(*channels, absl::GetFlag(FLAGS_kpi_prefix),
                                         options.call_timeout);
    what = "GetProgress over (KPI, region)";
  } else if (method == "table") {
    source = loadgen::MakeTableSource(*channels, absl::GetFlag(FLAGS_project),
                                      absl::GetFlag(FLAGS_as_of));
    what = absl::StrCat("GetKpiTable of ", absl::GetFlag(FLAGS_project), " as of ",
                        absl::GetFlag(FLAGS_as_of));
  } else if (method == "record") {
    source = loadgen::MakeRecordSource(*channels, absl::GetFlag(FLAGS_kpi_prefix), first_year,
                                       last_year, options.call_timeout);
    what = "RecordActual over (KPI, subprefecture, fiscal year), each call a new figure";
  } else {
    UsageExit(absl::StrCat("--method: must be health, aggregate, progress, table or record (got \"",
                           method, "\")"));
  }
  std::unique_ptr<loadgen::IdleStreams> idle;
  if (const int streams = absl::GetFlag(FLAGS_idle_streams); streams > 0) {
    // A connection of their own, as other clients' would be.
    absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> own =
        loadgen::ConnectChannels(target, 1, absl::Seconds(5));
    if (!own.ok()) return Fail(own.status());
    idle = std::make_unique<loadgen::IdleStreams>((*own)[0], streams);
    absl::SleepFor(absl::Seconds(1));  // let them open and settle before the warm-up
    std::cout << "rpc: with " << idle->Summary() << " open" << std::endl;
  }
  if (!source.ok()) return Fail(source.status());
  std::cout << "rpc: " << what << ": " << (*source)->size() << " distinct requests, "
            << (options.distinct ? "each sent once" : "cycled") << "; " << channel_count
            << " channels, " << options.inflight << " in flight, warm-up "
            << absl::FormatDuration(options.warmup) << ", window "
            << absl::FormatDuration(options.duration) << std::endl;

  if (absl::GetFlag(FLAGS_warmup_pass)) {
    loadgen::LoadOptions pass = options;
    pass.distinct = true;
    pass.warmup = absl::ZeroDuration();
    pass.duration = absl::InfiniteDuration();
    const loadgen::LoadResult result = loadgen::RunLoad(**source, pass);
    std::cout << "warm-up pass: each of the " << (*source)->size()
              << " requests once: " << result.ok << " OK, " << result.error_count()
              << " errors, in "
              << absl::FormatDuration(absl::Trunc(result.window, absl::Milliseconds(1)))
              << std::endl;
  }
  const loadgen::LoadResult result = loadgen::RunLoad(**source, options);
  loadgen::PrintLoadResult(label, result, std::cout);
  if (idle) std::cout << "rpc: afterwards, " << idle->Summary() << std::endl;
  return result.ok > 0 ? 0 : 1;
}

int Import() {
  const std::string plan_address = RequireAddress("--plan", absl::GetFlag(FLAGS_plan));
  const std::string kpi_address = RequireAddress("--kpi", absl::GetFlag(FLAGS_kpi));
  loadgen::ImportOptions options;
  options.rows = absl::GetFlag(FLAGS_rows);
  options.batch = absl::GetFlag(FLAGS_batch);
  options.timeout = CallTimeout();
  options.import_timeout = absl::Seconds(absl::GetFlag(FLAGS_import_timeout_s));
  if (options.rows < 1) UsageExit("--rows must be positive");
  if (options.batch < 1) UsageExit("--batch must be positive");
  auto plan = suishin::plan::v1::PlanService::NewStub(suishin::MakeChannel(plan_address));
  auto kpi = suishin::kpi::v1::KpiService::NewStub(suishin::MakeChannel(kpi_address));
  if (absl::Status status = loadgen::RunImportBenchmark(*plan, *kpi, options, std::cout);
      !status.ok()) {
    return Fail(status);
  }
  return 0;
}

int SqliteBaseline() {
  const std::string db = absl::GetFlag(FLAGS_db);
  const int64_t rows = absl::GetFlag(FLAGS_rows);
  if (db.empty()) UsageExit("--db is required");
  if (rows < 1) UsageExit("--rows must be positive");
  if (absl::Status status = loadgen::RunSqliteBaseline(db, rows, std::cout); !status.ok()) {
    return Fail(status);
  }
  return 0;
}

int Alerts() {
  const std::string kpi_address = RequireAddress("--kpi", absl::GetFlag(FLAGS_kpi));
  const std::string notification_address =
      RequireAddress("--notification", absl::GetFlag(FLAGS_notification));
  loadgen::AlertOptions options;
  options.changes = absl::GetFlag(FLAGS_changes);
  options.warmup_changes = absl::GetFlag(FLAGS_warmup_changes);
  options.burst = absl::GetFlag(FLAGS_burst);
  options.burst_inflight = absl::GetFlag(FLAGS_burst_inflight);
  options.kpi_prefix = absl::GetFlag(FLAGS_kpi_prefix);
  options.call_timeout = CallTimeout();
  options.restore = absl::GetFlag(FLAGS_restore);
  if (!absl::GetFlag(FLAGS_label).empty()) options.label = absl::GetFlag(FLAGS_label);
  if (options.changes < 1) UsageExit("--changes must be positive");
  if (options.warmup_changes < 0) UsageExit("--warmup_changes must not be negative");
  if (options.burst < 1) UsageExit("--burst must be positive");
  if (options.burst_inflight < 1) UsageExit("--burst_inflight must be at least 1");
  if (absl::GetFlag(FLAGS_event_timeout_ms) <= 0) UsageExit("--event_timeout_ms must be positive");
  if (absl::GetFlag(FLAGS_catch_up_timeout_s) <= 0) {
    UsageExit("--catch_up_timeout_s must be positive");
  }
  options.event_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_event_timeout_ms));
  options.catch_up_timeout = absl::Seconds(absl::GetFlag(FLAGS_catch_up_timeout_s));
  options.drain_timeout = options.catch_up_timeout;
  absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> kpi =
      loadgen::ConnectChannels(kpi_address, 1, absl::Seconds(5));
  if (!kpi.ok()) return Fail(kpi.status());
  absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> notification =
      loadgen::ConnectChannels(notification_address, 1, absl::Seconds(5));
  if (!notification.ok()) return Fail(notification.status());
  if (absl::Status status =
          loadgen::RunAlertBenchmark(kpi->front(), notification->front(), options, std::cout);
      !status.ok()) {
    return Fail(status);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  const std::vector<char*> words = absl::ParseCommandLine(argc, argv);
  // --tls_ca (and --token_file, read when first needed) for a suite
  // running with TLS and tokens.
  absl::StatusOr<suishin::TlsSettings> tls = suishin::TlsFromFlags();
  if (!tls.ok()) UsageExit(std::string(tls.status().message()));
  suishin::SetProcessTls(*std::move(tls));
  if (words.size() != 2) {
    std::cerr << kUsage << "\n";
    return 2;
  }
  const std::string command = words[1];
  if (command == "help") {
    std::cout << kUsage << "\n";
    return 0;
  }
  int (*run)() = nullptr;
  if (command == "seed") run = Seed;
  if (command == "rpc") run = Rpc;
  if (command == "import") run = Import;
  if (command == "sqlite-baseline") run = SqliteBaseline;
  if (command == "alerts") run = Alerts;
  if (command == "http-paths") run = HttpPaths;
  if (run == nullptr)
    UsageExit(absl::StrCat("unknown command \"", command, "\"; run 'loadgen help'"));
  PrintHeader(argc, argv);
  return run();
}
