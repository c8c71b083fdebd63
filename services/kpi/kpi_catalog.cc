#include "services/kpi/kpi_catalog.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fiscal_year.h"
#include "common/page_token.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/kpi/progress.h"

namespace suishin::kpi {
namespace {

constexpr size_t kMaxNameChars = 200;
constexpr size_t kMaxUnitChars = 20;
constexpr size_t kMaxAuthorChars = 100;
constexpr size_t kMaxReasonChars = 1000;
// How far a given value may be from numerator / denominator × 100.
constexpr double kRatioTolerance = 0.05;

using Sequences = std::vector<std::pair<std::string, int64_t>>;

std::string Indexed(absl::string_view field, int index) {
  return absl::StrCat(field, "[", index, "]");
}

std::string Field(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

template <typename Enum>
absl::Status RequireEnum(absl::string_view field, Enum value, bool (*is_valid)(int),
                         absl::string_view allowed) {
  if (!is_valid(value) || value == 0) {
    return FieldError(field, absl::StrCat(value), absl::StrCat("must be ", allowed));
  }
  return absl::OkStatus();
}

std::string Number(double value) { return FormatValue(value, v1::VALUE_KIND_AMOUNT); }

absl::Status RequireYear(absl::string_view field, const common::v1::FiscalYear& year) {
  if (year.year() == 0) return FieldError(field, "0", "is required");
  return ValidateFiscalYear(field, year.year());
}

common::v1::FiscalYear Year(int year) {
  common::v1::FiscalYear out;
  out.set_year(year);
  out.set_label(FormatFiscalYear(year));
  return out;
}

// ---- Snapshots: a KPI's data read in one unit of work ----

struct KpiData {
  v1::Kpi kpi;
  std::map<std::string, v1::Baseline> baselines;
  std::map<std::string, v1::Target> targets;
  std::map<std::string, std::map<int, v1::Actual>> actuals;
};

absl::StatusOr<v1::Kpi> RequireKpi(KpiTransaction& tx, absl::string_view field,
                                   absl::string_view id) {
  ASSIGN_OR_RETURN(std::optional<v1::Kpi> kpi, tx.FindKpi(id));
  if (!kpi) return absl::NotFoundError(absl::StrCat(field, ": KPI \"", id, "\" not found"));
  return *std::move(kpi);
}

absl::StatusOr<KpiData> LoadKpi(KpiTransaction& tx, absl::string_view field, absl::string_view id) {
  KpiData data;
  ASSIGN_OR_RETURN(data.kpi, RequireKpi(tx, field, id));
  ASSIGN_OR_RETURN(std::vector<v1::Baseline> baselines, tx.Baselines(id));
  for (auto& baseline : baselines) data.baselines[baseline.region_id()] = std::move(baseline);
  ASSIGN_OR_RETURN(std::vector<v1::Target> targets, tx.Targets(id));
  for (auto& target : targets) data.targets[target.region_id()] = std::move(target);
  ASSIGN_OR_RETURN(std::vector<v1::Actual> actuals, tx.Actuals(id, ""));
  for (auto& actual : actuals) {
    const int year = actual.fiscal_year().year();
    data.actuals[actual.region_id()][year] = std::move(actual);
  }
  return data;
}

std::vector<std::string> Children(const v1::Kpi& kpi) {
  std::vector<std::string> children;
  for (const std::string& region : kpi.region_ids()) {
    if (region != kpi.area_id()) children.push_back(region);
  }
  return children;
}

// True when the area's figures come from its children.
bool Computed(const v1::Kpi& kpi, absl::string_view region) {
  return region == kpi.area_id() && kpi.aggregation() != v1::AGGREGATION_RULE_REPORTED;
}

absl::Status CheckRegion(const v1::Kpi& kpi, absl::string_view field, absl::string_view region) {
  RETURN_IF_ERROR(ValidateId(field, region));
  if (std::find(kpi.region_ids().begin(), kpi.region_ids().end(), region) ==
      kpi.region_ids().end()) {
    return FieldError(field, region,
                      absl::StrCat("is not a region KPI \"", kpi.id(), "\" tracks (",
                                   absl::StrJoin(kpi.region_ids(), ", "), ")"));
  }
  return absl::OkStatus();
}

// A figure of a region: valid for the KPI's kind of value.
absl::Status CheckFigure(const v1::Kpi& kpi, absl::string_view prefix, double value,
                         std::optional<double> numerator, std::optional<double> denominator) {
  const std::string field = Field(prefix, "value");
  RETURN_IF_ERROR(ValidateFinite(field, value));
  if (value < 0) return FieldError(field, Number(value), "must not be negative");
  if (kpi.value_kind() == v1::VALUE_KIND_COUNT && value != std::floor(value)) {
    return FieldError(field, Number(value),
                      absl::StrCat("must be a whole number (", kpi.unit(), " is a count)"));
  }
  if (kpi.value_kind() == v1::VALUE_KIND_PERCENT && value > 100) {
    return FieldError(field, Number(value), "is a percentage and must not exceed 100");
  }
  if (numerator.has_value() != denominator.has_value()) {
    const char* given = numerator ? "numerator" : "denominator";
    return FieldError(
        Field(prefix, numerator ? "denominator" : "numerator"), "",
        absl::StrCat("is required with the ", given, " ",
                     Number(numerator ? *numerator : *denominator), ": give both or neither"));
  }
  if (!numerator) return absl::OkStatus();
  RETURN_IF_ERROR(ValidateFinite(Field(prefix, "numerator"), *numerator));
  RETURN_IF_ERROR(ValidateFinite(Field(prefix, "denominator"), *denominator));
  if (*numerator < 0) {
    return FieldError(Field(prefix, "numerator"), Number(*numerator), "must not be negative");
  }
  if (*denominator <= 0) {
    return FieldError(Field(prefix, "denominator"), Number(*denominator), "must be positive");
  }
  if (*numerator > *denominator) {
    return FieldError(Field(prefix, "numerator"), Number(*numerator),
                      absl::StrCat("must not exceed the denominator ", Number(*denominator)));
  }
  if (kpi.value_kind() == v1::VALUE_KIND_PERCENT) {
    const double ratio = *numerator / *denominator * 100;
    if (std::abs(ratio - value) > kRatioTolerance) {
      return FieldError(field, Number(value),
                        absl::StrCat("does not match numerator / denominator × 100 = ",
                                     Number(std::round(ratio * 100) / 100)));
    }
  }
  return absl::OkStatus();
}

template <typename T>
std::optional<double> OptionalNumerator(const T& figure) {
  return figure.has_numerator() ? std::optional<double>(figure.numerator()) : std::nullopt;
}
template <typename T>
std::optional<double> OptionalDenominator(const T& figure) {
  return figure.has_denominator() ? std::optional<double>(figure.denominator()) : std::nullopt;
}

// ---- Figures of a region, stored or computed from the children ----

std::optional<v1::Baseline> BaselineOf(const KpiData& data, const std::string& region) {
  auto own = data.baselines.find(region);
  if (!Computed(data.kpi, region)) {
    if (own == data.baselines.end()) return std::nullopt;
    return own->second;
  }
  std::vector<Figure> children;
  int year = 0;
  for (const std::string& child : Children(data.kpi)) {
    auto it = data.baselines.find(child);
    if (it == data.baselines.end()) return std::nullopt;
    if (year != 0 && it->second.fiscal_year().year() != year) return std::nullopt;
    year = it->second.fiscal_year().year();
    children.push_back({child, it->second.value(), OptionalNumerator(it->second),
                        OptionalDenominator(it->second)});
  }
  const v1::Aggregate sum = AggregateFigures(data.kpi.aggregation(), children, std::nullopt);
  if (!sum.has_value()) {  // RATIO without denominators: the area's own figure
    if (own == data.baselines.end()) return std::nullopt;
    return own->second;
  }
  v1::Baseline baseline;
  baseline.set_region_id(region);
  *baseline.mutable_fiscal_year() = Year(year);
  baseline.set_value(sum.value());
  return baseline;
}

std::optional<v1::Target> TargetOf(const KpiData& data, const std::string& region) {
  auto own = data.targets.find(region);
  if (!Computed(data.kpi, region) ||
      data.kpi.aggregation() == v1::AGGREGATION_RULE_RATIO) {  // a rate's target is set, not summed
    if (own == data.targets.end()) return std::nullopt;
    return own->second;
  }
  double sum = 0;
  double original = 0;
  int year = 0;
  for (const std::string& child : Children(data.kpi)) {
    auto it = data.targets.find(child);
    if (it == data.targets.end()) return std::nullopt;
    if (year != 0 && it->second.fiscal_year().year() != year) return std::nullopt;
    year = it->second.fiscal_year().year();
    sum += it->second.value();
    original +=
        it->second.revisions().empty() ? it->second.value() : it->second.revisions(0).value();
  }
  v1::Target target;
  target.set_region_id(region);
  *target.mutable_fiscal_year() = Year(year);
  target.set_value(sum);
  if (original != sum) {  // 見直し前38カ所 = 28 + 4 + 6
    v1::TargetRevision* revision = target.add_revisions();
    *revision->mutable_fiscal_year() = Year(year);
    revision->set_value(original);
    revision->set_reason("Σ of the subprefectures' targets before their revisions");
  }
  return target;
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

// The aggregate of the KPI's area in `year`, with its progress.
v1::Aggregate AggregateOf(const KpiData& data, int year) {
  const v1::Kpi& kpi = data.kpi;
  std::vector<Figure> children;
  for (const std::string& child : Children(kpi)) {
    Figure figure{child, std::nullopt, std::nullopt, std::nullopt};
    auto region = data.actuals.find(child);
    if (region != data.actuals.end()) {
      auto actual = region->second.find(year);
      if (actual != region->second.end()) {
        figure.value = actual->second.value();
        figure.numerator = OptionalNumerator(actual->second);
        figure.denominator = OptionalDenominator(actual->second);
      }
    }
    children.push_back(figure);
  }
  // The area's own figure; without a value when it reported none, so an
  // incomplete REPORTED aggregate names the area.
  std::optional<Figure> reported = Figure{kpi.area_id(), std::nullopt, std::nullopt, std::nullopt};
  auto area = data.actuals.find(kpi.area_id());
  if (area != data.actuals.end()) {
    auto actual = area->second.find(year);
    if (actual != area->second.end()) {
      reported = Figure{kpi.area_id(), actual->second.value(), OptionalNumerator(actual->second),
                        OptionalDenominator(actual->second)};
    }
  }
  v1::Aggregate aggregate = AggregateFigures(kpi.aggregation(), children, reported);
  aggregate.set_kpi_id(kpi.id());
  aggregate.set_area_id(kpi.area_id());
  *aggregate.mutable_fiscal_year() = Year(year);
  const std::optional<v1::Baseline> baseline = BaselineOf(data, kpi.area_id());
  const std::optional<v1::Target> target = TargetOf(data, kpi.area_id());
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

// The value of `region` in `year`: reported, or computed for an area.
std::optional<double> ValueOf(const KpiData& data, const std::string& region, int year) {
  if (Computed(data.kpi, region)) {
    const v1::Aggregate aggregate = AggregateOf(data, year);
    return aggregate.has_value() ? std::optional<double>(aggregate.value()) : std::nullopt;
  }
  auto it = data.actuals.find(region);
  if (it == data.actuals.end()) return std::nullopt;
  auto actual = it->second.find(year);
  if (actual == it->second.end()) return std::nullopt;
  return actual->second.value();
}

int LastActualYear(const KpiData& data, const std::string& region) {
  int last = 0;
  for (const std::string& source :
       Computed(data.kpi, region) ? Children(data.kpi) : std::vector<std::string>{region}) {
    auto it = data.actuals.find(source);
    if (it != data.actuals.end() && !it->second.empty()) {
      last = std::max(last, it->second.rbegin()->first);
    }
  }
  return last;
}

// A region's points from `first` to `last`.
std::vector<v1::ProgressPoint> PointsOf(const KpiData& data, const std::string& region, int first,
                                        int last) {
  const std::optional<v1::Baseline> baseline = BaselineOf(data, region);
  const std::optional<v1::Target> target = TargetOf(data, region);
  std::vector<v1::ProgressPoint> points;
  for (int year = first; year <= last; ++year) {
    const std::optional<double> value = ValueOf(data, region, year);
    if (baseline && target) {
      points.push_back(ComputePoint(InputsOf(data.kpi, *baseline, *target), year, value));
    } else {
      v1::ProgressPoint point;
      *point.mutable_fiscal_year() = Year(year);
      if (value) point.set_value(*value);
      point.set_status(v1::PROGRESS_STATUS_UNKNOWN);
      point.set_undefined_reason(baseline ? "no target" : "no baseline");
      points.push_back(std::move(point));
    }
  }
  return points;
}

// Changes are stored without the year's label, made again when read.
void LabelChange(v1::Change& change) {
  if (change.fiscal_year().year() != 0) {
    change.mutable_fiscal_year()->set_label(FormatFiscalYear(change.fiscal_year().year()));
  }
}

// Fills `change` with what every change carries, resetting the rest field by
// field rather than with Clear(), so a caller that reuses one message across
// many rows reuses its buffers and submessages too.
void FillChange(v1::Change* change, v1::ChangeKind kind, absl::string_view kpi_id,
                absl::string_view region_id, int year, absl::string_view author,
                absl::string_view reason, absl::Time now) {
  change->clear_sequence();
  change->set_kind(kind);
  *change->mutable_change_time() = ToProtoTimestamp(now);
  change->set_kpi_id(kpi_id.data(), kpi_id.size());
  change->set_region_id(region_id.data(), region_id.size());
  if (year != 0) {
    change->mutable_fiscal_year()->set_year(year);  // labelled when read
  } else {
    change->clear_fiscal_year();
  }
  change->set_author(author.data(), author.size());
  change->set_reason(reason.data(), reason.size());
  change->clear_old_value();
  change->clear_new_value();
  change->clear_old_numerator();
  change->clear_new_numerator();
  change->clear_old_denominator();
  change->clear_new_denominator();
}

v1::Change NewChange(v1::ChangeKind kind, absl::string_view kpi_id, absl::string_view region_id,
                     int year, absl::string_view author, absl::string_view reason, absl::Time now) {
  v1::Change change;
  FillChange(&change, kind, kpi_id, region_id, year, author, reason, now);
  return change;
}

absl::Status CheckAuthor(absl::string_view field, absl::string_view author, bool required) {
  if (author.empty() && !required) return absl::OkStatus();
  return ValidateText(field, author, kMaxAuthorChars);
}

absl::Status CheckReason(absl::string_view field, absl::string_view reason) {
  if (reason.empty()) return absl::OkStatus();
  return ValidateText(field, reason, kMaxReasonChars);
}

// ---- The writes, shared by the unary RPCs and ImportActuals ----

absl::StatusOr<int64_t> ApplyBaseline(KpiTransaction& tx, const v1::Kpi& kpi,
                                      absl::string_view prefix, v1::Baseline baseline,
                                      absl::string_view author, absl::Time now) {
  RETURN_IF_ERROR(CheckRegion(kpi, Field(prefix, "region_id"), baseline.region_id()));
  RETURN_IF_ERROR(RequireYear(Field(prefix, "fiscal_year.year"), baseline.fiscal_year()));
  RETURN_IF_ERROR(CheckFigure(kpi, prefix, baseline.value(), OptionalNumerator(baseline),
                              OptionalDenominator(baseline)));
  RETURN_IF_ERROR(CheckAuthor("author", author, false));
  ASSIGN_OR_RETURN(std::vector<v1::Target> targets, tx.Targets(kpi.id()));
  for (const v1::Target& target : targets) {
    if (target.region_id() == baseline.region_id() &&
        target.fiscal_year().year() <= baseline.fiscal_year().year()) {
      return FieldError(Field(prefix, "fiscal_year.year"),
                        absl::StrCat(baseline.fiscal_year().year()),
                        absl::StrCat("must be before the target year ",
                                     FormatFiscalYear(target.fiscal_year().year())));
    }
  }
  *baseline.mutable_fiscal_year() = Year(baseline.fiscal_year().year());
  ASSIGN_OR_RETURN(std::vector<v1::Baseline> baselines, tx.Baselines(kpi.id()));
  v1::Change change = NewChange(v1::CHANGE_KIND_BASELINE_SET, kpi.id(), baseline.region_id(),
                                baseline.fiscal_year().year(), author, "", now);
  for (const v1::Baseline& old : baselines) {
    if (old.region_id() != baseline.region_id()) continue;
    change.set_old_value(old.value());
    if (old.has_numerator()) change.set_old_numerator(old.numerator());
    if (old.has_denominator()) change.set_old_denominator(old.denominator());
  }
  change.set_new_value(baseline.value());
  if (baseline.has_numerator()) change.set_new_numerator(baseline.numerator());
  if (baseline.has_denominator()) change.set_new_denominator(baseline.denominator());
  RETURN_IF_ERROR(tx.PutBaseline(kpi.id(), baseline));
  return tx.AppendChange(change);
}

absl::StatusOr<std::pair<v1::Target, int64_t>> ApplyTarget(
    KpiTransaction& tx, const v1::Kpi& kpi, absl::string_view prefix, absl::string_view region_id,
    int year, double value, absl::string_view author, absl::string_view reason, absl::Time now) {
  RETURN_IF_ERROR(CheckRegion(kpi, Field(prefix, "region_id"), region_id));
  common::v1::FiscalYear fiscal_year;
  fiscal_year.set_year(year);
  RETURN_IF_ERROR(RequireYear(Field(prefix, "fiscal_year.year"), fiscal_year));
  RETURN_IF_ERROR(CheckFigure(kpi, prefix, value, std::nullopt, std::nullopt));
  RETURN_IF_ERROR(CheckAuthor(Field(prefix, "author"), author, false));
  RETURN_IF_ERROR(CheckReason(Field(prefix, "reason"), reason));
  ASSIGN_OR_RETURN(std::vector<v1::Baseline> baselines, tx.Baselines(kpi.id()));
  for (const v1::Baseline& baseline : baselines) {
    if (baseline.region_id() == region_id && year <= baseline.fiscal_year().year()) {
      return FieldError(Field(prefix, "fiscal_year.year"), absl::StrCat(year),
                        absl::StrCat("must be after the baseline year ",
                                     FormatFiscalYear(baseline.fiscal_year().year())));
    }
  }
  ASSIGN_OR_RETURN(std::vector<v1::Target> targets, tx.Targets(kpi.id()));
  v1::Target target;
  target.set_region_id(std::string(region_id));
  v1::Change change =
      NewChange(v1::CHANGE_KIND_TARGET_REVISED, kpi.id(), region_id, year, author, reason, now);
  for (const v1::Target& old : targets) {
    if (old.region_id() != region_id) continue;
    target = old;
    v1::TargetRevision* revision = target.add_revisions();
    *revision->mutable_fiscal_year() = old.fiscal_year();
    revision->set_value(old.value());
    *revision->mutable_revise_time() = ToProtoTimestamp(now);
    revision->set_author(std::string(author));
    revision->set_reason(std::string(reason));
    change.set_old_value(old.value());
  }
  *target.mutable_fiscal_year() = Year(year);
  target.set_value(value);
  change.set_new_value(value);
  RETURN_IF_ERROR(tx.PutTarget(kpi.id(), target));
  ASSIGN_OR_RETURN(int64_t sequence, tx.AppendChange(change));
  return std::make_pair(std::move(target), sequence);
}

// Returns the change's sequence, or 0 when the same figure was already there.
// Records `actual` (validated here; kpi_id, labels and report time are set
// here) and its change. `baselines` are the KPI's baselines as stored in
// `tx`; `change` is scratch space the caller may reuse. With
// `refuse_repeats`, a figure already recorded at `now` (earlier in the same
// import) is refused rather than corrected. Returns the change's sequence,
// or 0 when the same figure was already there, and whether it corrected one.
absl::StatusOr<std::pair<int64_t, bool>> ApplyActual(KpiTransaction& tx, const v1::Kpi& kpi,
                                                     const std::vector<v1::Baseline>& baselines,
                                                     absl::string_view prefix, v1::Actual& actual,
                                                     absl::string_view reason, absl::Time now,
                                                     v1::Change& change,
                                                     bool refuse_repeats = false) {
  RETURN_IF_ERROR(CheckRegion(kpi, Field(prefix, "region_id"), actual.region_id()));
  RETURN_IF_ERROR(RequireYear(Field(prefix, "fiscal_year.year"), actual.fiscal_year()));
  RETURN_IF_ERROR(CheckFigure(kpi, prefix, actual.value(), OptionalNumerator(actual),
                              OptionalDenominator(actual)));
  RETURN_IF_ERROR(CheckAuthor(Field(prefix, "reported_by"), actual.reported_by(), false));
  RETURN_IF_ERROR(CheckReason("reason", reason));
  const int year = actual.fiscal_year().year();
  for (const v1::Baseline& baseline : baselines) {
    if (baseline.region_id() == actual.region_id() && year < baseline.fiscal_year().year()) {
      return FieldError(Field(prefix, "fiscal_year.year"), absl::StrCat(year),
                        absl::StrCat("is before the baseline year ",
                                     FormatFiscalYear(baseline.fiscal_year().year())));
    }
  }
  actual.set_kpi_id(kpi.id());
  actual.mutable_fiscal_year()->clear_label();
  *actual.mutable_report_time() = ToProtoTimestamp(now);
  // Most rows are new: try that first, and read the old figure only if not.
  ASSIGN_OR_RETURN(bool added, tx.InsertActualIfAbsent(actual));
  std::optional<v1::Actual> old;
  if (!added) {
    ASSIGN_OR_RETURN(old, tx.FindActual(kpi.id(), actual.region_id(), year));
    if (refuse_repeats && old && FromProtoTimestamp(old->report_time()) == now) {
      return FieldError(Field(prefix, "fiscal_year.year"), absl::StrCat(year),
                        "repeats the KPI, region and year of an earlier row of this import");
    }
    if (old && old->value() == actual.value() && old->has_numerator() == actual.has_numerator() &&
        old->numerator() == actual.numerator() && old->denominator() == actual.denominator()) {
      return std::make_pair(int64_t{0}, false);
    }
  }
  FillChange(&change, old ? v1::CHANGE_KIND_ACTUAL_CORRECTED : v1::CHANGE_KIND_ACTUAL_RECORDED,
             kpi.id(), actual.region_id(), year, actual.reported_by(), reason, now);
  if (old) {
    change.set_old_value(old->value());
    if (old->has_numerator()) change.set_old_numerator(old->numerator());
    if (old->has_denominator()) change.set_old_denominator(old->denominator());
  }
  change.set_new_value(actual.value());
  if (actual.has_numerator()) change.set_new_numerator(actual.numerator());
  if (actual.has_denominator()) change.set_new_denominator(actual.denominator());
  if (!added) RETURN_IF_ERROR(tx.PutActual(actual));
  ASSIGN_OR_RETURN(int64_t sequence, tx.AppendChange(change));
  return std::make_pair(sequence, old.has_value());
}

}  // namespace

absl::StatusOr<std::unique_ptr<KpiCatalog>> KpiCatalog::Create(KpiStore* store, FigureCache* cache,
                                                               SequenceFeed* feed,
                                                               std::function<absl::Time()> now) {
  std::vector<std::pair<std::string, int64_t>> generations;
  RETURN_IF_ERROR(store->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(generations, tx.LastSequences());
    return absl::OkStatus();
  }));
  cache->LoadGenerations(generations);
  int64_t last = 0;
  for (const auto& [kpi, sequence] : generations) last = std::max(last, sequence);
  feed->Published(last);
  return std::unique_ptr<KpiCatalog>(new KpiCatalog(store, cache, feed, std::move(now)));
}

KpiCatalog::KpiCatalog(KpiStore* store, FigureCache* cache, SequenceFeed* feed,
                       std::function<absl::Time()> now)
    : store_(store), cache_(cache), feed_(feed), now_(std::move(now)) {}

void KpiCatalog::Published(const std::vector<std::pair<std::string, int64_t>>& changes) {
  int64_t last = 0;
  for (const auto& [kpi_id, sequence] : changes) {
    cache_->Bump(kpi_id, sequence);
    last = std::max(last, sequence);
  }
  if (last > 0) feed_->Published(last);
}

absl::StatusOr<v1::Kpi> KpiCatalog::PrepareKpi(const v1::CreateKpiRequest& request) const {
  v1::Kpi kpi = request.kpi();
  RETURN_IF_ERROR(ValidateId("kpi.id", kpi.id()));
  RETURN_IF_ERROR(ValidateId("kpi.project_id", kpi.project_id()));
  RETURN_IF_ERROR(ValidateText("kpi.name", kpi.name(), kMaxNameChars));
  RETURN_IF_ERROR(ValidateText("kpi.unit", kpi.unit(), kMaxUnitChars));
  RETURN_IF_ERROR(RequireEnum("kpi.value_kind", kpi.value_kind(), v1::ValueKind_IsValid,
                              "COUNT, PERCENT or AMOUNT"));
  if (kpi.direction() == v1::DIRECTION_UNSPECIFIED) kpi.set_direction(v1::DIRECTION_INCREASE);
  RETURN_IF_ERROR(
      RequireEnum("kpi.direction", kpi.direction(), v1::Direction_IsValid, "INCREASE or DECREASE"));
  if (kpi.aggregation() == v1::AGGREGATION_RULE_UNSPECIFIED) {
    kpi.set_aggregation(kpi.value_kind() == v1::VALUE_KIND_PERCENT ? v1::AGGREGATION_RULE_REPORTED
                                                                   : v1::AGGREGATION_RULE_SUM);
  }
  RETURN_IF_ERROR(RequireEnum("kpi.aggregation", kpi.aggregation(), v1::AggregationRule_IsValid,
                              "SUM, RATIO or REPORTED"));
  if (kpi.value_kind() == v1::VALUE_KIND_PERCENT && kpi.aggregation() == v1::AGGREGATION_RULE_SUM) {
    return FieldError("kpi.aggregation", "AGGREGATION_RULE_SUM",
                      "cannot add up percentages; use RATIO or REPORTED");
  }
  if (kpi.progress_method() == v1::PROGRESS_METHOD_UNSPECIFIED) {
    kpi.set_progress_method(kpi.direction() == v1::DIRECTION_DECREASE
                                ? v1::PROGRESS_METHOD_GAP_CLOSURE
                                : v1::PROGRESS_METHOD_ACHIEVEMENT);
  }
  RETURN_IF_ERROR(RequireEnum("kpi.progress_method", kpi.progress_method(),
                              v1::ProgressMethod_IsValid, "ACHIEVEMENT or GAP_CLOSURE"));
  if (!kpi.area_id().empty()) RETURN_IF_ERROR(ValidateId("kpi.area_id", kpi.area_id()));
  if (kpi.region_ids().empty()) {
    return FieldError("kpi.region_ids", "", "must list the regions tracked, the area first");
  }
  std::set<std::string> seen;
  for (int i = 0; i < kpi.region_ids_size(); ++i) {
    RETURN_IF_ERROR(ValidateId(Indexed("kpi.region_ids", i), kpi.region_ids(i)));
    if (!seen.insert(kpi.region_ids(i)).second) {
      return FieldError(Indexed("kpi.region_ids", i), kpi.region_ids(i), "is listed twice");
    }
  }
  return kpi;
}

absl::Status KpiCatalog::CreateKpi(v1::Kpi kpi, const ProjectScope& scope,
                                   v1::CreateKpiResponse* response) {
  const std::string& area_id = scope.project.area_id();
  if (kpi.area_id().empty()) kpi.set_area_id(area_id);
  if (kpi.area_id() != area_id) {
    return FieldError(
        "kpi.area_id", kpi.area_id(),
        absl::StrCat("must be the area of project \"", scope.project.id(), "\" (", area_id, ")"));
  }
  std::map<std::string, std::string> names;
  for (const plan::v1::Region& region : scope.regions) names[region.id()] = region.name();
  for (int i = 0; i < kpi.region_ids_size(); ++i) {
    auto name = names.find(kpi.region_ids(i));
    if (name == names.end()) {
      std::vector<std::string> ids;
      for (const auto& entry : names) ids.push_back(entry.first);
      return FieldError(Indexed("kpi.region_ids", i), kpi.region_ids(i),
                        absl::StrCat("is not a region of area \"", area_id, "\" (has ",
                                     absl::StrJoin(ids, ", "), ")"));
    }
    (*kpi.mutable_region_names())[name->first] = name->second;
  }
  if (kpi.region_ids(0) != area_id) {
    return FieldError("kpi.region_ids[0]", kpi.region_ids(0),
                      absl::StrCat("must be the area \"", area_id, "\" itself"));
  }
  kpi.set_version(1);
  const absl::Time now = now_();
  *kpi.mutable_create_time() = ToProtoTimestamp(now);
  int64_t sequence = 0;
  RETURN_IF_ERROR(store_->Run([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Kpi> existing, tx.FindKpi(kpi.id()));
    if (existing) {
      return absl::AlreadyExistsError(
          absl::StrCat("kpi.id: KPI \"", kpi.id(), "\" already exists"));
    }
    RETURN_IF_ERROR(tx.PutKpi(kpi));
    v1::Change change =
        NewChange(v1::CHANGE_KIND_KPI_CREATED, kpi.id(), kpi.area_id(), 0, "", "", now);
    change.clear_fiscal_year();
    ASSIGN_OR_RETURN(sequence, tx.AppendChange(change));
    return absl::OkStatus();
  }));
  Published({{kpi.id(), sequence}});
  *response->mutable_kpi() = std::move(kpi);
  return absl::OkStatus();
}

absl::Status KpiCatalog::GetKpi(const v1::GetKpiRequest& request, v1::GetKpiResponse* response) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(*response->mutable_kpi(), RequireKpi(tx, "id", request.id()));
    ASSIGN_OR_RETURN(std::vector<v1::Baseline> baselines, tx.Baselines(request.id()));
    for (auto& baseline : baselines) *response->add_baselines() = std::move(baseline);
    ASSIGN_OR_RETURN(std::vector<v1::Target> targets, tx.Targets(request.id()));
    for (auto& target : targets) *response->add_targets() = std::move(target);
    return absl::OkStatus();
  });
}

