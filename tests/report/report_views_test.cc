// The report's pure parts: escaping, grouping, the KPI grid, the progress
// chart and both renderers, on hand-made protos (no server).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "report/report_html.h"
#include "report/report_markdown.h"
#include "report/report_model.h"
#include "report/report_svg.h"

namespace suishin::report {
namespace {

using kpi::v1::Kpi;
using kpi::v1::KpiTable;
using kpi::v1::KpiTableRow;
using kpi::v1::ProgressPoint;

int Count(absl::string_view haystack, absl::string_view needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != absl::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

Kpi CountKpi() {
  Kpi kpi;
  kpi.set_id("kodomoen");
  kpi.set_name("認定こども園設置数");
  kpi.set_unit("カ所");
  kpi.set_value_kind(kpi::v1::VALUE_KIND_COUNT);
  kpi.set_aggregation(kpi::v1::AGGREGATION_RULE_SUM);
  kpi.set_area_id("dohoku");
  for (const char* id : {"dohoku", "soya"}) kpi.add_region_ids(id);
  (*kpi.mutable_region_names())["dohoku"] = "道北";
  (*kpi.mutable_region_names())["soya"] = "宗谷";
  return kpi;
}

void AddPoint(KpiTableRow* row, int year, std::optional<double> value, const std::string& rate,
              kpi::v1::ProgressStatus status) {
  ProgressPoint* point = row->add_points();
  point->mutable_fiscal_year()->set_year(year);
  if (value) point->set_value(*value);
  point->set_rate_display(rate);
  point->set_status(status);
}

// 宗谷: baseline 2 (2014), target 6 (2019, revised from 5), actuals 3 in
// 2015–2018, none in 2019. 道北: the same figures but no actual in 2018.
KpiTable SoyaTable() {
  KpiTable table;
  *table.mutable_kpi() = CountKpi();
  for (int year = 2014; year <= 2019; ++year) table.add_years()->set_year(year);
  for (const char* id : {"dohoku", "soya"}) {
    KpiTableRow* row = table.add_rows();
    row->set_region_id(id);
    row->set_region_name(std::string(id) == "soya" ? "宗谷" : "道北");
    row->set_computed_from_children(std::string(id) == "dohoku");  // SUM: kpi-service says so
    row->mutable_baseline()->set_region_id(id);
    row->mutable_baseline()->mutable_fiscal_year()->set_year(2014);
    row->mutable_baseline()->set_value(2);
    row->mutable_target()->set_region_id(id);
    row->mutable_target()->mutable_fiscal_year()->set_year(2019);
    row->mutable_target()->set_value(6);
    auto* revision = row->mutable_target()->add_revisions();
    revision->mutable_fiscal_year()->set_year(2019);
    revision->set_value(5);
    for (int year = 2015; year <= 2017; ++year) {
      AddPoint(row, year, 3, "50.0%", kpi::v1::PROGRESS_STATUS_ON_TRACK);
    }
    if (std::string(id) == "soya") {
      AddPoint(row, 2018, 3, "50.0%", kpi::v1::PROGRESS_STATUS_LAGGING);
    } else {
      AddPoint(row, 2018, std::nullopt, "", kpi::v1::PROGRESS_STATUS_UNKNOWN);
      row->mutable_aggregate()->mutable_fiscal_year()->set_year(2018);
      row->mutable_aggregate()->add_missing_region_ids("soya");
    }
    AddPoint(row, 2019, std::nullopt, "", kpi::v1::PROGRESS_STATUS_UNKNOWN);
  }
  return table;
}

// The value of attribute `name` of the first element starting with `element`.
std::string Attribute(absl::string_view svg, absl::string_view element, absl::string_view name) {
  const size_t at = svg.find(element);
  if (at == absl::string_view::npos) return "";
  const size_t end = svg.find('>', at);
  const std::string key = absl::StrCat(" ", name, "=\"");
  const size_t attr = svg.find(key, at);
  if (attr == absl::string_view::npos || attr > end) return "";
  const size_t from = attr + key.size();
  return std::string(svg.substr(from, svg.find('"', from) - from));
}

TEST(HtmlEscapeTest, ReplacesTheFiveSpecialCharacters) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(HtmlEscape("【宗谷】（振興局）"), "【宗谷】（振興局）");
}

TEST(MarkdownEscapeTest, KeepsTextLiteral) {
  EXPECT_EQ(MarkdownEscape("a|b"), "a\\|b");
  EXPECT_EQ(MarkdownEscape("*x* _y_ `z` [l](u) <script>"),
            "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\<script\\>");
  EXPECT_EQ(MarkdownEscape("# h"), "\\# h");
  EXPECT_EQ(MarkdownEscape("- item"), "\\- item");
  EXPECT_EQ(MarkdownEscape("12. item"), "12\\. item");
  EXPECT_EQ(MarkdownEscape("25.6%"), "25.6%");
  EXPECT_EQ(MarkdownEscape("  line\nnext  "), "line next");
  EXPECT_EQ(MarkdownEscape("A&B"), "A\\&B");
  EXPECT_EQ(MarkdownEscape("防災・減災の取組"), "防災・減災の取組");
}

TEST(ReportModelTest, GroupsByPillarInProjectOrderWithoutEmptyPillars) {
  plan::v1::Project project;
  for (const char* id : {"a", "b", "c"}) {
    auto* pillar = project.add_pillars();
    pillar->set_id(id);
    pillar->set_title(absl::StrCat("pillar ", id));
  }
  std::vector<plan::v1::Initiative> initiatives(4);
  initiatives[0].set_pillar_id("c");
  initiatives[0].set_text("c1");
  initiatives[1].set_pillar_id("a");
  initiatives[1].set_text("a1");
  initiatives[2].set_pillar_id("x");  // Not one of the project's.
  initiatives[2].set_text("x1");
  initiatives[3].set_pillar_id("c");
  initiatives[3].set_text("c2");
  const std::vector<PillarGroup> groups = GroupByPillar(project, initiatives);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].title, "pillar a");
  EXPECT_EQ(groups[1].title, "pillar c");
  ASSERT_EQ(groups[1].initiatives.size(), 2u);
  EXPECT_EQ(groups[1].initiatives[0].text(), "c1");
  EXPECT_EQ(groups[1].initiatives[1].text(), "c2");
  EXPECT_EQ(groups[2].title, "x");
}

