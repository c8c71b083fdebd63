// The pure parts of export-json and import-json (exchange/dataset_io.h):
// actuals rebuilt from a change log, output-only fields, the file format, and
// parser errors on one line.
#include "exchange/dataset_io.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace suishin::exchange {
namespace {

using google::protobuf::util::MessageDifferencer;

const std::string kSeedDataset = SUISHIN_SOURCE_DIR "/data/seed/dohoku-2019.json";

kpi::v1::Kpi DohokuKpi() {
  kpi::v1::Kpi kpi;
  kpi.set_id("kodomoen");
  for (const char* id : {"dohoku", "kamikawa", "rumoi", "soya"}) kpi.add_region_ids(id);
  return kpi;
}

kpi::v1::Change MakeChange(int64_t sequence, kpi::v1::ChangeKind kind, const std::string& region,
                           int year, double value, const std::string& author) {
  kpi::v1::Change change;
  change.set_sequence(sequence);
  change.set_kind(kind);
  change.set_kpi_id("kodomoen");
  change.set_region_id(region);
  change.mutable_fiscal_year()->set_year(year);
  change.mutable_fiscal_year()->set_label("label");
  change.set_new_value(value);
  change.set_author(author);
  change.mutable_change_time()->set_seconds(1000 + sequence);
  return change;
}

TEST(ActualsFromHistoryTest, TakesTheLastActualChangeOfEachRegionAndYearInRegionOrder) {
  google::protobuf::RepeatedPtrField<kpi::v1::Change> changes;
  *changes.Add() = MakeChange(1, kpi::v1::CHANGE_KIND_KPI_CREATED, "dohoku", 0, 0, "");
  *changes.Add() = MakeChange(2, kpi::v1::CHANGE_KIND_BASELINE_SET, "soya", 2014, 2, "");
  *changes.Add() = MakeChange(3, kpi::v1::CHANGE_KIND_TARGET_REVISED, "soya", 2019, 6, "");
  *changes.Add() = MakeChange(4, kpi::v1::CHANGE_KIND_ACTUAL_RECORDED, "soya", 2016, 3, "宗谷");
  *changes.Add() = MakeChange(5, kpi::v1::CHANGE_KIND_ACTUAL_RECORDED, "soya", 2015, 3, "宗谷");
  *changes.Add() = MakeChange(6, kpi::v1::CHANGE_KIND_ACTUAL_RECORDED, "kamikawa", 2015, 6, "上川");
  kpi::v1::Change corrected =
      MakeChange(7, kpi::v1::CHANGE_KIND_ACTUAL_CORRECTED, "soya", 2016, 4, "宗谷総合振興局");
  corrected.set_old_value(3);
  corrected.set_new_numerator(4);
  corrected.set_new_denominator(10);
  *changes.Add() = corrected;
  *changes.Add() = MakeChange(8, kpi::v1::CHANGE_KIND_ACTUAL_RECORDED, "unlisted", 2015, 1, "x");

  const std::vector<kpi::v1::Actual> actuals = ActualsFromHistory(DohokuKpi(), changes);
  ASSERT_EQ(actuals.size(), 4u);
  // kamikawa before soya (region_ids order), years ascending, unknown regions last.
  EXPECT_EQ(actuals[0].region_id(), "kamikawa");
  EXPECT_EQ(actuals[1].region_id(), "soya");
  EXPECT_EQ(actuals[1].fiscal_year().year(), 2015);
  EXPECT_EQ(actuals[2].region_id(), "soya");
  EXPECT_EQ(actuals[2].fiscal_year().year(), 2016);
  EXPECT_EQ(actuals[3].region_id(), "unlisted");

  const kpi::v1::Actual& latest = actuals[2];
  EXPECT_EQ(latest.kpi_id(), "kodomoen");
  EXPECT_EQ(latest.value(), 4);
  EXPECT_EQ(latest.reported_by(), "宗谷総合振興局");
  ASSERT_TRUE(latest.has_numerator());
  EXPECT_EQ(latest.numerator(), 4);
  EXPECT_EQ(latest.denominator(), 10);
  EXPECT_EQ(latest.report_time().seconds(), 1007);
  EXPECT_TRUE(latest.fiscal_year().label().empty());
  EXPECT_FALSE(actuals[0].has_numerator());
  EXPECT_FALSE(actuals[0].has_denominator());
}

TEST(ActualsFromHistoryTest, GoesBySequenceNotByPosition) {
  google::protobuf::RepeatedPtrField<kpi::v1::Change> changes;
  *changes.Add() = MakeChange(9, kpi::v1::CHANGE_KIND_ACTUAL_CORRECTED, "rumoi", 2017, 5, "new");
  *changes.Add() = MakeChange(3, kpi::v1::CHANGE_KIND_ACTUAL_RECORDED, "rumoi", 2017, 4, "old");
  const std::vector<kpi::v1::Actual> actuals = ActualsFromHistory(DohokuKpi(), changes);
  ASSERT_EQ(actuals.size(), 1u);
  EXPECT_EQ(actuals[0].value(), 5);
  EXPECT_EQ(actuals[0].reported_by(), "new");
}

TEST(StripOutputOnlyTest, ClearsWhatTheServicesSetAndKeepsTheRest) {
  dataset::v1::Dataset dataset;
  dataset.set_source("s");
  plan::v1::Region* region = dataset.mutable_plan()->add_regions();
  region->set_id("dohoku");
  region->mutable_create_time()->set_seconds(1);
  plan::v1::Project* project = dataset.mutable_plan()->add_projects();
  project->set_id("p");
  project->set_status(plan::v1::PROJECT_STATUS_CLOSED);
  project->set_version(3);
  project->mutable_create_time()->set_seconds(1);
  project->mutable_update_time()->set_seconds(2);
  plan::v1::Initiative* initiative = dataset.mutable_plan()->add_initiatives();
  initiative->set_id("i");
  initiative->set_version(2);
  initiative->mutable_fiscal_year()->set_year(2020);
  initiative->mutable_fiscal_year()->set_label("R2 (2020)");
  initiative->mutable_create_time()->set_seconds(1);
  initiative->mutable_update_time()->set_seconds(2);
  kpi::v1::KpiRecord* record = dataset.mutable_kpi()->add_kpis();
  record->mutable_kpi()->set_id("k");
  record->mutable_kpi()->set_version(4);
  record->mutable_kpi()->mutable_create_time()->set_seconds(1);
  (*record->mutable_kpi()->mutable_region_names())["soya"] = "宗谷";
  kpi::v1::Baseline* baseline = record->add_baselines();
  baseline->mutable_fiscal_year()->set_year(2014);
  baseline->mutable_fiscal_year()->set_label("H26 (2014)");
  kpi::v1::Target* target = record->add_targets();
  target->mutable_fiscal_year()->set_year(2019);
  target->mutable_fiscal_year()->set_label("R元 (2019)");
  kpi::v1::TargetRevision* revision = target->add_revisions();
  revision->mutable_fiscal_year()->set_year(2019);
  revision->mutable_fiscal_year()->set_label("R元 (2019)");
  revision->mutable_revise_time()->set_seconds(5);
  revision->set_author("a");
  revision->set_reason("r");
  kpi::v1::Actual* actual = record->add_actuals();
  actual->mutable_fiscal_year()->set_year(2018);
  actual->mutable_fiscal_year()->set_label("H30 (2018)");
  actual->mutable_report_time()->set_seconds(6);
  actual->set_numerator(1);
  actual->set_denominator(2);
  actual->set_reported_by("b");

  dataset::v1::Dataset expected = dataset;
  StripOutputOnly(&dataset);

  expected.mutable_plan()->mutable_regions(0)->clear_create_time();
  plan::v1::Project* p = expected.mutable_plan()->mutable_projects(0);
  p->clear_version();
  p->clear_create_time();
  p->clear_update_time();
  plan::v1::Initiative* i = expected.mutable_plan()->mutable_initiatives(0);
  i->clear_version();
  i->clear_create_time();
  i->clear_update_time();
  i->mutable_fiscal_year()->clear_label();
  kpi::v1::KpiRecord* r = expected.mutable_kpi()->mutable_kpis(0);
  r->mutable_kpi()->clear_version();
  r->mutable_kpi()->clear_create_time();
  r->mutable_kpi()->clear_region_names();
  r->mutable_baselines(0)->mutable_fiscal_year()->clear_label();
  r->mutable_targets(0)->mutable_fiscal_year()->clear_label();
  r->mutable_targets(0)->mutable_revisions(0)->mutable_fiscal_year()->clear_label();
  r->mutable_targets(0)->mutable_revisions(0)->clear_revise_time();
  r->mutable_actuals(0)->mutable_fiscal_year()->clear_label();
  r->mutable_actuals(0)->clear_report_time();

  std::string differences;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differencer.Compare(expected, dataset)) << differences;
  // What an import stores as given stays.
  EXPECT_EQ(dataset.source(), "s");
  EXPECT_EQ(dataset.plan().projects(0).status(), plan::v1::PROJECT_STATUS_CLOSED);
  EXPECT_EQ(dataset.kpi().kpis(0).targets(0).revisions(0).author(), "a");
  EXPECT_EQ(dataset.kpi().kpis(0).actuals(0).reported_by(), "b");
}

