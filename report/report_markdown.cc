#include "report/report_markdown.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fiscal_year.h"
#include "report/labels.h"

namespace suishin::report {
namespace {

using notification::v1::Alert;

std::string M(absl::string_view text) { return MarkdownEscape(text); }

// One table row: "| a | b |".
std::string Row(const std::vector<std::string>& cells) {
  return absl::StrCat("| ", absl::StrJoin(cells, " | "), " |\n");
}

// The columns' lines, a ■ heading per pillar.
std::string StageSection(const ReportModel& model, absl::string_view heading,
                         const std::vector<PillarGroup>& groups) {
  std::string out = absl::StrCat("## ", M(heading), "\n\n");
  if (groups.empty()) return absl::StrCat(out, "取組は登録されていません\n\n");
  for (const PillarGroup& group : groups) {
    absl::StrAppend(&out, "### ■", M(group.title), "\n\n");
    for (const auto& initiative : group.initiatives) {
      absl::StrAppend(&out, "- ", M(InitiativeLine(initiative, model.region_names)), "\n");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string KpiSection(const kpi::v1::KpiTable& table) {
  const KpiGrid grid = BuildKpiGrid(table);
  std::string out = absl::StrCat("### ", M(grid.heading));
  absl::StrAppend(&out, "（");
  if (!grid.unit.empty()) absl::StrAppend(&out, "単位：", M(grid.unit), "、");
  absl::StrAppend(&out, "進捗率 = ", M(grid.rate_formula), "）");
  absl::StrAppend(&out, "\n\n");
  if (grid.rows.empty()) return absl::StrCat(out, "地域がありません\n\n");

  std::vector<std::string> header = {"地域", M(grid.baseline_header)};
  std::vector<std::string> align = {":--", "--:"};
  for (const KpiGridColumn& column : grid.columns) {
    header.push_back(M(column.header));
    align.push_back("--:");
  }
  header.push_back(M(grid.target_header));
  align.push_back(":-:");
  absl::StrAppend(&out, Row(header), Row(align));
  for (const KpiGridRow& row : grid.rows) {
    std::vector<std::string> values = {M(row.label), M(row.baseline)};
    std::vector<std::string> rates = {"進捗率", ""};
    for (const KpiGridCell& cell : row.cells) {
      values.push_back(M(cell.value));
      rates.push_back(M(cell.rate));
    }
    std::string target = M(row.target);
    for (const std::string& revision : row.revisions)
      absl::StrAppend(&target, "（", M(revision), "）");
    values.push_back(target);
    rates.push_back("");
    absl::StrAppend(&out, Row(values), Row(rates));
  }
  absl::StrAppend(&out, "\n");
  for (const std::string& note : grid.notes) absl::StrAppend(&out, "- ", M(note), "\n");
  if (!grid.notes.empty()) absl::StrAppend(&out, "\n");
  return out;
}

std::string AlertsSection(const ReportModel& model) {
  std::string out = "## 【通知】発生中のアラート\n\n";
  const ReportAlerts& alerts = model.alerts;
  if (!alerts.available) {
    absl::StrAppend(&out, "**通知サービスに接続できません**\n");
    if (!alerts.error.empty()) absl::StrAppend(&out, "\n（", M(alerts.error), "）\n");
    return absl::StrCat(out, "\n");
  }
  if (alerts.firing.empty()) return absl::StrCat(out, "発生中のアラートはありません\n\n");
  absl::StrAppend(&out, Row({"重大度", "種類", "KPI", "地域", "年度", "内容", "対応"}),
                  Row({":--", ":--", ":--", ":--", ":--", ":--", ":--"}));
  for (const Alert& alert : alerts.firing) {
    const kpi::v1::Kpi* kpi = FindKpi(model.kpi_tables, alert.kpi_id());
    std::vector<std::string> marks;
    if (alert.has_acknowledgement() && !alert.acknowledgement().author().empty()) {
      marks.push_back(absl::StrCat("確認済（", alert.acknowledgement().author(), "）"));
    }
    if (alert.silenced()) marks.push_back("サイレンス中");
    const int year = alert.values().fiscal_year().year();
    absl::StrAppend(
        &out,
        Row({M(SeverityLabel(alert.severity())), M(RuleJapanese(alert.rule())),
             M(kpi == nullptr || kpi->name().empty() ? alert.kpi_id() : kpi->name()),
             M(AlertRegionLabel(model.kpi_tables, alert)), year == 0 ? "" : M(EraFiscalYear(year)),
             M(AlertShortSummary(alert, kpi)), M(absl::StrJoin(marks, "・"))}));
  }
  return absl::StrCat(out, "\n");
}

}  // namespace

std::string MarkdownEscape(absl::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  std::string out;
  out.reserve(trimmed.size() + 8);
  // A run of digits at the very start, which with "." or ")" and a space
  // after it would start an ordered list.
  bool leading_digits = true;
  for (size_t i = 0; i < trimmed.size(); ++i) {
    const char c = trimmed[i];
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
      leading_digits = false;
      continue;
    }
    bool escape = false;
    switch (c) {
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '<':
      case '>':
      case '|':
      case '&':
      case '~':
      case '#':
        escape = true;
        break;
      case '+':
      case '-':
      case '=':
        escape = i == 0;
        break;
      case '.':
      case ')':
        escape = leading_digits && i > 0 && (i + 1 == trimmed.size() || trimmed[i + 1] == ' ');
        break;
      default:
        break;
    }
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) leading_digits = false;
    if (escape) out += '\\';
    out += c;
  }
  return out;
}

std::string RenderMarkdownReport(const ReportModel& model) {
  const plan::v1::Project& project = model.project;
  const std::string title = project.title().empty() ? project.id() : project.title();
  std::string out =
      absl::StrCat("# ", M(title), "\n\nプロジェクト推進管理表 ／ ", M(model.area_label), " ／ ",
                   M(LongFiscalYear(model.year)), "\n\n");
  absl::StrAppend(&out, "## 【概要・目的】\n\n", M(project.overview()), "\n\n");
  absl::StrAppend(&out, "## 【施策展開】\n\n");
  for (const auto& pillar : project.pillars()) {
    absl::StrAppend(&out, "- ■", M(pillar.title().empty() ? pillar.id() : pillar.title()), "\n");
  }
  absl::StrAppend(&out, "\n");
  absl::StrAppend(&out, StageSection(model, "これまでの主な取組実績", model.achievements));
  absl::StrAppend(&out, StageSection(model, "今後の取組を進める上での主な課題", model.challenges));
  absl::StrAppend(&out, StageSection(model, CurrentHeading(model.year), model.current));
  absl::StrAppend(&out, StageSection(model, NextHeading(model.year), model.next));

  absl::StrAppend(&out, "## 【ＫＰＩの状況】（", M(JapaneseFiscalYear(model.year)), "時点）\n\n");
  if (model.kpi_tables.tables().empty()) {
    absl::StrAppend(&out, "KPIは登録されていません\n\n");
  } else {
    for (const auto& table : model.kpi_tables.tables()) absl::StrAppend(&out, KpiSection(table));
  }
  absl::StrAppend(&out, AlertsSection(model));
  absl::StrAppend(&out, "---\n\nsuishinctl report — ", M(project.id()), " — ",
                  M(FormatFiscalYear(model.year)), "\n");
  return out;
}

}  // namespace suishin::report