TEST(ReportModelTest, InitiativeLineHasBodiesThenRegionTags) {
  plan::v1::Initiative initiative;
  initiative.set_text("防災講座の開催");
  initiative.add_responsible_bodies("振興局");
  initiative.add_responsible_bodies("市町村");
  initiative.add_region_ids("soya");
  initiative.add_region_ids("mars");
  EXPECT_EQ(InitiativeLine(initiative, {{"soya", "宗谷"}}),
            "防災講座の開催（振興局、市町村）【宗谷】【mars】");
  plan::v1::Initiative plain;
  plain.set_text("救急医療の充実");
  EXPECT_EQ(InitiativeLine(plain, {}), "救急医療の充実");
}

TEST(ReportModelTest, Headings) {
  EXPECT_EQ(CurrentHeading(2019), "今年度の主な取組（令和元年度（2019年度））");
  EXPECT_EQ(NextHeading(2019), "次年度の取組（令和2年度（2020年度））");
}

TEST(ReportModelTest, GridLaysTheTableOutAsPrinted) {
  const KpiGrid grid = BuildKpiGrid(SoyaTable());
  EXPECT_EQ(grid.heading, "○認定こども園設置数");
  EXPECT_EQ(grid.baseline_header, "H26（基準）");
  EXPECT_EQ(grid.target_header, "R元（目標）");
  // R元 has no actual anywhere: the target column stands for it.
  std::vector<std::string> headers;
  for (const KpiGridColumn& column : grid.columns) headers.push_back(column.header);
  EXPECT_EQ(headers, (std::vector<std::string>{"H27", "H28", "H29", "H30"}));
  ASSERT_EQ(grid.rows.size(), 2u);
  EXPECT_EQ(grid.rows[0].label, "道北連携地域");
  EXPECT_EQ(grid.rows[1].label, "宗谷");
  EXPECT_EQ(grid.rows[1].baseline, "2カ所");
  EXPECT_EQ(grid.rows[1].target, "6カ所");
  EXPECT_EQ(grid.rows[1].revisions, (std::vector<std::string>{"見直し前5カ所"}));
  EXPECT_EQ(grid.rows[1].cells[3].value, "3カ所");
  EXPECT_EQ(grid.rows[1].cells[3].rate, "50.0%");
  EXPECT_EQ(grid.rows[1].cells[3].status, kpi::v1::PROGRESS_STATUS_LAGGING);
  // 道北's H30 sum is incomplete: a dash and a footnote naming 宗谷.
  EXPECT_EQ(grid.rows[0].cells[3].value, "—");
  EXPECT_EQ(grid.rows[0].cells[3].rate, "");
  ASSERT_EQ(grid.notes.size(), 1u);
  EXPECT_TRUE(absl::StrContains(grid.notes[0], "道北連携地域 H30 (2018): 宗谷の実績がない"))
      << grid.notes[0];
}

