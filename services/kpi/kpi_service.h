// The gRPC face of kpi-service.
//
// Unary RPCs hand their request to KpiCatalog and finish with its status.
// CreateKpi first asks plan-service about the project without blocking (an
// async client call). ImportActuals collects the client's stream and applies
// it on the service's import thread, so no gRPC thread waits on a large
// transaction. WatchChanges replays the change log from a sequence, then
// follows new changes as SequenceFeed announces them.
#ifndef SUISHIN_SERVICES_KPI_KPI_SERVICE_H_
#define SUISHIN_SERVICES_KPI_KPI_SERVICE_H_

#include <memory>

#include "common/work_queue.h"
#include "services/kpi/kpi_catalog.h"
#include "services/kpi/plan_directory.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"

namespace suishin::kpi {

class KpiServiceImpl final : public v1::KpiService::CallbackService {
 public:
  // `catalog` and `plans` must outlive the service.
  KpiServiceImpl(KpiCatalog* catalog, PlanDirectory* plans);
  ~KpiServiceImpl() override;

  grpc::ServerUnaryReactor* CreateKpi(grpc::CallbackServerContext* context,
                                      const v1::CreateKpiRequest* request,
                                      v1::CreateKpiResponse* response) override;
  grpc::ServerUnaryReactor* GetKpi(grpc::CallbackServerContext* context,
                                   const v1::GetKpiRequest* request,
                                   v1::GetKpiResponse* response) override;
  grpc::ServerUnaryReactor* ListKpis(grpc::CallbackServerContext* context,
                                     const v1::ListKpisRequest* request,
                                     v1::ListKpisResponse* response) override;
  grpc::ServerUnaryReactor* SetBaseline(grpc::CallbackServerContext* context,
                                        const v1::SetBaselineRequest* request,
                                        v1::SetBaselineResponse* response) override;
  grpc::ServerUnaryReactor* ReviseTarget(grpc::CallbackServerContext* context,
                                         const v1::ReviseTargetRequest* request,
                                         v1::ReviseTargetResponse* response) override;
  grpc::ServerUnaryReactor* RecordActual(grpc::CallbackServerContext* context,
                                         const v1::RecordActualRequest* request,
                                         v1::RecordActualResponse* response) override;
  grpc::ServerReadReactor<v1::ImportActualsRequest>* ImportActuals(
      grpc::CallbackServerContext* context, v1::ImportActualsResponse* response) override;
  grpc::ServerUnaryReactor* GetProgress(grpc::CallbackServerContext* context,
                                        const v1::GetProgressRequest* request,
                                        v1::GetProgressResponse* response) override;
  grpc::ServerUnaryReactor* GetAggregate(grpc::CallbackServerContext* context,
                                         const v1::GetAggregateRequest* request,
                                         v1::GetAggregateResponse* response) override;
  grpc::ServerUnaryReactor* GetKpiTable(grpc::CallbackServerContext* context,
                                        const v1::GetKpiTableRequest* request,
                                        v1::GetKpiTableResponse* response) override;
  grpc::ServerUnaryReactor* GetHistory(grpc::CallbackServerContext* context,
                                       const v1::GetHistoryRequest* request,
                                       v1::GetHistoryResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchChangesResponse>* WatchChanges(
      grpc::CallbackServerContext* context, const v1::WatchChangesRequest* request) override;

 private:
  KpiCatalog* catalog_;
  PlanDirectory* plans_;
  // Runs imports one at a time, off the gRPC threads.
  std::unique_ptr<WorkQueue> imports_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_SERVICE_H_
