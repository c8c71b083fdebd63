// End to end: export-json and import-json of the real suishinctl binary
// against real plan-service and kpi-service pairs, each started on port 0
// with its databases in a temp dir. A second, fresh pair receives what the
// first exported.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/proto_util.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"

namespace suishin::testing {
namespace {

using google::protobuf::util::MessageDifferencer;

const std::string kSeedDataset = SUISHIN_SOURCE_DIR "/data/seed/dohoku-2019.json";
constexpr char kSourcePrefix[] = "suishinctl export-json ";

// A plan-service and a kpi-service following it, with their own databases.
class Suite {
 public:
  Suite(const TempDir& dir, std::string name) : dir_(dir), name_(std::move(name)) {}
  Suite(const Suite&) = delete;
  Suite& operator=(const Suite&) = delete;

  void Start() {
    // Its files are <name>-plan.* and <name>-kpi.*.
    ASSERT_NO_FATAL_FAILURE(StartPlanService(dir_, name_ + "-plan", &plan_)) << Logs();
    ASSERT_NO_FATAL_FAILURE(StartKpiService(dir_, name_ + "-kpi", plan_->address(), &kpi_))
        << Logs();
  }

  // kpi-service before plan-service, which it calls.
  void Stop() {
    StopService(&kpi_);
    StopService(&plan_);
  }

  // Runs suishinctl with `args` against this suite.
  RunResult Suishinctl(std::vector<std::string> args) {
    return RunSuishinctl(
        SuishinctlArgv(std::move(args), plan_ ? plan_->address() : "", kpi_ ? kpi_->address() : ""),
        {}, dir_.path());
  }

  std::string Logs() const {
    std::string logs;
    for (const char* server : {"plan", "kpi"}) {
      absl::StatusOr<std::string> log = ReadWholeFile(File(absl::StrCat(server, ".log")));
      absl::StrAppend(&logs, name_, " ", server, ".log:\n", log.ok() ? *log : "(none)", "\n");
    }
    return logs;
  }

 private:
  std::string File(absl::string_view name) const {
    return dir_.File(absl::StrCat(name_, "-", name));
  }

  const TempDir& dir_;
  const std::string name_;
  std::optional<ServiceProcess> plan_;
  std::optional<ServiceProcess> kpi_;
};

dataset::v1::Dataset ReadDataset(const std::string& path) {
  dataset::v1::Dataset dataset;
  const absl::Status status = ReadJsonFile(path, &dataset);
  EXPECT_TRUE(status.ok()) << status;
  return dataset;
}

// Empty when `a` and `b` are equal apart from `source`; otherwise what differs.
std::string DifferencesIgnoringSource(dataset::v1::Dataset a, dataset::v1::Dataset b) {
  a.clear_source();
  b.clear_source();
  std::string differences;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&differences);
  if (differencer.Compare(a, b)) return "";
  return differences.empty() ? "(differ)" : differences;
}

// The dataset's KPI `id` (there must be one).
kpi::v1::KpiRecord* KpiIn(dataset::v1::Dataset& dataset, const std::string& id) {
  for (kpi::v1::KpiRecord& record : *dataset.mutable_kpi()->mutable_kpis()) {
    if (record.kpi().id() == id) return &record;
  }
  ADD_FAILURE() << "no KPI " << id;
  return nullptr;
}

// Empty when `a` and `b` have the same lines apart from their "source"
// lines; otherwise the first line that differs.
std::string FirstDifferenceIgnoringSource(const std::string& a, const std::string& b) {
  const auto lines = [](const std::string& text) {
    std::vector<std::string> kept;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (!absl::StartsWith(line, "  \"source\": ")) kept.emplace_back(line);
    }
    return kept;
  };
  const std::vector<std::string> x = lines(a);
  const std::vector<std::string> y = lines(b);
  for (size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
    const std::string left = i < x.size() ? x[i] : "(end)";
    const std::string right = i < y.size() ? y[i] : "(end)";
    if (left != right) {
      return absl::StrCat("line ", i + 1, " without source: ", left, " | ", right);
    }
  }
  return "";
}

class JsonExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("suishinctl-json");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_.emplace(*std::move(dir));
    first_.emplace(*dir_, "first");
    ASSERT_NO_FATAL_FAILURE(first_->Start());
  }

  void TearDown() override {
    if (second_) second_->Stop();
    if (first_) first_->Stop();
  }

  // A fresh suite, empty.
  Suite& Second() {
    if (!second_) {
      second_.emplace(*dir_, "second");
      second_->Start();
    }
    return *second_;
  }

  std::string File(absl::string_view name) const { return dir_->File(name); }

  void Write(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    ASSERT_TRUE(out.good()) << path;
  }

  void WriteDataset(const std::string& path, const dataset::v1::Dataset& dataset) {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(dataset, &json, options).ok());
    Write(path, json);
  }

  // Imports `path` into `suite` with import-json, which must work.
  void ImportJson(Suite& suite, const std::string& path) {
    const RunResult run = suite.Suishinctl({"import-json", path});
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err << suite.Logs();
    EXPECT_TRUE(run.err.empty()) << run.err;
  }

  // export-json -o into `path`, which must work; the dataset written.
  dataset::v1::Dataset ExportJson(Suite& suite, const std::string& path) {
    const RunResult run = suite.Suishinctl({"export-json", "-o", path});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err << suite.Logs();
    EXPECT_TRUE(run.err.empty()) << run.err;
    return ReadDataset(path);
  }

  // Checks that import-json of `path` into an empty suite is refused with
  // exactly one line on standard error, starting with `prefix` and naming
  // `detail`, and that nothing was stored.
  void ExpectRefused(const std::string& path, const std::string& detail) {
    Suite& suite = Second();
    const RunResult run = suite.Suishinctl({"import-json", path});
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_TRUE(absl::EndsWith(run.err, "\n")) << run.err;
    const std::string line(absl::StripSuffix(run.err, "\n"));
    EXPECT_FALSE(absl::StrContains(line, "\n")) << run.err;
    EXPECT_TRUE(
        absl::StartsWith(line, absl::StrCat("suishinctl: import-json: INVALID_ARGUMENT: ", path)))
        << run.err;
    EXPECT_TRUE(absl::StrContains(line, detail)) << run.err;
    EXPECT_TRUE(run.out.empty()) << run.out;

    const dataset::v1::Dataset stored = ExportJson(suite, File("after-refusal.json"));
    EXPECT_EQ(stored.plan().regions_size(), 0);
    EXPECT_EQ(stored.plan().projects_size(), 0);
    EXPECT_EQ(stored.plan().initiatives_size(), 0);
    EXPECT_EQ(stored.kpi().kpis_size(), 0);
  }

  std::optional<TempDir> dir_;
  std::optional<Suite> first_;
  std::optional<Suite> second_;
};