TEST(ReportModelTest, GridKeepsTheTargetYearWhenItHasAnActual) {
  KpiTable table = SoyaTable();
  ProgressPoint* last = table.mutable_rows(1)->mutable_points(4);
  ASSERT_EQ(last->fiscal_year().year(), 2019);
  last->set_value(6);
  last->set_rate_display("100.0%");
  const KpiGrid grid = BuildKpiGrid(table);
  ASSERT_EQ(grid.columns.size(), 5u);
  EXPECT_EQ(grid.columns.back().header, "R元");
  EXPECT_EQ(grid.rows[1].cells.back().value, "6カ所");
  EXPECT_EQ(grid.rows[1].cells.back().rate, "100.0%");
}

// 宗谷 computed from its 市町村 稚内市 (a row of depth 2): indented by a
// full-width space; a year without 稚内市's actual names it, not 道北.
TEST(ReportModelTest, GridIndentsTheLevelsBelowTheAreasChildren) {
  KpiTable table = SoyaTable();
  table.mutable_rows(1)->set_depth(1);
  table.mutable_rows(1)->set_parent_region_id("dohoku");
  table.mutable_rows(1)->set_computed_from_children(true);
  for (ProgressPoint& point : *table.mutable_rows(1)->mutable_points()) {
    if (point.fiscal_year().year() == 2017) point.clear_value();
  }
  KpiTableRow* wakkanai = table.add_rows();
  *wakkanai = table.rows(1);
  wakkanai->set_region_id("wakkanai");
  wakkanai->set_region_name("稚内市");
  wakkanai->set_depth(2);
  wakkanai->set_parent_region_id("soya");
  wakkanai->set_computed_from_children(false);
  for (ProgressPoint& point : *wakkanai->mutable_points()) {
    if (point.fiscal_year().year() == 2017) point.clear_value();
  }
  const KpiGrid grid = BuildKpiGrid(table);
  ASSERT_EQ(grid.rows.size(), 3u);
  EXPECT_EQ(grid.rows[0].label, "道北連携地域");
  EXPECT_EQ(grid.rows[1].label, "宗谷");
  EXPECT_EQ(grid.rows[2].label, "　稚内市");
  bool named = false;
  for (const std::string& note : grid.notes) {
    if (absl::StrContains(note, "宗谷 H29 (2017): 稚内市の実績がない")) named = true;
  }
  EXPECT_TRUE(named) << absl::StrJoin(grid.notes, "\n");
  // An area that is a prefecture is no 連携地域.
  (*table.mutable_kpi()->mutable_region_kinds())["dohoku"] = common::v1::REGION_KIND_PREFECTURE;
  EXPECT_EQ(KpiRowLabel(table.rows(0), table.kpi()), "道北");
}

