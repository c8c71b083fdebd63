#include "services/kpi/plan_directory.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/channel.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace suishin::kpi {
namespace {

// One lookup in flight: GetProject, then ListRegions under its area.
struct Lookup {
  std::string field;
  std::string project_id;
  PlanDirectory::Callback done;
  std::unique_ptr<grpc::ClientContext> project_context;
  plan::v1::GetProjectRequest project_request;
  plan::v1::GetProjectResponse project_response;
  std::unique_ptr<grpc::ClientContext> regions_context;
  plan::v1::ListRegionsRequest regions_request;
  plan::v1::ListRegionsResponse regions_response;
};

class GrpcPlanDirectory : public PlanDirectory {
 public:
  GrpcPlanDirectory(std::shared_ptr<grpc::ChannelInterface> channel, std::string address,
                    absl::Duration timeout)
      : stub_(plan::v1::PlanService::NewStub(std::move(channel))),
        address_(std::move(address)),
        timeout_(timeout) {}

  // Blocks (a gRPC thread) only to read the tree, the first time and for a
  // region not known yet.
  absl::StatusOr<std::vector<std::string>> RegionAndAbove(absl::string_view region_id) override {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (!parents_.contains(region_id) && now - last_read_ >= absl::Seconds(1)) {
      last_read_ = now;
      RETURN_IF_ERROR(ReadTreeLocked());
    }
    std::vector<std::string> above;
    for (auto at = parents_.find(region_id); at != parents_.end() && above.size() < 16;
         at = parents_.find(at->second)) {
      above.push_back(at->first);
      if (at->second.empty()) break;
    }
    return above;
  }

  void ResolveProject(absl::string_view field, const std::string& project_id,
                      const grpc::ServerContextBase* parent, Callback done) override {
    auto lookup = std::make_shared<Lookup>();
    lookup->field = std::string(field);
    lookup->project_id = project_id;
    lookup->done = std::move(done);
    lookup->project_context = NewClientContext(timeout_, parent);
    lookup->project_request.set_id(project_id);
    // The regions call gets what is left of the same deadline.
    lookup->regions_context = std::make_unique<grpc::ClientContext>();
    lookup->regions_context->set_deadline(lookup->project_context->deadline());
    stub_->async()->GetProject(
        lookup->project_context.get(), &lookup->project_request, &lookup->project_response,
        [this, lookup](grpc::Status status) {
          if (!status.ok()) {
            lookup->done(Explain(*lookup, status));
            return;
          }
          lookup->regions_request.set_root_id(lookup->project_response.project().area_id());
          lookup->regions_request.set_page_size(1000);
          stub_->async()->ListRegions(
              lookup->regions_context.get(), &lookup->regions_request, &lookup->regions_response,
              [this, lookup](grpc::Status status) {
                if (!status.ok()) {
                  lookup->done(Explain(*lookup, status));
                  return;
                }
                ProjectScope scope;
                scope.project = std::move(*lookup->project_response.mutable_project());
                for (auto& region : *lookup->regions_response.mutable_regions()) {
                  scope.regions.push_back(std::move(region));
                }
                lookup->done(std::move(scope));
              });
        });
  }

 private:
  absl::Status ReadTreeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    plan::v1::ListRegionsRequest request;
    request.set_page_size(1000);
    absl::flat_hash_map<std::string, std::string> parents;
    do {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
      plan::v1::ListRegionsResponse response;
      const grpc::Status status = stub_->ListRegions(&context, request, &response);
      if (!status.ok()) {
        return absl::UnavailableError(
            absl::StrCat("plan-service at ", address_, " is unavailable (", status.error_message(),
                         "); cannot check the caller's region scope, try again"));
      }
      for (const plan::v1::Region& region : response.regions()) {
        parents[region.id()] = region.parent_id();
      }
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    parents_ = std::move(parents);
    return absl::OkStatus();
  }

  // plan-service's answer as kpi-service's: the caller learns which field
  // and which dependency failed.
  absl::Status Explain(const Lookup& lookup, const grpc::Status& status) const {
    switch (status.error_code()) {
      case grpc::StatusCode::NOT_FOUND:
        return absl::NotFoundError(absl::StrCat(lookup.field, ": project \"", lookup.project_id,
                                                "\" not found in plan-service"));
      case grpc::StatusCode::UNAVAILABLE:
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        return absl::UnavailableError(absl::StrCat(
            "plan-service at ", address_, " is unavailable (", status.error_message(),
            "); cannot check ", lookup.field, " \"", lookup.project_id, "\", try again"));
      default:
        return absl::Status(FromGrpcStatus(status).code(),
                            absl::StrCat("plan-service: ", status.error_message()));
    }
  }

  std::unique_ptr<plan::v1::PlanService::Stub> stub_;
  std::string address_;
  absl::Duration timeout_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> parents_ ABSL_GUARDED_BY(mu_);  // id → parent
  absl::Time last_read_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace

std::unique_ptr<PlanDirectory> NewGrpcPlanDirectory(std::shared_ptr<grpc::ChannelInterface> channel,
                                                    std::string address, absl::Duration timeout) {
  return std::make_unique<GrpcPlanDirectory>(std::move(channel), std::move(address), timeout);
}

}  // namespace suishin::kpi
