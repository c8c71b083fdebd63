#include "report/report_html.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fiscal_year.h"
#include "report/labels.h"
#include "report/report_svg.h"

namespace suishin::report {
namespace {

using notification::v1::Alert;

// The style sheet: the page as the printed table on A4 landscape; on screen
// the same, centred on a grey desk.
constexpr char kStyle[] = R"css(
@page { size: A4 landscape; margin: 9mm 10mm; }
* { box-sizing: border-box; }
html {
  font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Kaku Gothic ProN", "Yu Gothic",
    "Meiryo", "IPAexGothic", "IPAGothic", sans-serif;
  font-size: 9.5pt; line-height: 1.45; color: #111;
  -webkit-print-color-adjust: exact; print-color-adjust: exact;
}
body { margin: 0; }
.sheet { background: #fff; }
.doc-head { display: flex; align-items: flex-end; gap: 1.2em;
  border-bottom: 2px solid #1f3864; padding-bottom: 3px; margin-bottom: 6px; }
.doc-head .doc-kind { font-size: 10pt; font-weight: bold; white-space: nowrap; }
.doc-head h1 { font-size: 15pt; margin: 0; flex: 1; }
.doc-head .area, .doc-head .fy { white-space: nowrap; font-size: 10.5pt; }
.doc-head .area { border: 1px solid #1f3864; padding: 0 .5em; font-weight: bold; }
h2 { font-size: 10.5pt; margin: 6px 0 3px; color: #1f3864; }
h3 { font-size: 10pt; margin: 6px 0 3px; }
.box { border: 1px solid #555; padding: 3px 8px 4px; margin-bottom: 6px; }
.box h2 { margin-top: 0; }
.box p { margin: 0; text-align: justify; }
ul.pillars { list-style: none; margin: 0; padding: 0; }
ul.pillars li { font-weight: bold; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #555; vertical-align: top; }
table.stages { table-layout: fixed; margin-bottom: 6px; }
table.stages thead th { background: #dde4f0; padding: 3px 6px; font-size: 9.5pt; }
table.stages tr.pillar th { background: #f2f4f8; text-align: left; padding: 2px 6px;
  font-size: 9.5pt; }
table.stages td { padding: 2px 6px 4px; font-size: 8.8pt; }
table.stages tbody.band { break-inside: avoid; page-break-inside: avoid; }
ul.lines { list-style: none; margin: 0; padding: 0; }
ul.lines li { padding-left: 1em; text-indent: -1em; }
ul.lines li::before { content: "・"; }
.none { color: #777; }
.tag { white-space: nowrap; }
section.kpi { margin-bottom: 8px; break-inside: avoid; page-break-inside: avoid; }
section.kpi h3 .unit { font-weight: normal; font-size: 9pt; color: #444; }
table.kpi-table { table-layout: fixed; }
table.kpi-table col.c-region { width: 8.5em; }
table.kpi-table col.c-target { width: 10.5em; }
table.kpi-table col.c-chart { width: 46mm; }
table.kpi-table th, table.kpi-table td { padding: 1px 6px; text-align: right;
  vertical-align: middle; white-space: nowrap; }
table.kpi-table thead th { background: #dde4f0; text-align: center; font-weight: bold; }
table.kpi-table th.region { text-align: left; background: #f2f4f8; }
table.kpi-table tr.values td { border-bottom: 1px dotted #999; }
table.kpi-table tr.rates td { border-top: none; font-size: 8.8pt; }
table.kpi-table td.rate-label { text-align: left; color: #333; }
table.kpi-table td.target { text-align: center; font-weight: bold; }
table.kpi-table td.target .rev { font-weight: normal; font-size: 8.5pt; }
table.kpi-table td.chart { text-align: center; padding: 1px 3px; }
table.kpi-table td.rate.achieved { color: #1a7f37; font-weight: bold; }
table.kpi-table td.rate.lagging { color: #c62828; font-weight: bold; }
svg.progress-chart { width: 42mm; height: auto; display: block; margin: 0 auto; }
ul.notes { margin: 2px 0 0; padding-left: 1.2em; font-size: 8.5pt; color: #333; }
.legend { font-size: 8.5pt; color: #333; margin: 0 0 4px; }
.legend .swatch { display: inline-block; width: 1.8em; vertical-align: middle; }
.legend .achieved { color: #1a7f37; font-weight: bold; }
.legend .lagging { color: #c62828; font-weight: bold; }
table.alerts th, table.alerts td { padding: 1px 6px; font-size: 8.8pt; vertical-align: top; }
table.alerts thead th { background: #dde4f0; text-align: left; }
table.alerts td.sev { white-space: nowrap; font-weight: bold; }
table.alerts tr.critical td.sev { color: #c62828; }
table.alerts tr.warning td.sev { color: #b25e00; }
table.alerts tr.info td.sev { color: #1a7f37; }
table.alerts td.nowrap { white-space: nowrap; }
p.unavailable { font-weight: bold; color: #c62828; margin: 2px 0; }
p.detail { font-size: 8pt; color: #555; margin: 0; }
.page-break { break-before: page; page-break-before: always; }
footer { margin-top: 8px; font-size: 7.5pt; color: #666; border-top: 1px solid #bbb; }
@media screen {
  body { background: #e8e8e8; padding: 16px 0; }
  .sheet { width: 277mm; margin: 0 auto; padding: 9mm 10mm; box-shadow: 0 1px 4px #999; }
}
@media print {
  html { font-size: 8.5pt; line-height: 1.35; }
  table.stages td { font-size: 8pt; }
  .box p { font-size: 8.3pt; }
  svg.progress-chart { width: 38mm; }
  thead { display: table-header-group; }
  tr, li { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
}
)css";

std::string E(absl::string_view text) { return HtmlEscape(text); }

// The pillars of every column, in the project's order, then any others.
std::vector<std::pair<std::string, std::string>> PillarOrder(
    const ReportModel& model, const std::vector<const std::vector<PillarGroup>*>& columns) {
  std::vector<std::pair<std::string, std::string>> order;
  std::map<std::string, bool> seen;
  for (const auto& pillar : model.project.pillars()) {
    if (seen[pillar.id()]) continue;
    seen[pillar.id()] = true;
    order.emplace_back(pillar.id(), pillar.title().empty() ? pillar.id() : pillar.title());
  }
  for (const auto* column : columns) {
    for (const PillarGroup& group : *column) {
      if (seen[group.pillar_id]) continue;
      seen[group.pillar_id] = true;
      order.emplace_back(group.pillar_id, group.title);
    }
  }
  return order;
}

const PillarGroup* GroupOf(const std::vector<PillarGroup>& column, const std::string& pillar_id) {
  for (const PillarGroup& group : column) {
    if (group.pillar_id == pillar_id) return &group;
  }
  return nullptr;
}

// One initiative line: text, （bodies）, 【tags】.
std::string LineHtml(const plan::v1::Initiative& initiative, const RegionNames& names) {
  std::string out = absl::StrCat("<li data-id=\"", E(initiative.id()), "\">", E(initiative.text()),
                                 E(BodiesSuffix(initiative)));
  const std::string tags = RegionTagsSuffix(initiative, names);
  if (!tags.empty()) absl::StrAppend(&out, "<span class=\"tag\">", E(tags), "</span>");
  absl::StrAppend(&out, "</li>\n");
  return out;
}

std::string LinesHtml(const PillarGroup* group, const RegionNames& names) {
  if (group == nullptr) return "";
  std::string out = "<ul class=\"lines\">\n";
  for (const auto& initiative : group->initiatives)
    absl::StrAppend(&out, LineHtml(initiative, names));
  absl::StrAppend(&out, "</ul>");
  return out;
}

// A table with one column per stage and one band per pillar: the pillar's
// ■ title across, then each column's lines.
std::string StagesTable(
    const ReportModel& model, const std::string& css_class,
    const std::vector<std::pair<std::string, const std::vector<PillarGroup>*>>& columns,
    const std::vector<std::string>& widths) {
  std::vector<const std::vector<PillarGroup>*> lists;
  for (const auto& column : columns) lists.push_back(column.second);
  std::string out = absl::StrCat("<table class=\"stages ", css_class, "\">\n<colgroup>");
  for (const std::string& width : widths) {
    absl::StrAppend(&out, "<col style=\"width:", width, "\">");
  }
  absl::StrAppend(&out, "</colgroup>\n<thead><tr>");
  for (const auto& column : columns) absl::StrAppend(&out, "<th>", E(column.first), "</th>");
  absl::StrAppend(&out, "</tr></thead>\n");
  bool any = false;
  for (const auto& [pillar_id, title] : PillarOrder(model, lists)) {
    bool has_lines = false;
    for (const auto* list : lists) has_lines = has_lines || GroupOf(*list, pillar_id) != nullptr;
    if (!has_lines) continue;
    any = true;
    absl::StrAppend(&out, "<tbody class=\"band\" data-pillar=\"", E(pillar_id),
                    "\">\n<tr class=\"pillar\"><th colspan=\"", columns.size(), "\">■", E(title),
                    "</th></tr>\n<tr class=\"lines\">");
    for (const auto* list : lists) {
      absl::StrAppend(&out, "<td>", LinesHtml(GroupOf(*list, pillar_id), model.region_names),
                      "</td>");
    }
    absl::StrAppend(&out, "</tr>\n</tbody>\n");
  }
  if (!any) {
    absl::StrAppend(&out, "<tbody><tr><td class=\"none\" colspan=\"", columns.size(),
                    "\">取組は登録されていません</td></tr></tbody>\n");
  }
  absl::StrAppend(&out, "</table>\n");
  return out;
}

std::string StatusClass(kpi::v1::ProgressStatus status) {
  switch (status) {
    case kpi::v1::PROGRESS_STATUS_ACHIEVED:
      return " achieved";
    case kpi::v1::PROGRESS_STATUS_ON_TRACK:
      return " on-track";
    case kpi::v1::PROGRESS_STATUS_LAGGING:
      return " lagging";
    default:
      return "";
  }
}

// "想定 38.6%（差 -13.0 pt）" for a rate cell's tooltip.
std::string PaceTitle(const kpi::v1::KpiTableRow& row, int year) {
  for (const auto& point : row.points()) {
    if (point.fiscal_year().year() != year || point.expected_rate_display().empty()) continue;
    std::string out = absl::StrCat("想定 ", point.expected_rate_display());
    if (!point.pace_gap_display().empty()) {
      absl::StrAppend(&out, "（差 ", point.pace_gap_display(), " pt）");
    }
    return out;
  }
  return "";
}

std::string KpiSection(const kpi::v1::KpiTable& table) {
  const KpiGrid grid = BuildKpiGrid(table);
  std::string out = absl::StrCat("<section class=\"kpi\" id=\"kpi-", E(grid.kpi_id),
                                 "\" data-kpi=\"", E(grid.kpi_id), "\">\n<h3>", E(grid.heading));
  absl::StrAppend(&out, " <span class=\"unit\">（");
  if (!grid.unit.empty()) absl::StrAppend(&out, "単位：", E(grid.unit), "、");
  absl::StrAppend(&out, "進捗率 = ", E(grid.rate_formula), "）</span>");
  absl::StrAppend(&out, "</h3>\n<table class=\"kpi-table\">\n<colgroup><col class=\"c-region\">",
                  "<col class=\"c-year\">");
  for (size_t c = 0; c < grid.columns.size(); ++c) absl::StrAppend(&out, "<col class=\"c-year\">");
  absl::StrAppend(&out, "<col class=\"c-target\"><col class=\"c-chart\"></colgroup>\n",
                  "<thead><tr><th>地域</th><th>", E(grid.baseline_header), "</th>");
  for (const KpiGridColumn& column : grid.columns) {
    absl::StrAppend(&out, "<th data-year=\"", column.year, "\">", E(column.header), "</th>");
  }
  absl::StrAppend(&out, "<th>", E(grid.target_header),
                  "</th><th>推移</th></tr></thead>\n<tbody>\n");
  for (size_t r = 0; r < grid.rows.size(); ++r) {
    const KpiGridRow& row = grid.rows[r];
    const kpi::v1::KpiTableRow& source = table.rows(static_cast<int>(r));
    const std::string region = E(row.region_id);
    absl::StrAppend(&out, "<tr class=\"values\" data-region=\"", region,
                    "\"><th class=\"region\" rowspan=\"2\" scope=\"rowgroup\">", E(row.label),
                    "</th><td class=\"value baseline\">", E(row.baseline), "</td>");
    for (size_t c = 0; c < grid.columns.size(); ++c) {
      absl::StrAppend(&out, "<td class=\"value\" data-year=\"", grid.columns[c].year, "\">",
                      E(row.cells[c].value), "</td>");
    }
    absl::StrAppend(&out, "<td class=\"target\" rowspan=\"2\">", E(row.target));
    for (const std::string& revision : row.revisions) {
      absl::StrAppend(&out, "<div class=\"rev\">（", E(revision), "）</div>");
    }
    absl::StrAppend(&out, "</td><td class=\"chart\" rowspan=\"2\">",
                    ProgressChartSvg(table, source), "</td></tr>\n");
    absl::StrAppend(&out, "<tr class=\"rates\" data-region=\"", region,
                    "\"><td class=\"rate-label\">進捗率</td>");
    for (size_t c = 0; c < grid.columns.size(); ++c) {
      const KpiGridCell& cell = row.cells[c];
      const std::string title = cell.rate.empty() ? "" : PaceTitle(source, grid.columns[c].year);
      absl::StrAppend(&out, "<td class=\"rate", StatusClass(cell.status), "\" data-year=\"",
                      grid.columns[c].year, "\"");
      if (!title.empty()) absl::StrAppend(&out, " title=\"", E(title), "\"");
      absl::StrAppend(&out, ">", E(cell.rate), "</td>");
    }
    absl::StrAppend(&out, "</tr>\n");
  }
  if (grid.rows.empty()) {
    absl::StrAppend(&out, "<tr><td class=\"none\" colspan=\"", grid.columns.size() + 4,
                    "\">地域がありません</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody>\n</table>\n");
  if (!grid.notes.empty()) {
    absl::StrAppend(&out, "<ul class=\"notes\">\n");
    for (const std::string& note : grid.notes) absl::StrAppend(&out, "<li>", E(note), "</li>\n");
    absl::StrAppend(&out, "</ul>\n");
  }
  absl::StrAppend(&out, "</section>\n");
  return out;
}

std::string SeverityClass(notification::v1::Severity severity) {
  switch (severity) {
    case notification::v1::SEVERITY_CRITICAL:
      return "critical";
    case notification::v1::SEVERITY_WARNING:
      return "warning";
    case notification::v1::SEVERITY_INFO:
      return "info";
    default:
      return "";
  }
}

std::string AlertsSection(const ReportModel& model) {
  std::string out = "<section class=\"alerts\">\n<h2>【通知】発生中のアラート</h2>\n";
  const ReportAlerts& alerts = model.alerts;
  if (!alerts.available) {
    absl::StrAppend(&out, "<p class=\"unavailable\">通知サービスに接続できません</p>\n");
    if (!alerts.error.empty()) {
      absl::StrAppend(&out, "<p class=\"detail\">", E(alerts.error), "</p>\n");
    }
    absl::StrAppend(&out, "</section>\n");
    return out;
  }
  if (alerts.firing.empty()) {
    absl::StrAppend(&out, "<p class=\"none\">発生中のアラートはありません</p>\n</section>\n");
    return out;
  }
  absl::StrAppend(&out,
                  "<table class=\"alerts\">\n<thead><tr><th>重大度</th><th>種類</th><th>KPI</th>"
                  "<th>地域</th><th>年度</th><th>内容</th><th>対応</th></tr></thead>\n<tbody>\n");
  for (const Alert& alert : alerts.firing) {
    const kpi::v1::Kpi* kpi = FindKpi(model.kpi_tables, alert.kpi_id());
    std::vector<std::string> marks;
    if (alert.has_acknowledgement() && !alert.acknowledgement().author().empty()) {
      marks.push_back(absl::StrCat("確認済（", alert.acknowledgement().author(), "）"));
    }
    if (alert.silenced()) marks.push_back("サイレンス中");
    absl::StrAppend(&out, "<tr class=\"", SeverityClass(alert.severity()), "\" data-fingerprint=\"",
                    E(alert.fingerprint()), "\"><td class=\"sev\">",
                    E(SeverityLabel(alert.severity())), "</td><td class=\"nowrap\">",
                    E(RuleJapanese(alert.rule())), "</td><td class=\"nowrap\">",
                    E(kpi == nullptr || kpi->name().empty() ? alert.kpi_id() : kpi->name()),
                    "</td><td class=\"nowrap\">", E(AlertRegionLabel(model.kpi_tables, alert)),
                    "</td><td class=\"nowrap\">",
                    alert.values().has_fiscal_year() && alert.values().fiscal_year().year() != 0
                        ? E(EraFiscalYear(alert.values().fiscal_year().year()))
                        : "",
                    "</td><td>", E(AlertShortSummary(alert, kpi)), "</td><td class=\"nowrap\">",
                    E(absl::StrJoin(marks, "・")), "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody>\n</table>\n</section>\n");
  return out;
}

}  // namespace

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderHtmlReport(const ReportModel& model) {
  const plan::v1::Project& project = model.project;
  const std::string title = project.title().empty() ? project.id() : project.title();
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"suishinctl report\">\n<title>プロジェクト推進管理表 ",
      E(model.area_label), " ", E(title), " ", E(LongFiscalYear(model.year)), "</title>\n<style>",
      kStyle, "</style>\n</head>\n<body>\n<main class=\"sheet\">\n");

  // Page 1: the plan and this year's work.
  absl::StrAppend(
      &out, "<header class=\"doc-head\"><span class=\"doc-kind\">プロジェクト推進管理表</span>",
      "<span class=\"area\">", E(model.area_label), "</span><h1>", E(title),
      "</h1><span class=\"fy\">", E(LongFiscalYear(model.year)), "</span></header>\n");
  absl::StrAppend(&out, "<section class=\"box overview\"><h2>【概要・目的】</h2><p>",
                  E(project.overview()), "</p></section>\n");
  absl::StrAppend(&out,
                  "<section class=\"box measures\"><h2>【施策展開】</h2><ul class=\"pillars\">");
  for (const auto& pillar : project.pillars()) {
    absl::StrAppend(&out, "<li>■", E(pillar.title().empty() ? pillar.id() : pillar.title()),
                    "</li>");
  }
  absl::StrAppend(&out, "</ul></section>\n");
  absl::StrAppend(&out, StagesTable(model, "this-year",
                                    {{"これまでの主な取組実績", &model.achievements},
                                     {"今後の取組を進める上での主な課題", &model.challenges},
                                     {CurrentHeading(model.year), &model.current}},
                                    {"36%", "24%", "40%"}));

  // Page 2: next year's work, the KPIs and the alerts.
  absl::StrAppend(
      &out, "<section class=\"next page-break\">\n<h2>【施策展開】</h2>\n",
      StagesTable(model, "next-year", {{NextHeading(model.year), &model.next}}, {"100%"}),
      "</section>\n");
  absl::StrAppend(&out, "<section class=\"kpis\">\n<h2>【ＫＰＩの状況】 <span class=\"unit\">",
                  E(JapaneseFiscalYear(model.year)), "時点</span></h2>\n");
  if (model.kpi_tables.tables().empty()) {
    absl::StrAppend(&out, "<p class=\"none\">KPIは登録されていません</p>\n");
  } else {
    absl::StrAppend(
        &out,
        "<p class=\"legend\">進捗率の色 — <span class=\"achieved\">緑</span>: "
        "目標達成、<span class=\"lagging\">赤</span>: 基準から目標への直線ペースより遅れ。　"
        "推移: <span class=\"swatch\"><svg viewBox=\"0 0 20 8\" width=\"20\" height=\"8\">"
        "<line x1=\"0\" y1=\"4\" x2=\"20\" y2=\"4\" stroke=\"#1f4e9e\" stroke-width=\"1.6\"/>"
        "<circle cx=\"10\" cy=\"4\" r=\"2.4\" fill=\"#1f4e9e\"/></svg></span>実績　"
        "<span class=\"swatch\"><svg viewBox=\"0 0 20 8\" width=\"20\" height=\"8\">"
        "<line x1=\"0\" y1=\"4\" x2=\"20\" y2=\"4\" stroke=\"#7a7a7a\" stroke-width=\"1.2\" "
        "stroke-dasharray=\"4 3\"/></svg></span>想定ペース（基準→目標）　"
        "<span class=\"swatch\"><svg viewBox=\"0 0 20 8\" width=\"20\" height=\"8\">"
        "<path d=\"M10 0 L14 4 L10 8 L6 4 Z\" fill=\"#c0392b\"/></svg></span>目標</p>\n");
    for (const auto& table : model.kpi_tables.tables()) absl::StrAppend(&out, KpiSection(table));
  }
  absl::StrAppend(&out, "</section>\n", AlertsSection(model));
  absl::StrAppend(&out, "<footer>suishinctl report — ", E(project.id()), " — ",
                  E(FormatFiscalYear(model.year)),
                  "。KPIの数値と進捗率は kpi-service、通知は出力時点の notification-service "
                  "によるものです。</footer>\n</main>\n</body>\n</html>\n");
  return out;
}

}  // namespace suishin::report
