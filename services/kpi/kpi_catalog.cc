#include "services/kpi/kpi_catalog.h"

#include <string>
#include <utility>

#include "common/page_token.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/kpi/value_writes.h"

namespace suishin::kpi {

KpiCatalog::KpiCatalog(KpiStore* store, FigureCache* cache, ReadModel* reads)
    : store_(store), cache_(cache), reads_(reads), changes_(store, cache) {}

absl::Status KpiCatalog::Fresh() { return sync_ == nullptr ? absl::OkStatus() : sync_->CatchUp(); }

absl::StatusOr<std::optional<v1::Kpi>> KpiCatalog::FindKpi(const std::string& id) {
  std::optional<v1::Kpi> kpi;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(kpi, tx.FindKpi(id));
    return absl::OkStatus();
  }));
  return kpi;
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

absl::Status KpiCatalog::GetProgress(const v1::GetProgressRequest& request,
                                     v1::GetProgressResponse* response) {
  RETURN_IF_ERROR(Fresh());
  return reads_->GetProgress(request, response);
}

absl::Status KpiCatalog::GetAggregate(const v1::GetAggregateRequest& request,
                                      v1::GetAggregateResponse* response) {
  RETURN_IF_ERROR(Fresh());
  return reads_->GetAggregate(request, response);
}

absl::Status KpiCatalog::GetKpiTable(const v1::GetKpiTableRequest& request,
                                     v1::GetKpiTableResponse* response) {
  RETURN_IF_ERROR(Fresh());
  return reads_->GetKpiTable(request, response);
}

absl::StatusOr<ReadModel::Wire> KpiCatalog::GetProgressWire(const v1::GetProgressRequest& request) {
  RETURN_IF_ERROR(Fresh());
  return reads_->GetProgressWire(request);
}

absl::StatusOr<ReadModel::Wire> KpiCatalog::GetAggregateWire(
    const v1::GetAggregateRequest& request) {
  RETURN_IF_ERROR(Fresh());
  return reads_->GetAggregateWire(request);
}

absl::StatusOr<ReadModel::Wire> KpiCatalog::GetKpiTableWire(const v1::GetKpiTableRequest& request) {
  RETURN_IF_ERROR(Fresh());
  return reads_->GetKpiTableWire(request);
}

absl::StatusOr<LogBatch<v1::Change>> KpiCatalog::ReadChanges(int64_t after,
                                                             const std::string& kpi_id, int limit,
                                                             bool with_figures) {
  if (sync_ == nullptr || !with_figures) {
    return changes_.ReadChanges(after, kpi_id, limit, with_figures);
  }
  // Figures are attached unless a baseline or target changed after the
  // change; this replica learns of other replicas' such changes by catching
  // up, so it does before the read and again after it (one committed while
  // the read ran may be in the read's snapshot), and leaves off the figures
  // that turn out overtaken.
  RETURN_IF_ERROR(sync_->CatchUp());
  ASSIGN_OR_RETURN(LogBatch<v1::Change> batch,
                   changes_.ReadChanges(after, kpi_id, limit, with_figures));
  RETURN_IF_ERROR(sync_->CatchUp());
  for (v1::Change& change : batch.entries) {
    if (change.figures_size() > 0 &&
        cache_->BaselinesOrTargetsGeneration(change.kpi_id()) > change.sequence()) {
      change.clear_figures();
      change.set_figures_generation(0);
    }
  }
  return batch;
}

}  // namespace suishin::kpi
