#include "report/report_svg.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/fiscal_year.h"
#include "report/labels.h"
#include "report/report_html.h"
#include "report/report_model.h"

namespace suishin::report {
namespace {

using kpi::v1::ProgressPoint;

// Room around the plot: for the year labels below, the markers' radius
// elsewhere.
constexpr double kLeft = 8;
constexpr double kRight = 8;
constexpr double kTop = 6;
constexpr double kBottom = 14;
// Headroom above the highest figure, as a fraction of the range.
constexpr double kHeadroom = 0.08;

constexpr char kActualColour[] = "#1f4e9e";
constexpr char kPaceColour[] = "#7a7a7a";
constexpr char kTargetColour[] = "#c0392b";
constexpr char kAchievedColour[] = "#1a7f37";
constexpr char kLaggingColour[] = "#c62828";

std::string Num(double x) { return absl::StrFormat("%.1f", x); }

struct Scale {
  int first_year = 0;
  int last_year = 1;
  double low = 0;
  double high = 1;

  double X(double year) const {
    const double span = last_year - first_year;
    return kLeft + (year - first_year) / span * (kChartWidth - kLeft - kRight);
  }
  double Y(double value) const {
    const double h = kChartHeight - kTop - kBottom;
    return kTop + (high - value) / (high - low) * h;
  }
};

std::string StatusClass(kpi::v1::ProgressStatus status) {
  switch (status) {
    case kpi::v1::PROGRESS_STATUS_ACHIEVED:
      return "achieved";
    case kpi::v1::PROGRESS_STATUS_ON_TRACK:
      return "on-track";
    case kpi::v1::PROGRESS_STATUS_LAGGING:
      return "lagging";
    default:
      return "unknown";
  }
}

std::string StatusColour(kpi::v1::ProgressStatus status) {
  switch (status) {
    case kpi::v1::PROGRESS_STATUS_ACHIEVED:
      return kAchievedColour;
    case kpi::v1::PROGRESS_STATUS_LAGGING:
      return kLaggingColour;
    default:
      return kActualColour;
  }
}

// The words of the <title>: "宗谷　基準 2カ所（H26）→ 目標 6カ所（R元）。実績 H27 3カ所
// (50.0%)、…".
std::string Description(const kpi::v1::KpiTable& table, const kpi::v1::KpiTableRow& row,
                        const std::vector<const ProgressPoint*>& actuals) {
  const kpi::v1::Kpi& kpi = table.kpi();
  std::string out =
      absl::StrCat(KpiRowLabel(row, kpi), " ", kpi.name().empty() ? kpi.id() : kpi.name(), "：");
  std::vector<std::string> parts;
  if (row.has_baseline()) {
    parts.push_back(absl::StrCat("基準 ", ValueWithUnit(row.baseline().value(), kpi), "（",
                                 EraFiscalYear(row.baseline().fiscal_year().year()), "）"));
  }
  if (row.has_target()) {
    parts.push_back(absl::StrCat("目標 ", ValueWithUnit(row.target().value(), kpi), "（",
                                 EraFiscalYear(row.target().fiscal_year().year()), "）"));
  }
  absl::StrAppend(&out, absl::StrJoin(parts, " → "));
  std::vector<std::string> values;
  for (const ProgressPoint* point : actuals) {
    std::string value = absl::StrCat(EraFiscalYear(point->fiscal_year().year()), " ",
                                     ValueWithUnit(point->value(), kpi));
    if (!point->rate_display().empty()) absl::StrAppend(&value, "（", point->rate_display(), "）");
    values.push_back(std::move(value));
  }
  if (!values.empty()) absl::StrAppend(&out, "。実績 ", absl::StrJoin(values, "、"));
  return out;
}

}  // namespace

std::string ProgressChartSvg(const kpi::v1::KpiTable& table, const kpi::v1::KpiTableRow& row) {
  std::vector<const ProgressPoint*> actuals;
  for (const ProgressPoint& point : row.points()) {
    if (point.has_value() && std::isfinite(point.value())) actuals.push_back(&point);
  }
  std::sort(actuals.begin(), actuals.end(), [](const ProgressPoint* a, const ProgressPoint* b) {
    return a->fiscal_year().year() < b->fiscal_year().year();
  });
  const bool has_baseline = row.has_baseline() && std::isfinite(row.baseline().value());
  const bool has_target = row.has_target() && std::isfinite(row.target().value());

  // Years and values the chart must hold.
  std::vector<int> years;
  std::vector<double> values;
  if (has_baseline) {
    years.push_back(row.baseline().fiscal_year().year());
    values.push_back(row.baseline().value());
  }
  if (has_target) {
    years.push_back(row.target().fiscal_year().year());
    values.push_back(row.target().value());
  }
  for (const ProgressPoint* point : actuals) {
    years.push_back(point->fiscal_year().year());
    values.push_back(point->value());
  }

  const std::string description = Description(table, row, actuals);
  std::string svg =
      absl::StrCat("<svg class=\"progress-chart\" viewBox=\"0 0 ", kChartWidth, " ", kChartHeight,
                   "\" width=\"", kChartWidth, "\" height=\"", kChartHeight,
                   "\" role=\"img\" aria-label=\"", HtmlEscape(description), "\" data-region=\"",
                   HtmlEscape(row.region_id()), "\"><title>", HtmlEscape(description), "</title>");
  if (years.empty()) {
    absl::StrAppend(&svg, "<text class=\"no-data\" x=\"", kChartWidth / 2, "\" y=\"",
                    kChartHeight / 2, "\" text-anchor=\"middle\" font-size=\"9\" fill=\"",
                    kPaceColour, "\">データなし</text></svg>");
    return svg;
  }

  Scale scale;
  scale.first_year = *std::min_element(years.begin(), years.end());
  scale.last_year = *std::max_element(years.begin(), years.end());
  if (scale.last_year == scale.first_year) scale.last_year = scale.first_year + 1;
  scale.low = std::min(0.0, *std::min_element(values.begin(), values.end()));
  const double top = std::max(0.0, *std::max_element(values.begin(), values.end()));
  scale.high = top + (top - scale.low) * kHeadroom;
  if (scale.high <= scale.low) scale.high = scale.low + 1;

  // The zero line (or the lowest value's).
  absl::StrAppend(&svg, "<line class=\"axis\" x1=\"", Num(kLeft), "\" y1=\"",
                  Num(scale.Y(scale.low)), "\" x2=\"", Num(kChartWidth - kRight), "\" y2=\"",
                  Num(scale.Y(scale.low)), "\" stroke=\"#999\" stroke-width=\"0.8\"/>");
  if (has_target) {
    const double y = scale.Y(row.target().value());
    absl::StrAppend(&svg, "<line class=\"target-line\" x1=\"", Num(kLeft), "\" y1=\"", Num(y),
                    "\" x2=\"", Num(kChartWidth - kRight), "\" y2=\"", Num(y), "\" stroke=\"",
                    kTargetColour, "\" stroke-width=\"0.7\" stroke-dasharray=\"1 2\"/>");
  }
  if (has_baseline && has_target) {
    absl::StrAppend(&svg, "<line class=\"pace\" x1=\"",
                    Num(scale.X(row.baseline().fiscal_year().year())), "\" y1=\"",
                    Num(scale.Y(row.baseline().value())), "\" x2=\"",
                    Num(scale.X(row.target().fiscal_year().year())), "\" y2=\"",
                    Num(scale.Y(row.target().value())), "\" stroke=\"", kPaceColour,
                    "\" stroke-width=\"1.2\" stroke-dasharray=\"4 3\"/>");
  }

  // Runs of consecutive years with a figure, starting at the baseline.
  std::vector<std::vector<std::pair<int, double>>> runs;
  std::optional<int> previous;
  const auto add = [&](int year, double value) {
    if (!previous || year != *previous + 1) runs.emplace_back();
    runs.back().emplace_back(year, value);
    previous = year;
  };
  if (has_baseline) add(row.baseline().fiscal_year().year(), row.baseline().value());
  for (const ProgressPoint* point : actuals) {
    if (has_baseline && point->fiscal_year().year() <= row.baseline().fiscal_year().year()) {
      continue;
    }
    add(point->fiscal_year().year(), point->value());
  }
  for (const auto& run : runs) {
    if (run.size() < 2) continue;
    std::vector<std::string> points;
    for (const auto& [year, value] : run) {
      points.push_back(absl::StrCat(Num(scale.X(year)), ",", Num(scale.Y(value))));
    }
    absl::StrAppend(&svg, "<polyline class=\"actual\" points=\"", absl::StrJoin(points, " "),
                    "\" fill=\"none\" stroke=\"", kActualColour,
                    "\" stroke-width=\"1.6\" stroke-linejoin=\"round\"/>");
  }
  if (has_baseline) {
    absl::StrAppend(&svg, "<circle class=\"baseline\" cx=\"",
                    Num(scale.X(row.baseline().fiscal_year().year())), "\" cy=\"",
                    Num(scale.Y(row.baseline().value())), "\" r=\"2.4\" fill=\"#fff\" stroke=\"",
                    kActualColour, "\" stroke-width=\"1.2\"/>");
  }
  for (const ProgressPoint* point : actuals) {
    absl::StrAppend(&svg, "<circle class=\"actual-point ", StatusClass(point->status()), "\" cx=\"",
                    Num(scale.X(point->fiscal_year().year())), "\" cy=\"",
                    Num(scale.Y(point->value())), "\" r=\"2.4\" fill=\"",
                    StatusColour(point->status()), "\"/>");
  }
  if (has_target) {
    const double x = scale.X(row.target().fiscal_year().year());
    const double y = scale.Y(row.target().value());
    absl::StrAppend(&svg, "<path class=\"target\" d=\"M", Num(x), " ", Num(y - 4), " L", Num(x + 4),
                    " ", Num(y), " L", Num(x), " ", Num(y + 4), " L", Num(x - 4), " ", Num(y),
                    " Z\" fill=\"", kTargetColour, "\"/>");
  }
  const double label_y = kChartHeight - 3;
  absl::StrAppend(&svg, "<text class=\"year\" x=\"", Num(kLeft), "\" y=\"", Num(label_y),
                  "\" font-size=\"9\" fill=\"#555\">", HtmlEscape(EraFiscalYear(scale.first_year)),
                  "</text>");
  absl::StrAppend(&svg, "<text class=\"year\" x=\"", Num(kChartWidth - kRight), "\" y=\"",
                  Num(label_y), "\" font-size=\"9\" fill=\"#555\" text-anchor=\"end\">",
                  HtmlEscape(EraFiscalYear(scale.last_year)), "</text>");
  absl::StrAppend(&svg, "</svg>");
  return svg;
}

}  // namespace suishin::report
