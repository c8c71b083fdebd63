// The progress arithmetic of kpi-service (services/kpi/progress.h):
// ComputeRate, ComputeExpectedRate, ComputePoint and FormatValue on fuzzed
// methods, directions, figures and years (fuzz_numbers.h).
//
// Oracle (the promises of progress.h):
//   - every double ComputePoint sets is finite when its inputs are within the
//     documented domain (finite, within ±1e14); beyond it, nothing crashes and
//     the rate is undefined with a reason;
//   - a display string is non-empty exactly when its number is set (rate,
//     expected_rate, pace_gap);
//   - a defined rate comes with a defined expected rate and pace gap, or a
//     pace_undefined_reason; an undefined rate comes with an undefined_reason,
//     status UNKNOWN and no pace_undefined_reason;
//   - LAGGING only with a pace gap; ACHIEVED whenever the rate is defined and
//     TargetReached;
//   - ComputePoint's rate and expected rate are ComputeRate's and
//     ComputeExpectedRate's;
//   - for decimals a double carries exactly to four fractional digits (within
//     ±9e11), each display is the number rounded to 0.1, within 0.05 and the
//     double's own error (bounded from the figures: a GAP_CLOSURE rate with
//     target close to baseline loses digits to cancellation, the display does
//     not), and FormatValue reads back within 0.00005.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fiscal_year.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_numbers.h"
#include "services/kpi/progress.h"

