// What kpi-service accepts: the checks of its requests that need no store,
// and the small derivations every part shares (a region's role, a fiscal
// year with its label).
//
// Every check returns OK or INVALID_ARGUMENT naming the field and the value
// (common/validation.h's FieldError), and never touches a store, so the
// write path runs them on the gRPC thread before a write is queued, and an
// import runs them on each row as it arrives. Pure functions: thread-safe.
//
// Example:
//   absl::StatusOr<v1::Kpi> kpi = PrepareKpi(request);    // defaults filled in
//   RETURN_IF_ERROR(CheckRegion(*kpi, "actual.region_id", "soya"));
//   RETURN_IF_ERROR(CheckFigure(*kpi, "actual", 3, std::nullopt, std::nullopt));
#ifndef SUISHIN_SERVICES_KPI_KPI_RULES_H_
#define SUISHIN_SERVICES_KPI_KPI_RULES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kpi/plan_directory.h"
#include "suishin/common/v1/common.pb.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

// "prefix.name", or "name" when there is no prefix.
std::string Field(absl::string_view prefix, absl::string_view name);
// "field[index]".
std::string Indexed(absl::string_view field, int index);

// A fiscal year with its label ("R元 (2019)").
common::v1::FiscalYear Year(int year);

// A value as the table writes it, for messages.
std::string Number(double value);

// A required fiscal year (not 0), within 1989–2100.
absl::Status RequireYear(absl::string_view field, const common::v1::FiscalYear& year);

// CreateKpi's request alone: every field checked, output-only and unknown
// fields dropped, defaults filled in (direction INCREASE; aggregation SUM for
// counts and amounts, REPORTED for percentages; progress method by
// direction). Returns the KPI to create once plan-service has answered.
absl::StatusOr<v1::Kpi> PrepareKpi(const v1::CreateKpiRequest& request);

// CreateKpi, once plan-service has answered for the project: the KPI's area
// must be the project's (filled in when empty), the first region the area
// itself and every region within it. The regions between a listed region
// and the area are added where not listed (each just before the first
// region below it); region names, kinds and parents are copied from plan-
// service. Returns the KPI as it is stored (version 1, no create time yet).
absl::StatusOr<v1::Kpi> ScopeKpi(v1::Kpi kpi, const ProjectScope& scope);

// `region` is one the KPI tracks.
absl::Status CheckRegion(const v1::Kpi& kpi, absl::string_view field, absl::string_view region);

// A figure of a region, valid for the KPI's kind of value: finite, not
// negative, at most 1e14 (progress.h's kMaxFigure), whole for counts, at
// most 100 for percentages, numerator and denominator both or neither
// (numerator ≤ denominator, denominator from 0.0001 to 1e14, and for
// percentages value = numerator / denominator × 100 within 0.05).
absl::Status CheckFigure(const v1::Kpi& kpi, absl::string_view prefix, double value,
                         std::optional<double> numerator, std::optional<double> denominator);

// An optional author (reported_by) and reason: names and texts within the
// process's limits.
absl::Status CheckAuthor(absl::string_view field, absl::string_view author);
absl::Status CheckReason(absl::string_view field, absl::string_view reason);

// The optional numerator and denominator of a Baseline, Actual or ImportRow.
template <typename T>
std::optional<double> OptionalNumerator(const T& figure) {
  return figure.has_numerator() ? std::optional<double>(figure.numerator()) : std::nullopt;
}
template <typename T>
std::optional<double> OptionalDenominator(const T& figure) {
  return figure.has_denominator() ? std::optional<double>(figure.denominator()) : std::nullopt;
}

// True when `region`'s figures are computed from the regions directly below
// it (SUM and RATIO, a region with regions below it), false for a REPORTED
// KPI's regions and for a region with none below. RegionTree decides; this
// builds one for a single question.
bool Computed(const v1::Kpi& kpi, absl::string_view region);

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_RULES_H_
