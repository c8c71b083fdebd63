// PlanCatalog: the rules of plan-service, one method per RPC.
//
// Each method validates its request (every field, naming the field and the
// value in an INVALID_ARGUMENT), checks identities and references (NOT_FOUND,
// ALREADY_EXISTS), checks versions (FAILED_PRECONDITION), and writes through
// the store in one unit of work, so a refused request stores nothing.
// Thread-safe: the store serialises units of work.
//
// Example:
//   PlanCatalog catalog(store.get());
//   v1::GetProjectResponse response;
//   absl::Status status = catalog.GetProject(request, &response);
#ifndef SUISHIN_SERVICES_PLAN_PLAN_CATALOG_H_
#define SUISHIN_SERVICES_PLAN_PLAN_CATALOG_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/plan/plan_store.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::plan {

class PlanCatalog {
 public:
  // `store` must outlive the catalog. `now` gives the time stamped on writes.
  explicit PlanCatalog(PlanStore* store, std::function<absl::Time()> now = absl::Now);

  PlanCatalog(const PlanCatalog&) = delete;
  PlanCatalog& operator=(const PlanCatalog&) = delete;

  absl::Status CreateRegion(const v1::CreateRegionRequest& request,
                            v1::CreateRegionResponse* response);
  absl::Status GetRegion(const v1::GetRegionRequest& request, v1::GetRegionResponse* response);
  absl::Status ListRegions(const v1::ListRegionsRequest& request,
                           v1::ListRegionsResponse* response);

  absl::Status CreateProject(const v1::CreateProjectRequest& request,
                             v1::CreateProjectResponse* response);
  absl::Status GetProject(const v1::GetProjectRequest& request, v1::GetProjectResponse* response);
  absl::Status ListProjects(const v1::ListProjectsRequest& request,
                            v1::ListProjectsResponse* response);
  absl::Status UpdateProject(const v1::UpdateProjectRequest& request,
                             v1::UpdateProjectResponse* response);

  absl::Status CreateInitiative(const v1::CreateInitiativeRequest& request,
                                v1::CreateInitiativeResponse* response);
  absl::Status ListInitiatives(const v1::ListInitiativesRequest& request,
                               v1::ListInitiativesResponse* response);
  absl::Status UpdateInitiative(const v1::UpdateInitiativeRequest& request,
                                v1::UpdateInitiativeResponse* response);
  absl::Status DeleteInitiative(const v1::DeleteInitiativeRequest& request,
                                v1::DeleteInitiativeResponse* response);

  absl::Status ImportPlan(const v1::ImportPlanRequest& request, v1::ImportPlanResponse* response);

 private:
  PlanStore* store_;
  std::function<absl::Time()> now_;
};

}  // namespace suishin::plan

#endif  // SUISHIN_SERVICES_PLAN_PLAN_CATALOG_H_