TEST_F(JsonExchangeTest, ExportImportExportGivesTheSameDatasetAndTheSeedFile) {
  ASSERT_EQ(first_->Suishinctl({"import", kSeedDataset}).exit_code, 0) << first_->Logs();
  const std::string exported = File("exported.json");
  const RunResult run = first_->Suishinctl({"export-json", "-o", exported});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(
      run.out,
      absl::StrCat(exported, ": 5 regions, 1 project, 45 initiatives, 2 KPIs with 24 actuals\n"));
  const dataset::v1::Dataset first = ReadDataset(exported);

  // What and when.
  ASSERT_TRUE(absl::StartsWith(first.source(), kSourcePrefix)) << first.source();
  absl::Time when;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, absl::StripPrefix(first.source(), kSourcePrefix),
                              &when, &error))
      << first.source() << ": " << error;
  EXPECT_LT(absl::AbsDuration(absl::Now() - when), absl::Minutes(5)) << first.source();

  // The seed's plan and KPI content, all of it: regions, the project, 45
  // initiatives, 2 KPIs with baselines, targets with their revision and
  // every actual; written as the seed file is, byte for byte but the source.
  const dataset::v1::Dataset seed = ReadDataset(kSeedDataset);
  EXPECT_EQ(DifferencesIgnoringSource(seed, first), "");
  EXPECT_EQ(first.plan().regions_size(), 5);
  EXPECT_EQ(first.plan().projects_size(), 1);
  EXPECT_EQ(first.plan().initiatives_size(), 45);
  ASSERT_EQ(first.kpi().kpis_size(), 2);
  EXPECT_EQ(first.kpi().kpis(0).targets(0).revisions_size(), 1);
  EXPECT_EQ(first.kpi().kpis(0).actuals_size() + first.kpi().kpis(1).actuals_size(), 24);
  absl::StatusOr<std::string> seed_text = ReadWholeFile(kSeedDataset);
  absl::StatusOr<std::string> first_text = ReadWholeFile(exported);
  ASSERT_TRUE(seed_text.ok() && first_text.ok());
  EXPECT_EQ(FirstDifferenceIgnoringSource(*seed_text, *first_text), "");

  // Into a fresh pair, and out again, this time on standard output.
  Suite& second = Second();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_NO_FATAL_FAILURE(ImportJson(second, exported));
  const RunResult again = second.Suishinctl({"export-json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(again.err.empty()) << again.err;
  dataset::v1::Dataset round_trip;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(again.out, &round_trip).ok())
      << again.out;
  EXPECT_TRUE(absl::StartsWith(round_trip.source(), kSourcePrefix)) << round_trip.source();
  EXPECT_EQ(DifferencesIgnoringSource(first, round_trip), "");
  EXPECT_EQ(FirstDifferenceIgnoringSource(*first_text, again.out), "");
}

TEST_F(JsonExchangeTest, ImportJsonTwiceChangesNothing) {
  const std::string exported = File("exported.json");
  ASSERT_EQ(first_->Suishinctl({"import", kSeedDataset}).exit_code, 0);
  const dataset::v1::Dataset before = ExportJson(*first_, exported);
  const RunResult again = first_->Suishinctl({"import-json", exported});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(absl::StrContains(again.out, "2 already present; 0 rows applied")) << again.out;
  EXPECT_EQ(DifferencesIgnoringSource(before, ExportJson(*first_, File("again.json"))), "");
}

TEST_F(JsonExchangeTest, CorrectedActualExportsItsLatestValue) {
  ASSERT_EQ(first_->Suishinctl({"import", kSeedDataset}).exit_code, 0);
  // 宗谷's H30 認定こども園: 3 in the seed, recorded twice more.
  for (const auto& [value, by] : {std::pair<const char*, const char*>{"4", "宗谷総合振興局 担当A"},
                                  {"5", "宗谷総合振興局"}}) {
    const RunResult record =
        first_->Suishinctl({"record", "--kpi", "kodomoen", "--region", "soya", "--year", "H30",
                            "--value", value, "--by", by, "--reason", "集計誤りの訂正"});
    ASSERT_EQ(record.exit_code, 0) << record.err;
  }
  const std::string exported = File("corrected.json");
  const dataset::v1::Dataset first = ExportJson(*first_, exported);

  dataset::v1::Dataset expected = ReadDataset(kSeedDataset);
  kpi::v1::KpiRecord* kodomoen = KpiIn(expected, "kodomoen");
  ASSERT_NE(kodomoen, nullptr);
  int corrected = 0;
  for (kpi::v1::Actual& actual : *kodomoen->mutable_actuals()) {
    if (actual.region_id() == "soya" && actual.fiscal_year().year() == 2018) {
      actual.set_value(5);
      actual.set_reported_by("宗谷総合振興局");
      ++corrected;
    }
  }
  ASSERT_EQ(corrected, 1);
  EXPECT_EQ(DifferencesIgnoringSource(expected, first), "");

  Suite& second = Second();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_NO_FATAL_FAILURE(ImportJson(second, exported));
  EXPECT_EQ(DifferencesIgnoringSource(first, ExportJson(second, File("again.json"))), "");
}

