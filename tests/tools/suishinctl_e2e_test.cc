// End to end: the real suishinctl binary against the real plan-service,
// kpi-service and notification-service binaries (no Redis), each started on
// port 0 with its database in a temp dir.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/channel.h"
#include "common/fiscal_year.h"
#include "common/proto_util.h"
#include "exchange/dataset_rows.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "suishin/notification/v1/notification.grpc.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tools/suishinctl/commands.h"
#include "tools/suishinctl/kpi_views.h"

namespace suishin::testing {
namespace {

// The clock notification-service evaluates with: past every reporting
// deadline of the seed, so that it fires its 17 alerts (DESIGN.md §2).
constexpr char kNow[] = "--now=2026-11-29T12:00:00+09:00";
constexpr size_t kSeedAlerts = 17;
const std::string kSeedDataset = SUISHIN_SOURCE_DIR "/data/seed/dohoku-2019.json";
constexpr char kProject[] = "dohoku-anzen-anshin";

// Wide enough that no initiative text is wrapped, so a text can be found whole.
const std::vector<std::string> kEnv = {"COLUMNS=1000"};

int CountOccurrences(absl::string_view haystack, absl::string_view needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != absl::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// The line of `text` that contains `needle` (the first), or "".
std::string LineWith(absl::string_view text, absl::string_view needle) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, needle)) return std::string(line);
  }
  return "";
}

// Waits until the file at `path` (which must exist) holds at least `n`
// lines, woken by inotify each time it is written; its text, or
// DEADLINE_EXCEEDED with what it held after `timeout`.
absl::StatusOr<std::string> WaitForLines(const std::string& path, int n, absl::Duration timeout) {
  const int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return absl::InternalError("inotify_init1 failed");
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  if (inotify_add_watch(fd, path.c_str(), IN_MODIFY) < 0) {
    return absl::InternalError(absl::StrCat("inotify_add_watch ", path, " failed"));
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::string> text = ReadWholeFile(path);
    if (!text.ok()) return text.status();
    if (CountOccurrences(*text, "\n") >= n) return text;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("fewer than ", n, " lines in ", path, ":\n", *text));
    }
    pollfd event{fd, POLLIN, 0};
    (void)poll(&event, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    char buffer[4096];
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
  }
}

// The seed dataset, read by the test itself to compute what to expect.
dataset::v1::Dataset SeedDataset() {
  dataset::v1::Dataset dataset;
  const absl::Status status = ReadJsonFile(kSeedDataset, &dataset);
  EXPECT_TRUE(status.ok()) << status;
  return dataset;
}

// A region's display name from the dataset's plan part ("kamikawa" → "上川").
std::string RegionNameIn(const dataset::v1::Dataset& dataset, const std::string& id) {
  for (const auto& region : dataset.plan().regions()) {
    if (region.id() == id) return region.name();
  }
  ADD_FAILURE() << "no region " << id << " in the dataset";
  return id;
}

// 進捗率 as the table prints it: value / target × 100, rounded half away
// from zero to 0.1, computed exactly from the typed decimals (at most four
// fractional digits), e.g. "25.6%".
std::string Rate(double value, double target) {
  const int64_t v = std::llround(value * 10000);
  const int64_t t = std::llround(target * 10000);
  EXPECT_GT(t, 0);
  EXPECT_GE(v, 0);
  const int64_t tenths = (2 * v * 1000 + t) / (2 * t);  // ⌊v·1000/t + ½⌋
  return absl::StrCat(tenths / 10, ".", tenths % 10, "%");
}

// What the 進捗率 line of each region of a KPI's table must hold, in year
// order: the rate of every year with an actual (an area's: of the sums of
// its subprefectures' actuals and targets, for years in which all of them
// reported; of its own figures when the area reports them).
using RegionRates = std::map<std::string, std::vector<std::string>>;  // row label → rates

RegionRates ExpectedRates(const dataset::v1::Dataset& dataset, const kpi::v1::KpiRecord& record,
                          int as_of) {
  const kpi::v1::Kpi& kpi = record.kpi();
  std::map<std::string, double> targets;
  for (const auto& target : record.targets()) targets[target.region_id()] = target.value();
  std::map<std::string, std::map<int, double>> actuals;
  for (const auto& actual : record.actuals()) {
    if (actual.fiscal_year().year() <= as_of) {
      actuals[actual.region_id()][actual.fiscal_year().year()] = actual.value();
    }
  }
  std::vector<std::string> children;
  for (const std::string& id : kpi.region_ids()) {
    if (id != kpi.area_id()) children.push_back(id);
  }
  if (kpi.aggregation() == kpi::v1::AGGREGATION_RULE_SUM) {
    double target = 0;
    std::map<int, int> reported;  // year → children with an actual
    std::map<int, double> sums;
    for (const std::string& child : children) {
      target += targets.at(child);
      for (const auto& [year, value] : actuals[child]) {
        ++reported[year];
        sums[year] += value;
      }
    }
    targets[kpi.area_id()] = target;
    actuals[kpi.area_id()].clear();
    for (const auto& [year, n] : reported) {
      if (n == static_cast<int>(children.size())) actuals[kpi.area_id()][year] = sums[year];
    }
  } else {
    EXPECT_EQ(kpi.aggregation(), kpi::v1::AGGREGATION_RULE_REPORTED)
        << kpi.id() << ": this test computes SUM and REPORTED areas only";
  }
  RegionRates rates;
  for (const std::string& id : kpi.region_ids()) {
    const std::string label = id == kpi.area_id()
                                  ? absl::StrCat(RegionNameIn(dataset, id), "連携地域")
                                  : RegionNameIn(dataset, id);
    std::vector<std::string>& row = rates[label];
    for (const auto& [year, value] : actuals[id]) row.push_back(Rate(value, targets.at(id)));
  }
  return rates;
}

