// What a person reads: the Japanese labels of the services' values, figures
// with their units as the management table prints them ("10カ所", "43.4%"),
// and the notes that say why a figure is missing. The one place these words
// are written, shared by the report, the CSV table file, suishinctl's
// terminal views and any other front end, so that a Japanese view never
// shows an English word the services use internally.
//
// Contract: pure functions of protos and numbers, no I/O, safe from any
// thread. Every label of an enum value the function does not know is "?".
//
// Example:
//   ValueWithUnit(43.4, kpi)               // "43.4%"
//   ProgressStatusLabel(PROGRESS_STATUS_LAGGING)  // "遅れ"
//   PointNote(point)                       // "R元 (2019) 実績なし"
#ifndef SUISHIN_REPORT_LABELS_H_
#define SUISHIN_REPORT_LABELS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::report {

// Region id → display name ("soya" → "宗谷"), for region tags.
using RegionNames = std::map<std::string, std::string>;

// 達成 (ACHIEVED), 順調 (ON_TRACK), 遅れ (LAGGING), 不明 (UNKNOWN).
std::string ProgressStatusLabel(kpi::v1::ProgressStatus status);
// KPI作成 (KPI_CREATED), 基準設定 (BASELINE_SET), 目標設定 (TARGET_REVISED),
// 実績登録 (ACTUAL_RECORDED), 実績訂正 (ACTUAL_CORRECTED).
std::string ChangeKindLabel(kpi::v1::ChangeKind kind);
// "重大 CRITICAL", "警告 WARNING", "情報 INFO".
std::string SeverityLabel(notification::v1::Severity severity);
// 遅れ, しきい値未満, 悪化, 停滞, 未報告, 達成: a rule of notification-service.
std::string RuleJapanese(notification::v1::RuleKind rule);

// A figure as people typed it: up to 4 fractional digits (half away from
// zero), no trailing zeros, at least one fractional digit for percentages:
// 43 → "43", 47.2 → "47.2", 81 → "81.0" (VALUE_KIND_PERCENT).
std::string FormatKpiNumber(double value, kpi::v1::ValueKind kind);
// FormatKpiNumber followed by the KPI's unit: "10カ所", "81.0%".
std::string ValueWithUnit(double value, const kpi::v1::Kpi& kpi);
// The region's display name from kpi.region_names ("上川"), or its id.
std::string RegionName(const kpi::v1::Kpi& kpi, const std::string& region_id);

// What a cell shows when a figure exists but cannot be shown (an incomplete
// area sum, an undefined rate); each one gets a footnote.
inline constexpr absl::string_view kNoFigure = "—";
// A rate that cannot be computed, when the service gave no reason.
inline constexpr absl::string_view kRateNotComputable = "算出できません";

// "R元 (2019) 実績なし": a year without an actual.
std::string NoActualNote(int year);
// "上川・留萌・宗谷の実績がないため集計できません": an area figure computed
// from its children that is incomplete, naming the children without one.
std::string AreaIncompleteNote(const std::vector<std::string>& missing);
// Why `point`, which has a value, has no 進捗率: the service's reason, or
// kRateNotComputable when it gave none.
std::string RateUndefinedNote(const kpi::v1::ProgressPoint& point);
// Why `point` of `area` (a row computed from its children) has no figure:
// AreaIncompleteNote of MissingChildren, or the service's reason when no
// child is missing.
std::string AreaUndefinedNote(const kpi::v1::KpiTable& table, const kpi::v1::KpiTableRow& area,
                              const kpi::v1::ProgressPoint& point);
// Why `point` has no rate, for a 備考 column: NoActualNote for a year
// without an actual, else the service's reason ("" when it has a rate).
std::string PointNote(const kpi::v1::ProgressPoint& point);

// Reading a KPI table (GetKpiTable): a row's point for `year`, or nullptr.
const kpi::v1::ProgressPoint* PointOf(const kpi::v1::KpiTableRow& row, int year);
// The names of the regions without a figure in `year` below `area`, a row
// of `table` computed from its children: the area's aggregate's own list
// when it is for that year, else the rows below it (by parent_region_id)
// that report their own figure and have no value that year.
std::vector<std::string> MissingChildren(const kpi::v1::KpiTable& table,
                                         const kpi::v1::KpiTableRow& area, int year);

}  // namespace suishin::report

#endif  // SUISHIN_REPORT_LABELS_H_
