// The report command's data: everything a project promotion management table
// (プロジェクト推進管理表) shows for one fiscal year, gathered from the services
// into one ReportModel, and the pieces both renderers (report_html.h,
// report_markdown.h) lay out the same way: initiatives grouped by pillar,
// each line's text with its responsible bodies and region tags, and each
// KPI's table as a grid of display strings.
//
// Only GatherReport does I/O; everything else is pure, so tests can build a
// model by hand.
//
// Example:
//   ASSIGN_OR_RETURN(ReportModel model, GatherReport(services, "dohoku-anzen-anshin", 2019));
//   std::string html = RenderHtmlReport(model);
#ifndef SUISHIN_REPORT_REPORT_MODEL_H_
#define SUISHIN_REPORT_REPORT_MODEL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/services.h"
#include "report/labels.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/notification/v1/notification.pb.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::report {

// The initiatives of one pillar (■) in one column of the table, in the order
// plan-service lists them.
struct PillarGroup {
  std::string pillar_id;
  // The pillar's title without the ■ ("全ての世代が安心して暮らせる環境づくり");
  // the pillar id when the project does not name it.
  std::string title;
  std::vector<plan::v1::Initiative> initiatives;
};

// What notification-service said about the project's KPIs.
struct ReportAlerts {
  // False when ListAlerts failed: the report then says
  // 通知サービスに接続できません instead of listing alerts.
  bool available = false;
  // Why it failed ("UNAVAILABLE: failed to connect …"), for the small print.
  std::string error;
  // The firing alerts of the project's KPIs, in the report's order: KPI
  // order of the KPI tables, region order of each table, then the most
  // severe first.
  std::vector<notification::v1::Alert> firing;
};

// Everything the report shows.
struct ReportModel {
  plan::v1::Project project;
  // The fiscal year reported (2019 for 令和元年度).
  int year = 0;
  // The cooperation area as the heading shows it ("道北連携地域").
  std::string area_label;
  // Region id → display name, for region tags (【宗谷】).
  RegionNames region_names;
  // Columns of the management table, each grouped by pillar in the
  // project's pillar order (pillars without initiatives in the column left
  // out): これまでの主な取組実績 (ACHIEVEMENT of `year`), 今後の取組を進める上で
  // の主な課題 (CHALLENGE of `year`), 今年度の主な取組 (CURRENT of `year`) and
  // 次年度の取組 (NEXT of `year` + 1).
  std::vector<PillarGroup> achievements;
  std::vector<PillarGroup> challenges;
  std::vector<PillarGroup> current;
  std::vector<PillarGroup> next;
  // GetKpiTable as of `year`.
  kpi::v1::GetKpiTableResponse kpi_tables;
  ReportAlerts alerts;
};

// Gathers the report of `project_id` for fiscal year `year`: GetProject,
// ListRegions under the project's area, ListInitiatives per column (every
// page), GetKpiTable, and ListAlerts filtered to the project's KPIs. A
// failure of notification-service is recorded in `alerts` rather than
// returned; any other failed call is returned.
absl::StatusOr<ReportModel> GatherReport(const clients::Services& services,
                                         const std::string& project_id, int year);

// `initiatives` grouped by pillar in the order of `project`'s pillars, then
// any pillar the project does not list, in order of first appearance.
std::vector<PillarGroup> GroupByPillar(const plan::v1::Project& project,
                                       const std::vector<plan::v1::Initiative>& initiatives);

// The responsible bodies as the table writes them after the text:
// "（振興局、市町村）"; "" when there are none.
std::string BodiesSuffix(const plan::v1::Initiative& initiative);
// The region tags: "【宗谷】" (the id when `names` lacks it); "" when the
// initiative is for the whole area.
std::string RegionTagsSuffix(const plan::v1::Initiative& initiative, const RegionNames& names);
// The whole line without the leading ・: text, bodies, tags.
std::string InitiativeLine(const plan::v1::Initiative& initiative, const RegionNames& names);

