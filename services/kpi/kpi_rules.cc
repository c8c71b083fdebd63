#include "services/kpi/kpi_rules.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fiscal_year.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/kpi/progress.h"
#include "services/kpi/region_tree.h"

namespace suishin::kpi {
namespace {

// A unit is a short label ("カ所", "%"), not a name.
constexpr size_t kMaxUnitChars = 20;
// How far a given value may be from numerator / denominator × 100.
constexpr double kRatioTolerance = 0.05;

template <typename Enum>
absl::Status RequireEnum(absl::string_view field, Enum value, bool (*is_valid)(int),
                         absl::string_view allowed) {
  if (!is_valid(value) || value == 0) {
    return FieldError(field, absl::StrCat(value), absl::StrCat("must be ", allowed));
  }
  return absl::OkStatus();
}

}  // namespace

std::string Field(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

std::string Indexed(absl::string_view field, int index) {
  return absl::StrCat(field, "[", index, "]");
}

common::v1::FiscalYear Year(int year) {
  common::v1::FiscalYear out;
  out.set_year(year);
  out.set_label(FormatFiscalYear(year));
  return out;
}

std::string Number(double value) { return FormatValue(value, v1::VALUE_KIND_AMOUNT); }

absl::Status RequireYear(absl::string_view field, const common::v1::FiscalYear& year) {
  if (year.year() == 0) return FieldError(field, "0", "is required");
  return ValidateFiscalYear(field, year.year());
}

absl::StatusOr<v1::Kpi> PrepareKpi(const v1::CreateKpiRequest& request) {
  v1::Kpi kpi = request.kpi();
  // What the service sets, and what this version of the API does not know,
  // is never stored from a request.
  kpi.DiscardUnknownFields();
  kpi.clear_version();
  kpi.clear_create_time();
  kpi.clear_region_names();
  kpi.clear_region_parents();
  kpi.clear_region_kinds();
  RETURN_IF_ERROR(ValidateId("kpi.id", kpi.id()));
  RETURN_IF_ERROR(ValidateId("kpi.project_id", kpi.project_id()));
  RETURN_IF_ERROR(ValidateName("kpi.name", kpi.name()));
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
  RETURN_IF_ERROR(ValidateListSize("kpi.region_ids", kpi.region_ids_size()));
  std::set<std::string> seen;
  for (int i = 0; i < kpi.region_ids_size(); ++i) {
    RETURN_IF_ERROR(ValidateId(Indexed("kpi.region_ids", i), kpi.region_ids(i)));
    if (!seen.insert(kpi.region_ids(i)).second) {
      return FieldError(Indexed("kpi.region_ids", i), kpi.region_ids(i), "is listed twice");
    }
  }
  return kpi;
}

absl::StatusOr<v1::Kpi> ScopeKpi(v1::Kpi kpi, const ProjectScope& scope) {
  const std::string& area_id = scope.project.area_id();
  if (kpi.area_id().empty()) kpi.set_area_id(area_id);
  if (kpi.area_id() != area_id) {
    return FieldError(
        "kpi.area_id", kpi.area_id(),
        absl::StrCat("must be the area of project \"", scope.project.id(), "\" (", area_id, ")"));
  }
  std::map<std::string, const plan::v1::Region*> regions;
  for (const plan::v1::Region& region : scope.regions) regions[region.id()] = &region;
  for (int i = 0; i < kpi.region_ids_size(); ++i) {
    if (!regions.count(kpi.region_ids(i))) {
      std::vector<std::string> ids;
      for (const auto& entry : regions) ids.push_back(entry.first);
      return FieldError(Indexed("kpi.region_ids", i), kpi.region_ids(i),
                        absl::StrCat("is not a region of area \"", area_id, "\" (has ",
                                     absl::StrJoin(ids, ", "), ")"));
    }
  }
  if (kpi.region_ids(0) != area_id) {
    return FieldError("kpi.region_ids[0]", kpi.region_ids(0),
                      absl::StrCat("must be the area \"", area_id, "\" itself"));
  }
  // The regions between a tracked region and the area, where not named,
  // each just before the first region below it, so every level has its
  // figure and the tree has no holes.
  std::set<std::string> tracked(kpi.region_ids().begin(), kpi.region_ids().end());
  std::vector<std::string> closed;
  for (const std::string& id : kpi.region_ids()) {
    std::vector<std::string> above;  // nearest first
    for (std::string at = regions[id]->parent_id(); at != area_id && !tracked.count(at);
         at = regions[at]->parent_id()) {
      if (!regions.count(at)) break;  // outside the area: never, the scope is its subtree
      above.push_back(at);
      tracked.insert(at);
    }
    closed.insert(closed.end(), above.rbegin(), above.rend());
    closed.push_back(id);
  }
  kpi.clear_region_ids();
  for (const std::string& id : closed) {
    const plan::v1::Region& region = *regions[id];
    kpi.add_region_ids(id);
    (*kpi.mutable_region_names())[id] = region.name();
    (*kpi.mutable_region_kinds())[id] = region.kind();
    if (id != area_id) (*kpi.mutable_region_parents())[id] = region.parent_id();
  }
  RETURN_IF_ERROR(ValidateListSize("kpi.region_ids", kpi.region_ids_size()));
  kpi.set_version(1);
  return kpi;
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

absl::Status CheckFigure(const v1::Kpi& kpi, absl::string_view prefix, double value,
                         std::optional<double> numerator, std::optional<double> denominator) {
  const std::string field = Field(prefix, "value");
  RETURN_IF_ERROR(ValidateFinite(field, value));
  if (value < 0) return FieldError(field, Number(value), "must not be negative");
  if (value > kMaxFigure) {
    return FieldError(field, Number(value), "is beyond 1e14, the largest figure kept");
  }
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
  if (*denominator < kFigureStep || *denominator > kMaxFigure) {
    return FieldError(Field(prefix, "denominator"), Number(*denominator),
                      "must be between 0.0001 and 1e14 (figures keep four decimals)");
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

absl::Status CheckAuthor(absl::string_view field, absl::string_view author) {
  if (author.empty()) return absl::OkStatus();
  return ValidateName(field, author);
}

absl::Status CheckReason(absl::string_view field, absl::string_view reason) {
  if (reason.empty()) return absl::OkStatus();
  return ValidateLongText(field, reason);
}

bool Computed(const v1::Kpi& kpi, absl::string_view region) {
  return RegionTree(kpi).ComputedFromChildren(region);
}

}  // namespace suishin::kpi
