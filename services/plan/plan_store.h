// Where plan-service keeps regions, projects and initiatives.
//
// Writes come as groups of bodies (a function given a PlanTransaction): the
// group is one durable commit, and each body is all or nothing on its own,
// its reads seeing the writes made before them in the group (plan-service's
// BatchWriter hands its writes to RunGroup). Reads run on a snapshot of what
// was committed, beside the writer, never waiting for it. The rules (what is
// valid, what must exist, versions, the shape of the region tree) live in
// PlanCatalog, whose bodies check and write in one go, so a refused write
// stores nothing; the store only keeps and finds messages.
//
// The SQLite implementation is sqlite_plan_store.h; a PostgreSQL one can
// implement the same interface for replicas.
#ifndef SUISHIN_SERVICES_PLAN_PLAN_STORE_H_
#define SUISHIN_SERVICES_PLAN_PLAN_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/page_token.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::plan {

// A stored message with the key that orders it (common/page_token.h).
using ::suishin::Keyed;

// Filters for ListInitiatives; empty or zero fields match everything.
struct InitiativeQuery {
  std::string project_id;
  int fiscal_year = 0;
  v1::InitiativeStage stage = v1::INITIATIVE_STAGE_UNSPECIFIED;
  std::string region_id;
  // Matches a body equal to it or to it followed by 等 ("振興局" → "振興局等").
  std::string responsible_body;
  std::string pillar_id;
  // Only items with a key greater than this.
  int64_t after_key = 0;
  // At most this many.
  int limit = 100;
};

// What a body reads and writes through. The Put and Delete methods work only
// in a write (RunGroup); in a Read they fail with FAILED_PRECONDITION.
class PlanTransaction {
 public:
  virtual ~PlanTransaction() = default;

  // nullopt when there is no such region.
  virtual absl::StatusOr<std::optional<v1::Region>> FindRegion(absl::string_view id) = 0;
  // Every region, in insertion order.
  virtual absl::StatusOr<std::vector<v1::Region>> AllRegions() = 0;
  // Adds a region, or replaces the one with the same id.
  virtual absl::Status PutRegion(const v1::Region& region) = 0;

  virtual absl::StatusOr<std::optional<v1::Project>> FindProject(absl::string_view id) = 0;
  // Projects (of one area when `area_id` is not empty) with keys after
  // `after_key`, in key order, at most `limit`.
  virtual absl::StatusOr<std::vector<Keyed<v1::Project>>> ListProjects(absl::string_view area_id,
                                                                       int64_t after_key,
                                                                       int limit) = 0;
  // Adds a project, or replaces the one with the same id (keeping its key).
  virtual absl::Status PutProject(const v1::Project& project) = 0;

  virtual absl::StatusOr<std::optional<v1::Initiative>> FindInitiative(absl::string_view id) = 0;
  virtual absl::StatusOr<std::vector<Keyed<v1::Initiative>>> ListInitiatives(
      const InitiativeQuery& query) = 0;
  // How many initiatives of a project sit under a pillar.
  virtual absl::StatusOr<int64_t> CountInitiatives(absl::string_view project_id,
                                                   absl::string_view pillar_id) = 0;
  // Adds an initiative, or replaces the one with the same id (keeping its
  // key, so its place in lists).
  virtual absl::Status PutInitiative(const v1::Initiative& initiative) = 0;
  // Removes an initiative; OK if there was none.
  virtual absl::Status DeleteInitiative(absl::string_view id) = 0;
};

class PlanStore {
 public:
  using Body = std::function<absl::Status(PlanTransaction&)>;

  virtual ~PlanStore() = default;

  // Runs `bodies` in order as one group: each body is all or nothing (a body
  // that fails leaves no trace and fails only itself), the group is one
  // durable commit. Fills one status per body: its own, or the commit's
  // error (then nothing of the group is stored). Returns the commit's
  // status. Called by one writer at a time (the catalog's BatchWriter); safe
  // from several threads all the same.
  virtual absl::Status RunGroup(const std::vector<const Body*>& bodies,
                                std::vector<absl::Status>* outcomes) = 0;

  // Runs `body`, which only reads (a write through its transaction fails),
  // on a consistent snapshot of everything committed when it starts. It
  // never waits for a write in progress, and several run at once: the short
  // reads of the RPCs run it on gRPC's threads.
  virtual absl::Status Read(const Body& body) = 0;

  // One body alone, as a group of one: for start-up and tests; the
  // service's writes go through its BatchWriter.
  absl::Status Run(const Body& body) {
    std::vector<absl::Status> outcomes;
    RunGroup({&body}, &outcomes).IgnoreError();  // the outcome carries it
    return outcomes.empty() ? absl::InternalError("the store gave no outcome") : outcomes[0];
  }
};

}  // namespace suishin::plan

#endif  // SUISHIN_SERVICES_PLAN_PLAN_STORE_H_
