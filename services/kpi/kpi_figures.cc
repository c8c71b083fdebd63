#include "services/kpi/kpi_figures.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "services/kpi/kpi_rules.h"
#include "services/kpi/progress.h"
#include "services/kpi/value_writes.h"

namespace suishin::kpi {
namespace {

absl::Status LoadDefinition(KpiTransaction& tx, absl::string_view field, absl::string_view id,
                            KpiData& data) {
  ASSIGN_OR_RETURN(data.kpi, RequireKpi(tx, field, id));
  ASSIGN_OR_RETURN(std::vector<v1::Baseline> baselines, tx.Baselines(id));
  for (auto& baseline : baselines) data.baselines[baseline.region_id()] = std::move(baseline);
  ASSIGN_OR_RETURN(std::vector<v1::Target> targets, tx.Targets(id));
  for (auto& target : targets) data.targets[target.region_id()] = std::move(target);
  ASSIGN_OR_RETURN(data.generation, tx.LastSequenceOf(id));
  return absl::OkStatus();
}

ProgressInputs InputsOf(const v1::Kpi& kpi, const v1::Baseline& baseline,
                        const v1::Target& target) {
  ProgressInputs in;
  in.method = kpi.progress_method();
  in.direction = kpi.direction();
  in.baseline_year = baseline.fiscal_year().year();
  in.baseline = baseline.value();
  in.target_year = target.fiscal_year().year();
  in.target = target.value();
  return in;
}

// Σ numerators and Σ denominators of an aggregate's components, when every
// component has both (what a RATIO region hands the region above it).
void RatioSums(const v1::Aggregate& aggregate, Figure& figure) {
  double numerators = 0;
  double denominators = 0;
  for (const v1::AggregateComponent& component : aggregate.components()) {
    if (!component.has_numerator() || !component.has_denominator()) return;
    numerators += component.numerator();
    denominators += component.denominator();
  }
  figure.numerator = numerators;
  figure.denominator = denominators;
}

}  // namespace

absl::StatusOr<KpiData> LoadKpi(KpiTransaction& tx, absl::string_view field, absl::string_view id) {
  KpiData data;
  RETURN_IF_ERROR(LoadDefinition(tx, field, id, data));
  ASSIGN_OR_RETURN(std::vector<v1::Actual> actuals, tx.Actuals(id, ""));
  for (auto& actual : actuals) {
    const int year = actual.fiscal_year().year();
    data.actuals[actual.region_id()][year] = std::move(actual);
  }
  return data;
}

absl::StatusOr<KpiData> LoadKpiDefinition(KpiTransaction& tx, absl::string_view id) {
  KpiData data;
  RETURN_IF_ERROR(LoadDefinition(tx, "kpi_id", id, data));
  return data;
}

absl::Status AddYear(KpiTransaction& tx, KpiData& data, int year) {
  ASSIGN_OR_RETURN(std::vector<v1::Actual> actuals, tx.ActualsInYear(data.kpi.id(), year));
  for (auto& actual : actuals) data.actuals[actual.region_id()][year] = std::move(actual);
  return absl::OkStatus();
}

std::pair<int, int> YearsOf(const KpiData& data) {
  int first = std::numeric_limits<int>::max();
  int last = 0;
  for (const auto& [region, baseline] : data.baselines) {
    first = std::min(first, baseline.fiscal_year().year());
  }
  for (const auto& [region, target] : data.targets) {
    last = std::max(last, target.fiscal_year().year());
  }
  for (const auto& [region, years] : data.actuals) {
    if (years.empty()) continue;
    first = std::min(first, years.begin()->first);
    last = std::max(last, years.rbegin()->first);
  }
  if (last == 0 || first > last) return {0, -1};
  return {first, last};
}

KpiFigures::KpiFigures(const KpiData& data, bool precompute) : data_(data), tree_(data.kpi) {
  if (!precompute) return;
  const auto [first, last] = YearsOf(data);
  first_year_ = first;
  const std::vector<std::string>& order = tree_.TreeOrder();
  // Children before their parents: each level is computed from the one below
  // it, already here.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const std::string& region = *it;
    if (!tree_.ComputedFromChildren(region)) continue;
    Computed computed;
    computed.baseline = BaselineOf(region);
    computed.target = TargetOf(region);
    computed.last_actual_year = LastActualYear(region);
    for (int year = first; year <= last; ++year) {
      computed.years.push_back(ChildrenFigure(region, year));
      computed_bytes_ += 2 * computed.years.back().ByteSizeLong();
    }
    computed_bytes_ += 256;
    computed_.emplace(region, std::move(computed));
  }
}

const KpiFigures::Computed* KpiFigures::ComputedOf(const std::string& region) const {
  if (computed_.empty()) return nullptr;
  auto found = computed_.find(region);
  return found == computed_.end() ? nullptr : &found->second;
}

