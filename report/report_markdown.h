// The report as Markdown (CommonMark with GitHub tables), in the order of the
// printed プロジェクト推進管理表: title, 【概要・目的】, 【施策展開】, the four
// columns of initiatives (これまでの主な取組実績, 今後の取組を進める上での主な
// 課題, 今年度の主な取組, 次年度の取組) each as ■ pillar headings with one list
// item per line, 【ＫＰＩの状況】 with one table per KPI (a row of figures and a
// 進捗率 row per region), and the firing alerts (or 通知サービスに接続できません).
// Text from the services is escaped so that it is shown as written.
//
// Example:
//   std::cout << RenderMarkdownReport(model);
#ifndef SUISHIN_REPORT_REPORT_MARKDOWN_H_
#define SUISHIN_REPORT_REPORT_MARKDOWN_H_

#include <string>

#include "absl/strings/string_view.h"
#include "report/report_model.h"

namespace suishin::report {

// `text` as literal Markdown inline text on one line: the characters that
// could start markup (\ ` * _ [ ] < > | & ~ #) get a backslash, a leading
// "+", "-", "=" or "1. " can no longer start a block, surrounding spaces are
// trimmed and line breaks become spaces. Safe inside a table cell.
std::string MarkdownEscape(absl::string_view text);

// The whole document, ending in a newline.
std::string RenderMarkdownReport(const ReportModel& model);

}  // namespace suishin::report

#endif  // SUISHIN_REPORT_REPORT_MARKDOWN_H_