TEST(DatasetJsonTest, WritesTheSeedFileByteForByte) {
  dataset::v1::Dataset seed;
  ASSERT_TRUE(ReadJsonFile(kSeedDataset, &seed).ok());
  absl::StatusOr<std::string> text = testing::ReadWholeFile(kSeedDataset);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(DatasetJson(seed), *text);
}

TEST(DatasetJsonTest, IndentsTwoSpacesPerLevelAndKeepsSpacesInStrings) {
  dataset::v1::Dataset dataset;
  dataset.set_source("  two leading spaces\nand a newline");
  dataset.mutable_plan()->add_regions()->set_name("上川");
  EXPECT_EQ(DatasetJson(dataset),
            "{\n"
            "  \"source\": \"  two leading spaces\\nand a newline\",\n"
            "  \"plan\": {\n"
            "    \"regions\": [\n"
            "      {\n"
            "        \"name\": \"上川\"\n"
            "      }\n"
            "    ]\n"
            "  }\n"
            "}\n");
}

TEST(OneLineParseErrorTest, ReplacesTheExcerptByLineAndColumn) {
  const std::string text =
      "{\"source\": \"道北\",\n \"plan\": {\"regions\": [\n {\"id\": \"a\" \"x\"}]}}";
  // As protobuf's JSON parser reports it: message, excerpt, caret.
  const std::string excerpt = "ons\": [\n {\"id\": \"a\" \"x\"}]}}";
  const std::string message =
      absl::StrCat("f.json: Expected , or }.\n", excerpt, "\n", std::string(20, ' '), "^");
  EXPECT_EQ(OneLineParseError(message, text), "f.json: Expected , or }. (line 3, column 13)");
}