const v1::Aggregate* KpiFigures::ComputedFigure(const std::string& region, int year) const {
  const Computed* computed = ComputedOf(region);
  if (computed == nullptr) return nullptr;
  const int index = year - first_year_;
  if (index < 0 || index >= static_cast<int>(computed->years.size())) return nullptr;
  return &computed->years[index];
}

const v1::Actual* KpiFigures::OwnActual(const std::string& region, int year) const {
  auto actuals = data_.actuals.find(region);
  if (actuals == data_.actuals.end()) return nullptr;
  auto actual = actuals->second.find(year);
  return actual == actuals->second.end() ? nullptr : &actual->second;
}

std::optional<v1::Baseline> KpiFigures::BaselineOf(const std::string& region) const {
  if (const Computed* computed = ComputedOf(region)) return computed->baseline;
  auto own = data_.baselines.find(region);
  std::optional<v1::Baseline> reported;
  if (own != data_.baselines.end()) reported = own->second;
  if (!tree_.ComputedFromChildren(region)) return reported;
  std::vector<Figure> children;
  int year = 0;
  for (const std::string& child : tree_.ChildrenOf(region)) {
    const std::optional<v1::Baseline> baseline = BaselineOf(child);
    if (!baseline) return std::nullopt;
    if (year != 0 && baseline->fiscal_year().year() != year) return std::nullopt;
    year = baseline->fiscal_year().year();
    children.push_back(
        {child, baseline->value(), OptionalNumerator(*baseline), OptionalDenominator(*baseline)});
  }
  const v1::Aggregate sum = AggregateFigures(data_.kpi.aggregation(), children, std::nullopt);
  if (!sum.has_value()) return reported;  // RATIO without denominators: its own figure
  v1::Baseline baseline;
  baseline.set_region_id(region);
  *baseline.mutable_fiscal_year() = Year(year);
  baseline.set_value(sum.value());
  if (data_.kpi.aggregation() == v1::AGGREGATION_RULE_RATIO) {
    Figure sums{region, sum.value(), std::nullopt, std::nullopt};
    RatioSums(sum, sums);
    if (sums.numerator) baseline.set_numerator(*sums.numerator);
    if (sums.denominator) baseline.set_denominator(*sums.denominator);
  }
  return baseline;
}

std::optional<v1::Target> KpiFigures::TargetOf(const std::string& region) const {
  if (const Computed* computed = ComputedOf(region)) return computed->target;
  auto own = data_.targets.find(region);
  if (!tree_.ComputedFromChildren(region) ||
      data_.kpi.aggregation() == v1::AGGREGATION_RULE_RATIO) {  // a rate's target is set
    if (own == data_.targets.end()) return std::nullopt;
    return own->second;
  }
  double sum = 0;
  double original = 0;
  int year = 0;
  for (const std::string& child : tree_.ChildrenOf(region)) {
    const std::optional<v1::Target> target = TargetOf(child);
    if (!target) return std::nullopt;
    if (year != 0 && target->fiscal_year().year() != year) return std::nullopt;
    year = target->fiscal_year().year();
    sum += target->value();
    original += target->revisions().empty() ? target->value() : target->revisions(0).value();
  }
  v1::Target target;
  target.set_region_id(region);
  *target.mutable_fiscal_year() = Year(year);
  target.set_value(sum);
  if (original != sum) {  // 見直し前38カ所 = 28 + 4 + 6
    v1::TargetRevision* revision = target.add_revisions();
    *revision->mutable_fiscal_year() = Year(year);
    revision->set_value(original);
    revision->set_reason("Σ of the targets below before their revisions");
  }
  return target;
}

v1::Aggregate KpiFigures::ChildrenFigure(const std::string& region, int year) const {
  if (const v1::Aggregate* computed = ComputedFigure(region, year)) return *computed;
  const v1::AggregationRule rule = data_.kpi.aggregation();
  std::vector<Figure> children;
  // A computed child's missing regions, named in its place.
  absl::flat_hash_map<std::string, std::vector<std::string>> below;
  for (const std::string& child : tree_.ChildrenOf(region)) {
    Figure figure{child, std::nullopt, std::nullopt, std::nullopt};
    if (tree_.ComputedFromChildren(child)) {
      const v1::Aggregate sub = ChildrenFigure(child, year);
      if (sub.has_value()) {
        figure.value = sub.value();
        if (rule == v1::AGGREGATION_RULE_RATIO) RatioSums(sub, figure);
      } else if (!sub.missing_region_ids().empty()) {
        below[child].assign(sub.missing_region_ids().begin(), sub.missing_region_ids().end());
      }
    } else if (const v1::Actual* actual = OwnActual(child, year)) {
      figure.value = actual->value();
      figure.numerator = OptionalNumerator(*actual);
      figure.denominator = OptionalDenominator(*actual);
    }
    children.push_back(figure);
  }
  // The region's own figure; without a value when it reported none, so an
  // incomplete REPORTED aggregate names the region.
  std::optional<Figure> reported = Figure{region, std::nullopt, std::nullopt, std::nullopt};
  if (const v1::Actual* actual = OwnActual(region, year)) {
    reported =
        Figure{region, actual->value(), OptionalNumerator(*actual), OptionalDenominator(*actual)};
  }
  v1::Aggregate aggregate = AggregateFigures(rule, children, reported);
  if (!below.empty()) {
    std::vector<std::string> missing;
    for (const std::string& id : aggregate.missing_region_ids()) {
      auto deeper = below.find(id);
      if (deeper == below.end()) {
        missing.push_back(id);
      } else {
        missing.insert(missing.end(), deeper->second.begin(), deeper->second.end());
      }
    }
    aggregate.clear_missing_region_ids();
    for (std::string& id : missing) aggregate.add_missing_region_ids(std::move(id));
  }
  return aggregate;
}