namespace {

namespace v1 = suishin::kpi::v1;
using suishin::fuzz::ConsumeFigure;
using suishin::fuzz::ConsumeYear;
using suishin::fuzz::Drawn;
using suishin::fuzz::Num;

// "111.6%", "+40.6", "-3.0" as a number.
double DisplayNumber(absl::string_view display) {
  absl::ConsumeSuffix(&display, "%");
  absl::ConsumePrefix(&display, "+");
  double x = 0;
  FUZZ_CHECK(absl::SimpleAtod(display, &x), "display \"", display, "\"");
  return x;
}

// How far a double computed from the figures can be from the exact rational
// of the typed decimals, in percent or points: the displays are the exact
// rationals rounded, the numbers are doubles, and a rate whose span is small
// next to the figures (GAP_CLOSURE with target close to baseline) loses digits
// to cancellation. A first-order bound with a safety factor.
constexpr double kEpsilon = std::numeric_limits<double>::epsilon();

// The error bound of (num / den) × 100 given the absolute errors of num and den.
double RatioError(double num, double num_error, double den, double den_error) {
  const double d = std::fabs(den);
  return 100 * (num_error / d + std::fabs(num) * den_error / (d * d)) +
         4 * kEpsilon * std::fabs(num / den * 100);
}

struct Errors {
  double rate = 0;
  double expected_rate = 0;
};

Errors ErrorBounds(const suishin::kpi::ProgressInputs& in, std::optional<double> value) {
  const bool gap_closure = in.method == v1::PROGRESS_METHOD_GAP_CLOSURE;
  const double origin = gap_closure ? in.baseline : 0;
  const double den = in.target - origin;
  // Each typed figure is within half an ulp of its decimal; each operation
  // adds half an ulp of its result.
  const double den_error = kEpsilon * (std::fabs(in.target) + std::fabs(origin) + std::fabs(den));
  Errors errors;
  if (value) {
    const double num = *value - origin;
    errors.rate = RatioError(
        num, kEpsilon * (std::fabs(*value) + std::fabs(origin) + std::fabs(num)), den, den_error);
  }
  // The expected value b + (t − b) × k / n: four operations on figures no
  // larger than |b| + |t|.
  const double scale = std::fabs(in.baseline) + std::fabs(in.target);
  errors.expected_rate = RatioError(scale, 8 * kEpsilon * scale, den, den_error);
  return errors;
}

// `display` is `x` rounded to 0.1, up to `error`, x's own distance from the
// exact rational (ErrorBounds), doubled for safety.
void CheckRounding(absl::string_view what, absl::string_view display, double x, double error,
                   const std::string& inputs) {
  const double shown = DisplayNumber(display);
  FUZZ_CHECK(std::fabs(shown - x) <= 0.05 + 2 * error + 1e-9, what, " ", Num(x),
             " is displayed as \"", display, "\" (error bound ", Num(error), "): ", inputs);
}

std::string Describe(const suishin::kpi::ProgressInputs& in, int year,
                     std::optional<double> value) {
  return absl::StrCat("method ", in.method, " direction ", in.direction, " baseline ",
                      in.baseline_year, ":", Num(in.baseline), " target ", in.target_year, ":",
                      Num(in.target), " lagging ", Num(in.lagging_gap), " year ", year, " value ",
                      value ? Num(*value) : "none");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  Drawn drawn;
  suishin::kpi::ProgressInputs in;
  in.method = static_cast<v1::ProgressMethod>(provider.ConsumeIntegralInRange<int>(0, 2));
  in.direction = static_cast<v1::Direction>(provider.ConsumeIntegralInRange<int>(0, 2));
  in.baseline_year = ConsumeYear(provider);
  in.baseline = ConsumeFigure(provider, drawn);
  in.target_year = ConsumeYear(provider);
  in.target = ConsumeFigure(provider, drawn);
  if (provider.ConsumeBool()) in.lagging_gap = ConsumeFigure(provider, drawn);
  const int year = ConsumeYear(provider);
  std::optional<double> value;
  if (provider.ConsumeBool()) value = ConsumeFigure(provider, drawn);
  const std::string inputs = Describe(in, year, value);

  if (suishin::fuzz::Verbose()) std::fprintf(stderr, "%s\n", inputs.c_str());
  const v1::ProgressPoint point = suishin::kpi::ComputePoint(in, year, value);
  const std::string got = point.ShortDebugString();

  FUZZ_CHECK(point.fiscal_year().year() == year, inputs);
  FUZZ_CHECK(point.fiscal_year().label() == suishin::FormatFiscalYear(year), inputs);
  if (drawn.in_range) {
    FUZZ_CHECK(!point.has_value() || std::isfinite(point.value()), inputs, " -> ", got);
    FUZZ_CHECK(!point.has_rate() || std::isfinite(point.rate()), inputs, " -> ", got);
    FUZZ_CHECK(!point.has_expected_value() || std::isfinite(point.expected_value()), inputs, " -> ",
               got);
    FUZZ_CHECK(!point.has_expected_rate() || std::isfinite(point.expected_rate()), inputs, " -> ",
               got);
    FUZZ_CHECK(!point.has_pace_gap() || std::isfinite(point.pace_gap()), inputs, " -> ", got);
  }
  FUZZ_CHECK(point.has_rate() == !point.rate_display().empty(), inputs, " -> ", got);
  FUZZ_CHECK(point.has_expected_rate() == !point.expected_rate_display().empty(), inputs, " -> ",
             got);
  FUZZ_CHECK(point.has_pace_gap() == !point.pace_gap_display().empty(), inputs, " -> ", got);
  if (point.has_rate()) {
    FUZZ_CHECK(point.undefined_reason().empty(), inputs, " -> ", got);
    FUZZ_CHECK((point.has_expected_rate() && point.has_pace_gap()) ||
                   !point.pace_undefined_reason().empty(),
               inputs, " -> ", got);
    if (suishin::kpi::TargetReached(in.direction, *value, in.target)) {
      FUZZ_CHECK(point.status() == v1::PROGRESS_STATUS_ACHIEVED, inputs, " -> ", got);
    }
  } else {
    FUZZ_CHECK(!point.undefined_reason().empty(), inputs, " -> ", got);
    FUZZ_CHECK(point.status() == v1::PROGRESS_STATUS_UNKNOWN, inputs, " -> ", got);
    FUZZ_CHECK(point.pace_undefined_reason().empty(), inputs, " -> ", got);
    FUZZ_CHECK(!point.has_pace_gap(), inputs, " -> ", got);
  }
  if (point.status() == v1::PROGRESS_STATUS_LAGGING) {
    FUZZ_CHECK(point.has_pace_gap(), inputs, " -> ", got);
  }
  FUZZ_CHECK(value.has_value() == point.has_value(), inputs, " -> ", got);

  // The same figures one function at a time.
  if (value.has_value()) {
    const suishin::kpi::RateResult rate =
        suishin::kpi::ComputeRate(in.method, *value, in.baseline, in.target);
    FUZZ_CHECK(rate.rate.has_value() == rate.undefined_reason.empty(), inputs);
    FUZZ_CHECK(rate.rate.has_value() == point.has_rate(), inputs, " -> ", got);
    if (rate.rate) {
      FUZZ_CHECK(rate.rate->Display() == point.rate_display(), inputs, " -> ", got);
      if (drawn.typed) {
        CheckRounding("rate", point.rate_display(), point.rate(), ErrorBounds(in, value).rate,
                      inputs);
      }
    }
  }
  const suishin::kpi::RateResult expected = suishin::kpi::ComputeExpectedRate(in, year);
  FUZZ_CHECK(expected.rate.has_value() == expected.undefined_reason.empty(), inputs);
  FUZZ_CHECK(expected.rate.has_value() == point.has_expected_rate(), inputs, " -> ", got);
  if (expected.rate) {
    FUZZ_CHECK(expected.rate->Display() == point.expected_rate_display(), inputs, " -> ", got);
    if (drawn.typed) {
      CheckRounding("expected rate", point.expected_rate_display(), point.expected_rate(),
                    ErrorBounds(in, value).expected_rate, inputs);
    }
  }
  if (point.has_pace_gap() && drawn.typed) {
    // The gap is the difference of two doubles: its error is theirs.
    const Errors errors = ErrorBounds(in, value);
    CheckRounding("pace gap", point.pace_gap_display(), point.pace_gap(),
                  errors.rate + errors.expected_rate +
                      kEpsilon * (std::fabs(point.rate()) + std::fabs(point.expected_rate())),
                  inputs);
    const bool zero = point.pace_gap_display() == "0.0";
    FUZZ_CHECK(zero || point.pace_gap_display()[0] == '+' || point.pace_gap_display()[0] == '-',
               inputs, " -> ", got);
  }

  if (value.has_value() && drawn.typed) {
    for (const auto kind : {v1::VALUE_KIND_COUNT, v1::VALUE_KIND_PERCENT, v1::VALUE_KIND_AMOUNT}) {
      const std::string written = suishin::kpi::FormatValue(*value, kind);
      double back = 0;
      FUZZ_CHECK(absl::SimpleAtod(written, &back) &&
                     std::fabs(back - *value) <= 0.00005 + 1e-15 * std::fabs(*value),
                 Num(*value), " is written \"", written, "\"");
    }
  }
  return 0;
}
