// PlanCatalog: the rules of plan-service, one method per RPC, and its one
// write path.
//
// Reads (GetRegion, ListRegions, GetProject, ListProjects, ListInitiatives)
// validate the request and answer from a snapshot of the store's readers on
// the calling thread: short, and never waiting for a write in progress.
//
// Writes (CreateRegion, CreateProject, UpdateProject, CreateInitiative,
// UpdateInitiative, DeleteInitiative, ImportPlan) go in two steps, in the
// shape of LevelDB's DBImpl::Write:
//   1. on the calling thread, what needs no store: unknown and output-only
//      fields dropped, every field and bound checked (plan_validation.h).
//      A refusal calls `done` at once, on this thread;
//   2. a body handed to the catalog's one BatchWriter, which returns at once.
//      On the writer thread the body checks what needs the store
//      (identities: NOT_FOUND, ALREADY_EXISTS; versions: FAILED_PRECONDITION;
//      references; the region tree: region_tree.h) and writes, all or nothing
//      under its own savepoint, committed with the bodies waiting beside it
//      in one durable transaction. `done` is then called on the writer
//      thread: OK with `*response` filled once the commit is durable, or the
//      body's refusal (nothing of it stored; the others of its group are
//      unaffected). RESOURCE_EXHAUSTED when too many writes wait
//      (--max_queued_writes).
// `done` is called exactly once and must be quick (it finishes an RPC).
// `request` may go as soon as the method returns; `response` must stay valid
// until `done` is called. Nothing here calls SQLite on the calling thread
// except the reads' short snapshot reads.
//
// Thread-safe. The destructor commits the writes still queued, calling their
// `done`, before it returns.
//
// Example:
//   PlanCatalog catalog(store.get());
//   catalog.CreateRegion(request, response, [reactor](absl::Status status) {
//     reactor->Finish(ToGrpcStatus(status));
//   });
#ifndef SUISHIN_SERVICES_PLAN_PLAN_CATALOG_H_
#define SUISHIN_SERVICES_PLAN_PLAN_CATALOG_H_

#include <atomic>
#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/batch_writer.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/scope.h"
#include "services/plan/plan_store.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::plan {

class PlanCatalog : public ScopeResolver {
 public:
  // Told a write's outcome; see the file comment for when and where.
  using Done = std::function<void(absl::Status)>;

  struct Options {
    // The time stamped on writes.
    const Clock* clock = SystemClock();
    // Regions, projects and initiatives one ImportPlan may carry together
    // (--import_plan_max_items).
    int import_max_items = 10000;
    // Writes that may wait for the writer (--max_queued_writes: the
    // process's limit) and writes committed together at most.
    size_t max_queued_writes = static_cast<size_t>(ProcessLimits().max_queued_writes);
    size_t max_group = 256;
  };

  // What the write path has done so far.
  struct WriteStats {
    // Writes handed to the writer (refused at once when its queue is full),
    // counted once they are in its queue.
    int64_t submitted = 0;
    // Groups committed, and the writes in them.
    int64_t groups = 0;
    int64_t writes = 0;
  };

  // `store` must outlive the catalog.
  explicit PlanCatalog(PlanStore* store);
  PlanCatalog(PlanStore* store, Options options);

  PlanCatalog(const PlanCatalog&) = delete;
  PlanCatalog& operator=(const PlanCatalog&) = delete;

  // ---- Reads ----
  absl::Status GetRegion(const v1::GetRegionRequest& request, v1::GetRegionResponse* response);
  // In tree order; answers even when the stored tree is damaged (region_tree.h).
  absl::Status ListRegions(const v1::ListRegionsRequest& request,
                           v1::ListRegionsResponse* response);
  absl::Status GetProject(const v1::GetProjectRequest& request, v1::GetProjectResponse* response);
  absl::Status ListProjects(const v1::ListProjectsRequest& request,
                            v1::ListProjectsResponse* response);
  absl::Status ListInitiatives(const v1::ListInitiativesRequest& request,
                               v1::ListInitiativesResponse* response);

  // ---- Writes ----
  void CreateRegion(const v1::CreateRegionRequest& request, v1::CreateRegionResponse* response,
                    Done done);
  void CreateProject(const v1::CreateProjectRequest& request, v1::CreateProjectResponse* response,
                     Done done);
  void UpdateProject(const v1::UpdateProjectRequest& request, v1::UpdateProjectResponse* response,
                     Done done);
  void CreateInitiative(const v1::CreateInitiativeRequest& request,
                        v1::CreateInitiativeResponse* response, Done done);
  void UpdateInitiative(const v1::UpdateInitiativeRequest& request,
                        v1::UpdateInitiativeResponse* response, Done done);
  void DeleteInitiative(const v1::DeleteInitiativeRequest& request,
                        v1::DeleteInitiativeResponse* response, Done done);
  // All of the dataset or none of it, in one body.
  void ImportPlan(const v1::ImportPlanRequest& request, v1::ImportPlanResponse* response,
                  Done done);

  WriteStats write_stats() const;

  // ---- Where things lie (common/scope.h), from the store ----
  absl::StatusOr<std::vector<std::string>> RegionAndAbove(absl::string_view region_id) override;
  absl::StatusOr<std::string> AreaOfProject(absl::string_view project_id) override;
  absl::StatusOr<std::string> AreaOfInitiative(absl::string_view initiative_id) override;

 private:
  // Calls `done` with the refusal when `body` is one (the request failed its
  // checks); hands the body to the writer otherwise.
  void Write(absl::StatusOr<PlanStore::Body> body, Done done);

  PlanStore* const store_;
  const Options options_;
  std::atomic<int64_t> submitted_{0};
  // Last: destroyed first, committing what is queued while the rest is here.
  BatchWriter<PlanTransaction> writer_;
};

}  // namespace suishin::plan

#endif  // SUISHIN_SERVICES_PLAN_PLAN_CATALOG_H_
