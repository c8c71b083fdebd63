// The region tree of one KPI: its area at the top, the regions it tracks
// below, each under its parent (Kpi.region_parents), so a figure can be
// computed level by level (a 連携地域 from its 振興局, each 振興局 from its
// 市町村) and nothing is counted twice.
//
// Built once from a Kpi; immutable, so safe to share between threads.
// Lookups are O(1) (hash maps); the orders are those of Kpi.region_ids.
//
// A KPI stored before region_parents existed has none: its area is then the
// parent of every other region (the two levels of the seed's table).
//
// Example:
//   // 道北 tracked in 上川, and in 上川's 旭川市 and 士別市.
//   RegionTree tree(kpi);
//   tree.ChildrenOf("kamikawa");  // {"asahikawa", "shibetsu"}
//   tree.ParentOf("asahikawa");   // "kamikawa"
//   tree.DepthOf("asahikawa");    // 2
//   tree.ComputedFromChildren("kamikawa");  // true for SUM and RATIO
#ifndef SUISHIN_SERVICES_KPI_REGION_TREE_H_
#define SUISHIN_SERVICES_KPI_REGION_TREE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

class RegionTree {
 public:
  explicit RegionTree(const v1::Kpi& kpi);

  // The KPI's area.
  const std::string& root() const { return root_; }
  // The regions directly below `region`, in the order of region_ids; empty
  // for a region with none below it (or one the KPI does not track).
  const std::vector<std::string>& ChildrenOf(absl::string_view region) const;
  // The region directly above; empty for the area.
  const std::string& ParentOf(absl::string_view region) const;
  // 0 for the area, 1 directly below it, and so on.
  int DepthOf(absl::string_view region) const;
  // True when `region` has regions below it and the KPI's rule computes a
  // figure from them (SUM and RATIO); a REPORTED region's own figure is
  // authoritative. The one place this rule is decided.
  bool ComputedFromChildren(absl::string_view region) const;
  // Every region, each followed by the regions below it (the order of a
  // table's rows).
  std::vector<std::string> TreeOrder() const;

 private:
  void Visit(const std::string& region, std::vector<std::string>& out) const;

  std::string root_;
  v1::AggregationRule rule_;
  absl::flat_hash_map<std::string, std::vector<std::string>> children_;
  absl::flat_hash_map<std::string, std::string> parents_;
  absl::flat_hash_map<std::string, int> depths_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_REGION_TREE_H_
