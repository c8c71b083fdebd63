// Figures and years for the arithmetic targets, drawn from a
// FuzzedDataProvider so that most are the kind a KPI table holds (decimals
// with at most four fractional digits, small whole numbers, years near today)
// and some are anything a double or an int can be.
#ifndef SUISHIN_FUZZ_FUZZ_NUMBERS_H_
#define SUISHIN_FUZZ_FUZZ_NUMBERS_H_

#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace suishin::fuzz {

// The documented domain of services/kpi/progress.h: finite, within ±1e14.
inline constexpr double kMaxFigure = 1e14;
// Up to here a double carries every decimal typed with four fractional digits
// (x × 10000 < 2^53), so the exact roundings of progress.h are those of the
// typed decimals.
inline constexpr int64_t kMaxExactTenThousandths = int64_t{1} << 53;

// What the figures drawn so far were: all finite; all within the documented
// domain; all decimals a double carries exactly to four fractional digits.
struct Drawn {
  bool finite = true;
  bool in_range = true;
  bool typed = true;
};

inline double ConsumeFigure(FuzzedDataProvider& in, Drawn& drawn) {
  double x = 0;
  bool typed = false;
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0:  // a small whole figure: 6, 33, 41
      x = in.ConsumeIntegralInRange<int>(-5, 200);
      typed = true;
      break;
    case 1:  // a typed decimal: 43.4, 0.0125, up to ±9e11
      x = static_cast<double>(in.ConsumeIntegralInRange<int64_t>(-kMaxExactTenThousandths,
                                                                 kMaxExactTenThousandths)) /
          10000.0;
      typed = true;
      break;
    case 2:  // a decimal up to ±1e14, beyond what a double carries to 0.0001
      x = static_cast<double>(in.ConsumeIntegralInRange<int64_t>(-1'000'000'000'000'000'000,
                                                                 1'000'000'000'000'000'000)) /
          10000.0;
      break;
    case 3:  // any finite double
      x = in.ConsumeFloatingPoint<double>();
      break;
    default: {  // any bit pattern: NaN, infinities, subnormals
      const uint64_t bits = in.ConsumeIntegral<uint64_t>();
      std::memcpy(&x, &bits, sizeof(x));
      break;
    }
  }
  drawn.typed = drawn.typed && typed;
  drawn.finite = drawn.finite && std::isfinite(x);
  drawn.in_range = drawn.in_range && std::isfinite(x) && std::fabs(x) <= kMaxFigure;
  return x;
}

inline int ConsumeYear(FuzzedDataProvider& in) {
  return in.ConsumeBool() ? in.ConsumeIntegralInRange<int>(1985, 2105) : in.ConsumeIntegral<int>();
}

}  // namespace suishin::fuzz

#endif  // SUISHIN_FUZZ_FUZZ_NUMBERS_H_
