#include "services/kpi/region_tree.h"

#include "absl/container/flat_hash_set.h"

namespace suishin::kpi {

RegionTree::RegionTree(const v1::Kpi& kpi) : root_(kpi.area_id()), rule_(kpi.aggregation()) {
  absl::flat_hash_set<std::string> tracked(kpi.region_ids().begin(), kpi.region_ids().end());
  for (const std::string& region : kpi.region_ids()) {
    if (region == root_ || parents_.contains(region)) continue;
    auto parent = kpi.region_parents().find(region);
    // No parent kept (a KPI from before they were), or one outside the KPI
    // (never stored so): the area's.
    const std::string& above = parent != kpi.region_parents().end() &&
                                       tracked.contains(parent->second) && parent->second != region
                                   ? parent->second
                                   : root_;
    parents_[region] = above;
    children_[above].push_back(region);
  }
  // Depths by walking up; a cycle (never stored so) ends at the region count.
  for (const std::string& region : kpi.region_ids()) {
    int depth = 0;
    for (std::string at = region; at != root_ && depth <= kpi.region_ids_size(); ++depth) {
      auto parent = parents_.find(at);
      if (parent == parents_.end()) break;
      at = parent->second;
    }
    depths_[region] = depth;
  }
}

const std::vector<std::string>& RegionTree::ChildrenOf(absl::string_view region) const {
  static const auto* const kNone = new std::vector<std::string>();
  auto found = children_.find(region);
  return found == children_.end() ? *kNone : found->second;
}

const std::string& RegionTree::ParentOf(absl::string_view region) const {
  static const auto* const kNone = new std::string();
  auto found = parents_.find(region);
  return found == parents_.end() ? *kNone : found->second;
}

int RegionTree::DepthOf(absl::string_view region) const {
  auto found = depths_.find(region);
  return found == depths_.end() ? 0 : found->second;
}

bool RegionTree::ComputedFromChildren(absl::string_view region) const {
  return rule_ != v1::AGGREGATION_RULE_REPORTED && !ChildrenOf(region).empty();
}

std::vector<std::string> RegionTree::TreeOrder() const {
  std::vector<std::string> out;
  out.reserve(parents_.size() + 1);
  Visit(root_, out);
  return out;
}

void RegionTree::Visit(const std::string& region, std::vector<std::string>& out) const {
  out.push_back(region);
  for (const std::string& child : ChildrenOf(region)) Visit(child, out);
}

}  // namespace suishin::kpi
