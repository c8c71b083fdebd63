// How suishinctl shows KPI data: values with their units as the management
// table prints them ("10カ所", "43.4%"), the Japanese labels of progress
// statuses and changes, and the text of each KPI command, built from protos
// with no I/O so tests can check the exact output without a server.
//
// Every Format* function returns text ending in "\n". Times are shown in the
// time zone given ("2019-06-30 09:00:00").
//
// Example:
//   kpi::v1::GetKpiTableResponse table = ...;  // from GetKpiTable
//   std::cout << FormatKpiTable(table, project.title());
//   // 【ＫＰＩの状況】 道北地域の安全・安心な暮らしづくりプロジェクト  R元 (2019)
//   //
//   // ○認定こども園設置数 (カ所)
//   // 地域          基準          H27     H28  ...  目標
//   // ...
#ifndef SUISHIN_TOOLS_SUISHINCTL_KPI_VIEWS_H_
#define SUISHIN_TOOLS_SUISHINCTL_KPI_VIEWS_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exchange/dataset_import.h"
#include "report/labels.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::ctl {

// The labels and figures every Japanese view shares (report/labels.h).
using report::AreaUndefinedNote;
using report::ChangeKindLabel;
using report::FormatKpiNumber;
using report::kNoFigure;
using report::MissingChildren;
using report::PointNote;
using report::PointOf;
using report::ProgressStatusLabel;
using report::RateUndefinedNote;
using report::RegionName;
using report::ValueWithUnit;

// count, percent, amount; "?" otherwise.
std::string ValueKindLabel(kpi::v1::ValueKind kind);
// sum, ratio, reported; "?" otherwise.
std::string AggregationLabel(kpi::v1::AggregationRule rule);
// achievement (actual / target), gap-closure; "?" otherwise.
std::string ProgressMethodLabel(kpi::v1::ProgressMethod method);

// A timestamp in `zone` as "2019-06-30 09:00:00"; "" when unset (zero).
std::string FormatTimestamp(const google::protobuf::Timestamp& time, absl::TimeZone zone);

// The kpis command: id, 名称, 単位, 種類, 集計, 計算, 地域 (region ids); then
// "N KPI(s)".
std::string FormatKpis(const std::vector<kpi::v1::Kpi>& kpis);

// What import did with one KPI of a dataset file (exchange/dataset_import.h).
using exchange::KpiImportResult;

// The import command's KPI report: one row per KPI (id, 名称, 結果 created /
// already present, rows in the file, applied), then a summary line that says
// "nothing changed" when no KPI was created and no row applied.
std::string FormatKpiImport(const std::vector<KpiImportResult>& results);

// Every refused row of an ImportActuals answer, one line each:
//   line 7: value: -1 is negative
// (the field is not repeated when the message already starts with it).
std::string FormatRowErrors(const kpi::v1::ImportActualsResponse& response);

// The table command: 【ＫＰＩの状況】, the project's title (`project_title`,
// from plan-service; the project id when it is empty) and the as-of year,
// then for each KPI
// "○<name> (<unit>)" and a grid with regions down (the area row first,
// labelled "<name>連携地域") and columns 地域, 基準 ("10カ所 H26"), one per
// fiscal year after the baseline (the actual, and its 進捗率 on a second line
// labelled 進捗率), and 目標 ("43カ所 R元", with "（見直し前38カ所）" under it
// for each earlier target). Numbers are right-aligned by display width. A
// computed area figure that is incomplete, and a rate that cannot be
// computed, show "—" with a footnote line under the grid naming the year
// and the missing regions (or the reason); data-quality warnings follow as
// "注:" lines.
std::string FormatKpiTable(const kpi::v1::GetKpiTableResponse& response,
                           absl::string_view project_title);

// The progress command: the KPI and region, 基準, 目標 with its earlier
// values (見直し前…, when, who, why), then one line per fiscal year: 年度, 実績,
// 進捗率, 想定 (expected rate), 差 (pace gap in points), 状態, 備考 (why a rate
// is missing: PointNote, "R元 (2019) 実績なし" for a year without an actual).
std::string FormatProgress(const kpi::v1::GetProgressResponse& response, absl::TimeZone zone);

// The history command: one row per change: seq, 時刻, 種類, 地域, 年度, 変更
// ("3カ所 → 4カ所"; "→ 4カ所" for a first value; numerators and denominators
// in parentheses), 担当, 理由; then "N change(s)". `kpi` gives units and
// region names; a default Kpi shows bare numbers and region ids.
std::string FormatHistory(const std::vector<kpi::v1::Change>& changes, const kpi::v1::Kpi& kpi,
                          absl::TimeZone zone);

// The watch command's line for one change (no unit, region ids):
//   #57  2019-06-30 09:00:00  実績訂正  kodomoen  soya  R元 (2019)  3 → 4  by 宗谷総合振興局
//   (reason)
std::string FormatChangeLine(const kpi::v1::Change& change, absl::TimeZone zone);

// The record command: the stored actual (KPI, 地域, 年度, 実績, 報告者, 時刻),
// "corrected" when it replaced an earlier figure, and the change sequence.
std::string FormatRecordedActual(const kpi::v1::RecordActualResponse& response,
                                 const kpi::v1::Kpi& kpi, absl::TimeZone zone);

// The baseline command: KPI, 地域, 基準 ("6カ所 H26 (2014)"), sequence.
std::string FormatBaselineSet(const kpi::v1::SetBaselineResponse& response,
                              const kpi::v1::Kpi& kpi);

// The target command: KPI, 地域, 目標 ("33カ所 R元 (2019)") with its earlier
// values (見直し前28カ所 …), sequence.
std::string FormatTargetRevised(const kpi::v1::ReviseTargetResponse& response,
                                const kpi::v1::Kpi& kpi, absl::TimeZone zone);

}  // namespace suishin::ctl

#endif  // SUISHIN_TOOLS_SUISHINCTL_KPI_VIEWS_H_
