// suishinctl's KPI views: fixed responses in, exact text out.
#include "tools/suishinctl/kpi_views.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace suishin::ctl {
namespace {

using kpi::v1::Change;
using kpi::v1::GetKpiTableResponse;
using kpi::v1::Kpi;
using kpi::v1::KpiTable;
using kpi::v1::KpiTableRow;
using kpi::v1::ProgressPoint;

google::protobuf::Timestamp At(absl::string_view rfc3339) {
  absl::Time time;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error)) << error;
  const timespec ts = absl::ToTimespec(time);
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(ts.tv_sec);
  timestamp.set_nanos(static_cast<int32_t>(ts.tv_nsec));
  return timestamp;
}

Kpi KodomoenKpi() {
  Kpi kpi;
  kpi.set_id("kodomoen");
  kpi.set_name("認定こども園設置数");
  kpi.set_unit("カ所");
  kpi.set_value_kind(kpi::v1::VALUE_KIND_COUNT);
  kpi.set_aggregation(kpi::v1::AGGREGATION_RULE_SUM);
  kpi.set_progress_method(kpi::v1::PROGRESS_METHOD_ACHIEVEMENT);
  kpi.set_area_id("dohoku");
  for (const char* id : {"dohoku", "kamikawa", "rumoi"}) kpi.add_region_ids(id);
  (*kpi.mutable_region_names())["dohoku"] = "道北";
  (*kpi.mutable_region_names())["kamikawa"] = "上川";
  (*kpi.mutable_region_names())["rumoi"] = "留萌";
  return kpi;
}

// A row with a baseline, a target (and earlier targets) and points given as
// {year, value, rate_display}; a value < 0 means no actual.
struct PointSpec {
  int year;
  double value;
  std::string rate;
};

KpiTableRow Row(const std::string& id, const std::string& name, int baseline_year, double baseline,
                int target_year, double target, const std::vector<double>& revisions,
                const std::vector<PointSpec>& points) {
  KpiTableRow row;
  row.set_region_id(id);
  row.set_region_name(name);
  row.mutable_baseline()->set_region_id(id);
  row.mutable_baseline()->mutable_fiscal_year()->set_year(baseline_year);
  row.mutable_baseline()->set_value(baseline);
  row.mutable_target()->set_region_id(id);
  row.mutable_target()->mutable_fiscal_year()->set_year(target_year);
  row.mutable_target()->set_value(target);
  for (double value : revisions) {
    kpi::v1::TargetRevision* revision = row.mutable_target()->add_revisions();
    revision->mutable_fiscal_year()->set_year(target_year);
    revision->set_value(value);
  }
  for (const PointSpec& spec : points) {
    ProgressPoint* point = row.add_points();
    point->mutable_fiscal_year()->set_year(spec.year);
    if (spec.value >= 0) {
      point->set_value(spec.value);
      point->set_rate_display(spec.rate);
    } else {
      point->set_status(kpi::v1::PROGRESS_STATUS_UNKNOWN);
      point->set_undefined_reason("no actual");
    }
  }
  return row;
}

// 認定こども園設置数 in two subprefectures, as of H29: 留萌 has not reported
// H29, so the area's H29 is incomplete; 上川's target was revised 28 → 33,
// so the area's 32 → 37.
KpiTable CountTable() {
  KpiTable table;
  *table.mutable_kpi() = KodomoenKpi();
  for (int year = 2014; year <= 2017; ++year) table.add_years()->set_year(year);
  KpiTableRow area = Row("dohoku", "道北", 2014, 8, 2017, 37, {32},
                         {{2015, 8, "21.6%"}, {2016, 19, "51.4%"}, {2017, -1, ""}});
  area.set_computed_from_children(true);  // SUM: kpi-service says so
  kpi::v1::Aggregate* aggregate = area.mutable_aggregate();
  aggregate->mutable_fiscal_year()->set_year(2017);
  aggregate->set_complete(false);
  aggregate->add_missing_region_ids("rumoi");
  *table.add_rows() = area;
  *table.add_rows() = Row("kamikawa", "上川", 2014, 6, 2017, 33, {28},
                          {{2015, 6, "18.2%"}, {2016, 16, "48.5%"}, {2017, 33, "100.0%"}});
  *table.add_rows() = Row("rumoi", "留萌", 2014, 2, 2017, 4, {},
                          {{2015, 2, "50.0%"}, {2016, 3, "75.0%"}, {2017, -1, ""}});
  return table;
}