absl::Status KpiCatalog::ListKpis(const v1::ListKpisRequest& request,
                                  v1::ListKpisResponse* response) {
  if (!request.project_id().empty())
    RETURN_IF_ERROR(ValidateId("project_id", request.project_id()));
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t after, DecodePageToken("page_token", request.page_token()));
  return store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto page, tx.ListKpis(request.project_id(), after, page_size + 1));
    for (int i = 0; i < static_cast<int>(page.size()) && i < page_size; ++i) {
      *response->add_kpis() = page[i].kpi;
    }
    if (static_cast<int>(page.size()) > page_size) {
      response->set_next_page_token(EncodePageToken(page[page_size - 1].key));
    }
    return absl::OkStatus();
  });
}

absl::Status KpiCatalog::SetBaseline(const v1::SetBaselineRequest& request,
                                     v1::SetBaselineResponse* response) {
  RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  int64_t sequence = 0;
  RETURN_IF_ERROR(store_->Run([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Kpi kpi, RequireKpi(tx, "kpi_id", request.kpi_id()));
    ASSIGN_OR_RETURN(
        sequence, ApplyBaseline(tx, kpi, "baseline", request.baseline(), request.author(), now_()));
    return absl::OkStatus();
  }));
  Published({{request.kpi_id(), sequence}});
  *response->mutable_baseline() = request.baseline();
  *response->mutable_baseline()->mutable_fiscal_year() =
      Year(request.baseline().fiscal_year().year());
  response->set_sequence(sequence);
  return absl::OkStatus();
}

