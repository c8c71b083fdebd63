// The small progress chart the HTML report draws for each region of a KPI
// table, as inline SVG: nothing to fetch, no script, colours as presentation
// attributes so it looks the same without the page's style sheet.
//
// Years run left to right from the baseline year to the target year (or the
// last year with an actual, if later); values bottom to top from 0 (or the
// lowest value, if negative) to a little above the highest figure. It holds:
//   <title>                          what the chart shows, in words
//   <line class="axis">              the zero line
//   <line class="target-line">       the target's level, dotted
//   <line class="pace">              the straight pace from baseline to target, dashed
//   <circle class="baseline">        the baseline, hollow
//   <polyline class="actual">        baseline and actuals joined, one per run of
//                                    consecutive years with actuals
//   <circle class="actual-point …">  each actual, with the status as a second class
//                                    (achieved, on-track, lagging, unknown)
//   <path class="target">            a diamond at the target year and value
//   <text class="year">              the first and last year (H26, R元)
// Elements whose figures are missing (no baseline: no pace line) are left
// out; a row with no figure at all gets a chart saying データなし.
//
// Example:
//   for (const kpi::v1::KpiTableRow& row : table.rows()) {
//     html += ProgressChartSvg(table, row);
//   }
#ifndef SUISHIN_REPORT_REPORT_SVG_H_
#define SUISHIN_REPORT_REPORT_SVG_H_

#include <string>

#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::report {

// The chart's size in SVG user units (its viewBox); the page scales it.
inline constexpr int kChartWidth = 176;
inline constexpr int kChartHeight = 64;

// One `row` of `table` as an <svg> element (no XML prolog), every text
// escaped for HTML.
std::string ProgressChartSvg(const kpi::v1::KpiTable& table, const kpi::v1::KpiTableRow& row);

}  // namespace suishin::report

#endif  // SUISHIN_REPORT_REPORT_SVG_H_
