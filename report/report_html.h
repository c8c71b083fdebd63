// The report as one self-contained HTML page laid out like the printed
// プロジェクト推進管理表, for A4 landscape: the style sheet is inline, the
// charts are inline SVG (report_svg.h), and there are no scripts, external
// fonts or images, so the file can be mailed, archived and printed as is.
//
// Page 1: the title block, 【概要・目的】, 【施策展開】 (the ■ pillars) and the
// table これまでの主な取組実績 | 今後の取組を進める上での主な課題 | 今年度の主な
// 取組 with one band per pillar. Page 2: 次年度の取組, then 【ＫＰＩの状況】 with
// one table per KPI (regions down; the baseline, each year's actual with its
// 進捗率 below it, the target with 見直し前 values, and a progress chart per
// region), then the firing alerts (or 通知サービスに接続できません). Every text
// from the services is escaped.
//
// Example:
//   std::ofstream("report.html") << RenderHtmlReport(model);
#ifndef SUISHIN_REPORT_REPORT_HTML_H_
#define SUISHIN_REPORT_REPORT_HTML_H_

#include <string>

#include "absl/strings/string_view.h"
#include "report/report_model.h"

namespace suishin::report {

// `text` with & < > " ' replaced by character references, safe in element
// content and in quoted attribute values.
std::string HtmlEscape(absl::string_view text);

// The whole page, from <!DOCTYPE html> to </html>.
std::string RenderHtmlReport(const ReportModel& model);

}  // namespace suishin::report

#endif  // SUISHIN_REPORT_REPORT_HTML_H_