absl::Status KpiCatalog::ReviseTarget(const v1::ReviseTargetRequest& request,
                                      v1::ReviseTargetResponse* response) {
  RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  int64_t sequence = 0;
  RETURN_IF_ERROR(store_->Run([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Kpi kpi, RequireKpi(tx, "kpi_id", request.kpi_id()));
    ASSIGN_OR_RETURN(auto applied,
                     ApplyTarget(tx, kpi, "", request.region_id(), request.fiscal_year().year(),
                                 request.value(), request.author(), request.reason(), now_()));
    *response->mutable_target() = std::move(applied.first);
    sequence = applied.second;
    return absl::OkStatus();
  }));
  Published({{request.kpi_id(), sequence}});
  response->set_sequence(sequence);
  return absl::OkStatus();
}

absl::Status KpiCatalog::RecordActual(const v1::RecordActualRequest& request,
                                      v1::RecordActualResponse* response) {
  RETURN_IF_ERROR(ValidateId("actual.kpi_id", request.actual().kpi_id()));
  v1::Actual stored;
  std::pair<int64_t, bool> applied;
  RETURN_IF_ERROR(store_->Run([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Kpi kpi, RequireKpi(tx, "actual.kpi_id", request.actual().kpi_id()));
    ASSIGN_OR_RETURN(std::vector<v1::Baseline> baselines, tx.Baselines(kpi.id()));
    v1::Actual actual = request.actual();
    v1::Change change;
    ASSIGN_OR_RETURN(applied, ApplyActual(tx, kpi, baselines, "actual", actual, request.reason(),
                                          now_(), change));
    ASSIGN_OR_RETURN(std::optional<v1::Actual> found,
                     tx.FindActual(kpi.id(), request.actual().region_id(),
                                   request.actual().fiscal_year().year()));
    if (found) stored = *std::move(found);
    return absl::OkStatus();
  }));
  if (applied.first > 0) Published({{request.actual().kpi_id(), applied.first}});
  *stored.mutable_fiscal_year() = Year(stored.fiscal_year().year());
  *response->mutable_actual() = std::move(stored);
  response->set_corrected(applied.second);
  response->set_sequence(applied.first);
  return absl::OkStatus();
}