TEST(ProgressChartSvgTest, DrawsActualsPaceAndTarget) {
  const KpiTable table = SoyaTable();
  const std::string svg = ProgressChartSvg(table, table.rows(1));
  EXPECT_TRUE(absl::StartsWith(svg, "<svg class=\"progress-chart\"")) << svg;
  EXPECT_TRUE(absl::EndsWith(svg, "</svg>")) << svg;
  EXPECT_EQ(Count(svg, "<title>"), 1) << svg;
  EXPECT_TRUE(absl::StrContains(svg, "宗谷 認定こども園設置数")) << svg;
  EXPECT_TRUE(absl::StrContains(svg, "H30 3カ所（50.0%）")) << svg;
  EXPECT_EQ(Count(svg, "<line class=\"pace\""), 1) << svg;
  EXPECT_EQ(Count(svg, "<line class=\"target-line\""), 1) << svg;
  EXPECT_EQ(Count(svg, "<path class=\"target\""), 1) << svg;
  EXPECT_EQ(Count(svg, "<circle class=\"baseline\""), 1) << svg;
  EXPECT_EQ(Count(svg, "<polyline class=\"actual\""), 1) << svg;
  EXPECT_EQ(Count(svg, "<circle class=\"actual-point"), 4) << svg;
  EXPECT_EQ(Count(svg, "<circle class=\"actual-point lagging\""), 1) << svg;
  EXPECT_TRUE(absl::StrContains(svg, ">H26</text>")) << svg;
  EXPECT_TRUE(absl::StrContains(svg, ">R元</text>")) << svg;
  // Nothing to fetch.
  EXPECT_FALSE(absl::StrContains(svg, "href")) << svg;
  EXPECT_FALSE(absl::StrContains(svg, "<image")) << svg;
}

TEST(ProgressChartSvgTest, PaceLineRunsFromTheBaselineToTheTarget) {
  const KpiTable table = SoyaTable();
  const std::string svg = ProgressChartSvg(table, table.rows(1));
  // The baseline (H26, 2) is the hollow circle and the target (R元, 6) the
  // diamond, drawn at the right edge of the plot (the last year).
  EXPECT_EQ(Attribute(svg, "<line class=\"pace\"", "x1"),
            Attribute(svg, "<circle class=\"baseline\"", "cx"));
  EXPECT_EQ(Attribute(svg, "<line class=\"pace\"", "y1"),
            Attribute(svg, "<circle class=\"baseline\"", "cy"));
  EXPECT_EQ(Attribute(svg, "<line class=\"pace\"", "y2"),
            Attribute(svg, "<line class=\"target-line\"", "y1"));
  EXPECT_EQ(Attribute(svg, "<line class=\"pace\"", "x2"),
            absl::StrFormat("%.1f", static_cast<double>(kChartWidth - 8)));
  // The target is above the baseline: a smaller y.
  double y1 = 0;
  double y2 = 0;
  ASSERT_TRUE(absl::SimpleAtod(Attribute(svg, "<line class=\"pace\"", "y1"), &y1));
  ASSERT_TRUE(absl::SimpleAtod(Attribute(svg, "<line class=\"pace\"", "y2"), &y2));
  EXPECT_LT(y2, y1);
  EXPECT_GE(y2, 0);
  EXPECT_LE(y1, kChartHeight);
}

TEST(ProgressChartSvgTest, GapsSplitTheActualLineAndMissingFiguresAreLeftOut) {
  KpiTable table = SoyaTable();
  KpiTableRow* row = table.mutable_rows(1);
  row->mutable_points(1)->clear_value();  // 2016 missing: 2014–2015, 2017–2018.
  row->clear_target();
  const std::string svg = ProgressChartSvg(table, *row);
  EXPECT_EQ(Count(svg, "<polyline class=\"actual\""), 2) << svg;
  EXPECT_EQ(Count(svg, "<circle class=\"actual-point"), 3) << svg;
  EXPECT_EQ(Count(svg, "class=\"pace\""), 0) << svg;
  EXPECT_EQ(Count(svg, "class=\"target\""), 0) << svg;
}