// The rates on each region's 進捗率 line of one KPI's block of `table`
// (from "○<name> (<unit>)" to the next "○"): the words ending in "%".
RegionRates RatesInTable(const std::string& table, const kpi::v1::Kpi& kpi,
                         const std::vector<std::string>& labels) {
  const std::vector<std::string> lines = absl::StrSplit(table, '\n');
  const std::string heading = absl::StrCat("○", kpi.name(), " (", kpi.unit(), ")");
  size_t begin = 0;
  while (begin < lines.size() && lines[begin] != heading) ++begin;
  EXPECT_LT(begin, lines.size()) << "no " << heading << " in\n" << table;
  RegionRates rates;
  for (size_t i = begin + 1; i + 1 < lines.size() && !absl::StartsWith(lines[i], "○"); ++i) {
    for (const std::string& label : labels) {
      if (!absl::StartsWith(lines[i], label + " ")) continue;
      EXPECT_TRUE(absl::StartsWith(lines[i + 1], "  進捗率")) << lines[i + 1];
      std::vector<std::string>& row = rates[label];
      for (absl::string_view word : absl::StrSplit(lines[i + 1], ' ', absl::SkipEmpty())) {
        if (absl::EndsWith(word, "%")) row.emplace_back(word);
      }
    }
  }
  return rates;
}

const kpi::v1::KpiRecord* FindRecord(const dataset::v1::Dataset& dataset, absl::string_view id) {
  for (const auto& record : dataset.kpi().kpis()) {
    if (record.kpi().id() == id) return &record;
  }
  ADD_FAILURE() << "no KPI " << id << " in the dataset";
  return nullptr;
}

class SuishinctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("suishinctl-e2e");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_.emplace(*std::move(dir));

    StartPlanService(*dir_, "plan", &plan_server_);
    if (HasFatalFailure()) return;
    plan_address_ = plan_server_->address();
    StartKpiService(*dir_, "kpi", plan_address_, &kpi_server_);
    if (HasFatalFailure()) return;
    kpi_address_ = kpi_server_->address();
  }

  void TearDown() override {
    // Each before the service it calls: notification → kpi → plan.
    StopService(&notification_server_);
    StopService(&kpi_server_);
    StopService(&plan_server_);
  }

  // Starts notification-service following the test's kpi-service, with the
  // clock pinned (kNow), no Redis and short webhook retries.
  void StartNotification() {
    StartService(
        *dir_, "notification",
        {kNotificationServiceBinary, "--notification_listen=127.0.0.1:0",
         "--notification_db=" + dir_->File("notification.db"), "--kpi_address=" + kpi_address_,
         "--redis_url=", kNow, "--webhook_retry_delays=50ms,100ms", "--shutdown_grace_ms=500",
         "--webhook_allow_targets=127.0.0.1"},
        &notification_server_);
    if (HasFatalFailure()) return;
    notification_address_ = notification_server_->address();
    notification_stub_ =
        notification::v1::NotificationService::NewStub(MakeChannel(notification_address_));
  }

  // The firing alerts, through the API.
  std::vector<notification::v1::Alert> FiringAlerts() {
    notification::v1::ListAlertsRequest request;
    request.set_page_size(1000);
    notification::v1::ListAlertsResponse response;
    std::unique_ptr<grpc::ClientContext> context = NewClientContext(absl::Seconds(10));
    const grpc::Status status = notification_stub_->ListAlerts(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.alerts().begin(), response.alerts().end()};
  }

  // Waits until ListAlerts lists `n` firing alerts: asks again after every
  // alert event of a Subscribe stream, so there is no fixed sleep, and gives
  // up when the stream's deadline (kServiceStartTimeout) passes.
  void WaitForFiringAlerts(size_t n) {
    grpc::ClientContext watch;
    watch.set_deadline(absl::ToChronoTime(absl::Now() + kServiceStartTimeout));
    std::unique_ptr<grpc::ClientReaderInterface<notification::v1::SubscribeResponse>> events =
        notification_stub_->Subscribe(&watch, notification::v1::SubscribeRequest());
    size_t listed = 0;
    notification::v1::SubscribeResponse event;
    do {
      listed = FiringAlerts().size();
      if (listed == n) break;
    } while (events->Read(&event));
    watch.TryCancel();
    const grpc::Status status = events->Finish();
    ASSERT_EQ(listed, n) << "the stream ended: " << status.error_message() << "\n"
                         << notification_server_->Log();
  }

  // The fingerprint of the alert of `rule` for `kpi_id` in `region_id`.
  std::string FingerprintOf(notification::v1::RuleKind rule, const std::string& kpi_id,
                            const std::string& region_id) {
    for (const notification::v1::Alert& alert : FiringAlerts()) {
      if (alert.rule() == rule && alert.kpi_id() == kpi_id && alert.region_id() == region_id) {
        return alert.fingerprint();
      }
    }
    ADD_FAILURE() << "no firing alert " << rule << " " << kpi_id << " " << region_id;
    return "";
  }

  // The seed through suishinctl import, then notification-service, and its
  // 17 alerts.
  void ImportSeedAndWaitForAlerts() {
    ASSERT_NO_FATAL_FAILURE(ImportSeed());
    ASSERT_NO_FATAL_FAILURE(StartNotification());
    ASSERT_NO_FATAL_FAILURE(WaitForFiringAlerts(kSeedAlerts));
  }

  // The argv of suishinctl with `args` against the test's services.
  std::vector<std::string> Argv(std::vector<std::string> args) const {
    return SuishinctlArgv(std::move(args), plan_address_, kpi_address_, notification_address_);
  }

  // Runs suishinctl with `args` against the test's services.
  RunResult Suishinctl(std::vector<std::string> args) {
    return RunSuishinctl(Argv(std::move(args)), kEnv, dir_->path());
  }

  // Imports the seed dataset and checks that it worked.
  void ImportSeed() {
    const RunResult import = Suishinctl({"import", kSeedDataset});
    ASSERT_EQ(import.exit_code, 0) << import.out << import.err << kpi_server_->Log();
  }

  std::optional<TempDir> dir_;
  std::optional<ServiceProcess> plan_server_;
  std::optional<ServiceProcess> kpi_server_;
  std::optional<ServiceProcess> notification_server_;
  std::string plan_address_;
  std::string kpi_address_;
  std::string notification_address_;
  std::unique_ptr<notification::v1::NotificationService::Stub> notification_stub_;
};

