// End to end: the real suishinctl binary against the real plan-service and
// kpi-service binaries (no Redis), each started on port 0 with its database
// in a temp dir.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fiscal_year.h"
#include "common/proto_util.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tools/suishinctl/commands.h"
#include "tools/suishinctl/dataset_rows.h"
#include "tools/suishinctl/kpi_views.h"

namespace suishin::testing {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(20);
constexpr absl::Duration kRunTimeout = absl::Seconds(30);
constexpr absl::Duration kStopTimeout = absl::Seconds(10);

const std::string kSuishinctl = SUISHIN_BINARY_DIR "/tools/suishinctl/suishinctl";
const std::string kPlanService = SUISHIN_BINARY_DIR "/services/plan/plan-service";
const std::string kKpiService = SUISHIN_BINARY_DIR "/services/kpi/kpi-service";
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

    StartServer("plan",
                {kPlanService, "--plan_listen=127.0.0.1:0", "--plan_db=" + dir_->File("plan.db")},
                &plan_server_, &plan_address_);
    if (HasFatalFailure()) return;
    StartServer("kpi",
                {kKpiService, "--kpi_listen=127.0.0.1:0", "--kpi_db=" + dir_->File("kpi.db"),
                 "--plan_address=" + plan_address_, "--redis_url="},
                &kpi_server_, &kpi_address_);
  }

  void TearDown() override {
    // kpi-service first: it calls plan-service.
    StopServer("kpi", &kpi_server_);
    StopServer("plan", &plan_server_);
  }

  // Starts `argv` with --port_file=<name>.port, logging to <name>.log, and
  // sets `address` to 127.0.0.1:<the port it bound>.
  void StartServer(const std::string& name, std::vector<std::string> argv,
                   std::optional<ChildProcess>* server, std::string* address) {
    const std::string port_file = dir_->File(name + ".port");
    argv.push_back("--port_file=" + port_file);
    absl::StatusOr<ChildProcess> child =
        ChildProcess::Start(argv, {}, dir_->File(name + ".log"), dir_->File(name + ".log"));
    ASSERT_TRUE(child.ok()) << child.status();
    server->emplace(*std::move(child));
    absl::StatusOr<std::string> port = (*server)->WaitForFile(port_file, kStartTimeout);
    ASSERT_TRUE(port.ok()) << port.status() << "\n" << ServerLog(name);
    int number = 0;
    ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(*port), &number)) << *port;
    *address = absl::StrCat("127.0.0.1:", number);
  }

  void StopServer(const std::string& name, std::optional<ChildProcess>* server) {
    if (!*server || !(*server)->running()) return;
    absl::StatusOr<int> status = (*server)->Terminate(kStopTimeout);
    ASSERT_TRUE(status.ok()) << status.status() << "\n" << ServerLog(name);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << name << ": wait status " << *status << "\n"
        << ServerLog(name);
  }

  // Runs suishinctl with `args` against the test's plan- and kpi-service.
  RunResult Suishinctl(std::vector<std::string> args) {
    args.insert(args.begin(), kSuishinctl);
    args.push_back("--plan_address=" + plan_address_);
    args.push_back("--kpi_address=" + kpi_address_);
    absl::StatusOr<RunResult> result = RunToCompletion(args, kEnv, dir_->path(), kRunTimeout);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : RunResult{};
  }

  // Imports the seed dataset and checks that it worked.
  void ImportSeed() {
    const RunResult import = Suishinctl({"import", kSeedDataset});
    ASSERT_EQ(import.exit_code, 0) << import.out << import.err << ServerLog("kpi");
  }

  std::string ServerLog(const std::string& name) const {
    absl::StatusOr<std::string> log = ReadWholeFile(dir_->File(name + ".log"));
    return log.ok() ? *log : std::string(log.status().message());
  }

  std::optional<TempDir> dir_;
  std::optional<ChildProcess> plan_server_;
  std::optional<ChildProcess> kpi_server_;
  std::string plan_address_;
  std::string kpi_address_;
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
  EXPECT_TRUE(absl::StartsWith(table.out, "【ＫＰＩの状況】")) << table.out;

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
  for (const kpi::v1::ImportRow& row : ctl::RowsOf(record, 1)) {
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
      {{}, "usage: suishinctl COMMAND"},
  };
  for (const UsageCase& c : cases) {
    std::vector<std::string> argv = {kSuishinctl};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    absl::StatusOr<RunResult> run = RunToCompletion(argv, kEnv, dir->path(), kRunTimeout);
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
      RunToCompletion({kSuishinctl, "help"}, kEnv, dir->path(), kRunTimeout);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 0) << run->err;
  for (const ctl::CommandSpec& spec : ctl::AllCommands()) {
    EXPECT_TRUE(absl::StrContains(run->out, spec.synopsis)) << spec.name;
  }
}

}  // namespace
}  // namespace suishin::testing
