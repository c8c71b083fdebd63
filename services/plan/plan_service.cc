#include "services/plan/plan_service.h"

#include <functional>

#include "common/grpc_status.h"
#include "common/scope.h"

namespace suishin::plan {
namespace {

// Starts a write through `start` and returns its reactor, which the write's
// `done` finishes (perhaps before this returns, when the request is refused
// at once). A request outside the caller's region scope is refused first.
grpc::ServerUnaryReactor* StartWrite(grpc::CallbackServerContext* context,
                                     const google::protobuf::Message& request,
                                     ScopeResolver& scopes,
                                     const std::function<void(PlanCatalog::Done)>& start) {
  if (absl::Status allowed = AuthorizeScope(*context, request, scopes); !allowed.ok()) {
    return FinishUnary(context, allowed);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  start([reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* PlanServiceImpl::CreateRegion(grpc::CallbackServerContext* context,
                                                        const v1::CreateRegionRequest* request,
                                                        v1::CreateRegionResponse* response) {
  return StartWrite(context, *request, *catalog_, [&](PlanCatalog::Done done) {
    catalog_->CreateRegion(*request, response, std::move(done));
  });
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
  return StartWrite(context, *request, *catalog_, [&](PlanCatalog::Done done) {
    catalog_->CreateProject(*request, response, std::move(done));
  });
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
  return StartWrite(context, *request, *catalog_, [&](PlanCatalog::Done done) {
    catalog_->UpdateProject(*request, response, std::move(done));
  });
}

grpc::ServerUnaryReactor* PlanServiceImpl::CreateInitiative(
    grpc::CallbackServerContext* context, const v1::CreateInitiativeRequest* request,
    v1::CreateInitiativeResponse* response) {
  return StartWrite(context, *request, *catalog_, [&](PlanCatalog::Done done) {
    catalog_->CreateInitiative(*request, response, std::move(done));
  });
}

grpc::ServerUnaryReactor* PlanServiceImpl::ListInitiatives(
    grpc::CallbackServerContext* context, const v1::ListInitiativesRequest* request,
    v1::ListInitiativesResponse* response) {
  return FinishUnary(context, catalog_->ListInitiatives(*request, response));
}

grpc::ServerUnaryReactor* PlanServiceImpl::UpdateInitiative(
    grpc::CallbackServerContext* context, const v1::UpdateInitiativeRequest* request,
    v1::UpdateInitiativeResponse* response) {
  return StartWrite(context, *request, *catalog_, [&](PlanCatalog::Done done) {
    catalog_->UpdateInitiative(*request, response, std::move(done));
  });
}

grpc::ServerUnaryReactor* PlanServiceImpl::DeleteInitiative(
    grpc::CallbackServerContext* context, const v1::DeleteInitiativeRequest* request,
    v1::DeleteInitiativeResponse* response) {
  return StartWrite(context, *request, *catalog_, [&](PlanCatalog::Done done) {
    catalog_->DeleteInitiative(*request, response, std::move(done));
  });
}

grpc::ServerUnaryReactor* PlanServiceImpl::ImportPlan(grpc::CallbackServerContext* context,
                                                      const v1::ImportPlanRequest* request,
                                                      v1::ImportPlanResponse* response) {
  return StartWrite(context, *request, *catalog_, [&](PlanCatalog::Done done) {
    catalog_->ImportPlan(*request, response, std::move(done));
  });
}

}  // namespace suishin::plan
