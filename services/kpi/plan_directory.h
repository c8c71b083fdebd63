// What kpi-service needs to know from plan-service, behind an interface so
// tests can also run it against a real plan-service on loopback.
//
// kpi-service never reads plan-service's store: it asks over gRPC, with a
// deadline on every call, and says UNAVAILABLE (naming plan-service and its
// address) when plan-service cannot be reached in time.
#ifndef SUISHIN_SERVICES_KPI_PLAN_DIRECTORY_H_
#define SUISHIN_SERVICES_KPI_PLAN_DIRECTORY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/scope.h"
#include "suishin/plan/v1/plan.grpc.pb.h"

namespace grpc {
class ServerContextBase;
}

namespace suishin::kpi {

// A project and the regions of its cooperation area (the area first, then
// its descendants in tree order).
struct ProjectScope {
  plan::v1::Project project;
  std::vector<plan::v1::Region> regions;
};

// It also tells AuthorizeScope (common/scope.h) where a region lies:
// RegionAndAbove answers from the region tree it keeps, read from
// plan-service whole (ListRegions) the first time and again when asked for a
// region it does not know (at most once a second). Regions never move (the
// tree's invariants), so what it keeps stays true.
class PlanDirectory : public ScopeResolver {
 public:
  using Callback = std::function<void(absl::StatusOr<ProjectScope>)>;
  virtual ~PlanDirectory() = default;

  // Looks up `project_id` and its area's regions, then calls `done` once, on
  // some thread: NOT_FOUND naming `field` when the project does not exist,
  // UNAVAILABLE when plan-service cannot answer within the deadline.
  // `parent` (may be null) is the server call being served: its deadline
  // caps the lookup's. Never blocks the caller.
  virtual void ResolveProject(absl::string_view field, const std::string& project_id,
                              const grpc::ServerContextBase* parent, Callback done) = 0;
};

// The PlanDirectory that asks plan-service over `channel` (made once at
// start-up), each call with `timeout`.
std::unique_ptr<PlanDirectory> NewGrpcPlanDirectory(std::shared_ptr<grpc::ChannelInterface> channel,
                                                    std::string address, absl::Duration timeout);

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_PLAN_DIRECTORY_H_
