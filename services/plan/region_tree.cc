#include "services/plan/region_tree.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace suishin::plan {
namespace {

using common::v1::RegionKind;
using v1::Region;

// The regions of a write laid over the store (a written region hides the
// stored one with its id), with the store's answers remembered: an import's
// regions share their ancestors, and each is looked up once.
class MergedTree {
 public:
  MergedTree(const std::vector<RegionWrite>& writes, const RegionLookup& stored) : stored_(stored) {
    for (const RegionWrite& write : writes) written_.emplace(write.region->id(), write.region);
  }

  // The region as it will be once the write is stored.
  absl::StatusOr<std::optional<Region>> Find(absl::string_view id) {
    if (auto it = written_.find(id); it != written_.end()) return *it->second;
    return Stored(id);
  }

  // The region as the store holds it now.
  absl::StatusOr<std::optional<Region>> Stored(absl::string_view id) {
    if (auto it = stored_cache_.find(id); it != stored_cache_.end()) return it->second;
    ASSIGN_OR_RETURN(std::optional<Region> region, stored_(id));
    stored_cache_.emplace(std::string(id), region);
    return region;
  }

 private:
  const RegionLookup& stored_;
  absl::flat_hash_map<std::string, const Region*> written_;
  absl::flat_hash_map<std::string, std::optional<Region>> stored_cache_;
};

// FAILED_PRECONDITION in FieldError's wording.
absl::Status FieldPreconditionError(absl::string_view field, absl::string_view value,
                                    absl::string_view problem) {
  return absl::FailedPreconditionError(
      absl::StrCat(field, ": ", problem, " (got \"", value, "\")"));
}

// Step 2 of CheckRegionWrites for one region: follows its parents through
// `tree`. Returns the refusal when the region would be its own ancestor;
// notes in `*damaged` (when still OK) a cycle or an over-deep chain above it
// that does not pass through it.
absl::Status CheckAncestry(const RegionWrite& write, MergedTree& tree, absl::Status* damaged) {
  const Region& region = *write.region;
  const std::string field = absl::StrCat(write.field, ".parent_id");
  std::vector<std::string> path = {region.id()};
  absl::flat_hash_set<std::string> seen = {region.id()};
  std::string parent_id = region.parent_id();
  for (int depth = 0; !parent_id.empty(); ++depth) {
    if (parent_id == region.id()) {
      path.push_back(parent_id);
      return FieldError(field, region.parent_id(),
                        absl::StrCat("would make region \"", region.id(),
                                     "\" its own ancestor: ", absl::StrJoin(path, " → ")));
    }
    if (!seen.insert(parent_id).second) {
      path.push_back(parent_id);
      if (damaged->ok()) {
        *damaged = FieldPreconditionError(
            field, region.parent_id(),
            absl::StrCat("the stored regions above form a cycle (", absl::StrJoin(path, " → "),
                         "); repair them first"));
      }
      return absl::OkStatus();
    }
    if (depth >= kMaxRegionDepth) {
      if (damaged->ok()) {
        *damaged =
            FieldPreconditionError(field, region.parent_id(),
                                   absl::StrCat("the stored regions above run deeper than ",
                                                kMaxRegionDepth, " levels; repair them first"));
      }
      return absl::OkStatus();
    }
    path.push_back(parent_id);
    ASSIGN_OR_RETURN(std::optional<Region> parent, tree.Find(parent_id));
    if (!parent) return absl::OkStatus();  // step 3 names the missing parent
    parent_id = parent->parent_id();
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view RegionKindName(RegionKind kind) {
  switch (kind) {
    case common::v1::REGION_KIND_PREFECTURE:
      return "a prefecture (都道府県)";
    case common::v1::REGION_KIND_COOPERATION_AREA:
      return "a cooperation area (連携地域)";
    case common::v1::REGION_KIND_SUBPREFECTURE:
      return "a subprefecture (振興局)";
    case common::v1::REGION_KIND_MUNICIPALITY:
      return "a municipality (市町村)";
    default:
      return "unspecified";
  }
}

absl::Status CheckRegionWrites(const std::vector<RegionWrite>& writes, const RegionLookup& stored) {
  MergedTree tree(writes, stored);
  // 1. Kinds: what a region is never changes, so its children stay valid.
  for (const RegionWrite& write : writes) {
    const Region& region = *write.region;
    ASSIGN_OR_RETURN(std::optional<Region> existing, tree.Stored(region.id()));
    if (existing && existing->kind() != region.kind()) {
      return FieldError(
          absl::StrCat(write.field, ".kind"), common::v1::RegionKind_Name(region.kind()),
          absl::StrCat("region \"", region.id(), "\" is ", RegionKindName(existing->kind()),
                       ", and a region never changes kind"));
    }
  }
  // 2. Cycles, before the levels: a client told "cycle" learns the real
  // problem, where "wrong level" would only be its symptom.
  absl::Status damaged;
  for (const RegionWrite& write : writes) RETURN_IF_ERROR(CheckAncestry(write, tree, &damaged));
  RETURN_IF_ERROR(damaged);
  // 3. Parents: there, and one level up.
  for (const RegionWrite& write : writes) {
    const Region& region = *write.region;
    if (region.kind() == common::v1::REGION_KIND_PREFECTURE) continue;  // the root
    const std::string field = absl::StrCat(write.field, ".parent_id");
    ASSIGN_OR_RETURN(std::optional<Region> parent, tree.Find(region.parent_id()));
    if (!parent) {
      return absl::NotFoundError(
          absl::StrCat(field, ": region \"", region.parent_id(), "\" not found"));
    }
    const auto above = static_cast<RegionKind>(region.kind() - 1);
    if (parent->kind() != above) {
      return FieldError(
          field, region.parent_id(),
          absl::StrCat("is ", RegionKindName(parent->kind()), ", but the parent of ",
                       RegionKindName(region.kind()), " must be ", RegionKindName(above)));
    }
  }
  return absl::OkStatus();
}

std::vector<Region> TreeOrder(const std::vector<Region>& regions, absl::string_view root_id) {
  absl::flat_hash_map<absl::string_view, std::vector<const Region*>> children;
  std::vector<const Region*> roots;
  for (const Region& region : regions) {
    if (!root_id.empty() && region.id() == root_id) roots.push_back(&region);
    children[region.parent_id()].push_back(&region);
  }
  if (root_id.empty()) roots = children[""];
  std::vector<Region> out;
  absl::flat_hash_set<absl::string_view> placed;
  // Depth-first, each region with its depth below the root.
  std::vector<std::pair<const Region*, int>> stack;
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.push_back({*it, 0});
  while (!stack.empty()) {
    const auto [region, depth] = stack.back();
    stack.pop_back();
    if (!placed.insert(region->id()).second) continue;  // on a cycle: listed already
    out.push_back(*region);
    if (depth >= kMaxRegionDepth) continue;
    auto kids = children.find(region->id());
    if (kids == children.end()) continue;
    for (auto it = kids->second.rbegin(); it != kids->second.rend(); ++it) {
      if (!placed.contains((*it)->id())) stack.push_back({*it, depth + 1});
    }
  }
  return out;
}

absl::StatusOr<bool> IsWithin(const RegionLookup& find, absl::string_view id,
                              absl::string_view root_id) {
  absl::flat_hash_set<std::string> seen;
  std::string current(id);
  for (int depth = 0; depth <= kMaxRegionDepth && !current.empty(); ++depth) {
    if (current == root_id) return true;
    if (!seen.insert(current).second) return false;  // a cycle never reaches the root
    ASSIGN_OR_RETURN(std::optional<Region> region, find(current));
    if (!region) return false;
    current = region->parent_id();
  }
  return false;
}

}  // namespace suishin::plan
