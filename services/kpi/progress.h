// The arithmetic of kpi-service: progress rates (進捗率), the straight-line
// expected pace, the status of a fiscal year, and an area's figure from its
// subprefectures. Pure functions: no I/O, no store, no clock; safe to call
// from any thread.
//
// Promises:
//   - Every displayed rounding equals the printed management table to the
//     digit. Values are decimals people typed (at most 4 fractional digits);
//     doubles carry them, so every input is first scaled back to the integer
//     it was typed as (llround(x × 10000)), and each displayed figure is
//     rounded from the exact rational in __int128, never from a double.
//   - The rounding rule is 四捨五入 to 0.1: half away from zero, so 6.25 →
//     "6.3", 28.75 → "28.8" (the double 23/80×100 is 28.749999…, which
//     floor(x×10+0.5) would print "28.7"), and −1.25 → "-1.3".
//   - The numeric fields (Rate::percent, ProgressPoint.rate, pace_gap, …)
//     stay full-precision doubles; only the *_display strings and
//     Rate::tenths are the exact roundings.
//   - A rate that cannot be computed is undefined, with a reason; nothing
//     ever divides by zero.
//   - Inputs must be finite and within ±1e14 (any realistic KPI figure);
//     beyond that a rate is undefined ("… is not a finite number within
//     ±1e14"), so the exact arithmetic cannot overflow.
//
// Example:
//   // 上川 認定こども園設置数, H30: 41 of the (revised) target 33.
//   ProgressInputs in{v1::PROGRESS_METHOD_ACHIEVEMENT, v1::DIRECTION_INCREASE,
//                     /*baseline_year=*/2014, /*baseline=*/6,
//                     /*target_year=*/2019, /*target=*/33};
//   v1::ProgressPoint point = ComputePoint(in, 2018, 41.0);
//   point.rate_display();           // "124.2%"
//   point.expected_rate_display();  // "83.6%"  (6 + 27 × 4/5 = 27.6 of 33)
//   point.pace_gap_display();       // "+40.6"
//   point.status();                 // PROGRESS_STATUS_ACHIEVED
//
//   // 道北 = 上川 + 留萌 + 宗谷 for a SUM KPI.
//   v1::Aggregate area = AggregateFigures(
//       v1::AGGREGATION_RULE_SUM,
//       {{"kamikawa", 41.0, {}, {}}, {"rumoi", 4.0, {}, {}}, {"soya", 3.0, {}, {}}},
//       std::nullopt);
//   area.value();  // 48
#ifndef SUISHIN_SERVICES_KPI_PROGRESS_H_
#define SUISHIN_SERVICES_KPI_PROGRESS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

// The largest magnitude of a figure the arithmetic takes (see Promises);
// kpi-service refuses larger ones when they are written.
inline constexpr double kMaxFigure = 1e14;
// The smallest step of a typed figure: four decimals.
inline constexpr double kFigureStep = 0.0001;

// A progress rate in percent.
struct Rate {
  // Full precision, from the doubles: 48 / 43 × 100 = 111.627906….
  double percent = 0;
  // The exact rational rounded half away from zero to 0.1, in tenths of a
  // percent: 1116.
  int64_t tenths = 0;

  // The rate as the table prints it, from `tenths`: "111.6%", "25.6%",
  // "100.0%", "-3.0%" (ASCII '-', no '+').
  std::string Display() const;
};

// A rate, or why there is none.
struct RateResult {
  // Unset when the rate is undefined.
  std::optional<Rate> rate;
  // Why `rate` is unset ("target equals baseline"); empty when it is set.
  std::string undefined_reason;
};

// The progress rate of `value` by `method`:
//   ACHIEVEMENT (and UNSPECIFIED): value / target × 100. Undefined when
//     target is 0 ("target is 0: use GAP_CLOSURE"); `baseline` is unused.
//   GAP_CLOSURE: (value − baseline) / (target − baseline) × 100. Undefined
//     when target equals baseline ("target equals baseline"). Works for a
//     DECREASE KPI whose target is 0 (待機児童数 50 → 0, value 20: 60.0%).
//     Negative when the value moved away from the target ("-3.0%").
// Also undefined when an input is NaN, infinite or beyond ±1e14, or the rate
// beyond ±9.2e17 % (what int64 tenths hold).
RateResult ComputeRate(v1::ProgressMethod method, double value, double baseline, double target);

// The value on the straight line from (baseline_year, baseline) to
// (target_year, target) in fiscal `year`: baseline + (target − baseline) ×
// (year − baseline_year) / (target_year − baseline_year), clamped to
// `baseline` up to the baseline year and to `target` from the target year on.
// When target_year <= baseline_year the line is a step: `baseline` before
// the baseline year, `target` from then on.
double ExpectedValue(int baseline_year, double baseline, int target_year, double target, int year);

// What ComputePoint needs to know about a KPI in one region.
struct ProgressInputs {
  v1::ProgressMethod method = v1::PROGRESS_METHOD_ACHIEVEMENT;
  v1::Direction direction = v1::DIRECTION_INCREASE;
  int baseline_year = 0;
  double baseline = 0;
  int target_year = 0;
  double target = 0;
  // The pace gap, in points, below which a year is LAGGING (the alert rule's
  // default, −10).
  double lagging_gap = -10.0;
};