TEST(OneLineParseErrorTest, CountsCharactersNotBytesInTheColumn) {
  const std::string text = "{\"source\": \"道北\" x}";
  const std::string message = "Unexpected token.\n\"道北\" x}\n         ^";
  // The excerpt's "x" is byte 9 of it; in the text, character 17.
  EXPECT_EQ(OneLineParseError(message, text), "Unexpected token. (line 1, column 17)");
}

TEST(OneLineParseErrorTest, SaysAtTheEndForAnEmptyExcerpt) {
  EXPECT_EQ(OneLineParseError("f: Unexpected end of string.\n\n^", "{\"plan\": {"),
            "f: Unexpected end of string. (at the end of the file)");
}

TEST(OneLineParseErrorTest, QuotesAnExcerptFoundTwiceOrNotAtAll) {
  EXPECT_EQ(OneLineParseError("Bad.\n[1, 2\n ^", "[1, 2] [1, 2]"), "Bad. (near \"[1, 2\")");
  EXPECT_EQ(OneLineParseError("Bad.\na\nb\n^", "zzz"), "Bad. (near \"a b\")");
}

TEST(OneLineParseErrorTest, LeavesAOneLineMessageAlone) {
  EXPECT_EQ(OneLineParseError("(kpi.kpis[0].kpi) colour: Cannot find field.", "{}"),
            "(kpi.kpis[0].kpi) colour: Cannot find field.");
}

TEST(ReadDatasetFileTest, ReportsASyntaxErrorOnOneLineNamingTheFile) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("json-dataset");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string path = dir->File("bad.json");
  std::ofstream(path)
      << "{\"source\": \"x\",\n \"plan\": {\"regions\": [\n {\"id\": \"a\" \"b\"}]}}";
  absl::StatusOr<dataset::v1::Dataset> read = ReadDatasetFile(path);
  ASSERT_FALSE(read.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(read.status())) << read.status();
  EXPECT_FALSE(absl::StrContains(read.status().message(), "\n")) << read.status();
  EXPECT_TRUE(absl::StartsWith(read.status().message(), path + ": not a valid ")) << read.status();
  EXPECT_TRUE(absl::EndsWith(read.status().message(), "(line 3, column 13)")) << read.status();

  EXPECT_TRUE(absl::IsNotFound(ReadDatasetFile(dir->File("missing.json")).status()));
  absl::StatusOr<dataset::v1::Dataset> seed = ReadDatasetFile(kSeedDataset);
  ASSERT_TRUE(seed.ok()) << seed.status();
  EXPECT_EQ(seed->plan().initiatives_size(), 45);
}

}  // namespace
}  // namespace suishin::exchange
