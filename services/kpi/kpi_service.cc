#include "services/kpi/kpi_service.h"

#include <utility>

#include "common/grpc_status.h"

namespace suishin::kpi {

grpc::ServerUnaryReactor* KpiServiceImpl::CreateKpi(grpc::CallbackServerContext* context,
                                                    const v1::CreateKpiRequest* request,
                                                    v1::CreateKpiResponse* response) {
  absl::StatusOr<v1::Kpi> kpi = catalog_->PrepareKpi(*request);
  if (!kpi.ok()) return FinishUnary(context, kpi.status());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string project_id = kpi->project_id();  // kpi moves into the callback
  plans_->ResolveProject(
      "kpi.project_id", project_id, context,
      [this, reactor, response, kpi = *std::move(kpi)](absl::StatusOr<ProjectScope> scope) {
        if (!scope.ok()) {
          reactor->Finish(ToGrpcStatus(scope.status()));
          return;
        }
        reactor->Finish(ToGrpcStatus(catalog_->CreateKpi(kpi, *scope, response)));
      });
  return reactor;
}

grpc::ServerUnaryReactor* KpiServiceImpl::GetKpi(grpc::CallbackServerContext* context,
                                                 const v1::GetKpiRequest* request,
                                                 v1::GetKpiResponse* response) {
  return FinishUnary(context, catalog_->GetKpi(*request, response));
}

grpc::ServerUnaryReactor* KpiServiceImpl::ListKpis(grpc::CallbackServerContext* context,
                                                   const v1::ListKpisRequest* request,
                                                   v1::ListKpisResponse* response) {
  return FinishUnary(context, catalog_->ListKpis(*request, response));
}

}  // namespace suishin::kpi