TEST_F(JsonExchangeTest, RatioKpiKeepsNumeratorsDenominatorsAndTargetRevisions) {
  // The seed and a KPI computed from numerators and denominators, whose
  // target was revised twice.
  dataset::v1::Dataset file = ReadDataset(kSeedDataset);
  kpi::v1::KpiRecord* record = file.mutable_kpi()->add_kpis();
  kpi::v1::Kpi* kpi = record->mutable_kpi();
  kpi->set_id("taishin-ka");
  kpi->set_project_id("dohoku-anzen-anshin");
  kpi->set_name("避難所耐震化率");
  kpi->set_unit("%");
  kpi->set_value_kind(kpi::v1::VALUE_KIND_PERCENT);
  kpi->set_direction(kpi::v1::DIRECTION_INCREASE);
  kpi->set_aggregation(kpi::v1::AGGREGATION_RULE_RATIO);
  kpi->set_progress_method(kpi::v1::PROGRESS_METHOD_ACHIEVEMENT);
  kpi->set_area_id("dohoku");
  for (const char* id : {"dohoku", "kamikawa", "rumoi", "soya"}) kpi->add_region_ids(id);
  struct Figure {
    const char* region;
    double numerator;
    double denominator;
    const char* by;
  };
  for (const Figure& f : {Figure{"kamikawa", 90, 300, ""}, Figure{"rumoi", 20, 100, ""},
                          Figure{"soya", 10, 125, ""}}) {
    kpi::v1::Baseline* baseline = record->add_baselines();
    baseline->set_region_id(f.region);
    baseline->mutable_fiscal_year()->set_year(2015);
    baseline->set_value(f.numerator / f.denominator * 100);
    baseline->set_numerator(f.numerator);
    baseline->set_denominator(f.denominator);
  }
  kpi::v1::Target* target = record->add_targets();
  target->set_region_id("kamikawa");
  target->mutable_fiscal_year()->set_year(2020);
  target->set_value(60);
  for (const auto& [value, reason] :
       {std::pair<double, const char*>{50, "当初目標を引上げ"}, {55, "中間見直し"}}) {
    kpi::v1::TargetRevision* revision = target->add_revisions();
    revision->mutable_fiscal_year()->set_year(2020);
    revision->set_value(value);
    revision->set_reason(reason);
  }
  int year = 2016;
  for (const Figure& f :
       {Figure{"kamikawa", 120, 300, "上川総合振興局"},
        Figure{"kamikawa", 150, 300, "上川総合振興局"}, Figure{"rumoi", 30, 100, "留萌振興局"},
        Figure{"soya", 25, 125, "宗谷総合振興局"}}) {
    kpi::v1::Actual* actual = record->add_actuals();
    actual->set_kpi_id("taishin-ka");
    actual->set_region_id(f.region);
    actual->mutable_fiscal_year()->set_year(std::string(f.region) == "kamikawa" ? year++ : 2016);
    actual->set_value(f.numerator / f.denominator * 100);
    actual->set_numerator(f.numerator);
    actual->set_denominator(f.denominator);
    actual->set_reported_by(f.by);
  }
  const std::string path = File("ratio.json");
  ASSERT_NO_FATAL_FAILURE(WriteDataset(path, file));

  ASSERT_NO_FATAL_FAILURE(ImportJson(*first_, path));
  dataset::v1::Dataset exported = ExportJson(*first_, File("ratio-exported.json"));
  EXPECT_EQ(DifferencesIgnoringSource(file, exported), "");
  const kpi::v1::KpiRecord* out = KpiIn(exported, "taishin-ka");
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(out->actuals_size(), 4);
  EXPECT_EQ(out->actuals(1).numerator(), 150);
  EXPECT_EQ(out->actuals(1).denominator(), 300);
  ASSERT_EQ(out->targets_size(), 1);
  ASSERT_EQ(out->targets(0).revisions_size(), 2);
  EXPECT_EQ(out->targets(0).revisions(1).reason(), "中間見直し");
}

