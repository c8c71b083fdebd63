#include "exchange/dataset_rows.h"

#include <string>

namespace suishin::exchange {

std::vector<kpi::v1::ImportRow> RowsOf(const kpi::v1::KpiRecord& record, int64_t first_line) {
  std::vector<kpi::v1::ImportRow> rows;
  const std::string& kpi_id = record.kpi().id();
  auto add = [&](kpi::v1::RowKind kind, const std::string& region_id,
                 const common::v1::FiscalYear& year, double value) -> kpi::v1::ImportRow& {
    kpi::v1::ImportRow& row = rows.emplace_back();
    row.set_line(first_line + static_cast<int64_t>(rows.size()) - 1);
    row.set_kind(kind);
    row.set_kpi_id(kpi_id);
    row.set_region_id(region_id);
    row.mutable_fiscal_year()->set_year(year.year());
    row.set_value(value);
    return row;
  };
  for (const kpi::v1::Baseline& baseline : record.baselines()) {
    kpi::v1::ImportRow& row = add(kpi::v1::ROW_KIND_BASELINE, baseline.region_id(),
                                  baseline.fiscal_year(), baseline.value());
    if (baseline.has_numerator()) row.set_numerator(baseline.numerator());
    if (baseline.has_denominator()) row.set_denominator(baseline.denominator());
  }
  for (const kpi::v1::Target& target : record.targets()) {
    // Replaying the revisions in order rebuilds the history: the reason and
    // author kept with revision i are those of its replacement, so they go
    // with the row that replaces it.
    std::string reason;
    std::string author;
    for (const kpi::v1::TargetRevision& revision : target.revisions()) {
      kpi::v1::ImportRow& row = add(kpi::v1::ROW_KIND_TARGET, target.region_id(),
                                    revision.fiscal_year(), revision.value());
      row.set_reason(reason);
      row.set_reported_by(author);
      reason = revision.reason();
      author = revision.author();
    }
    kpi::v1::ImportRow& current =
        add(kpi::v1::ROW_KIND_TARGET, target.region_id(), target.fiscal_year(), target.value());
    current.set_reason(reason);
    current.set_reported_by(author);
  }
  for (const kpi::v1::Actual& actual : record.actuals()) {
    kpi::v1::ImportRow& row =
        add(kpi::v1::ROW_KIND_ACTUAL, actual.region_id(), actual.fiscal_year(), actual.value());
    if (actual.has_numerator()) row.set_numerator(actual.numerator());
    if (actual.has_denominator()) row.set_denominator(actual.denominator());
    row.set_reported_by(actual.reported_by());
  }
  return rows;
}

}  // namespace suishin::exchange
