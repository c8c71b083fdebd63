// The gRPC face of kpi-service. CreateKpi asks plan-service about the project
// without blocking (async client call), then stores the KPI; GetKpi and
// ListKpis read the store. The other methods of the API (baselines, targets,
// actuals, progress, aggregates, the change log) arrive with the KPI service
// issue; until then they answer UNIMPLEMENTED, the generated base class's
// behaviour.
#ifndef SUISHIN_SERVICES_KPI_KPI_SERVICE_H_
#define SUISHIN_SERVICES_KPI_KPI_SERVICE_H_

#include "services/kpi/kpi_catalog.h"
#include "services/kpi/plan_directory.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"

namespace suishin::kpi {

class KpiServiceImpl final : public v1::KpiService::CallbackService {
 public:
  // `catalog` and `plans` must outlive the service.
  KpiServiceImpl(KpiCatalog* catalog, PlanDirectory* plans) : catalog_(catalog), plans_(plans) {}

  grpc::ServerUnaryReactor* CreateKpi(grpc::CallbackServerContext* context,
                                      const v1::CreateKpiRequest* request,
                                      v1::CreateKpiResponse* response) override;
  grpc::ServerUnaryReactor* GetKpi(grpc::CallbackServerContext* context,
                                   const v1::GetKpiRequest* request,
                                   v1::GetKpiResponse* response) override;
  grpc::ServerUnaryReactor* ListKpis(grpc::CallbackServerContext* context,
                                     const v1::ListKpisRequest* request,
                                     v1::ListKpisResponse* response) override;

 private:
  KpiCatalog* catalog_;
  PlanDirectory* plans_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_SERVICE_H_