// 今年度の主な取組（令和元年度（2019年度））, 次年度の取組（令和2年度（2020年度））.
std::string CurrentHeading(int year);
std::string NextHeading(int year);
// "令和元年度（2019年度）".
std::string LongFiscalYear(int year);

// One year column of a KPI grid.
struct KpiGridColumn {
  int year = 0;
  // "H27"; "R元（目標）" when it is also the target column.
  std::string header;
};

// One cell of a year column: the actual and its 進捗率.
struct KpiGridCell {
  // "11カ所"; "—" for an area figure that cannot be summed; "" when none.
  std::string value;
  // rate_display from kpi-service ("25.6%"); "—" when the actual exists
  // but the rate cannot be computed; "" when there is no actual.
  std::string rate;
  kpi::v1::ProgressStatus status = kpi::v1::PROGRESS_STATUS_UNSPECIFIED;
};

// One region of a KPI grid.
struct KpiGridRow {
  std::string region_id;
  // "道北連携地域" for the area, "上川" for a subprefecture.
  std::string label;
  // "10カ所", with the era year ("10カ所 H26") when the regions' baseline
  // years differ; "" when the region has none.
  std::string baseline;
  // "43カ所", with the era year when the regions' target years differ.
  std::string target;
  // "見直し前38カ所" for each earlier target, oldest first.
  std::vector<std::string> revisions;
  // One per KpiGrid::columns.
  std::vector<KpiGridCell> cells;
};

// One KPI's table as the management table lays it out: regions down, the
// baseline, one column per fiscal year after it, the target.
struct KpiGrid {
  std::string kpi_id;
  // "○認定こども園設置数".
  std::string heading;
  std::string unit;
  // How kpi-service computes the KPI's 進捗率: "実績 ÷ 目標 × 100"
  // (PROGRESS_METHOD_ACHIEVEMENT) or "（実績 − 基準）÷（目標 − 基準）× 100"
  // (PROGRESS_METHOD_GAP_CLOSURE, the default for DIRECTION_DECREASE).
  std::string rate_formula;
  // "H26（基準）" when every region's baseline is of one year, else "基準".
  std::string baseline_header;
  // "R元（目標）" when every region's target is for one year, else "目標".
  std::string target_header;
  // The years after the baseline up to the target year (the table's years
  // and the years of its points), except the target year itself when
  // no region has an actual for it: the target column stands for it, as in
  // the printed table.
  std::vector<KpiGridColumn> columns;
  std::vector<KpiGridRow> rows;
  // Footnotes: why a cell shows "—" ("道北連携地域 R元: 上川・留萌・宗谷の実績が
  // ないため集計できません"), and data-quality warnings ("注: …").
  std::vector<std::string> notes;
};

// The grid of one KPI table from GetKpiTable.
KpiGrid BuildKpiGrid(const kpi::v1::KpiTable& table);

// The label of a KPI table row: a cooperation area as "<name>連携地域", any
// other region by its name (the id when the row has none).
std::string KpiRowLabel(const kpi::v1::KpiTableRow& row, const kpi::v1::Kpi& kpi);
// KpiRowLabel as a table's first column shows it: the levels below the
// area's direct children indented by a full-width space each (上川's 市町村
// as "　旭川市"), so the seed's two levels print as the document does.
std::string KpiRowIndentedLabel(const kpi::v1::KpiTableRow& row, const kpi::v1::Kpi& kpi);

// A firing alert's summary without the "<KPI name> <region name>: " prefix
// the report's columns already show.
std::string AlertShortSummary(const notification::v1::Alert& alert, const kpi::v1::Kpi* kpi);

// The region of an alert as the KPI table labels its row ("道北連携地域",
// "宗谷"); the region id when the tables do not have it.
std::string AlertRegionLabel(const kpi::v1::GetKpiTableResponse& tables,
                             const notification::v1::Alert& alert);

// The KPI of `kpi_id` among `tables`, or nullptr.
const kpi::v1::Kpi* FindKpi(const kpi::v1::GetKpiTableResponse& tables, absl::string_view kpi_id);

}  // namespace suishin::report

#endif  // SUISHIN_REPORT_REPORT_MODEL_H_
