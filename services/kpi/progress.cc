#include "services/kpi/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/fiscal_year.h"

namespace suishin::kpi {
namespace {

using int128 = __int128;

// Inputs are typed with at most this many fractional digits.
constexpr double kScale = 10000.0;
// |x| beyond this is refused, so x × kScale fits in int64 and every product
// below (at most three scaled figures and a few small factors) fits in int128.
constexpr double kMaxMagnitude = kMaxFigure;
// Relative difference above which a reported and a computed figure differ.
constexpr double kRelativeTolerance = 1e-9;

// The integer a typed decimal was: 47.2 → 472000. Unset for NaN, infinities
// and magnitudes beyond kMaxMagnitude.
std::optional<int64_t> Scaled(double x) {
  if (!std::isfinite(x) || std::fabs(x) > kMaxMagnitude) return std::nullopt;
  return static_cast<int64_t>(std::llround(x * kScale));
}

std::string OutOfRange(const char* name, double x) {
  return absl::StrCat(name, " ", absl::StrFormat("%g", x), " is not a finite number within ±1e14");
}

// num / den rounded half away from zero (四捨五入) to an integer; unset when
// that does not fit in int64 (a rate of 9.2e17 %: nonsense input). den != 0.
std::optional<int64_t> RoundHalfAwayFromZero(int128 num, int128 den) {
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const bool negative = num < 0;
  const int128 magnitude = negative ? -num : num;
  // floor(|num| / den + 1/2) = floor((2|num| + den) / 2den).
  const int128 rounded = (2 * magnitude + den) / (2 * den);
  if (rounded > std::numeric_limits<int64_t>::max()) return std::nullopt;
  return static_cast<int64_t>(negative ? -rounded : rounded);
}

// "123.4" from 1234 tenths, "-3.0" from -30; `plus` adds '+' to positives.
std::string FormatTenths(int64_t tenths, bool plus) {
  const char* sign = tenths < 0 ? "-" : (plus && tenths > 0 ? "+" : "");
  const uint64_t magnitude =
      tenths < 0 ? static_cast<uint64_t>(-(tenths + 1)) + 1 : static_cast<uint64_t>(tenths);
  return absl::StrCat(sign, magnitude / 10, ".", magnitude % 10);
}

// A rate as an exact rational in percent: (x − origin) × 100 / span, where
// x, origin and span are scaled figures (or, for the expected value, figures
// over a common denominator folded into `span`).
struct ExactRate {
  int128 num;
  int128 den;  // Never 0.
};

// The scaled figures of a KPI in a region and how its rate is measured:
// rate(x) = (x − origin) / span × 100, origin 0 and span T for ACHIEVEMENT,
// origin B and span T − B for GAP_CLOSURE.
struct Frame {
  int64_t baseline;
  int64_t target;
  int128 origin;
  int128 span;  // Never 0.
};

// The frame of `method`, or why its rate is undefined.
std::optional<Frame> MakeFrame(v1::ProgressMethod method, double baseline, double target,
                               std::string* reason) {
  const std::optional<int64_t> b = Scaled(baseline);
  const std::optional<int64_t> t = Scaled(target);
  if (!b) {
    *reason = OutOfRange("baseline", baseline);
    return std::nullopt;
  }
  if (!t) {
    *reason = OutOfRange("target", target);
    return std::nullopt;
  }
  Frame frame{*b, *t, 0, *t};
  if (method == v1::PROGRESS_METHOD_GAP_CLOSURE) {
    frame.origin = *b;
    frame.span = static_cast<int128>(*t) - *b;
    if (frame.span == 0) {
      *reason = "target equals baseline";
      return std::nullopt;
    }
  } else if (frame.span == 0) {
    *reason = "target is 0: use GAP_CLOSURE";
    return std::nullopt;
  }
  return frame;
}

// The rate of (num / den), a scaled figure over a positive denominator.
ExactRate RateOf(const Frame& frame, int128 num, int128 den) {
  return ExactRate{(num - frame.origin * den) * 100, frame.span * den};
}

// The double rate of a double figure in `frame`'s method.
double PercentOf(v1::ProgressMethod method, double x, double baseline, double target) {
  if (method == v1::PROGRESS_METHOD_GAP_CLOSURE) return (x - baseline) / (target - baseline) * 100;
  return x / target * 100;
}

// The rate, or why there is none (beyond what tenths of a percent can hold).
RateResult MakeRate(double percent, const ExactRate& exact) {
  RateResult result;
  const std::optional<int64_t> tenths = RoundHalfAwayFromZero(exact.num * 10, exact.den);
  if (tenths) {
    result.rate = Rate{percent, *tenths};
  } else {
    result.undefined_reason = absl::StrFormat("rate %g%% is beyond ±9.2e17%%", percent);
  }
  return result;
}

// The straight line's position in `year`: k of n steps, with n > 0, or the
// clamped ends as 0 of 1 (baseline) and 1 of 1 (target).
struct LinePosition {
  int64_t k;
  int64_t n;
};

LinePosition PositionOn(int baseline_year, int target_year, int year) {
  if (year >= target_year) return {1, 1};
  if (year <= baseline_year) return {0, 1};
  return {static_cast<int64_t>(year) - baseline_year,
          static_cast<int64_t>(target_year) - baseline_year};
}

// The expected rate as an exact rational: the expected value is
// (B·n + (T−B)·k) / n.
ExactRate ExpectedExact(const Frame& frame, const LinePosition& at) {
  const int128 b = frame.baseline;
  const int128 t = frame.target;
  return RateOf(frame, b * at.n + (t - b) * at.k, at.n);
}

// Formats a reported and a computed figure (which differ by more than
// kRelativeTolerance) so that they read differently. Sums are shown as typed
// (FormatValue); ratios with the fewest decimals, from one, that tell them
// apart ("45.0" and "43.4"); failing both, with every digit.
std::pair<std::string, std::string> FormatApart(double a, double b, bool ratio) {
  if (!ratio) {
    std::string fa = FormatValue(a, v1::VALUE_KIND_AMOUNT);
    std::string fb = FormatValue(b, v1::VALUE_KIND_AMOUNT);
    if (fa != fb) return {std::move(fa), std::move(fb)};
  }
  for (int decimals = 1; ratio && decimals <= 6; ++decimals) {
    std::string fa = absl::StrFormat("%.*f", decimals, a);
    std::string fb = absl::StrFormat("%.*f", decimals, b);
    if (fa != fb) return {std::move(fa), std::move(fb)};
  }
  return {absl::StrFormat("%.17g", a), absl::StrFormat("%.17g", b)};
}

bool Differ(double a, double b) {
  return std::fabs(a - b) > kRelativeTolerance * std::max(std::fabs(a), std::fabs(b));
}

// Σ numerators and Σ denominators over the children that have both, and the
// ids of those that do not, in input order.
struct RatioSum {
  std::vector<std::string> missing;
  double numerator = 0;
  double denominator = 0;
};

RatioSum SumRatio(const std::vector<Figure>& children) {
  RatioSum sum;
  for (const Figure& child : children) {
    if (!child.numerator.has_value() || !child.denominator.has_value()) {
      sum.missing.push_back(child.region_id);
      continue;
    }
    sum.numerator += *child.numerator;
    sum.denominator += *child.denominator;
  }
  return sum;
}

constexpr char kRatioFormula[] = "Σ numerators / Σ denominators";
constexpr char kSumFormula[] = "Σ values";

}  // namespace

std::string Rate::Display() const { return absl::StrCat(FormatTenths(tenths, false), "%"); }

RateResult ComputeRate(v1::ProgressMethod method, double value, double baseline, double target) {
  RateResult result;
  const std::optional<Frame> frame = MakeFrame(method, baseline, target, &result.undefined_reason);
  if (!frame) return result;
  const std::optional<int64_t> v = Scaled(value);
  if (!v) {
    result.undefined_reason = OutOfRange("value", value);
    return result;
  }
  return MakeRate(PercentOf(method, value, baseline, target), RateOf(*frame, *v, 1));
}

double ExpectedValue(int baseline_year, double baseline, int target_year, double target, int year) {
  const LinePosition at = PositionOn(baseline_year, target_year, year);
  if (at.k == 0) return baseline;
  if (at.k == at.n) return target;
  return baseline + (target - baseline) * static_cast<double>(at.k) / static_cast<double>(at.n);
}

RateResult ComputeExpectedRate(const ProgressInputs& in, int year) {
  RateResult result;
  const std::optional<Frame> frame =
      MakeFrame(in.method, in.baseline, in.target, &result.undefined_reason);
  if (!frame) return result;
  const double expected =
      ExpectedValue(in.baseline_year, in.baseline, in.target_year, in.target, year);
  return MakeRate(PercentOf(in.method, expected, in.baseline, in.target),
                  ExpectedExact(*frame, PositionOn(in.baseline_year, in.target_year, year)));
}

bool TargetReached(v1::Direction direction, double value, double target) {
  const std::optional<int64_t> v = Scaled(value);
  const std::optional<int64_t> t = Scaled(target);
  if (!v || !t) {
    return direction == v1::DIRECTION_DECREASE ? value <= target : value >= target;
  }
  return direction == v1::DIRECTION_DECREASE ? *v <= *t : *v >= *t;
}

v1::ProgressPoint ComputePoint(const ProgressInputs& in, int year, std::optional<double> value) {
  v1::ProgressPoint point;
  point.mutable_fiscal_year()->set_year(year);
  point.mutable_fiscal_year()->set_label(FormatFiscalYear(year));

  point.set_expected_value(
      ExpectedValue(in.baseline_year, in.baseline, in.target_year, in.target, year));
  const RateResult expected = ComputeExpectedRate(in, year);
  if (expected.rate) {
    point.set_expected_rate(expected.rate->percent);
    point.set_expected_rate_display(expected.rate->Display());
  }

  if (!value.has_value()) {
    point.set_status(v1::PROGRESS_STATUS_UNKNOWN);
    point.set_undefined_reason(absl::StrCat("no actual for ", FormatFiscalYear(year)));
    return point;
  }
  point.set_value(*value);
  const RateResult rate = ComputeRate(in.method, *value, in.baseline, in.target);
  if (!rate.rate) {
    point.set_status(v1::PROGRESS_STATUS_UNKNOWN);
    point.set_undefined_reason(rate.undefined_reason);
    return point;
  }
  point.set_rate(rate.rate->percent);
  point.set_rate_display(rate.rate->Display());
  if (!expected.rate) {
    // The same frame, but the line's rate is beyond what tenths hold (a tiny
    // target far below a huge baseline): no pace to compare with, say why.
    point.set_pace_undefined_reason(absl::StrCat("expected ", expected.undefined_reason));
    point.set_status(TargetReached(in.direction, *value, in.target) ? v1::PROGRESS_STATUS_ACHIEVED
                                                                    : v1::PROGRESS_STATUS_UNKNOWN);
    return point;
  }

  // The rate and the expected rate are defined (same frame), and the value
  // scales.
  std::string unused;
  const Frame frame = *MakeFrame(in.method, in.baseline, in.target, &unused);
  const int64_t v = *Scaled(*value);
  const LinePosition at = PositionOn(in.baseline_year, in.target_year, year);
  // rate − expected = ((V − origin)·n − (E·n − origin·n)) × 100 / (span × n)
  //                 = (V·n − (B·n + (T−B)·k)) × 100 / (span × n), exactly.
  const ExactRate expected_exact = ExpectedExact(frame, at);
  const ExactRate exact_gap{
      (static_cast<int128>(v) - frame.origin) * at.n * 100 - expected_exact.num,
      expected_exact.den};
  const std::optional<int64_t> gap_tenths =
      RoundHalfAwayFromZero(exact_gap.num * 10, exact_gap.den);
  const double gap = rate.rate->percent - expected.rate->percent;
  if (gap_tenths && std::isfinite(gap)) {
    point.set_pace_gap(gap);
    point.set_pace_gap_display(FormatTenths(*gap_tenths, /*plus=*/true));
  } else {
    point.set_pace_undefined_reason(
        absl::StrFormat("pace gap %g points is beyond ±9.2e17 points", gap));
    // No gap to compare with the threshold: never LAGGING on it.
    point.set_status(TargetReached(in.direction, *value, in.target) ? v1::PROGRESS_STATUS_ACHIEVED
                                                                    : v1::PROGRESS_STATUS_UNKNOWN);
    return point;
  }

  if (TargetReached(in.direction, *value, in.target)) {
    point.set_status(v1::PROGRESS_STATUS_ACHIEVED);
    return point;
  }
  // gap < lagging_gap, exactly: num/den < L/kScale with den of either sign,
  // i.e. floor(num·kScale / den) < L for the integer L (no product of L and
  // den, which could overflow).
  const std::optional<int64_t> lagging = Scaled(in.lagging_gap);
  bool is_lagging;
  if (lagging) {
    int128 num = exact_gap.num;
    int128 den = exact_gap.den;
    if (den < 0) {
      num = -num;
      den = -den;
    }
    const int128 scaled = num * static_cast<int128>(kScale);
    int128 floor = scaled / den;
    if (scaled % den != 0 && scaled < 0) --floor;
    is_lagging = floor < static_cast<int128>(*lagging);
  } else {
    is_lagging = point.pace_gap() < in.lagging_gap;
  }
  point.set_status(is_lagging ? v1::PROGRESS_STATUS_LAGGING : v1::PROGRESS_STATUS_ON_TRACK);
  return point;
}

v1::Aggregate AggregateFigures(v1::AggregationRule rule, const std::vector<Figure>& children,
                               const std::optional<Figure>& area_reported) {
  v1::Aggregate aggregate;
  aggregate.set_rule(rule);

  std::optional<double> computed;
  const char* formula = kRatioFormula;
  std::vector<double> weights(children.size(), 0.0);
  std::vector<std::string> missing;

  if (rule == v1::AGGREGATION_RULE_SUM) {
    formula = kSumFormula;
    double sum = 0;
    for (const Figure& child : children) {
      if (child.value.has_value()) {
        sum += *child.value;
      } else {
        missing.push_back(child.region_id);
      }
    }
    if (missing.empty()) {
      computed = sum;
      weights.assign(children.size(), 1.0);
    }
  } else {
    // RATIO, and REPORTED's cross-check when the children carry households.
    const RatioSum sum = SumRatio(children);
    if (rule == v1::AGGREGATION_RULE_RATIO) missing = sum.missing;
    if (sum.missing.empty()) {
      if (sum.denominator == 0) {
        if (rule == v1::AGGREGATION_RULE_RATIO) {
          aggregate.add_warnings("Σ denominators is 0: no Σ numerators / Σ denominators figure");
        }
      } else if (!std::isfinite(sum.numerator / sum.denominator * 100)) {
        // A denominator so small the quotient is no number (1e-310).
        aggregate.add_warnings(absl::StrFormat(
            "Σ numerators / Σ denominators = %g / %g is not a finite number: no figure",
            sum.numerator, sum.denominator));
      } else {
        computed = sum.numerator / sum.denominator * 100;
        if (rule == v1::AGGREGATION_RULE_RATIO) {
          for (size_t i = 0; i < children.size(); ++i) {
            weights[i] = *children[i].denominator / sum.denominator;
          }
        }
      }
    }
  }

  std::optional<double> reported;
  if (area_reported.has_value()) {
    if (area_reported->value.has_value()) {
      reported = area_reported->value;
    } else if (rule != v1::AGGREGATION_RULE_SUM && area_reported->numerator.has_value() &&
               area_reported->denominator.has_value() && *area_reported->denominator != 0 &&
               std::isfinite(*area_reported->numerator / *area_reported->denominator * 100)) {
      reported = *area_reported->numerator / *area_reported->denominator * 100;
    }
  }

  if (rule == v1::AGGREGATION_RULE_REPORTED) {
    if (reported.has_value()) {
      aggregate.set_value(*reported);
    } else if (area_reported.has_value() && !area_reported->region_id.empty()) {
      missing.push_back(area_reported->region_id);
    }
    aggregate.set_complete(reported.has_value());
  } else {
    if (computed.has_value()) aggregate.set_value(*computed);
    aggregate.set_complete(missing.empty());
  }
  if (computed.has_value()) aggregate.set_computed_value(*computed);
  if (reported.has_value()) aggregate.set_reported_value(*reported);
  for (const std::string& id : missing) aggregate.add_missing_region_ids(id);

  if (computed.has_value() && reported.has_value() && Differ(*reported, *computed)) {
    const auto [r, c] = FormatApart(*reported, *computed, rule != v1::AGGREGATION_RULE_SUM);
    aggregate.add_warnings(
        absl::StrCat("reported ", r, " differs from computed ", c, " (", formula, ")"));
  }

  for (size_t i = 0; i < children.size(); ++i) {
    const Figure& child = children[i];
    v1::AggregateComponent* component = aggregate.add_components();
    component->set_region_id(child.region_id);
    if (child.value.has_value()) component->set_value(*child.value);
    if (child.numerator.has_value()) component->set_numerator(*child.numerator);
    if (child.denominator.has_value()) component->set_denominator(*child.denominator);
    component->set_weight(weights[i]);
  }
  return aggregate;
}

std::string FormatValue(double value, v1::ValueKind kind) {
  const std::optional<int64_t> scaled = Scaled(value);
  if (!scaled) return absl::StrFormat("%g", value);
  const int64_t units = static_cast<int64_t>(kScale);
  const uint64_t magnitude = *scaled < 0 ? static_cast<uint64_t>(-*scaled) : *scaled;
  std::string out = absl::StrCat(*scaled < 0 ? "-" : "", magnitude / units);
  std::string fraction = absl::StrFormat("%04d", static_cast<int>(magnitude % units));
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (fraction.empty() && kind == v1::VALUE_KIND_PERCENT) fraction = "0";
  if (!fraction.empty()) absl::StrAppend(&out, ".", fraction);
  return out;
}

}  // namespace suishin::kpi
