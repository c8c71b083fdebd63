// A synthetic, Hokkaido-sized dataset for load generation, made
// deterministically (the same options always give the same bytes).
//
// The region tree is the real one down to the subprefectures: 北海道, its six
// 連携地域 (cooperation areas) and fourteen 総合振興局/振興局 areas, each in its
// real area, then 179 numbered municipalities (m001 … m179, "市町村001" …)
// spread over the subprefectures in the real counts. There is one project per
// area. The KPIs alternate between counts (VALUE_KIND_COUNT, AGGREGATION_RULE_SUM,
// カ所) and rates (VALUE_KIND_PERCENT, AGGREGATION_RULE_RATIO, % with numerator
// and denominator), go round the areas in turn, and are tracked in their area
// and its subprefectures. Every subprefecture gets a baseline in the first
// year, a target in the last year and an actual for every year; an area's
// figures are left to be computed from its subprefectures.
//
// A seventh project, "project-hokkaido" (area 北海道), has the municipal
// KPIs ("muni-001" …, counts and rates in turn): tracked in all 179 市町村,
// each with its own series, so every 振興局, 連携地域 and 北海道 itself has a
// figure computed level by level from the 市町村 up.
//
// Every value is valid: counts are non-negative integers, rates are
// 100 × numerator / denominator with 0 ≤ numerator ≤ denominator, targets are
// above baselines (every KPI is DIRECTION_INCREASE).
//
// Example:
//   SeedOptions options;  // 200 KPIs, 2005–2024
//   SeedDataset seed = MakeSeedDataset(options);
//   // seed.plan → ImportPlan, seed.kpis → CreateKpi, seed.rows → ImportActuals
#ifndef SUISHIN_TOOLS_LOADGEN_SYNTHETIC_DATASET_H_
#define SUISHIN_TOOLS_LOADGEN_SYNTHETIC_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::loadgen {

// The region tree and the seven projects (one per area, "project-<area>",
// and "project-hokkaido").
plan::v1::PlanDataset MakeHokkaidoPlan();

// The subprefecture ids of a cooperation area, in display order.
std::vector<std::string> SubprefecturesOf(const std::string& area_id);

struct SeedOptions {
  int kpis = 200;
  // KPIs tracked in every 市町村 (project-hokkaido), after the others.
  int municipal_kpis = 10;
  int first_year = 2005;
  // Years of actuals, first_year … first_year + years − 1; the baseline is in
  // the first of them and the target in the last.
  int years = 20;
};

// INVALID_ARGUMENT when the options give no KPIs or years outside 1989–2100.
absl::Status ValidateSeedOptions(const SeedOptions& options);

struct SeedDataset {
  plan::v1::PlanDataset plan;
  // Ids "kpi-001" …, then "muni-001" …; version and create_time unset.
  std::vector<kpi::v1::Kpi> kpis;
  // Per KPI, per subprefecture (市町村 for the municipal KPIs): the
  // baseline, the target, then the actuals oldest first. Lines are numbered
  // from 1.
  std::vector<kpi::v1::ImportRow> rows;
};

SeedDataset MakeSeedDataset(const SeedOptions& options);

// Bulk actuals for the import benchmark: `rows` ACTUAL rows of count KPIs
// "imp-0001" … (in the same projects, tracked like the seed's), one per
// (KPI, subprefecture, fiscal year) with the years 1989–2100, KPI by KPI,
// region (in id order) by region, year by year, so they arrive in primary-key
// order. 112 years × 14 subprefectures = 1,568 rows per round of the six
// areas, so 1,000,000 rows take 3,826 KPIs (the last one partly). Values are
// integers 0–999.
//
// Kept compact (indices into kpi_ids and region_ids) so a million rows cost
// 16 MB; the same rows feed ImportActuals and the SQLite baseline.
struct BulkActuals {
  struct Row {
    uint32_t kpi;     // index into kpi_ids
    uint16_t region;  // index into region_ids
    int16_t year;
    double value;
  };
  std::vector<kpi::v1::Kpi> kpis;
  std::vector<std::string> kpi_ids;
  std::vector<std::string> region_ids;
  std::vector<Row> rows;
};

BulkActuals MakeBulkActuals(int64_t rows);

}  // namespace suishin::loadgen

#endif  // SUISHIN_TOOLS_LOADGEN_SYNTHETIC_DATASET_H_
