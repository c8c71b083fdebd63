// Where plan-service keeps regions, projects and initiatives.
//
// A PlanStore runs units of work: a function given a PlanTransaction, whose
// reads see the writes made before them in the same unit, and which is
// committed whole when the function returns OK and rolled back whole
// otherwise. The rules (what is valid, what must exist, versions) live in
// PlanCatalog, which runs inside a unit of work so its checks and its writes
// are atomic; the store only keeps and finds messages.
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
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::plan {

// A stored message with the key that orders it (insertion order), which
// page tokens carry.
template <typename T>
struct Keyed {
  int64_t key;
  T value;
};

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
  virtual ~PlanStore() = default;

  // Runs `body` as one unit of work, all or nothing, serialised with every
  // other unit. Returns the body's status, or the store's if it could not
  // commit. Safe to call from several threads.
  virtual absl::Status Run(const std::function<absl::Status(PlanTransaction&)>& body) = 0;
};

}  // namespace suishin::plan

#endif  // SUISHIN_SERVICES_PLAN_PLAN_STORE_H_