TEST_F(JsonExchangeTest, MalformedJsonIsRefusedOnOneLineAndNothingIsStored) {
  absl::StatusOr<std::string> seed = ReadWholeFile(kSeedDataset);
  ASSERT_TRUE(seed.ok());
  // Cut in the middle of the initiatives: the plan part would be complete.
  const std::string truncated = File("truncated.json");
  ASSERT_NO_FATAL_FAILURE(Write(truncated, seed->substr(0, seed->size() / 2)));
  ExpectRefused(truncated, "not a valid suishin.dataset.v1.Dataset: ");
  // A missing comma: where it is.
  const std::string comma = File("comma.json");
  ASSERT_NO_FATAL_FAILURE(Write(comma,
                                "{\"source\": \"x\",\n \"plan\": {\"regions\": [\n"
                                " {\"id\": \"hokkaido\" \"name\": \"北海道\"}]}}\n"));
  ExpectRefused(comma, "(line 3, column 20)");
}

TEST_F(JsonExchangeTest, UnknownFieldIsRefusedOnOneLineAndNothingIsStored) {
  absl::StatusOr<std::string> seed = ReadWholeFile(kSeedDataset);
  ASSERT_TRUE(seed.ok());
  std::string text = *seed;
  const std::string unit = "\"unit\": \"カ所\",";
  ASSERT_TRUE(absl::StrContains(text, unit));
  text.replace(text.find(unit), unit.size(), unit + "\n        \"colour\": \"red\",");
  const std::string path = File("unknown-field.json");
  ASSERT_NO_FATAL_FAILURE(Write(path, text));
  ExpectRefused(path, "colour");
}

TEST_F(JsonExchangeTest, KpiOfAnUnknownProjectIsRefusedBeforeThePlanIsStored) {
  dataset::v1::Dataset file = ReadDataset(kSeedDataset);
  kpi::v1::KpiRecord* record = KpiIn(file, "jishu-bousai");
  ASSERT_NE(record, nullptr);
  record->mutable_kpi()->set_project_id("no-such-project");
  const std::string path = File("unknown-project.json");
  ASSERT_NO_FATAL_FAILURE(WriteDataset(path, file));
  ExpectRefused(path,
                "kpi.kpis[1].kpi.projectId: project \"no-such-project\" is neither in the "
                "file nor in plan-service; nothing stored");
}

TEST_F(JsonExchangeTest, KpiOfAProjectAlreadyStoredIsAccepted) {
  ASSERT_EQ(first_->Suishinctl({"import", kSeedDataset}).exit_code, 0);
  // Only a KPI, of the project plan-service has.
  dataset::v1::Dataset seed = ReadDataset(kSeedDataset);
  const kpi::v1::KpiRecord* kodomoen = KpiIn(seed, "kodomoen");
  ASSERT_NE(kodomoen, nullptr);
  dataset::v1::Dataset file;
  kpi::v1::KpiRecord* record = file.mutable_kpi()->add_kpis();
  *record = *kodomoen;
  record->mutable_kpi()->set_id("kodomoen-2");
  for (kpi::v1::Actual& actual : *record->mutable_actuals()) actual.set_kpi_id("kodomoen-2");
  const std::string path = File("kpi-only.json");
  ASSERT_NO_FATAL_FAILURE(WriteDataset(path, file));
  ASSERT_NO_FATAL_FAILURE(ImportJson(*first_, path));
  const dataset::v1::Dataset exported = ExportJson(*first_, File("exported.json"));
  EXPECT_EQ(exported.kpi().kpis_size(), 3);
}

TEST_F(JsonExchangeTest, ExportToAnUnwritableFileFailsOnOneLine) {
  const std::string path = File("no-such-dir/out.json");
  const RunResult run = first_->Suishinctl({"export-json", "-o", path});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_EQ(run.err, absl::StrCat("suishinctl: export-json: NOT_FOUND: ", path,
                                  ": cannot be written: No such file or directory\n"));
  const RunResult empty = first_->Suishinctl({"export-json", "-o", ""});
  EXPECT_EQ(empty.exit_code, 2) << empty.err;
  EXPECT_TRUE(absl::StartsWith(empty.err, "suishinctl: export-json: -o: ")) << empty.err;
}

}  // namespace
}  // namespace suishin::testing
