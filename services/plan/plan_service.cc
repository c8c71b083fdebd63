#include "services/plan/plan_service.h"

#include "common/grpc_status.h"

namespace suishin::plan {

grpc::ServerUnaryReactor* PlanServiceImpl::CreateRegion(grpc::CallbackServerContext* context,
                                                        const v1::CreateRegionRequest* request,
                                                        v1::CreateRegionResponse* response) {
  return FinishUnary(context, catalog_->CreateRegion(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::GetRegion(grpc::CallbackServerContext* context,
                                                     const v1::GetRegionRequest* request,
                                                     v1::GetRegionResponse* response) {
  return FinishUnary(context, catalog_->GetRegion(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::ListRegions(grpc::CallbackServerContext* context,
                                                       const v1::ListRegionsRequest* request,
                                                       v1::ListRegionsResponse* response) {
  return FinishUnary(context, catalog_->ListRegions(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::CreateProject(grpc::CallbackServerContext* context,
                                                         const v1::CreateProjectRequest* request,
                                                         v1::CreateProjectResponse* response) {
  return FinishUnary(context, catalog_->CreateProject(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::GetProject(grpc::CallbackServerContext* context,
                                                      const v1::GetProjectRequest* request,
                                                      v1::GetProjectResponse* response) {
  return FinishUnary(context, catalog_->GetProject(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::ListProjects(grpc::CallbackServerContext* context,
                                                        const v1::ListProjectsRequest* request,
                                                        v1::ListProjectsResponse* response) {
  return FinishUnary(context, catalog_->ListProjects(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::UpdateProject(grpc::CallbackServerContext* context,
                                                         const v1::UpdateProjectRequest* request,
                                                         v1::UpdateProjectResponse* response) {
  return FinishUnary(context, catalog_->UpdateProject(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::CreateInitiative(
    grpc::CallbackServerContext* context, const v1::CreateInitiativeRequest* request,
    v1::CreateInitiativeResponse* response) {
  return FinishUnary(context, catalog_->CreateInitiative(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::ListInitiatives(
    grpc::CallbackServerContext* context, const v1::ListInitiativesRequest* request,
    v1::ListInitiativesResponse* response) {
  return FinishUnary(context, catalog_->ListInitiatives(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::UpdateInitiative(
    grpc::CallbackServerContext* context, const v1::UpdateInitiativeRequest* request,
    v1::UpdateInitiativeResponse* response) {
  return FinishUnary(context, catalog_->UpdateInitiative(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::DeleteInitiative(
    grpc::CallbackServerContext* context, const v1::DeleteInitiativeRequest* request,
    v1::DeleteInitiativeResponse* response) {
  return FinishUnary(context, catalog_->DeleteInitiative(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::ImportPlan(grpc::CallbackServerContext* context,
                                                      const v1::ImportPlanRequest* request,
                                                      v1::ImportPlanResponse* response) {
  return FinishUnary(context, catalog_->ImportPlan(*request, response));
}

}  // namespace suishin::plan
