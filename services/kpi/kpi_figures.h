// The figures of one KPI, read from one snapshot of its data: every
// region's baseline, target, yearly values, progress points and aggregates,
// computed level by level over the KPI's region tree (region_tree.h).
//
// A region whose figures are computed from its children (SUM and RATIO,
// RegionTree::ComputedFromChildren) takes them from its direct children
// only, each child's from its own: a 連携地域 from its 振興局, a 振興局 from
// its 市町村, so nothing is counted twice. A region's own reported actual,
// where there is one, stands beside the computed figure (Aggregate.
// reported_value, with a warning when they differ). A missing actual is
// named where it is missing (the 市町村), and makes every figure above it
// incomplete, never silently summed.
//
// Pure computation over the snapshot: no store, no cache; KpiFigures only
// reads `data`, so one snapshot can be shared by readers on any thread.
//
// Example:
//   ASSIGN_OR_RETURN(KpiData data, LoadKpi(tx, "kpi_id", "kodomoen"));
//   KpiFigures figures(data);
//   figures.AggregateOf("dohoku", 2018).value();  // 48 = 41 + 4 + 3
#ifndef SUISHIN_SERVICES_KPI_KPI_FIGURES_H_
#define SUISHIN_SERVICES_KPI_KPI_FIGURES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kpi/kpi_store.h"
#include "services/kpi/region_tree.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

// A KPI's data read in one unit of work.
struct KpiData {
  // The sequence of the KPI's last change in the snapshot.
  int64_t generation = 0;
  v1::Kpi kpi;
  std::map<std::string, v1::Baseline> baselines;
  std::map<std::string, v1::Target> targets;
  // region → fiscal year → actual.
  std::map<std::string, std::map<int, v1::Actual>> actuals;
};

// The KPI `id` (NOT_FOUND naming `field` when there is none) with its
// baselines, targets and every actual.
absl::StatusOr<KpiData> LoadKpi(KpiTransaction& tx, absl::string_view field, absl::string_view id);
// The same without actuals; AddYear reads the actuals of one year.
absl::StatusOr<KpiData> LoadKpiDefinition(KpiTransaction& tx, absl::string_view id);
absl::Status AddYear(KpiTransaction& tx, KpiData& data, int year);

// The years a KPI has figures in: from its earliest baseline or actual to
// its latest target or actual; {0, -1} when it has none.
std::pair<int, int> YearsOf(const KpiData& data);

class KpiFigures {
 public:
  // `data` must outlive this and not change. With `precompute`, the figures
  // of every region computed from its children (its baseline, target and
  // value in each of YearsOf(data)) are computed now, children first, so a
  // later figure of any level costs a lookup and its own level's work, not
  // a walk down to the 市町村: for a snapshot read many times (read_model.h).
  // Without, each figure is computed when asked (one change's figures).
  explicit KpiFigures(const KpiData& data, bool precompute = false);

  const RegionTree& tree() const { return tree_; }
  // Roughly what the figures computed ahead take (0 without `precompute`).
  size_t computed_bytes() const { return computed_bytes_; }

  // A region's baseline: its own, or for a computed region the sum of its
  // children's (all in the same year; for RATIO from Σ numerators /
  // Σ denominators, else its own). Unset when a child's is missing.
  std::optional<v1::Baseline> BaselineOf(const std::string& region) const;
  // A region's target: its own, or for a computed SUM region the sum of its
  // children's (their first targets beside, as the revision: 見直し前38カ所
  // = 28 + 4 + 6). A RATIO region's target is set, never summed.
  std::optional<v1::Target> TargetOf(const std::string& region) const;
  // The value of `region` in `year`: its own actual, or computed from its
  // children; unset when missing or incomplete.
  std::optional<double> ValueOf(const std::string& region, int year) const;
  // The latest year with an actual at or below `region`, 0 when none.
  int LastActualYear(const std::string& region) const;
  // `region`'s progress points from `first` to `last`.
  std::vector<v1::ProgressPoint> PointsOf(const std::string& region, int first, int last) const;
  // The figure of `region` (one with regions below it) in `year` from its
  // children, with its baseline, target and progress.
  v1::Aggregate AggregateOf(const std::string& region, int year) const;

 private:
  // The figure of `region` in `year` from its direct children, without
  // baseline, target or progress; missing_region_ids named where missing.
  v1::Aggregate ChildrenFigure(const std::string& region, int year) const;
  // `region`'s own actual in `year`, if any.
  const v1::Actual* OwnActual(const std::string& region, int year) const;

  // A computed region's figures, computed ahead.
  struct Computed {
    std::optional<v1::Baseline> baseline;
    std::optional<v1::Target> target;
    int last_actual_year = 0;
    // ChildrenFigure(region, first_year_ + i).
    std::vector<v1::Aggregate> years;
  };
  // The figures of `region` computed ahead, nullptr when there are none.
  const Computed* ComputedOf(const std::string& region) const;
  // ComputedOf(region)'s figure in `year`, nullptr outside its years.
  const v1::Aggregate* ComputedFigure(const std::string& region, int year) const;

  const KpiData& data_;
  RegionTree tree_;
  int first_year_ = 0;
  absl::flat_hash_map<std::string, Computed> computed_;
  size_t computed_bytes_ = 0;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_FIGURES_H_