absl::Status KpiCatalog::ImportRows(const std::vector<v1::ImportRow>& rows,
                                    v1::ImportActualsResponse* response) {
  // The whole vector as one batch.
  class VectorSource : public RowSource {
   public:
    explicit VectorSource(const std::vector<v1::ImportRow>& rows) : rows_(rows) {}
    bool Next(std::vector<v1::ImportRow>* batch) override {
      if (done_) return false;
      *batch = rows_;
      done_ = true;
      return true;
    }
    bool Cancelled() override { return false; }

   private:
    const std::vector<v1::ImportRow>& rows_;
    bool done_ = false;
  } source(rows);
  return ImportRows(source, response);
}

absl::Status KpiCatalog::ImportRows(RowSource& source, v1::ImportActualsResponse* response) {
  absl::flat_hash_map<std::string, int64_t> published;  // KPI → its last sequence
  int64_t applied = 0;
  int64_t received = 0;
  // At the store's precision (microseconds): ApplyActual tells a row this
  // import already stored by its report time.
  const absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(now_()));
  absl::Status outcome = store_->Run([&](KpiTransaction& tx) -> absl::Status {
    // What the import has learnt of each KPI: its definition (none when
    // unknown) and, once needed, its baselines.
    struct KpiState {
      std::optional<v1::Kpi> kpi;
      std::optional<std::vector<v1::Baseline>> baselines;
    };
    absl::flat_hash_map<std::string, KpiState> kpis;
    KpiState* state = nullptr;  // the last row's KPI: rows usually come grouped
    // The line of each baseline's KPI and region, to refuse repeats.
    absl::flat_hash_map<std::string, int64_t> seen;
    // Scratch messages reused across rows.
    v1::Actual actual;
    v1::Change change;
    std::vector<v1::ImportRow> batch;
    while (source.Next(&batch)) {
      received += static_cast<int64_t>(batch.size());
      for (const v1::ImportRow& row : batch) {
        auto refuse = [&](const absl::Status& status) {
          v1::RowError* error = response->add_errors();
          error->set_line(row.line());
          const absl::string_view message = status.message();
          const size_t colon = message.find(": ");
          error->set_field(
              std::string(colon == absl::string_view::npos ? "" : message.substr(0, colon)));
          error->set_message(std::string(message));
        };
        if (state == nullptr || !state->kpi || state->kpi->id() != row.kpi_id()) {
          if (absl::Status status = ValidateId("kpi_id", row.kpi_id()); !status.ok()) {
            refuse(status);
            state = nullptr;
            continue;
          }
          auto [it, inserted] = kpis.try_emplace(row.kpi_id());
          if (inserted) {
            ASSIGN_OR_RETURN(it->second.kpi, tx.FindKpi(row.kpi_id()));
          }
          state = &it->second;
        }
        if (!state->kpi) {
          refuse(FieldError("kpi_id", row.kpi_id(), "is not a KPI kpi-service knows"));
          state = nullptr;
          continue;
        }
        const v1::Kpi& kpi = *state->kpi;
        const v1::RowKind kind =
            row.kind() == v1::ROW_KIND_UNSPECIFIED ? v1::ROW_KIND_ACTUAL : row.kind();
        // Actuals repeated in the import are caught by ApplyActual; a target
        // may come several times (its revisions, oldest first).
        if (auto [it, inserted] =
                kind == v1::ROW_KIND_BASELINE
                    ? seen.emplace(absl::StrCat(row.kpi_id(), "|", row.region_id()), row.line())
                    : std::make_pair(seen.end(), true);
            !inserted) {
          refuse(FieldError("region_id", row.region_id(),
                            absl::StrCat("has a second baseline for KPI \"", row.kpi_id(),
                                         "\"; the first is on line ", it->second)));
          continue;
        }
        absl::StatusOr<int64_t> sequence;
        switch (kind) {
          case v1::ROW_KIND_ACTUAL: {
            // Field by field, not Clear(): the scratch message keeps its buffers.
            actual.set_region_id(row.region_id());
            actual.mutable_fiscal_year()->set_year(row.fiscal_year().year());
            actual.set_value(row.value());
            if (row.has_numerator()) {
              actual.set_numerator(row.numerator());
            } else {
              actual.clear_numerator();
            }
            if (row.has_denominator()) {
              actual.set_denominator(row.denominator());
            } else {
              actual.clear_denominator();
            }
            actual.set_reported_by(row.reported_by());
            if (!state->baselines) {
              ASSIGN_OR_RETURN(state->baselines, tx.Baselines(kpi.id()));
            }
            auto result = ApplyActual(tx, kpi, *state->baselines, "", actual, row.reason(), now,
                                      change, /*refuse_repeats=*/true);
            sequence = result.ok() ? absl::StatusOr<int64_t>(result->first) : result.status();
            break;
          }
          case v1::ROW_KIND_BASELINE: {
            v1::Baseline baseline;
            baseline.set_region_id(row.region_id());
            *baseline.mutable_fiscal_year() = row.fiscal_year();
            baseline.set_value(row.value());
            if (row.has_numerator()) baseline.set_numerator(row.numerator());
            if (row.has_denominator()) baseline.set_denominator(row.denominator());
            sequence = ApplyBaseline(tx, kpi, "", baseline, row.reported_by(), now);
            state->baselines.reset();
            break;
          }
          case v1::ROW_KIND_TARGET: {
            auto result = ApplyTarget(tx, kpi, "", row.region_id(), row.fiscal_year().year(),
                                      row.value(), row.reported_by(), row.reason(), now);
            sequence = result.ok() ? absl::StatusOr<int64_t>(result->second) : result.status();
            break;
          }
          default:
            sequence =
                FieldError("kind", absl::StrCat(row.kind()), "must be ACTUAL, BASELINE or TARGET");
        }
        if (!sequence.ok()) {
          if (sequence.status().code() != absl::StatusCode::kInvalidArgument) {
            return sequence.status();  // the store failed: give up
          }
          refuse(sequence.status());
          continue;
        }
        if (*sequence > 0) {
          published[row.kpi_id()] = *sequence;
          response->set_last_sequence(*sequence);
        }
        ++applied;
      }
    }
    if (source.Cancelled()) {
      return absl::CancelledError("the client cancelled the import; nothing stored");
    }
    if (response->errors_size() > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          response->errors_size(), " of ", received, " rows refused, nothing stored; line ",
          response->errors(0).line(), ": ", response->errors(0).message()));
    }
    return absl::OkStatus();
  });
  if (!outcome.ok()) {
    response->set_rows_applied(0);
    response->set_last_sequence(0);
    return outcome;
  }
  response->set_rows_applied(applied);
  Published(Sequences(published.begin(), published.end()));
  return absl::OkStatus();
}

