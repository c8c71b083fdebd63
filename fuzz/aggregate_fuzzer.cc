// An area's figure from its subprefectures (services/kpi/progress.h
// AggregateFigures) on fuzzed rules, children and reported figures
// (fuzz_numbers.h).
//
// Oracle (the promises of progress.h):
//   - every double set is finite when the inputs are within the documented
//     domain of progress.h (finite, within ±1e14);
//   - one component per child, in order, with its figures as given;
//   - SUM and RATIO: complete exactly when no child lacks the figure the rule
//     needs, missing_region_ids names those children in order, value is
//     computed_value and is unset when incomplete; a SUM is the sum of the
//     values; REPORTED: value is reported_value, complete exactly when it is
//     set;
//   - without a computed figure every weight is 0; SUM weights are 1; RATIO
//     weights of non-negative denominators sum to 1;
//   - a reported and a computed figure that differ come with a warning.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_numbers.h"
#include "services/kpi/progress.h"

namespace {

namespace v1 = suishin::kpi::v1;
using suishin::fuzz::ConsumeFigure;
using suishin::fuzz::Drawn;
using suishin::kpi::Figure;

constexpr int kMaxChildren = 8;

std::optional<double> MaybeFigure(FuzzedDataProvider& in, Drawn& drawn) {
  if (!in.ConsumeBool()) return std::nullopt;
  return ConsumeFigure(in, drawn);
}

Figure ConsumeChild(FuzzedDataProvider& in, Drawn& drawn, int index) {
  Figure figure;
  figure.region_id = absl::StrCat("r", index);
  figure.value = MaybeFigure(in, drawn);
  figure.numerator = MaybeFigure(in, drawn);
  figure.denominator = MaybeFigure(in, drawn);
  return figure;
}

bool SameOptional(const std::optional<double>& a, bool has, double b) {
  if (a.has_value() != has) return false;
  return !a || (std::isnan(*a) ? std::isnan(b) : *a == b);
}

std::string Describe(v1::AggregationRule rule, const std::vector<Figure>& children,
                     const std::optional<Figure>& area) {
  const auto figure = [](const Figure& f) {
    const auto opt = [](const std::optional<double>& x) {
      return x ? suishin::fuzz::Num(*x) : std::string("-");
    };
    return absl::StrCat(f.region_id, "{", opt(f.value), " ", opt(f.numerator), "/",
                        opt(f.denominator), "}");
  };
  std::string out = absl::StrCat("rule ", rule, " children");
  for (const Figure& child : children) absl::StrAppend(&out, " ", figure(child));
  if (area) absl::StrAppend(&out, " area ", figure(*area));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  Drawn drawn;
  const auto rule = static_cast<v1::AggregationRule>(provider.ConsumeIntegralInRange<int>(0, 3));
  const int count = provider.ConsumeIntegralInRange<int>(0, kMaxChildren);
  std::vector<Figure> children;
  for (int i = 0; i < count; ++i) children.push_back(ConsumeChild(provider, drawn, i));
  std::optional<Figure> area;
  if (provider.ConsumeBool()) {
    area = ConsumeChild(provider, drawn, 99);
    if (provider.ConsumeBool()) area->region_id.clear();
  }
  const std::string inputs = Describe(rule, children, area);

  if (suishin::fuzz::Verbose()) std::fprintf(stderr, "%s\n", inputs.c_str());
  const v1::Aggregate aggregate = suishin::kpi::AggregateFigures(rule, children, area);
  const std::string got = aggregate.ShortDebugString();

  FUZZ_CHECK(aggregate.rule() == rule, inputs, " -> ", got);
  if (drawn.in_range) {
    FUZZ_CHECK(!aggregate.has_value() || std::isfinite(aggregate.value()), inputs, " -> ", got);
    FUZZ_CHECK(!aggregate.has_computed_value() || std::isfinite(aggregate.computed_value()), inputs,
               " -> ", got);
    FUZZ_CHECK(!aggregate.has_reported_value() || std::isfinite(aggregate.reported_value()), inputs,
               " -> ", got);
    for (const v1::AggregateComponent& component : aggregate.components()) {
      FUZZ_CHECK(std::isfinite(component.weight()), inputs, " -> ", got);
    }
  }

  FUZZ_CHECK(aggregate.components_size() == count, inputs, " -> ", got);
  for (int i = 0; i < count; ++i) {
    const v1::AggregateComponent& component = aggregate.components(i);
    const Figure& child = children[static_cast<size_t>(i)];
    FUZZ_CHECK(component.region_id() == child.region_id, inputs, " -> ", got);
    FUZZ_CHECK(
        SameOptional(child.value, component.has_value(), component.value()) &&
            SameOptional(child.numerator, component.has_numerator(), component.numerator()) &&
            SameOptional(child.denominator, component.has_denominator(), component.denominator()),
        inputs, " -> ", got);
    if (!aggregate.has_computed_value()) {
      FUZZ_CHECK(component.weight() == 0, inputs, " -> ", got);
    }
  }

  std::vector<std::string> missing;
  for (const Figure& child : children) {
    const bool has = rule == v1::AGGREGATION_RULE_SUM
                         ? child.value.has_value()
                         : child.numerator.has_value() && child.denominator.has_value();
    if (!has) missing.push_back(child.region_id);
  }
  if (rule == v1::AGGREGATION_RULE_SUM || rule == v1::AGGREGATION_RULE_RATIO) {
    FUZZ_CHECK(aggregate.complete() == missing.empty(), inputs, " -> ", got);
    FUZZ_CHECK(std::vector<std::string>(aggregate.missing_region_ids().begin(),
                                        aggregate.missing_region_ids().end()) == missing,
               inputs, " -> ", got);
    FUZZ_CHECK(aggregate.has_value() == aggregate.has_computed_value(), inputs, " -> ", got);
    if (aggregate.has_value() && !std::isnan(aggregate.value())) {
      FUZZ_CHECK(aggregate.value() == aggregate.computed_value(), inputs, " -> ", got);
    }
    if (!missing.empty()) FUZZ_CHECK(!aggregate.has_value(), inputs, " -> ", got);
  }
  if (rule == v1::AGGREGATION_RULE_SUM) {
    FUZZ_CHECK(aggregate.has_value() == missing.empty(), inputs, " -> ", got);
    if (aggregate.has_value()) {
      double sum = 0;
      for (const Figure& child : children) sum += *child.value;
      FUZZ_CHECK(SameOptional(sum, true, aggregate.value()), inputs, " -> ", got);
      for (const v1::AggregateComponent& component : aggregate.components()) {
        FUZZ_CHECK(component.weight() == 1, inputs, " -> ", got);
      }
    }
  }
  if (rule == v1::AGGREGATION_RULE_RATIO && aggregate.has_value() && drawn.typed) {
    bool non_negative = true;
    double total = 0;
    for (const Figure& child : children) non_negative = non_negative && *child.denominator >= 0;
    for (const v1::AggregateComponent& component : aggregate.components()) {
      total += component.weight();
    }
    if (non_negative && count > 0) {
      FUZZ_CHECK(std::fabs(total - 1) <= 1e-9, "weights sum to ", total, ": ", inputs, " -> ", got);
    }
  }
  if (rule == v1::AGGREGATION_RULE_REPORTED) {
    FUZZ_CHECK(aggregate.complete() == aggregate.has_reported_value(), inputs, " -> ", got);
    FUZZ_CHECK(aggregate.has_value() == aggregate.has_reported_value(), inputs, " -> ", got);
  }
  if (aggregate.has_computed_value() && aggregate.has_reported_value()) {
    const double a = aggregate.reported_value();
    const double b = aggregate.computed_value();
    if (std::isfinite(a) && std::isfinite(b) &&
        std::fabs(a - b) > 1e-9 * std::max(std::fabs(a), std::fabs(b))) {
      bool warned = false;
      for (const std::string& warning : aggregate.warnings()) {
        warned = warned || absl::StrContains(warning, "differs from computed");
      }
      FUZZ_CHECK(warned, inputs, " -> ", got);
    }
  }
  return 0;
}