TEST(ProgressChartSvgTest, RowWithoutFiguresSaysSo) {
  KpiTable table;
  *table.mutable_kpi() = CountKpi();
  KpiTableRow row;
  row.set_region_id("soya\"><script>");
  row.set_region_name("<b>宗谷</b>");
  const std::string svg = ProgressChartSvg(table, row);
  EXPECT_TRUE(absl::StrContains(svg, "データなし")) << svg;
  EXPECT_FALSE(absl::StrContains(svg, "<script>")) << svg;
  EXPECT_FALSE(absl::StrContains(svg, "<b>")) << svg;
}

ReportModel HostileModel() {
  ReportModel model;
  model.year = 2019;
  model.area_label = "道北連携地域";
  model.project.set_id("p");
  model.project.set_title("<script>alert(1)</script>");
  model.project.set_overview("A & B <i>");
  auto* pillar = model.project.add_pillars();
  pillar->set_id("k");
  pillar->set_title("暮らし | <u>");
  plan::v1::Initiative initiative;
  initiative.set_id("i1");
  initiative.set_pillar_id("k");
  initiative.set_text("<img src=x onerror=alert(1)>*強調*");
  initiative.add_responsible_bodies("振興局");
  initiative.add_region_ids("soya");
  model.region_names["soya"] = "宗谷";
  model.current = GroupByPillar(model.project, {initiative});
  *model.kpi_tables.add_tables() = SoyaTable();
  model.alerts.available = false;
  model.alerts.error = "UNAVAILABLE: <nope>";
  return model;
}

TEST(RenderHtmlReportTest, EscapesEverythingAndIsSelfContained) {
  const std::string html = RenderHtmlReport(HostileModel());
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>")) << html;
  EXPECT_FALSE(absl::StrContains(html, "<script")) << html;
  EXPECT_FALSE(absl::StrContains(html, "<img")) << html;
  EXPECT_FALSE(absl::StrContains(html, "<i>")) << html;
  EXPECT_FALSE(absl::StrContains(html, "<u>")) << html;
  EXPECT_FALSE(absl::StrContains(html, "<nope>")) << html;
  EXPECT_TRUE(absl::StrContains(html, "&lt;script&gt;alert(1)&lt;/script&gt;")) << html;
  EXPECT_TRUE(absl::StrContains(html, "&lt;img src=x onerror=alert(1)&gt;*強調*（振興局）"))
      << html;
  EXPECT_TRUE(absl::StrContains(html, "<span class=\"tag\">【宗谷】</span>")) << html;
  EXPECT_TRUE(absl::StrContains(html, "@page { size: A4 landscape;")) << html;
  EXPECT_TRUE(absl::StrContains(html, "通知サービスに接続できません")) << html;
  EXPECT_EQ(Count(html, "<svg class=\"progress-chart\""), 2) << html;
  for (const char* external : {"http://", "https://", "<link", "@import", "url(", "<iframe"}) {
    EXPECT_FALSE(absl::StrContains(html, external)) << external;
  }
}

TEST(RenderMarkdownReportTest, EscapesEverything) {
  const std::string md = RenderMarkdownReport(HostileModel());
  EXPECT_TRUE(absl::StartsWith(md, "# \\<script\\>alert(1)\\</script\\>\n")) << md;
  EXPECT_TRUE(absl::StrContains(md, "### ■暮らし \\| \\<u\\>\n")) << md;
  EXPECT_TRUE(
      absl::StrContains(md, "- \\<img src=x onerror=alert(1)\\>\\*強調\\*（振興局）【宗谷】\n"))
      << md;
  EXPECT_TRUE(absl::StrContains(md,
                                "| 宗谷 | 2カ所 | 3カ所 | 3カ所 | 3カ所 | 3カ所 | "
                                "6カ所（見直し前5カ所） |\n"
                                "| 進捗率 |  | 50.0% | 50.0% | 50.0% | 50.0% |  |\n"))
      << md;
  EXPECT_TRUE(absl::StrContains(md, "**通知サービスに接続できません**")) << md;
  EXPECT_TRUE(absl::StrContains(md, "UNAVAILABLE: \\<nope\\>")) << md;
}

}  // namespace
}  // namespace suishin::report