absl::Status KpiCatalog::GetProgress(const v1::GetProgressRequest& request,
                                     v1::GetProgressResponse* response) {
  RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  RETURN_IF_ERROR(ValidateId("region_id", request.region_id()));
  const int as_of = request.as_of().year();
  if (as_of != 0) RETURN_IF_ERROR(ValidateFiscalYear("as_of.year", as_of));
  const std::string key =
      cache_->Key(request.kpi_id(), "progress", absl::StrCat(request.region_id(), "/", as_of));
  if (std::optional<std::string> hit = cache_->Get(key); hit && response->ParseFromString(*hit)) {
    return absl::OkStatus();
  }
  KpiData data;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(data, LoadKpi(tx, "kpi_id", request.kpi_id()));
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(CheckRegion(data.kpi, "region_id", request.region_id()));
  const std::optional<v1::Baseline> baseline = BaselineOf(data, request.region_id());
  const std::optional<v1::Target> target = TargetOf(data, request.region_id());
  const int last_actual = LastActualYear(data, request.region_id());
  const int first = baseline ? baseline->fiscal_year().year() + 1 : last_actual;
  const int last =
      as_of != 0 ? as_of : std::max(target ? target->fiscal_year().year() : 0, last_actual);
  *response->mutable_kpi() = data.kpi;
  response->set_region_id(request.region_id());
  if (baseline) *response->mutable_baseline() = *baseline;
  if (target) *response->mutable_target() = *target;
  if (first > 0) {
    for (v1::ProgressPoint& point : PointsOf(data, request.region_id(), first, last)) {
      *response->add_points() = std::move(point);
    }
  }
  cache_->Put(key, response->SerializeAsString());
  return absl::OkStatus();
}

