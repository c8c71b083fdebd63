// The region tree's rules, decided here once for every path that writes or
// walks regions: 北海道 (PREFECTURE) → 連携地域 (COOPERATION_AREA) → 振興局
// (SUBPREFECTURE) → 市町村 (MUNICIPALITY).
//
// The tree stays a tree (DESIGN.md §8): a region never changes kind, never
// becomes its own ancestor, and its parent is of the level directly above.
// CheckRegionWrites refuses a write (one CreateRegion, or every region of one
// ImportPlan at once) that would break any of these. The walks (TreeOrder,
// IsWithin) do not trust the store to be a tree: they remember what they
// have visited and follow at most kMaxRegionDepth parents, so even a damaged
// store cannot make them loop or grow without bound.
//
// Pure functions over a lookup: thread-safe as far as the lookup is.
//
// Example (inside a write body):
//   RegionLookup find = [&tx](absl::string_view id) { return tx.FindRegion(id); };
//   RETURN_IF_ERROR(CheckRegionWrites({{"region", &region}}, find));
#ifndef SUISHIN_SERVICES_PLAN_REGION_TREE_H_
#define SUISHIN_SERVICES_PLAN_REGION_TREE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::plan {

// The most parents any walk follows. The tree has four levels; a longer
// chain can only come from a damaged store, and is not followed further.
inline constexpr int kMaxRegionDepth = 16;

// Finds a stored region by id: nullopt when there is none.
using RegionLookup = std::function<absl::StatusOr<std::optional<v1::Region>>(absl::string_view id)>;

// One region a request would write, and the field that names it in errors
// ("region", "dataset.regions[3]").
struct RegionWrite {
  std::string field;
  const v1::Region* region;
};

// "a cooperation area (連携地域)": how errors name a kind.
absl::string_view RegionKindName(common::v1::RegionKind kind);

// Checks that storing every region of `writes` (distinct ids, each valid on
// its own: see ValidateRegion) over what `stored` finds keeps the tree a tree,
// judging each region against the others of `writes` and the store together
// (so a parent may come later in the same import). Returns the first refusal,
// checking in this order over all of `writes`:
//   1. INVALID_ARGUMENT at <field>.kind: a stored region would change kind;
//   2. INVALID_ARGUMENT at <field>.parent_id: the region would become its own
//      ancestor (the cycle is spelled out: "a → b → a");
//      FAILED_PRECONDITION at <field>.parent_id: the stored regions above it
//      already form a cycle or a chain deeper than kMaxRegionDepth (damage
//      to repair first);
//   3. NOT_FOUND at <field>.parent_id: no such parent; INVALID_ARGUMENT: the
//      parent is not of the level directly above.
// Reads only through `stored`; stores nothing.
absl::Status CheckRegionWrites(const std::vector<RegionWrite>& writes, const RegionLookup& stored);

// `regions` in tree order: each parent before its children, siblings in the
// order given. With `root_id`, only that region and its descendants; without,
// the trees under every region that has no parent. Each region at most once,
// and nothing deeper than kMaxRegionDepth below the root, whatever the
// parent links say: regions on a cycle are listed once (or, unreachable from
// a root, not at all).
std::vector<v1::Region> TreeOrder(const std::vector<v1::Region>& regions,
                                  absl::string_view root_id);

// True when region `id` is `root_id` or below it; false when the chain of
// parents ends, loops back on itself or runs deeper than kMaxRegionDepth
// before reaching `root_id`.
absl::StatusOr<bool> IsWithin(const RegionLookup& find, absl::string_view id,
                              absl::string_view root_id);

}  // namespace suishin::plan

#endif  // SUISHIN_SERVICES_PLAN_REGION_TREE_H_