// 自主防災組織率, REPORTED: the area's missing H29 is simply not reported
// (blank, no footnote); one rate that cannot be computed.
KpiTable PercentTable() {
  KpiTable table;
  Kpi* kpi = table.mutable_kpi();
  kpi->set_id("jishu-bousai");
  kpi->set_name("自主防災組織率");
  kpi->set_unit("%");
  kpi->set_value_kind(kpi::v1::VALUE_KIND_PERCENT);
  kpi->set_aggregation(kpi::v1::AGGREGATION_RULE_REPORTED);
  kpi->set_area_id("dohoku");
  for (int year = 2015; year <= 2020; ++year) table.add_years()->set_year(year);
  *table.add_rows() =
      Row("dohoku", "道北", 2015, 43.4, 2020, 81, {}, {{2016, 47.2, "58.3%"}, {2017, -1, ""}});
  KpiTableRow soya =
      Row("soya", "宗谷", 2015, 22.8, 2020, 81, {}, {{2016, 22.8, ""}, {2017, 29.3, "36.2%"}});
  soya.mutable_points(0)->set_undefined_reason("target equals baseline");
  *table.add_rows() = soya;
  return table;
}

TEST(KpiTableViewTest, RegionsDownYearsAcrossWithRatesRevisionsAndFootnotes) {
  GetKpiTableResponse response;
  response.set_project_id("dohoku-anzen-anshin");
  response.mutable_as_of()->set_year(2017);
  *response.add_tables() = CountTable();
  *response.add_tables() = PercentTable();
  // The heading names the project by its title, not its id.
  EXPECT_EQ(FormatKpiTable(response, "道北地域の安全・安心な暮らしづくり"),
            "【ＫＰＩの状況】 道北地域の安全・安心な暮らしづくり  H29 (2017)\n"
            "\n"
            "○認定こども園設置数 (カ所)\n"
            "地域               基準    H27     H28     H29  目標\n"
            "------------  ---------  -----  ------  ------  ------------------\n"
            "道北連携地域  8カ所 H26  8カ所  19カ所       —  37カ所 H29\n"
            "  進捗率                 21.6%   51.4%          （見直し前32カ所）\n"
            "上川          6カ所 H26  6カ所  16カ所  33カ所  33カ所 H29\n"
            "  進捗率                 18.2%   48.5%  100.0%  （見直し前28カ所）\n"
            "留萌          2カ所 H26  2カ所   3カ所          4カ所 H29\n"
            "  進捗率                 50.0%   75.0%\n"
            "— 道北連携地域 H29 (2017): 留萌の実績がないため集計できません\n"
            "\n"
            "○自主防災組織率 (%)\n"
            "地域               基準    H28    H29  目標\n"
            "------------  ---------  -----  -----  --------\n"
            "道北連携地域  43.4% H27  47.2%         81.0% R2\n"
            "  進捗率                 58.3%\n"
            "宗谷          22.8% H27  22.8%  29.3%  81.0% R2\n"
            "  進捗率                     —  36.2%\n"
            "— 宗谷 H28 (2016) 進捗率: target equals baseline\n");
}