absl::Status KpiCatalog::GetAggregate(const v1::GetAggregateRequest& request,
                                      v1::GetAggregateResponse* response) {
  RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  RETURN_IF_ERROR(ValidateId("area_id", request.area_id()));
  RETURN_IF_ERROR(RequireYear("fiscal_year.year", request.fiscal_year()));
  const int year = request.fiscal_year().year();
  const std::string key =
      cache_->Key(request.kpi_id(), "aggregate", absl::StrCat(request.area_id(), "/", year));
  if (std::optional<std::string> hit = cache_->Get(key); hit && response->ParseFromString(*hit)) {
    return absl::OkStatus();
  }
  KpiData data;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(data, LoadKpi(tx, "kpi_id", request.kpi_id()));
    return absl::OkStatus();
  }));
  if (request.area_id() != data.kpi.area_id()) {
    return FieldError(
        "area_id", request.area_id(),
        absl::StrCat("is not the area of KPI \"", data.kpi.id(), "\" (", data.kpi.area_id(), ")"));
  }
  *response->mutable_aggregate() = AggregateOf(data, year);
  cache_->Put(key, response->SerializeAsString());
  return absl::OkStatus();
}

absl::Status KpiCatalog::GetKpiTable(const v1::GetKpiTableRequest& request,
                                     v1::GetKpiTableResponse* response) {
  RETURN_IF_ERROR(ValidateId("project_id", request.project_id()));
  RETURN_IF_ERROR(RequireYear("as_of.year", request.as_of()));
  const int as_of = request.as_of().year();
  std::vector<KpiData> kpis;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    int64_t after = 0;
    while (true) {
      ASSIGN_OR_RETURN(auto page, tx.ListKpis(request.project_id(), after, 1000));
      for (const KeyedKpi& keyed : page) {
        ASSIGN_OR_RETURN(KpiData data, LoadKpi(tx, "kpi_id", keyed.kpi.id()));
        kpis.push_back(std::move(data));
      }
      if (page.size() < 1000) return absl::OkStatus();
      after = page.back().key;
    }
  }));
  if (kpis.empty()) {
    return absl::NotFoundError(
        absl::StrCat("project_id: project \"", request.project_id(), "\" has no KPIs"));
  }
  response->set_project_id(request.project_id());
  *response->mutable_as_of() = Year(as_of);
  for (const KpiData& data : kpis) {
    v1::KpiTable* table = response->add_tables();
    *table->mutable_kpi() = data.kpi;
    int first_year = 0;
    int last_year = 0;
    for (const std::string& region : data.kpi.region_ids()) {
      const std::optional<v1::Baseline> baseline = BaselineOf(data, region);
      const std::optional<v1::Target> target = TargetOf(data, region);
      if (baseline && (first_year == 0 || baseline->fiscal_year().year() < first_year)) {
        first_year = baseline->fiscal_year().year();
      }
      if (target) last_year = std::max(last_year, target->fiscal_year().year());
    }
    for (int year = first_year; first_year > 0 && year <= last_year; ++year) {
      *table->add_years() = Year(year);
    }
    for (const std::string& region : data.kpi.region_ids()) {
      v1::KpiTableRow* row = table->add_rows();
      row->set_region_id(region);
      auto name = data.kpi.region_names().find(region);
      row->set_region_name(name == data.kpi.region_names().end() ? region : name->second);
      const std::optional<v1::Baseline> baseline = BaselineOf(data, region);
      const std::optional<v1::Target> target = TargetOf(data, region);
      if (baseline) *row->mutable_baseline() = *baseline;
      if (target) *row->mutable_target() = *target;
      const int first = baseline ? baseline->fiscal_year().year() + 1 : first_year + 1;
      const int last = std::min(as_of, target ? target->fiscal_year().year() : last_year);
      if (first > 0) {
        for (v1::ProgressPoint& point : PointsOf(data, region, first, last)) {
          *row->add_points() = std::move(point);
        }
      }
      if (Computed(data.kpi, region)) *row->mutable_aggregate() = AggregateOf(data, last);
    }
  }
  return absl::OkStatus();
}