// The rate of ExpectedValue(...) in `year` by `in.method`, its display
// rounding computed exactly from the rational (B·n + (T−B)·k) / n, where n is
// the years from baseline to target and k the (clamped) years elapsed.
// Undefined exactly when ComputeRate would be for the same method and
// figures: 道北 自主防災組織率 H30 (43.4 in H27 → 81.0 in R2): 65.96 of 81.0,
// "81.4%".
RateResult ComputeExpectedRate(const ProgressInputs& in, int year);

// True when `value` has reached `target`: value >= target for INCREASE (and
// UNSPECIFIED), value <= target for DECREASE. Compared on the typed decimals,
// so 0.1 + 0.2 has reached a target of 0.3.
bool TargetReached(v1::Direction direction, double value, double target);

// One fiscal year of a KPI's progress in a region. Fills:
//   fiscal_year      {year, FormatFiscalYear(year)}: "H30 (2018)";
//   value            when given;
//   rate, rate_display               ComputeRate(method, value, B, T);
//   expected_value, expected_rate, expected_rate_display   always, from the
//                    straight line (the expected rate only when defined);
//   pace_gap         rate − expected_rate in points, full precision;
//   pace_gap_display the exact rational of rate − expected_rate rounded half
//                    away from zero to 0.1, with an explicit sign: "+27.0"
//                    when ahead of the line, "-20.6" when behind, "0.0" when
//                    it rounds to zero. It is the rounding of the true gap,
//                    not the difference of the two displayed rates, so it can
//                    differ from that by 0.1 (道北 自主防災組織率 H30 prints
//                    60.9% and 81.4%, and its gap −20.568 shows as "-20.6");
//   status           ACHIEVED when TargetReached(direction, value, target);
//                    else LAGGING when pace_gap < lagging_gap (compared
//                    exactly, so a gap of exactly −10.0 is ON_TRACK); else
//                    ON_TRACK. UNKNOWN, with undefined_reason, when `value` is
//                    unset ("no actual for H30 (2018)") or the rate is
//                    undefined (its reason);
//   pace_undefined_reason  when the rate is defined but the expected rate or
//                    the gap is not (beyond what tenths of a percent hold:
//                    a tiny target far below a huge baseline): they stay
//                    unset, this says why, and the status is ACHIEVED or
//                    UNKNOWN, never LAGGING on a pace that does not exist.
// So a defined rate always comes with a defined expected rate and gap, or a
// reason; every number set is finite.
v1::ProgressPoint ComputePoint(const ProgressInputs& in, int year, std::optional<double> value);

// A region's figures for one fiscal year, as an aggregate's input.
struct Figure {
  std::string region_id;
  // The value (実績); for RATIO KPIs usually numerator / denominator × 100.
  std::optional<double> value;
  // For RATIO KPIs: e.g. households in a 自主防災組織 / all households.
  std::optional<double> numerator;
  std::optional<double> denominator;
};

// An area's figure from its children (the subprefectures, in display order)
// and, optionally, the area's own reported figure. Fills rule, value,
// computed_value, reported_value, complete, missing_region_ids, components
// and warnings; kpi_id, area_id, fiscal_year, baseline, target and progress
// are the caller's (baseline and target: call this again with the children's
// baselines or targets).
//
//   SUM: computed = Σ children's values (10 = 6+2+2); value = computed.
//   RATIO: computed = Σ numerators / Σ denominators × 100, weighted by the
//     denominators (households), not the plain mean of the children's rates;
//     value = computed. A child needs both numerator and denominator.
//     Σ denominators of 0 gives no figure and a warning.
//   REPORTED: value = the area's own figure, authoritative; computed_value
//     is also filled when every child has numerator and denominator (the
//     RATIO formula); a SUM of children's rates would mean nothing.
//
// Missing figures: for SUM and RATIO a child without the figure the rule
// needs makes the aggregate incomplete: complete = false, value and
// computed_value unset (what is there is never summed as if it were all),
// missing_region_ids names those children in input order. For REPORTED,
// complete says whether the area's own figure is there; when it is not,
// missing_region_ids names the area (if `area_reported` carries its id).
//
// reported_value is the area's own value (for RATIO, failing that, its
// numerator / denominator × 100). When both a reported and a computed figure
// exist and differ by more than 1e-9 relative, both are carried, `value`
// stays the rule's authoritative one, and a warning names both:
// "reported 45.0 differs from computed 43.4 (Σ numerators / Σ denominators)".
//
// Components: one per child in input order, with its figures as given and
// its weight in `value`: 1 for SUM; its denominator's share of Σ
// denominators for RATIO (the weights sum to 1); 0 for REPORTED, and 0 for
// every child when `value` has no computed figure (incomplete).
v1::Aggregate AggregateFigures(v1::AggregationRule rule, const std::vector<Figure>& children,
                               const std::optional<Figure>& area_reported);

// A value as people write it: the typed decimal (up to 4 fractional digits,
// rounded half away from zero) without trailing zeros: 43 → "43", 47.2 →
// "47.2", 0.0125 → "0.0125". VALUE_KIND_PERCENT keeps at least one
// fractional digit, as the table prints rates and targets: 81 → "81.0",
// 43.4 → "43.4". No unit: the KPI's unit is the caller's.
std::string FormatValue(double value, v1::ValueKind kind);

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_PROGRESS_H_