TEST(KpiTableViewTest, MissingRegionsComeFromTheOtherRowsForEarlierYears) {
  // The aggregate is for the last year only; an earlier incomplete year
  // names the rows without a value.
  KpiTable table = CountTable();
  table.mutable_rows(0)->mutable_points(1)->clear_value();
  table.mutable_rows(0)->mutable_points(1)->clear_rate_display();
  table.mutable_rows(2)->mutable_points(1)->clear_value();
  GetKpiTableResponse response;
  response.mutable_as_of()->set_year(2017);
  *response.add_tables() = table;
  const std::string text = FormatKpiTable(response, "");
  EXPECT_NE(text.find("— 道北連携地域 H28 (2016): 留萌の実績がないため集計できません\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("— 道北連携地域 H29 (2017): 留萌の実績がないため集計できません\n"),
            std::string::npos)
      << text;
}

// 上川 computed from its 市町村 旭川市 (a row of depth 2): indented by a
// full-width space under it; the footnotes name regions without indent.
TEST(KpiTableViewTest, LevelsBelowTheSubprefecturesAreIndented) {
  KpiTable table = CountTable();
  table.mutable_rows(1)->set_depth(1);
  table.mutable_rows(1)->set_parent_region_id("dohoku");
  table.mutable_rows(2)->set_depth(1);
  table.mutable_rows(2)->set_parent_region_id("dohoku");
  KpiTableRow asahikawa = Row("asahikawa", "旭川市", 2014, 6, 2017, 33, {},
                              {{2015, 6, "18.2%"}, {2016, 16, "48.5%"}, {2017, 33, "100.0%"}});
  asahikawa.set_depth(2);
  asahikawa.set_parent_region_id("kamikawa");
  table.mutable_rows()->Add(std::move(asahikawa));
  // Tree order: 旭川市 under 上川, before 留萌.
  table.mutable_rows()->SwapElements(2, 3);
  GetKpiTableResponse response;
  response.mutable_as_of()->set_year(2017);
  *response.add_tables() = table;
  const std::string text = FormatKpiTable(response, "");
  EXPECT_NE(text.find("\n上川 "), std::string::npos) << text;
  EXPECT_NE(text.find("\n　旭川市 "), std::string::npos) << text;
  EXPECT_LT(text.find("\n　旭川市 "), text.find("\n留萌 ")) << text;
  EXPECT_NE(text.find("— 道北連携地域 H29 (2017): 留萌の実績がないため集計できません\n"),
            std::string::npos)
      << text;
}

// Without the 市町村 rows, the point kpi-service sent names them (by the
// KPI's region names), for any year.
TEST(KpiTableViewTest, MissingMunicipalitiesAreNamedFromThePoint) {
  KpiTable table = CountTable();
  (*table.mutable_kpi()->mutable_region_names())["shibetsu"] = "士別市";
  ProgressPoint* h28 = table.mutable_rows(0)->mutable_points(1);
  h28->clear_value();
  h28->clear_rate_display();
  h28->add_missing_region_ids("shibetsu");
  GetKpiTableResponse response;
  response.mutable_as_of()->set_year(2017);
  *response.add_tables() = table;
  const std::string text = FormatKpiTable(response, "");
  EXPECT_NE(text.find("— 道北連携地域 H28 (2016): 士別市の実績がないため集計できません\n"),
            std::string::npos)
      << text;
}

TEST(KpiNumberTest, PrintsFiguresAsTyped) {
  EXPECT_EQ(FormatKpiNumber(43, kpi::v1::VALUE_KIND_COUNT), "43");
  EXPECT_EQ(FormatKpiNumber(47.2, kpi::v1::VALUE_KIND_PERCENT), "47.2");
  EXPECT_EQ(FormatKpiNumber(81, kpi::v1::VALUE_KIND_PERCENT), "81.0");
  EXPECT_EQ(FormatKpiNumber(0.0125, kpi::v1::VALUE_KIND_AMOUNT), "0.0125");
  EXPECT_EQ(FormatKpiNumber(-3, kpi::v1::VALUE_KIND_AMOUNT), "-3");
  EXPECT_EQ(ValueWithUnit(10, KodomoenKpi()), "10カ所");
}

TEST(KpiLabelsTest, ProgressStatusInJapanese) {
  EXPECT_EQ(ProgressStatusLabel(kpi::v1::PROGRESS_STATUS_ACHIEVED), "達成");
  EXPECT_EQ(ProgressStatusLabel(kpi::v1::PROGRESS_STATUS_ON_TRACK), "順調");
  EXPECT_EQ(ProgressStatusLabel(kpi::v1::PROGRESS_STATUS_LAGGING), "遅れ");
  EXPECT_EQ(ProgressStatusLabel(kpi::v1::PROGRESS_STATUS_UNKNOWN), "不明");
  EXPECT_EQ(ProgressStatusLabel(kpi::v1::PROGRESS_STATUS_UNSPECIFIED), "?");
}

TEST(KpiProgressViewTest, BaselineTargetRevisionsAndOneLinePerYear) {
  kpi::v1::GetProgressResponse response;
  *response.mutable_kpi() = KodomoenKpi();
  response.set_region_id("kamikawa");
  response.mutable_baseline()->mutable_fiscal_year()->set_year(2014);
  response.mutable_baseline()->set_value(6);
  response.mutable_target()->mutable_fiscal_year()->set_year(2019);
  response.mutable_target()->set_value(33);
  kpi::v1::TargetRevision* revision = response.mutable_target()->add_revisions();
  revision->mutable_fiscal_year()->set_year(2019);
  revision->set_value(28);
  *revision->mutable_revise_time() = At("2018-04-01T00:00:00Z");
  revision->set_author("本庁");
  revision->set_reason("待機児童対策");
  ProgressPoint* h30 = response.add_points();
  h30->mutable_fiscal_year()->set_year(2018);
  h30->set_value(41);
  h30->set_rate_display("124.2%");
  h30->set_expected_rate_display("83.6%");
  h30->set_pace_gap_display("+40.6");
  h30->set_status(kpi::v1::PROGRESS_STATUS_ACHIEVED);
  ProgressPoint* r1 = response.add_points();
  r1->mutable_fiscal_year()->set_year(2019);
  r1->set_expected_rate_display("100.0%");
  r1->set_status(kpi::v1::PROGRESS_STATUS_UNKNOWN);
  r1->set_undefined_reason("no actual for R元 (2019)");
  EXPECT_EQ(FormatProgress(response, absl::UTCTimeZone()),
            "○認定こども園設置数 (カ所)  上川 (kamikawa)\n"
            "基準  6カ所 H26 (2014)\n"
            "目標  33カ所 R元 (2019)\n"
            "      見直し前28カ所  2018-04-01 00:00:00  本庁  待機児童対策\n"
            "\n"
            "年度          実績  進捗率    想定     差  状態  備考\n"
            "----------  ------  ------  ------  -----  ----  -------------------\n"
            "H30 (2018)  41カ所  124.2%   83.6%  +40.6  達成\n"
            "R元 (2019)                  100.0%         不明  R元 (2019) 実績なし\n");
}

Change Correction() {
  Change change;
  change.set_sequence(57);
  *change.mutable_change_time() = At("2019-06-30T09:00:00Z");
  change.set_kind(kpi::v1::CHANGE_KIND_ACTUAL_CORRECTED);
  change.set_kpi_id("kodomoen");
  change.set_region_id("rumoi");
  change.mutable_fiscal_year()->set_year(2018);
  change.set_old_value(3);
  change.set_new_value(4);
  change.set_author("留萌振興局");
  change.set_reason("誤記");
  return change;
}

TEST(KpiHistoryViewTest, OldToNewWithUnitsWhoAndWhy) {
  Change first = Correction();
  first.set_sequence(9);
  first.set_kind(kpi::v1::CHANGE_KIND_ACTUAL_RECORDED);
  first.clear_old_value();
  first.set_new_value(3);
  first.clear_reason();
  EXPECT_EQ(
      FormatHistory({first, Correction()}, KodomoenKpi(), absl::UTCTimeZone()),
      "seq  時刻                 種類      地域  年度        変更           担当        理由\n"
      "---  -------------------  --------  ----  ----------  -------------  ----------  ----\n"
      "  9  2019-06-30 09:00:00  実績登録  留萌  H30 (2018)  → 3カ所        留萌振興局\n"
      " 57  2019-06-30 09:00:00  実績訂正  留萌  H30 (2018)  3カ所 → 4カ所  留萌振興局  誤記\n"
      "2 changes\n");
}

TEST(KpiWatchViewTest, OneLinePerChange) {
  EXPECT_EQ(
      FormatChangeLine(Correction(), absl::UTCTimeZone()),
      "#57  2019-06-30 09:00:00  実績訂正  kodomoen  rumoi  H30 (2018)  3 → 4  by 留萌振興局  "
      "(誤記)\n");
}

TEST(KpiImportViewTest, RowErrorsOneLineEachWithoutRepeatingTheField) {
  kpi::v1::ImportActualsResponse response;
  kpi::v1::RowError* negative = response.add_errors();
  negative->set_line(7);
  negative->set_field("value");
  negative->set_message("value: must not be negative (got \"-1\")");
  kpi::v1::RowError* region = response.add_errors();
  region->set_line(12);
  region->set_field("region_id");
  region->set_message("is not a region of the KPI");
  EXPECT_EQ(FormatRowErrors(response),
            "line 7: value: must not be negative (got \"-1\")\n"
            "line 12: region_id: is not a region of the KPI\n");
}

TEST(KpiImportViewTest, SecondImportSaysNothingChanged) {
  KpiImportResult present;
  present.kpi_id = "kodomoen";
  present.name = "認定こども園設置数";
  present.rows = 19;
  const std::string text = FormatKpiImport({present});
  EXPECT_NE(text.find("already present, rows not re-sent"), std::string::npos) << text;
  EXPECT_NE(
      text.find("kpi: 1 KPI: 0 created, 1 already present; 0 rows applied; nothing changed\n"),
      std::string::npos)
      << text;
}

}  // namespace
}  // namespace suishin::ctl