absl::Status KpiCatalog::GetHistory(const v1::GetHistoryRequest& request,
                                    v1::GetHistoryResponse* response) {
  RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  if (!request.region_id().empty()) RETURN_IF_ERROR(ValidateId("region_id", request.region_id()));
  if (request.fiscal_year().year() != 0) {
    RETURN_IF_ERROR(ValidateFiscalYear("fiscal_year.year", request.fiscal_year().year()));
  }
  return store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Kpi kpi, RequireKpi(tx, "kpi_id", request.kpi_id()));
    if (!request.region_id().empty()) {
      RETURN_IF_ERROR(CheckRegion(kpi, "region_id", request.region_id()));
    }
    ChangeQuery query;
    query.kpi_id = request.kpi_id();
    query.region_id = request.region_id();
    query.fiscal_year = request.fiscal_year().year();
    while (true) {
      ASSIGN_OR_RETURN(ChangePage page, tx.Changes(query));
      for (v1::Change& change : page.changes) {
        LabelChange(change);
        *response->add_changes() = std::move(change);
      }
      if (page.at_end && static_cast<int>(page.changes.size()) < query.limit) {
        return absl::OkStatus();
      }
      query.from_sequence = page.scanned_through + 1;
    }
  });
}

absl::StatusOr<std::vector<v1::Change>> KpiCatalog::ReadChanges(int64_t from_sequence,
                                                                const std::string& kpi_id,
                                                                int limit) {
  std::vector<v1::Change> changes;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ChangeQuery query;
    query.from_sequence = std::max<int64_t>(from_sequence, 1);
    query.kpi_id = kpi_id;
    query.limit = limit;
    ASSIGN_OR_RETURN(ChangePage page, tx.Changes(query));
    changes = std::move(page.changes);
    return absl::OkStatus();
  }));
  for (v1::Change& change : changes) LabelChange(change);
  return changes;
}

}  // namespace suishin::kpi