TEST_F(SuishinctlTest, ImportsTheSeedAndListsSoyasInitiativeForFY2020) {
  dataset::v1::Dataset dataset;
  ASSERT_TRUE(ReadJsonFile(kSeedDataset, &dataset).ok());
  std::vector<std::string> soya_2020;  // What the filter should find.
  std::vector<std::string> others;     // Every other initiative text.
  for (const auto& initiative : dataset.plan().initiatives()) {
    const bool soya = std::find(initiative.region_ids().begin(), initiative.region_ids().end(),
                                "soya") != initiative.region_ids().end();
    (soya && initiative.fiscal_year().year() == 2020 ? soya_2020 : others)
        .push_back(initiative.text());
  }
  ASSERT_EQ(soya_2020.size(), 1u) << "the seed has one 【宗谷】 line for R2";

  const RunResult import = Suishinctl({"import", kSeedDataset});
  ASSERT_EQ(import.exit_code, 0) << import.err;
  EXPECT_TRUE(absl::StrContains(import.out, "取組 (initiatives)")) << import.out;
  EXPECT_TRUE(absl::StrContains(import.out, absl::StrCat("kpi: ", dataset.kpi().kpis_size(),
                                                         " KPIs: ", dataset.kpi().kpis_size(),
                                                         " created, 0 already present")))
      << import.out;

  const RunResult list =
      Suishinctl({"initiatives", "--project", kProject, "--year", "R2", "--region", "soya"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.err, "");
  EXPECT_EQ(CountOccurrences(list.out, soya_2020[0]), 1) << list.out;
  for (const std::string& text : others) {
    EXPECT_FALSE(absl::StrContains(list.out, text)) << "unexpected: " << text;
  }
  EXPECT_TRUE(absl::StrContains(list.out, "【宗谷】")) << list.out;
  EXPECT_TRUE(absl::StrContains(list.out, "R2 (2020)")) << list.out;
  EXPECT_TRUE(absl::EndsWith(list.out, "\n1 initiative\n")) << list.out;
}

TEST_F(SuishinctlTest, ImportTwiceLeavesEverythingUnchanged) {
  ASSERT_EQ(Suishinctl({"import", kSeedDataset}).exit_code, 0);
  const RunResult again = Suishinctl({"import", kSeedDataset, "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(absl::StrContains(again.out, "\"unchanged\": 45")) << again.out;
  EXPECT_FALSE(absl::StrContains(again.out, "\"created\"")) << again.out;
  EXPECT_TRUE(absl::StrContains(again.out, "\"result\": \"present\"")) << again.out;
}

TEST_F(SuishinctlTest, SecondKpiImportSaysNothingChangedAndChangesNothing) {
  const dataset::v1::Dataset dataset = SeedDataset();
  ASSERT_NO_FATAL_FAILURE(ImportSeed());
  const RunResult table = Suishinctl({"table", "--project", kProject, "--year", "R元"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::map<std::string, std::string> histories;
  for (const auto& record : dataset.kpi().kpis()) {
    const RunResult history = Suishinctl({"history", "--kpi", record.kpi().id()});
    ASSERT_EQ(history.exit_code, 0) << history.err;
    histories[record.kpi().id()] = history.out;
  }

  const RunResult again = Suishinctl({"import", kSeedDataset});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(absl::StrContains(again.out, "; 0 rows applied; nothing changed\n")) << again.out;
  EXPECT_EQ(CountOccurrences(again.out, "already present, rows not re-sent"),
            dataset.kpi().kpis_size())
      << again.out;

  EXPECT_EQ(Suishinctl({"table", "--project", kProject, "--year", "R元"}).out, table.out);
  for (const auto& [kpi_id, before] : histories) {
    EXPECT_EQ(Suishinctl({"history", "--kpi", kpi_id}).out, before) << kpi_id;
  }
}

TEST_F(SuishinctlTest, TableShowsEveryRateOfTheSeedDataset) {
  const dataset::v1::Dataset dataset = SeedDataset();
  ASSERT_NO_FATAL_FAILURE(ImportSeed());
  const RunResult table = Suishinctl({"table", "--project", kProject, "--year", "R元"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.err, "");
  // Headed by the project's title from plan-service, not its id.
  EXPECT_TRUE(absl::StartsWith(table.out,
                               "【ＫＰＩの状況】 安全・安心な地域づくりプロジェクト  R元 (2019)\n"))
      << table.out;

  int rates = 0;
  int actuals = 0;
  for (const auto& record : dataset.kpi().kpis()) {
    actuals += record.actuals_size();
    const RegionRates expected = ExpectedRates(dataset, record, 2019);
    std::vector<std::string> labels;
    for (const auto& [label, row] : expected) {
      labels.push_back(label);
      rates += static_cast<int>(row.size());
    }
    EXPECT_EQ(RatesInTable(table.out, record.kpi(), labels), expected) << record.kpi().id() << "\n"
                                                                       << table.out;
  }
  EXPECT_GE(rates, actuals) << "every actual of the seed has a rate";

  // 道北's R元 認定こども園 figure cannot be summed: nobody has reported R元.
  EXPECT_TRUE(absl::StrContains(table.out,
                                "— 道北連携地域 R元 (2019): 上川・留萌・宗谷の実績がないため"
                                "集計できません\n"))
      << table.out;
}

TEST_F(SuishinctlTest, RecordedCorrectionShowsInHistoryAndTable) {
  const dataset::v1::Dataset dataset = SeedDataset();
  const kpi::v1::KpiRecord* record = FindRecord(dataset, "kodomoen");
  ASSERT_NE(record, nullptr);
  std::optional<double> old_value;
  for (const auto& actual : record->actuals()) {
    if (actual.region_id() == "soya" && actual.fiscal_year().year() == 2018) {
      old_value = actual.value();
    }
  }
  ASSERT_TRUE(old_value.has_value()) << "the seed has 宗谷's H30";
  const double new_value = *old_value + 1;
  ASSERT_NO_FATAL_FAILURE(ImportSeed());

  const RunResult record_run = Suishinctl(
      {"record", "--kpi", "kodomoen", "--region", "soya", "--year", "平成30年度", "--value",
       absl::StrCat(new_value), "--by", "宗谷総合振興局", "--reason", "集計誤りの訂正"});
  ASSERT_EQ(record_run.exit_code, 0) << record_run.err;
  EXPECT_TRUE(absl::StrContains(record_run.out, "corrected")) << record_run.out;
  EXPECT_TRUE(absl::StrContains(record_run.out, "H30 (2018)")) << record_run.out;

  const RunResult history =
      Suishinctl({"history", "--kpi", "kodomoen", "--region", "soya", "--year", "H30"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  const std::string change = absl::StrCat(ctl::ValueWithUnit(*old_value, record->kpi()), " → ",
                                          ctl::ValueWithUnit(new_value, record->kpi()));
  EXPECT_TRUE(absl::StrContains(history.out, change)) << change << "\n" << history.out;
  EXPECT_TRUE(absl::StrContains(history.out, "実績訂正")) << history.out;
  EXPECT_TRUE(absl::StrContains(history.out, "集計誤りの訂正")) << history.out;
  EXPECT_TRUE(absl::EndsWith(history.out, "\n2 changes\n")) << history.out;

  // The table computes 宗谷's H30 rate from the corrected figure.
  double target = 0;
  for (const auto& t : record->targets()) {
    if (t.region_id() == "soya") target = t.value();
  }
  const RunResult table = Suishinctl({"table", "--project", kProject, "--year", "R元"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const RegionRates rates = RatesInTable(table.out, record->kpi(), {"宗谷"});
  ASSERT_EQ(rates.count("宗谷"), 1u) << table.out;
  ASSERT_FALSE(rates.at("宗谷").empty()) << table.out;
  EXPECT_EQ(rates.at("宗谷").back(), Rate(new_value, target)) << table.out;
}

TEST_F(SuishinctlTest, ProgressShowsOneLinePerYearWithRateAndStatus) {
  const dataset::v1::Dataset dataset = SeedDataset();
  const kpi::v1::KpiRecord* record = FindRecord(dataset, "kodomoen");
  ASSERT_NE(record, nullptr);
  double target = 0;
  for (const auto& t : record->targets()) {
    if (t.region_id() == "kamikawa") target = t.value();
  }
  std::map<int, double> actuals;
  for (const auto& actual : record->actuals()) {
    if (actual.region_id() == "kamikawa") actuals[actual.fiscal_year().year()] = actual.value();
  }
  ASSERT_EQ(actuals.count(2018), 1u);
  ASSERT_NO_FATAL_FAILURE(ImportSeed());

  const RunResult progress =
      Suishinctl({"progress", "--kpi", "kodomoen", "--region", "kamikawa", "--as-of", "H30"});
  ASSERT_EQ(progress.exit_code, 0) << progress.err;
  EXPECT_TRUE(absl::StrContains(progress.out, "見直し前")) << progress.out;
  for (const auto& [year, value] : actuals) {
    bool found = false;
    for (absl::string_view line : absl::StrSplit(progress.out, '\n')) {
      if (!absl::StartsWith(line, absl::StrCat(EraFiscalYear(year), " (", year, ")"))) continue;
      found = true;
      EXPECT_TRUE(absl::StrContains(line, Rate(value, target))) << line;
      // The seed's 上川 reached its target in H29 (33 of 33).
      if (value >= target) {
        EXPECT_TRUE(absl::StrContains(line, "達成")) << line;
      }
    }
    EXPECT_TRUE(found) << year << "\n" << progress.out;
  }
}

TEST_F(SuishinctlTest, NegativeRecordExitsOneNamingTheField) {
  ASSERT_NO_FATAL_FAILURE(ImportSeed());
  const RunResult before = Suishinctl({"history", "--kpi", "kodomoen", "--region", "soya"});
  const RunResult bad = Suishinctl(
      {"record", "--kpi", "kodomoen", "--region", "soya", "--year", "R元", "--value", "-1"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_EQ(bad.out, "");
  EXPECT_TRUE(absl::StartsWith(bad.err, "suishinctl: record: INVALID_ARGUMENT: ")) << bad.err;
  EXPECT_TRUE(absl::StrContains(bad.err, "value")) << bad.err;
  EXPECT_TRUE(absl::StrContains(bad.err, "-1")) << bad.err;
  EXPECT_EQ(CountOccurrences(bad.err, "\n"), 1) << "one line: " << bad.err;
  EXPECT_EQ(Suishinctl({"history", "--kpi", "kodomoen", "--region", "soya"}).out, before.out);
}

TEST_F(SuishinctlTest, RefusedImportListsEveryBadRowAndStoresNoValue) {
  // The seed's 認定こども園 under another id, with a negative actual and an
  // actual for a region the KPI does not track.
  dataset::v1::Dataset dataset = SeedDataset();
  kpi::v1::KpiRecord record = *FindRecord(dataset, "kodomoen");
  record.mutable_kpi()->set_id("kodomoen-bad");
  for (auto& actual : *record.mutable_actuals()) actual.set_kpi_id("kodomoen-bad");
  ASSERT_GE(record.actuals_size(), 2);
  record.mutable_actuals(0)->set_value(-1);
  record.mutable_actuals(1)->set_region_id("tokyo");
  dataset.mutable_kpi()->clear_kpis();
  *dataset.mutable_kpi()->add_kpis() = record;
  const std::string path = dir_->File("bad.json");
  std::ofstream(path) << ToJson(dataset);

  // The import numbers rows through the file's KPI part as RowsOf does.
  int64_t negative_line = 0;
  int64_t region_line = 0;
  for (const kpi::v1::ImportRow& row : exchange::RowsOf(record, 1)) {
    if (row.kind() != kpi::v1::ROW_KIND_ACTUAL) continue;
    if (row.value() < 0) negative_line = row.line();
    if (row.region_id() == "tokyo") region_line = row.line();
  }
  ASSERT_GT(negative_line, 0);
  ASSERT_GT(region_line, 0);

  const RunResult import = Suishinctl({"import", path});
  EXPECT_EQ(import.exit_code, 1) << import.out << import.err;
  const std::vector<std::string> lines = absl::StrSplit(absl::StripSuffix(import.err, "\n"), '\n');
  ASSERT_EQ(lines.size(), 3u) << import.err;
  EXPECT_TRUE(absl::StartsWith(lines[0], absl::StrCat("line ", negative_line, ": value: ")))
      << import.err;
  EXPECT_TRUE(absl::StartsWith(lines[1], absl::StrCat("line ", region_line, ": region_id: ")))
      << import.err;
  EXPECT_TRUE(absl::StartsWith(lines[2], "suishinctl: import: INVALID_ARGUMENT: ")) << import.err;

  // All or nothing: the KPI was created, but none of its values stored.
  const RunResult history = Suishinctl({"history", "--kpi", "kodomoen-bad"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_TRUE(absl::EndsWith(history.out, "\n1 change\n")) << history.out;
}

TEST_F(SuishinctlTest, UnknownProjectIsNotFound) {
  ASSERT_NO_FATAL_FAILURE(ImportSeed());
  const RunResult list = Suishinctl({"initiatives", "--project", "no-such-project"});
  EXPECT_EQ(list.exit_code, 1);
  EXPECT_EQ(list.out, "");
  EXPECT_TRUE(absl::StartsWith(list.err, "suishinctl: initiatives: NOT_FOUND: ")) << list.err;
  EXPECT_TRUE(absl::StrContains(list.err, "\"no-such-project\"")) << list.err;
  EXPECT_EQ(CountOccurrences(list.err, "\n"), 1) << "one line: " << list.err;
}

TEST_F(SuishinctlTest, HealthReportsEachServiceAndFailsUnlessAllServe) {
  const std::string notification = absl::StrCat("127.0.0.1:", PickUnusedPort());
  const RunResult health = Suishinctl({"health", "--notification_address=" + notification});
  EXPECT_EQ(health.exit_code, 1) << health.out << health.err;
  const std::vector<std::string> lines = absl::StrSplit(health.out, '\n');
  const auto line_of = [&](absl::string_view service) -> std::string {
    for (const std::string& line : lines) {
      if (absl::StartsWith(line, service)) return line;
    }
    return "";
  };
  EXPECT_TRUE(absl::StrContains(line_of("plan-service"), plan_address_)) << health.out;
  EXPECT_TRUE(absl::StrContains(line_of("plan-service"), " SERVING")) << health.out;
  EXPECT_TRUE(absl::StrContains(line_of("kpi-service"), kpi_address_)) << health.out;
  EXPECT_TRUE(absl::StrContains(line_of("kpi-service"), " SERVING")) << health.out;
  EXPECT_TRUE(absl::StrContains(line_of("notification-service"), "unreachable")) << health.out;
  EXPECT_TRUE(absl::StartsWith(health.err, "suishinctl: health: UNAVAILABLE: ")) << health.err;
}

TEST_F(SuishinctlTest, AlertsListsTheSeventeenSeedAlertsWithNames) {
  ASSERT_NO_FATAL_FAILURE(ImportSeedAndWaitForAlerts());
  const RunResult alerts = Suishinctl({"alerts"});
  ASSERT_EQ(alerts.exit_code, 0) << alerts.err;
  EXPECT_EQ(alerts.err, "");
  EXPECT_TRUE(absl::EndsWith(alerts.out, "\n17 alerts: 重大 3, 警告 11, 情報 3\n")) << alerts.out;
  // One row per alert, found by its fingerprint.
  for (const notification::v1::Alert& alert : FiringAlerts()) {
    EXPECT_EQ(CountOccurrences(alerts.out, alert.fingerprint()), 1) << alert.fingerprint() << "\n"
                                                                    << alerts.out;
  }
  EXPECT_EQ(CountOccurrences(alerts.out, "\n"), static_cast<int>(kSeedAlerts) + 3) << alerts.out;

  // 宗谷's LAGGING CRITICAL for both KPIs, with the names from kpi-service
  // and the summary without the name prefix the columns already show.
  const std::string kodomoen =
      LineWith(alerts.out, FingerprintOf(notification::v1::RULE_KIND_LAGGING, "kodomoen", "soya"));
  EXPECT_TRUE(absl::StartsWith(kodomoen, "重大 CRITICAL  LAGGING ")) << kodomoen;
  EXPECT_TRUE(absl::StrContains(kodomoen, "  認定こども園設置数  宗谷  発生中  2026-11-29 "))
      << kodomoen;
  EXPECT_TRUE(absl::StrContains(kodomoen, "  H30 (2018)  進捗率 50.0%（想定 86.7%、差 -36.7 pt）"))
      << kodomoen;
  const std::string jishu = LineWith(
      alerts.out, FingerprintOf(notification::v1::RULE_KIND_LAGGING, "jishu-bousai", "soya"));
  EXPECT_TRUE(absl::StartsWith(jishu, "重大 CRITICAL  LAGGING ")) << jishu;
  EXPECT_TRUE(absl::StrContains(jishu, "  自主防災組織率      宗谷  発生中  ")) << jishu;

  // Filters: comma-separated values, lists combined.
  const RunResult soya = Suishinctl({"alerts", "--region", "soya", "--severity", "critical"});
  ASSERT_EQ(soya.exit_code, 0) << soya.err;
  EXPECT_TRUE(absl::EndsWith(soya.out, "\n2 alerts: 重大 2\n")) << soya.out;
  const RunResult rules = Suishinctl({"alerts", "--rule", "missing,achieved", "--kpi", "kodomoen"});
  ASSERT_EQ(rules.exit_code, 0) << rules.err;
  EXPECT_TRUE(absl::EndsWith(rules.out, "\n6 alerts: 警告 3, 情報 3\n")) << rules.out;
}

TEST_F(SuishinctlTest, AckIsShownByAlertAndMarkedInAlerts) {
  ASSERT_NO_FATAL_FAILURE(ImportSeedAndWaitForAlerts());
  const std::string fingerprint =
      FingerprintOf(notification::v1::RULE_KIND_LAGGING, "kodomoen", "soya");
  const RunResult ack =
      Suishinctl({"ack", fingerprint, "--by", "宗谷総合振興局", "--comment", "対応を検討中"});
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  EXPECT_TRUE(absl::StartsWith(ack.out, absl::StrCat("fingerprint  ", fingerprint, "\n")))
      << ack.out;
  EXPECT_TRUE(absl::StartsWith(LineWith(ack.out, "確認 "), "確認         宗谷総合振興局  "))
      << ack.out;

  const RunResult alert = Suishinctl({"alert", fingerprint});
  ASSERT_EQ(alert.exit_code, 0) << alert.err;
  EXPECT_EQ(alert.err, "");
  for (const char* line :
       {"ルール       LAGGING (遅れ)\n", "KPI          認定こども園設置数 (kodomoen)\n",
        "地域         宗谷 (soya)\n", "実績         3カ所\n", "進捗率       50.0%\n",
        "想定         86.7%\n", "差           -36.7 pt\n", "\n履歴:\n"}) {
    EXPECT_TRUE(absl::StrContains(alert.out, line)) << line << "\n" << alert.out;
  }
  const std::string acknowledgement = LineWith(alert.out, "確認 ");
  EXPECT_TRUE(absl::StartsWith(acknowledgement, "確認         宗谷総合振興局  2026-11-29 "))
      << alert.out;
  EXPECT_TRUE(absl::EndsWith(acknowledgement, "  対応を検討中")) << alert.out;
  // The history: fired, then acknowledged.
  const std::string history = alert.out.substr(alert.out.find("履歴:"));
  EXPECT_EQ(CountOccurrences(history, "\n2026-11-29 "), 2) << alert.out;
  EXPECT_TRUE(absl::StrContains(history, "宗谷総合振興局")) << alert.out;

  const RunResult alerts = Suishinctl({"alerts"});
  ASSERT_EQ(alerts.exit_code, 0) << alerts.err;
  EXPECT_TRUE(absl::StrContains(LineWith(alerts.out, fingerprint), "  ack  ")) << alerts.out;
  EXPECT_EQ(CountOccurrences(alerts.out, "  ack  "), 1) << alerts.out;
  EXPECT_TRUE(absl::EndsWith(alerts.out, "; 1 acknowledged\n")) << alerts.out;
}

TEST_F(SuishinctlTest, SilenceForAnHourMarksSoyasAlertsSilenced) {
  ASSERT_NO_FATAL_FAILURE(ImportSeedAndWaitForAlerts());
  const RunResult silence = Suishinctl(
      {"silence", "--region", "soya", "--for", "1h", "--by", "山田", "--comment", "除雪作業中"});
  ASSERT_EQ(silence.exit_code, 0) << silence.err;
  EXPECT_TRUE(absl::StrContains(silence.out, "\n対象      region=soya\n")) << silence.out;
  EXPECT_TRUE(absl::StrContains(silence.out, "\n状態      有効\n")) << silence.out;
  EXPECT_TRUE(absl::EndsWith(silence.out, "\nsilences 5 firing alerts now\n")) << silence.out;
  const std::vector<std::string> words =
      absl::StrSplit(LineWith(silence.out, "silence "), ' ', absl::SkipEmpty());
  ASSERT_EQ(words.size(), 2u) << silence.out;
  const std::string silence_id = words[1];

  // Every row of 宗谷 is marked silenced, and no other.
  const std::vector<notification::v1::Alert> firing = FiringAlerts();
  const RunResult alerts = Suishinctl({"alerts"});
  ASSERT_EQ(alerts.exit_code, 0) << alerts.err;
  int soya = 0;
  for (const notification::v1::Alert& alert : firing) {
    const std::string line = LineWith(alerts.out, alert.fingerprint());
    const bool in_soya = alert.region_id() == "soya";
    soya += in_soya ? 1 : 0;
    EXPECT_EQ(absl::StrContains(line, "  silenced  "), in_soya) << line;
    EXPECT_EQ(absl::StrContains(line, "  宗谷  "), in_soya) << line;
  }
  EXPECT_EQ(soya, 5);
  EXPECT_TRUE(absl::EndsWith(alerts.out, "; 5 silenced\n")) << alerts.out;

  const RunResult silences = Suishinctl({"silences"});
  ASSERT_EQ(silences.exit_code, 0) << silences.err;
  EXPECT_TRUE(absl::StrContains(LineWith(silences.out, silence_id), "  region=soya  "))
      << silences.out;
  EXPECT_TRUE(absl::EndsWith(silences.out, "\n1 silence\n")) << silences.out;

  // Expired, it holds nothing back any more.
  const RunResult expire = Suishinctl({"expire-silence", silence_id});
  ASSERT_EQ(expire.exit_code, 0) << expire.err;
  EXPECT_TRUE(absl::StrContains(expire.out, "\n状態      終了\n")) << expire.out;
  const RunResult after = Suishinctl({"alerts"});
  EXPECT_FALSE(absl::StrContains(after.out, "silenced")) << after.out;
  EXPECT_TRUE(absl::EndsWith(Suishinctl({"silences"}).out, "\n0 silences\n"));
  const RunResult all = Suishinctl({"silences", "--all"});
  EXPECT_TRUE(absl::StrContains(LineWith(all.out, silence_id), "  終了  ")) << all.out;
}

TEST_F(SuishinctlTest, AddWebhookRefusesAnFtpUrlNamingTheField) {
  ASSERT_NO_FATAL_FAILURE(StartNotification());
  const RunResult bad = Suishinctl({"add-webhook", "ftp://x"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_EQ(bad.out, "");
  EXPECT_TRUE(absl::StartsWith(bad.err, "suishinctl: add-webhook: INVALID_ARGUMENT: webhook.url"))
      << bad.err;
  EXPECT_EQ(CountOccurrences(bad.err, "\n"), 1) << "one line: " << bad.err;
  EXPECT_TRUE(absl::EndsWith(Suishinctl({"webhooks"}).out, "\n0 webhooks\n"));
}

TEST_F(SuishinctlTest, AddedWebhookShowsItsSecretOnceAndCanBeDeleted) {
  ASSERT_NO_FATAL_FAILURE(StartNotification());
  const std::string url = absl::StrCat("http://127.0.0.1:", PickUnusedPort(), "/hook");
  const RunResult added =
      Suishinctl({"add-webhook", url, "--region", "soya", "--severity", "critical"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_TRUE(absl::StartsWith(LineWith(added.out, "secret "), "secret   whsec_")) << added.out;
  EXPECT_TRUE(absl::StrContains(added.out, "\nKeep this secret: ")) << added.out;
  EXPECT_TRUE(absl::StrContains(added.out, "\n対象     region=soya severity=CRITICAL\n"))
      << added.out;
  const std::vector<std::string> words =
      absl::StrSplit(LineWith(added.out, "webhook "), ' ', absl::SkipEmpty());
  ASSERT_EQ(words.size(), 2u) << added.out;
  const std::string id = words[1];

  const RunResult list = Suishinctl({"webhooks"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(absl::StrContains(LineWith(list.out, id), url)) << list.out;
  EXPECT_FALSE(absl::StrContains(list.out, "whsec_")) << "never listed: " << list.out;

  // A new secret, shown once, and until when the old one signs too.
  const RunResult rotated = Suishinctl({"rotate-webhook-secret", id, "--overlap", "2h"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  const std::string new_secret = LineWith(rotated.out, "secret ");
  EXPECT_TRUE(absl::StrContains(new_secret, " whsec_")) << rotated.out;
  EXPECT_FALSE(absl::StrContains(rotated.out, LineWith(added.out, "secret ").substr(9)))
      << "a new secret: " << rotated.out;
  EXPECT_TRUE(absl::EndsWith(LineWith(rotated.out, "旧secret"), " まで併用")) << rotated.out;
  const RunResult ended = Suishinctl({"rotate-webhook-secret", id, "--overlap", "0", "--secret",
                                      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"});
  ASSERT_EQ(ended.exit_code, 0) << ended.err;
  EXPECT_FALSE(absl::StrContains(ended.out, "whsec_")) << "a given secret is not echoed";
  EXPECT_TRUE(absl::StrContains(ended.out, "旧secret  廃止")) << ended.out;
  const RunResult bad = Suishinctl({"rotate-webhook-secret", id, "--overlap", "soon"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad.err, "--overlap: \"soon\"")) << bad.err;

  const RunResult deleted = Suishinctl({"delete-webhook", id});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, absl::StrCat("webhook ", id, " deleted\n"));
  EXPECT_TRUE(absl::EndsWith(Suishinctl({"webhooks"}).out, "\n0 webhooks\n"));
  const RunResult again = Suishinctl({"delete-webhook", id});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(again.err, "suishinctl: delete-webhook: NOT_FOUND: ")) << again.err;
}

TEST_F(SuishinctlTest, SetRuleChangesOneSettingAndKeepsTheOthers) {
  ASSERT_NO_FATAL_FAILURE(StartNotification());
  const RunResult set =
      Suishinctl({"set-rule", "--rule", "stagnant", "--kpi", "kodomoen", "--min-steps", "4"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_TRUE(
      absl::StrContains(set.out, "\nSTAGNANT 停滞  kodomoen  yes   警告 WARNING  min steps 4\n"))
      << set.out;
  const RunResult rules = Suishinctl({"rules", "--kpi", "kodomoen"});
  ASSERT_EQ(rules.exit_code, 0) << rules.err;
  EXPECT_TRUE(absl::StrContains(LineWith(rules.out, "STAGNANT"), "min steps 4")) << rules.out;
  EXPECT_TRUE(absl::StrContains(Suishinctl({"rules"}).out, "min steps 2"))
      << "the global rule is unchanged";
  // The service checks the gaps against each other: exit 1 naming the field.
  const RunResult bad = Suishinctl({"set-rule", "--rule", "lagging", "--warning-gap", "-5"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_TRUE(absl::StartsWith(bad.err, "suishinctl: set-rule: INVALID_ARGUMENT: rule.warning_gap"))
      << bad.err;
}

TEST_F(SuishinctlTest, WatchAlertsPrintsEventsAsTheyComeAndSaysHowToResume) {
  ASSERT_NO_FATAL_FAILURE(ImportSeedAndWaitForAlerts());
  const std::string out = dir_->File("watch.out");
  const std::string json_out = dir_->File("watch-json.out");
  const std::string err = dir_->File("watch.err");
  const std::string json_err = dir_->File("watch-json.err");
  for (const std::string& path : {out, json_out, err, json_err}) std::ofstream(path).flush();
  absl::StatusOr<ChildProcess> watch =
      ChildProcess::Start(Argv({"watch-alerts", "--region", "soya"}), kEnv, out, err);
  ASSERT_TRUE(watch.ok()) << watch.status();
  absl::StatusOr<ChildProcess> json = ChildProcess::Start(
      Argv({"watch-alerts", "--region", "soya", "--json"}), kEnv, json_out, json_err);
  ASSERT_TRUE(json.ok()) << json.status();

  // The five kept events of 宗谷, each fired.
  absl::StatusOr<std::string> fired = WaitForLines(out, 5, kSuishinctlRunTimeout);
  ASSERT_TRUE(fired.ok()) << fired.status();
  for (absl::string_view line : absl::StrSplit(absl::StripSuffix(*fired, "\n"), '\n')) {
    EXPECT_TRUE(absl::StartsWith(line, "#")) << line;
    EXPECT_TRUE(absl::StrContains(line, "  発生  ")) << line;
    EXPECT_TRUE(absl::StrContains(line, " 宗谷: ")) << line;
  }

  // Then one as it happens: an acknowledgement.
  const std::string fingerprint =
      FingerprintOf(notification::v1::RULE_KIND_STAGNANT, "kodomoen", "soya");
  ASSERT_EQ(Suishinctl({"ack", fingerprint, "--by", "宗谷総合振興局"}).exit_code, 0);
  absl::StatusOr<std::string> acked = WaitForLines(out, 6, kSuishinctlRunTimeout);
  ASSERT_TRUE(acked.ok()) << acked.status();
  const std::vector<std::string> lines = absl::StrSplit(absl::StripSuffix(*acked, "\n"), '\n');
  ASSERT_EQ(lines.size(), 6u) << *acked;
  EXPECT_TRUE(absl::StrContains(lines[5], "  確認  警告 WARNING  STAGNANT  ")) << lines[5];
  EXPECT_TRUE(absl::EndsWith(lines[5], absl::StrCat(fingerprint, "  by 宗谷総合振興局")))
      << lines[5];
  const std::string last_id(absl::string_view(lines[5]).substr(1, lines[5].find(' ') - 1));

  // --json: one AlertEvent per line.
  absl::StatusOr<std::string> objects = WaitForLines(json_out, 6, kSuishinctlRunTimeout);
  ASSERT_TRUE(objects.ok()) << objects.status();
  for (absl::string_view line : absl::StrSplit(absl::StripSuffix(*objects, "\n"), '\n')) {
    notification::v1::AlertEvent event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &event).ok())
        << line;
    EXPECT_EQ(event.alert().region_id(), "soya") << line;
  }

  // The service goes away: the watch says which --after resumes it.
  StopService(&notification_server_);
  for (auto [child, path] : {std::pair{&*watch, err}, std::pair{&*json, json_err}}) {
    absl::StatusOr<int> status = child->Wait(kServiceStopTimeout);
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << *status;
    absl::StatusOr<std::string> text = ReadWholeFile(path);
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_TRUE(absl::StartsWith(*text, "suishinctl: watch-alerts: ")) << *text;
    EXPECT_TRUE(absl::EndsWith(*text, absl::StrCat(" (resume with --after ", last_id, ")\n")))
        << *text;
    EXPECT_EQ(CountOccurrences(*text, "\n"), 1) << *text;
  }
}

// Usage errors need no server.
struct UsageCase {
  std::vector<std::string> args;
  std::string stderr_part;
};

TEST(SuishinctlUsageTest, BadUsageExitsWithStatus2) {
  absl::StatusOr<TempDir> dir = TempDir::Create("suishinctl-usage");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const UsageCase cases[] = {
      {{"frobnicate"}, "unknown command \"frobnicate\""},
      {{"initiatives", "--project", kProject, "--year", "R2x"}, "--year: "},
      {{"initiatives", "--project", kProject, "--year", "H35"}, "H35"},
      {{"initiatives", "--project", kProject, "--stage", "soon"}, "--stage: \"soon\""},
      {{"initiatives"}, "--project is required"},
      {{"regions", "--year", "R2"}, "--year is not a flag of regions"},
      {{"progress", "--kpi", "kodomoen", "--region", "soya", "--as-of", "R99"}, "--as-of: "},
      {{"record", "--kpi", "kodomoen", "--region", "soya", "--year", "R元", "--value", "many"},
       "--value: \"many\" is not a number"},
      {{"table", "--project", kProject}, "--year is required"},
      {{"regions", "--no_such_flag"}, "unknown flag --no_such_flag"},
      {{"project"}, "usage: suishinctl project ID"},
      {{"alerts", "--severity", "urgent"}, "--severity: \"urgent\" is not a severity"},
      {{"ack", "47786be92014bae0"}, "--by is required"},
      {{"watch-alerts", "--after", "-1"}, "--after: -1 is negative"},
      {{"silence", "--region", "soya", "--by", "山田", "--comment", "除雪"},
       "--until or --for is required"},
      {{"silence", "--kpi", "kodomoen", "--for", "soon", "--by", "山田", "--comment", "除雪"},
       "--for: \"soon\""},
      {{"set-rule", "--rule", "lagging", "--clear-gap", "x"}, "--clear-gap: \"x\""},
      {{"add-webhook"}, "usage: suishinctl add-webhook URL"},
      {{}, "usage: suishinctl COMMAND"},
  };
  for (const UsageCase& c : cases) {
    std::vector<std::string> argv = {kSuishinctlBinary};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    absl::StatusOr<RunResult> run = RunToCompletion(argv, kEnv, dir->path(), kSuishinctlRunTimeout);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->exit_code, 2) << absl::StrJoin(c.args, " ") << "\n" << run->err;
    EXPECT_TRUE(absl::StrContains(run->err, c.stderr_part)) << absl::StrJoin(c.args, " ") << "\n"
                                                            << run->err;
  }
}

TEST(SuishinctlUsageTest, HelpListsEveryCommand) {
  absl::StatusOr<TempDir> dir = TempDir::Create("suishinctl-usage");
  ASSERT_TRUE(dir.ok()) << dir.status();
  absl::StatusOr<RunResult> run =
      RunToCompletion({kSuishinctlBinary, "help"}, kEnv, dir->path(), kSuishinctlRunTimeout);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 0) << run->err;
  for (const ctl::CommandSpec& spec : ctl::AllCommands()) {
    EXPECT_TRUE(absl::StrContains(run->out, spec.synopsis)) << spec.name;
  }
}

}  // namespace
}  // namespace suishin::testing