v1::Aggregate KpiFigures::AggregateOf(const std::string& region, int year) const {
  const v1::Kpi& kpi = data_.kpi;
  v1::Aggregate aggregate = ChildrenFigure(region, year);
  aggregate.set_kpi_id(kpi.id());
  aggregate.set_area_id(region);
  *aggregate.mutable_fiscal_year() = Year(year);
  const std::optional<v1::Baseline> baseline = BaselineOf(region);
  const std::optional<v1::Target> target = TargetOf(region);
  if (baseline) aggregate.set_baseline(baseline->value());
  if (target) aggregate.set_target(target->value());
  const std::optional<double> value =
      aggregate.has_value() ? std::optional<double>(aggregate.value()) : std::nullopt;
  if (baseline && target) {
    *aggregate.mutable_progress() = ComputePoint(InputsOf(kpi, *baseline, *target), year, value);
  } else {
    v1::ProgressPoint* point = aggregate.mutable_progress();
    *point->mutable_fiscal_year() = Year(year);
    if (value) point->set_value(*value);
    point->set_status(v1::PROGRESS_STATUS_UNKNOWN);
    point->set_undefined_reason("the area has no baseline or target");
  }
  if (!aggregate.complete()) {
    aggregate.mutable_progress()->set_undefined_reason(absl::StrCat(
        "incomplete: no actual for ", absl::StrJoin(aggregate.missing_region_ids(), ", ")));
  }
  return aggregate;
}

std::optional<double> KpiFigures::ValueOf(const std::string& region, int year) const {
  if (tree_.ComputedFromChildren(region)) {
    const v1::Aggregate aggregate = ChildrenFigure(region, year);
    return aggregate.has_value() ? std::optional<double>(aggregate.value()) : std::nullopt;
  }
  const v1::Actual* actual = OwnActual(region, year);
  return actual == nullptr ? std::nullopt : std::optional<double>(actual->value());
}

int KpiFigures::LastActualYear(const std::string& region) const {
  if (const Computed* computed = ComputedOf(region)) return computed->last_actual_year;
  if (tree_.ComputedFromChildren(region)) {
    int last = 0;
    for (const std::string& child : tree_.ChildrenOf(region)) {
      last = std::max(last, LastActualYear(child));
    }
    return last;
  }
  auto actuals = data_.actuals.find(region);
  if (actuals == data_.actuals.end() || actuals->second.empty()) return 0;
  return actuals->second.rbegin()->first;
}

std::vector<v1::ProgressPoint> KpiFigures::PointsOf(const std::string& region, int first,
                                                    int last) const {
  const std::optional<v1::Baseline> baseline = BaselineOf(region);
  const std::optional<v1::Target> target = TargetOf(region);
  std::vector<v1::ProgressPoint> points;
  const bool computed = tree_.ComputedFromChildren(region);
  for (int year = first; year <= last; ++year) {
    std::optional<double> value;
    std::vector<std::string> missing;  // below a computed region
    if (computed) {
      // The figure computed ahead when there is one, not a copy of it.
      std::optional<v1::Aggregate> fresh;
      const v1::Aggregate* figure = ComputedFigure(region, year);
      if (figure == nullptr) figure = &fresh.emplace(ChildrenFigure(region, year));
      if (figure->has_value()) value = figure->value();
      missing.assign(figure->missing_region_ids().begin(), figure->missing_region_ids().end());
    } else if (const v1::Actual* actual = OwnActual(region, year)) {
      value = actual->value();
    }
    if (baseline && target) {
      points.push_back(ComputePoint(InputsOf(data_.kpi, *baseline, *target), year, value));
      if (!missing.empty()) {
        points.back().set_undefined_reason(
            absl::StrCat("incomplete: no actual for ", absl::StrJoin(missing, ", ")));
      }
    } else {
      v1::ProgressPoint point;
      *point.mutable_fiscal_year() = Year(year);
      if (value) point.set_value(*value);
      point.set_status(v1::PROGRESS_STATUS_UNKNOWN);
      point.set_undefined_reason(baseline ? "no target" : "no baseline");
      points.push_back(std::move(point));
    }
    for (std::string& id : missing) points.back().add_missing_region_ids(std::move(id));
  }
  return points;
}

}  // namespace suishin::kpi
