// The gRPC face of plan-service (callback API): each RPC hands its request to
// PlanCatalog. A read finishes with the catalog's answer, read from a
// snapshot on the spot; a write returns its reactor at once and is finished
// by the catalog's `done` once the write is durable or refused, so no gRPC
// thread ever waits for the writer.
#ifndef SUISHIN_SERVICES_PLAN_PLAN_SERVICE_H_
#define SUISHIN_SERVICES_PLAN_PLAN_SERVICE_H_

#include "services/plan/plan_catalog.h"
#include "suishin/plan/v1/plan.grpc.pb.h"

namespace suishin::plan {

class PlanServiceImpl final : public v1::PlanService::CallbackService {
 public:
  // `catalog` must outlive the service.
  explicit PlanServiceImpl(PlanCatalog* catalog) : catalog_(catalog) {}

  grpc::ServerUnaryReactor* CreateRegion(grpc::CallbackServerContext* context,
                                         const v1::CreateRegionRequest* request,
                                         v1::CreateRegionResponse* response) override;
  grpc::ServerUnaryReactor* GetRegion(grpc::CallbackServerContext* context,
                                      const v1::GetRegionRequest* request,
                                      v1::GetRegionResponse* response) override;
  grpc::ServerUnaryReactor* ListRegions(grpc::CallbackServerContext* context,
                                        const v1::ListRegionsRequest* request,
                                        v1::ListRegionsResponse* response) override;
  grpc::ServerUnaryReactor* CreateProject(grpc::CallbackServerContext* context,
                                          const v1::CreateProjectRequest* request,
                                          v1::CreateProjectResponse* response) override;
  grpc::ServerUnaryReactor* GetProject(grpc::CallbackServerContext* context,
                                       const v1::GetProjectRequest* request,
                                       v1::GetProjectResponse* response) override;
  grpc::ServerUnaryReactor* ListProjects(grpc::CallbackServerContext* context,
                                         const v1::ListProjectsRequest* request,
                                         v1::ListProjectsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateProject(grpc::CallbackServerContext* context,
                                          const v1::UpdateProjectRequest* request,
                                          v1::UpdateProjectResponse* response) override;
  grpc::ServerUnaryReactor* CreateInitiative(grpc::CallbackServerContext* context,
                                             const v1::CreateInitiativeRequest* request,
                                             v1::CreateInitiativeResponse* response) override;
  grpc::ServerUnaryReactor* ListInitiatives(grpc::CallbackServerContext* context,
                                            const v1::ListInitiativesRequest* request,
                                            v1::ListInitiativesResponse* response) override;
  grpc::ServerUnaryReactor* UpdateInitiative(grpc::CallbackServerContext* context,
                                             const v1::UpdateInitiativeRequest* request,
                                             v1::UpdateInitiativeResponse* response) override;
  grpc::ServerUnaryReactor* DeleteInitiative(grpc::CallbackServerContext* context,
                                             const v1::DeleteInitiativeRequest* request,
                                             v1::DeleteInitiativeResponse* response) override;
  grpc::ServerUnaryReactor* ImportPlan(grpc::CallbackServerContext* context,
                                       const v1::ImportPlanRequest* request,
                                       v1::ImportPlanResponse* response) override;

 private:
  PlanCatalog* catalog_;
};

}  // namespace suishin::plan

#endif  // SUISHIN_SERVICES_PLAN_PLAN_SERVICE_H_
