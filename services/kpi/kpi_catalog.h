// KpiCatalog: what kpi-service answers, one method per read RPC; a façade.
//
// The figures (GetProgress, GetAggregate, GetKpiTable) are the ReadModel's
// (read_model.h); a KPI's history and the change stream are the ChangeLog's
// (change_log.h); the KPIs themselves are read here from one consistent
// snapshot on a reader connection, never waiting for a write. Writes are
// KpiWriter's (kpi_writer.h), beside it in the service. With replicas, the
// figure reads catch up with the others' writes first (replica_sync.h).
//
// Thread-safe: the store's reads run side by side; the cache is thread-safe.
#ifndef SUISHIN_SERVICES_KPI_KPI_CATALOG_H_
#define SUISHIN_SERVICES_KPI_KPI_CATALOG_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/log_stream.h"
#include "services/kpi/change_log.h"
#include "services/kpi/figure_cache.h"
#include "services/kpi/kpi_store.h"
#include "services/kpi/read_model.h"
#include "services/kpi/replica_sync.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

class KpiCatalog {
 public:
  // `store`, `cache` and `reads` must outlive the catalog.
  KpiCatalog(KpiStore* store, FigureCache* cache, ReadModel* reads);

  KpiCatalog(const KpiCatalog&) = delete;
  KpiCatalog& operator=(const KpiCatalog&) = delete;

  // The KPI with this id as stored, nullopt when there is none.
  absl::StatusOr<std::optional<v1::Kpi>> FindKpi(const std::string& id);

  absl::Status GetKpi(const v1::GetKpiRequest& request, v1::GetKpiResponse* response);
  absl::Status ListKpis(const v1::ListKpisRequest& request, v1::ListKpisResponse* response);
  absl::Status GetProgress(const v1::GetProgressRequest& request,
                           v1::GetProgressResponse* response);
  absl::Status GetAggregate(const v1::GetAggregateRequest& request,
                            v1::GetAggregateResponse* response);
  absl::Status GetKpiTable(const v1::GetKpiTableRequest& request,
                           v1::GetKpiTableResponse* response);
  // GetProgress, GetAggregate and GetKpiTable as the bytes kpi-service sends.
  absl::StatusOr<ReadModel::Wire> GetProgressWire(const v1::GetProgressRequest& request);
  absl::StatusOr<ReadModel::Wire> GetAggregateWire(const v1::GetAggregateRequest& request);
  absl::StatusOr<ReadModel::Wire> GetKpiTableWire(const v1::GetKpiTableRequest& request);
  // See ChangeLog.
  absl::Status GetHistory(const v1::GetHistoryRequest& request, v1::GetHistoryResponse* response) {
    return changes_.GetHistory(request, response);
  }
  // With several replicas, figures attached to a change that another
  // replica's baseline or target change has since overtaken are left off.
  absl::StatusOr<LogBatch<v1::Change>> ReadChanges(int64_t after, const std::string& kpi_id,
                                                   int limit, bool with_figures = false);

  // With several replicas on one store: every figure read first catches up
  // with the others' writes (replica_sync.h). Null (one process): the write
  // path keeps the figures current by itself.
  void set_replica_sync(ReplicaSync* sync) { sync_ = sync; }

 private:
  // Catches up with other replicas' writes, when there are any.
  absl::Status Fresh();

  KpiStore* const store_;
  FigureCache* const cache_;
  ReplicaSync* sync_ = nullptr;
  ReadModel* const reads_;
  ChangeLog changes_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_CATALOG_H_
