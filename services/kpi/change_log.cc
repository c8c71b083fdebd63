#include "services/kpi/change_log.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "common/fiscal_year.h"
#include "common/page_token.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/kpi/kpi_figures.h"
#include "services/kpi/kpi_rules.h"
#include "services/kpi/value_writes.h"

namespace suishin::kpi {
namespace {

// Changes are stored without the year's label, made again when read.
void LabelChange(v1::Change& change) {
  if (change.fiscal_year().year() != 0) {
    change.mutable_fiscal_year()->set_label(FormatFiscalYear(change.fiscal_year().year()));
  }
}

}  // namespace

absl::Status ChangeLog::GetHistory(const v1::GetHistoryRequest& request,
                                   v1::GetHistoryResponse* response) {
  RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  if (!request.region_id().empty()) RETURN_IF_ERROR(ValidateId("region_id", request.region_id()));
  if (request.fiscal_year().year() != 0) {
    RETURN_IF_ERROR(ValidateFiscalYear("fiscal_year.year", request.fiscal_year().year()));
  }
  ASSIGN_OR_RETURN(const int page_size, EffectivePageSize("page_size", request.page_size()));
  // The token carries the last sequence the previous page looked at.
  ASSIGN_OR_RETURN(const int64_t after, DecodePageToken("page_token", request.page_token()));
  return store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Kpi kpi, RequireKpi(tx, "kpi_id", request.kpi_id()));
    if (!request.region_id().empty()) {
      RETURN_IF_ERROR(CheckRegion(kpi, "region_id", request.region_id()));
    }
    ChangeQuery query;
    query.from_sequence = after + 1;
    query.kpi_id = request.kpi_id();
    query.region_id = request.region_id();
    query.fiscal_year = request.fiscal_year().year();
    query.limit = page_size;
    ASSIGN_OR_RETURN(ChangePage page, tx.Changes(query));
    for (v1::Change& change : page.changes) {
      LabelChange(change);
      *response->add_changes() = std::move(change);
    }
    // A page that stopped early (full, or the scan bound) has a next one,
    // which may turn out empty; one that reached the end has none.
    if (!page.at_end) response->set_next_page_token(EncodePageToken(page.scanned_through));
    return absl::OkStatus();
  });
}

absl::StatusOr<LogBatch<v1::Change>> ChangeLog::ReadChanges(int64_t after,
                                                            const std::string& kpi_id, int limit,
                                                            bool with_figures) {
  LogBatch<v1::Change> batch;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ChangeQuery query;
    query.from_sequence = std::max<int64_t>(after + 1, 1);
    query.kpi_id = kpi_id;
    query.limit = limit;
    ASSIGN_OR_RETURN(ChangePage page, tx.Changes(query));
    batch.entries = std::move(page.changes);
    batch.scanned_through = page.scanned_through;
    if (with_figures) RETURN_IF_ERROR(AttachFigures(tx, batch.entries));
    return absl::OkStatus();
  }));
  for (v1::Change& change : batch.entries) LabelChange(change);
  return batch;
}

absl::Status ChangeLog::AttachFigures(KpiTransaction& tx, std::vector<v1::Change>& changes) {
  // Each KPI's baselines and targets once, each year's actuals once.
  std::map<std::string, KpiData> kpis;
  std::map<std::string, std::set<int>> years;
  for (v1::Change& change : changes) {
    if (change.kind() != v1::CHANGE_KIND_ACTUAL_RECORDED &&
        change.kind() != v1::CHANGE_KIND_ACTUAL_CORRECTED) {
      continue;
    }
    // A baseline or target that changed after this change (it may be in
    // this snapshot) would make its figures fit no series the reader had.
    if (cache_->BaselinesOrTargetsGeneration(change.kpi_id()) > change.sequence()) continue;
    auto data = kpis.find(change.kpi_id());
    if (data == kpis.end()) {
      ASSIGN_OR_RETURN(KpiData loaded, LoadKpiDefinition(tx, change.kpi_id()));
      data = kpis.emplace(change.kpi_id(), std::move(loaded)).first;
    }
    const int year = change.fiscal_year().year();
    if (years[change.kpi_id()].insert(year).second)
      RETURN_IF_ERROR(AddYear(tx, data->second, year));
    // The region's figure, and those of the regions above it computed from
    // it, level by level up to the area.
    const KpiFigures figures(data->second);
    std::vector<std::string> regions = {change.region_id()};
    for (std::string above = figures.tree().ParentOf(change.region_id());
         !above.empty() && figures.tree().ComputedFromChildren(above);
         above = figures.tree().ParentOf(above)) {
      regions.push_back(above);
    }
    for (const std::string& region : regions) {
      v1::RegionPoint* figure = change.add_figures();
      figure->set_region_id(region);
      *figure->mutable_point() = std::move(figures.PointsOf(region, year, year).front());
    }
    change.set_figures_generation(data->second.generation);
  }
  return absl::OkStatus();
}

}  // namespace suishin::kpi
