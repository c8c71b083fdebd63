#include "tools/loadgen/synthetic_dataset.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/fiscal_year.h"

namespace suishin::loadgen {
namespace {

using common::v1::REGION_KIND_COOPERATION_AREA;
using common::v1::REGION_KIND_MUNICIPALITY;
using common::v1::REGION_KIND_PREFECTURE;
using common::v1::REGION_KIND_SUBPREFECTURE;

// SplitMix64: tiny, fast and the same on every platform and library, unlike
// the std:: distributions, whose output the standard leaves open.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // A whole number in [low, high].
  int Between(int low, int high) {
    return low + static_cast<int>(Next() % static_cast<uint64_t>(high - low + 1));
  }
  // A real number in [low, high).
  double Uniform(double low, double high) {
    return low + (high - low) * static_cast<double>(Next() >> 11) * 0x1.0p-53;
  }

 private:
  uint64_t state_;
};

constexpr uint64_t kSeed = 20240401;

struct Area {
  const char* id;
  const char* name;
};
struct Subprefecture {
  const char* id;
  const char* name;
  const char* area_id;
  int municipalities;  // the real number of 市町村 in it
};

// The six 連携地域 in the order Hokkaido lists them.
constexpr Area kAreas[] = {
    {"doo", "道央"},           {"donan", "道南"},   {"dohoku", "道北"},
    {"okhotsk", "オホーツク"}, {"tokachi", "十勝"}, {"kushiro-nemuro", "釧路・根室"},
};

// The fourteen 総合振興局/振興局 areas. オホーツク and 十勝 share their names
// with their areas, so their ids carry "-bureau" to stay distinct.
constexpr Subprefecture kSubprefectures[] = {
    {"sorachi", "空知", "doo", 24},
    {"ishikari", "石狩", "doo", 8},
    {"shiribeshi", "後志", "doo", 20},
    {"iburi", "胆振", "doo", 11},
    {"hidaka", "日高", "doo", 7},
    {"oshima", "渡島", "donan", 11},
    {"hiyama", "檜山", "donan", 7},
    {"kamikawa", "上川", "dohoku", 23},
    {"rumoi", "留萌", "dohoku", 8},
    {"soya", "宗谷", "dohoku", 10},
    {"okhotsk-bureau", "オホーツク", "okhotsk", 18},
    {"tokachi-bureau", "十勝", "tokachi", 19},
    {"kushiro", "釧路", "kushiro-nemuro", 8},
    {"nemuro", "根室", "kushiro-nemuro", 5},
};

constexpr int kAreaCount = sizeof(kAreas) / sizeof(kAreas[0]);

std::string ProjectId(const std::string& area_id) { return absl::StrCat("project-", area_id); }

void AddRegion(plan::v1::PlanDataset& plan, const std::string& id, const std::string& name,
               common::v1::RegionKind kind, const std::string& parent_id) {
  plan::v1::Region* region = plan.add_regions();
  region->set_id(id);
  region->set_name(name);
  region->set_kind(kind);
  region->set_parent_id(parent_id);
}

kpi::v1::Kpi MakeKpi(const std::string& id, const std::string& name, bool rate,
                     const std::string& area_id) {
  kpi::v1::Kpi kpi;
  kpi.set_id(id);
  kpi.set_project_id(ProjectId(area_id));
  kpi.set_name(name);
  kpi.set_unit(rate ? "%" : "カ所");
  kpi.set_value_kind(rate ? kpi::v1::VALUE_KIND_PERCENT : kpi::v1::VALUE_KIND_COUNT);
  kpi.set_direction(kpi::v1::DIRECTION_INCREASE);
  kpi.set_aggregation(rate ? kpi::v1::AGGREGATION_RULE_RATIO : kpi::v1::AGGREGATION_RULE_SUM);
  kpi.set_progress_method(kpi::v1::PROGRESS_METHOD_ACHIEVEMENT);
  kpi.set_area_id(area_id);
  kpi.add_region_ids(area_id);
  for (const std::string& sub : SubprefecturesOf(area_id)) kpi.add_region_ids(sub);
  return kpi;
}

// Appends a row; `line` numbers rows from 1.
kpi::v1::ImportRow& AddRow(std::vector<kpi::v1::ImportRow>& rows, kpi::v1::RowKind kind,
                           const std::string& kpi_id, const std::string& region_id, int year,
                           double value) {
  kpi::v1::ImportRow& row = rows.emplace_back();
  row.set_line(static_cast<int64_t>(rows.size()));
  row.set_kind(kind);
  row.set_kpi_id(kpi_id);
  row.set_region_id(region_id);
  row.mutable_fiscal_year()->set_year(year);
  row.set_value(value);
  row.set_reported_by("loadgen");
  return row;
}

// A count KPI in one subprefecture: baseline, target, then one actual a year
// along a noisy line from the baseline at `pace` times the planned speed.
void AddCountSeries(Random& random, const SeedOptions& options, const std::string& kpi_id,
                    const std::string& region_id, std::vector<kpi::v1::ImportRow>& rows) {
  const int last_year = options.first_year + options.years - 1;
  const int baseline = random.Between(0, 39);
  const int target = baseline + random.Between(5, 30);
  const double pace = random.Uniform(0.5, 1.3);
  AddRow(rows, kpi::v1::ROW_KIND_BASELINE, kpi_id, region_id, options.first_year, baseline);
  AddRow(rows, kpi::v1::ROW_KIND_TARGET, kpi_id, region_id, last_year, target);
  for (int i = 0; i < options.years; ++i) {
    const double planned = (target - baseline) * i / (options.years - 1.0);
    const double noisy = baseline + planned * pace + (i == 0 ? 0 : random.Between(-2, 2));
    AddRow(rows, kpi::v1::ROW_KIND_ACTUAL, kpi_id, region_id, options.first_year + i,
           std::max(0.0, std::round(noisy)));
  }
}

// A rate KPI in one subprefecture: households covered (numerator) of all
// households (denominator, drifting slowly), value = 100 × n / d.
void AddRatioSeries(Random& random, const SeedOptions& options, const std::string& kpi_id,
                    const std::string& region_id, std::vector<kpi::v1::ImportRow>& rows) {
  const int last_year = options.first_year + options.years - 1;
  const double households = random.Between(2000, 200000);
  const double drift = random.Uniform(-0.005, 0.005);
  const double baseline_rate = random.Uniform(10, 60);
  const double target_rate = std::min(98.0, baseline_rate + random.Uniform(5, 35));
  const double pace = random.Uniform(0.5, 1.3);
  auto denominator = [&](int i) { return std::round(households * (1 + drift * i)); };
  auto add = [&](kpi::v1::RowKind kind, int year, double rate, double den) {
    const double num = std::clamp(std::round(rate * den / 100), 0.0, den);
    kpi::v1::ImportRow& row = AddRow(rows, kind, kpi_id, region_id, year, 100 * num / den);
    row.set_numerator(num);
    row.set_denominator(den);
  };
  add(kpi::v1::ROW_KIND_BASELINE, options.first_year, baseline_rate, denominator(0));
  add(kpi::v1::ROW_KIND_TARGET, last_year, target_rate, denominator(options.years - 1));
  for (int i = 0; i < options.years; ++i) {
    const double planned = (target_rate - baseline_rate) * i / (options.years - 1.0);
    const double noise = i == 0 ? 0 : random.Uniform(-1.5, 1.5);
    add(kpi::v1::ROW_KIND_ACTUAL, options.first_year + i,
        std::clamp(baseline_rate + planned * pace + noise, 0.0, 100.0), denominator(i));
  }
}

}  // namespace

plan::v1::PlanDataset MakeHokkaidoPlan() {
  plan::v1::PlanDataset plan;
  AddRegion(plan, "hokkaido", "北海道", REGION_KIND_PREFECTURE, "");
  for (const Area& area : kAreas) {
    AddRegion(plan, area.id, area.name, REGION_KIND_COOPERATION_AREA, "hokkaido");
  }
  for (const Subprefecture& sub : kSubprefectures) {
    AddRegion(plan, sub.id, sub.name, REGION_KIND_SUBPREFECTURE, sub.area_id);
  }
  int number = 0;
  for (const Subprefecture& sub : kSubprefectures) {
    for (int i = 0; i < sub.municipalities; ++i) {
      ++number;
      AddRegion(plan, absl::StrFormat("m%03d", number), absl::StrFormat("市町村%03d", number),
                REGION_KIND_MUNICIPALITY, sub.id);
    }
  }
  // The prefecture's own project, whose KPIs are tracked in every 市町村.
  plan::v1::Project* prefecture = plan.add_projects();
  prefecture->set_id(ProjectId("hokkaido"));
  prefecture->set_area_id("hokkaido");
  prefecture->set_title("北海道 市町村別 合成プロジェクト");
  prefecture->set_overview("loadgen が作った負荷試験用の合成データ（市町村ごとの指標）");
  prefecture->add_pillars()->CopyFrom(plan::v1::Pillar());
  prefecture->mutable_pillars(0)->set_id("main");
  prefecture->mutable_pillars(0)->set_title("市町村指標の推進");
  prefecture->set_status(plan::v1::PROJECT_STATUS_ACTIVE);
  for (const Area& area : kAreas) {
    plan::v1::Project* project = plan.add_projects();
    project->set_id(ProjectId(area.id));
    project->set_area_id(area.id);
    project->set_title(absl::StrCat(area.name, "連携地域 合成プロジェクト"));
    project->set_overview("loadgen が作った負荷試験用の合成データ");
    plan::v1::Pillar* pillar = project->add_pillars();
    pillar->set_id("main");
    pillar->set_title("合成指標の推進");
    project->set_status(plan::v1::PROJECT_STATUS_ACTIVE);
  }
  return plan;
}

std::vector<std::string> SubprefecturesOf(const std::string& area_id) {
  std::vector<std::string> ids;
  for (const Subprefecture& sub : kSubprefectures) {
    if (area_id == sub.area_id) ids.push_back(sub.id);
  }
  return ids;
}

absl::Status ValidateSeedOptions(const SeedOptions& options) {
  // Up to 100× the Hokkaido-sized default (growth.sh).
  if (options.kpis < 1 || options.kpis > 99999) {
    return absl::InvalidArgumentError(
        absl::StrCat("--kpis: must be 1 to 99999 (got ", options.kpis, ")"));
  }
  if (options.municipal_kpis < 0 || options.municipal_kpis > 9999) {
    return absl::InvalidArgumentError(
        absl::StrCat("--municipal_kpis: must be 0 to 9999 (got ", options.municipal_kpis, ")"));
  }
  if (options.years < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--years: must be at least 2, the target after the baseline (got ", options.years, ")"));
  }
  const int last = options.first_year + options.years - 1;
  if (options.first_year < kMinFiscalYear || last > kMaxFiscalYear) {
    return absl::InvalidArgumentError(absl::StrCat("--first_year/--years: fiscal years ",
                                                   options.first_year, "–", last,
                                                   " are outside 1989–2100"));
  }
  return absl::OkStatus();
}

SeedDataset MakeSeedDataset(const SeedOptions& options) {
  SeedDataset seed;
  seed.plan = MakeHokkaidoPlan();
  Random random(kSeed);
  for (int i = 0; i < options.kpis; ++i) {
    const std::string area_id = kAreas[i % kAreaCount].id;
    // Counts and rates alternate within each area, not across areas.
    const bool rate = (i / kAreaCount) % 2 == 1;
    const std::string id = absl::StrFormat("kpi-%03d", i + 1);
    const std::string name = rate ? absl::StrFormat("合成指標%03d（率）", i + 1)
                                  : absl::StrFormat("合成指標%03d（件数）", i + 1);
    seed.kpis.push_back(MakeKpi(id, name, rate, area_id));
    for (const std::string& sub : SubprefecturesOf(area_id)) {
      if (rate) {
        AddRatioSeries(random, options, id, sub, seed.rows);
      } else {
        AddCountSeries(random, options, id, sub, seed.rows);
      }
    }
  }
  // KPIs of the whole prefecture, tracked in every 市町村: their 振興局,
  // 連携地域 and 北海道 figures are computed level by level. From a random
  // stream of their own, so the KPIs above stay as they were.
  Random municipal(kSeed + 2);
  std::vector<std::string> municipalities;
  for (const plan::v1::Region& region : seed.plan.regions()) {
    if (region.kind() == REGION_KIND_MUNICIPALITY) municipalities.push_back(region.id());
  }
  for (int i = 0; i < options.municipal_kpis; ++i) {
    const bool rate = i % 2 == 1;
    const std::string id = absl::StrFormat("muni-%03d", i + 1);
    const std::string name = rate ? absl::StrFormat("市町村指標%03d（率）", i + 1)
                                  : absl::StrFormat("市町村指標%03d（件数）", i + 1);
    kpi::v1::Kpi kpi = MakeKpi(id, name, rate, "hokkaido");
    kpi.clear_region_ids();
    kpi.add_region_ids("hokkaido");
    for (const std::string& region : municipalities) kpi.add_region_ids(region);
    seed.kpis.push_back(std::move(kpi));
    for (const std::string& region : municipalities) {
      if (rate) {
        AddRatioSeries(municipal, options, id, region, seed.rows);
      } else {
        AddCountSeries(municipal, options, id, region, seed.rows);
      }
    }
  }
  return seed;
}

BulkActuals MakeBulkActuals(int64_t rows) {
  BulkActuals bulk;
  std::map<std::string, uint16_t> region_index;
  for (const Subprefecture& sub : kSubprefectures) {
    region_index[sub.id] = static_cast<uint16_t>(bulk.region_ids.size());
    bulk.region_ids.push_back(sub.id);
  }
  bulk.rows.reserve(static_cast<size_t>(std::max<int64_t>(rows, 0)));
  Random random(kSeed + 1);
  for (uint32_t k = 0; static_cast<int64_t>(bulk.rows.size()) < rows; ++k) {
    const std::string area_id = kAreas[k % kAreaCount].id;
    const std::string id = absl::StrFormat("imp-%04d", k + 1);
    bulk.kpis.push_back(MakeKpi(id, absl::StrFormat("一括取込指標%04d", k + 1), false, area_id));
    bulk.kpi_ids.push_back(id);
    // Regions in id order, so the rows arrive in primary-key order.
    std::vector<std::string> subs = SubprefecturesOf(area_id);
    std::sort(subs.begin(), subs.end());
    for (const std::string& sub : subs) {
      for (int year = kMinFiscalYear; year <= kMaxFiscalYear; ++year) {
        if (static_cast<int64_t>(bulk.rows.size()) == rows) return bulk;
        bulk.rows.push_back({k, region_index[sub], static_cast<int16_t>(year),
                             static_cast<double>(random.Next() % 1000)});
      }
    }
  }
  return bulk;
}

}  // namespace suishin::loadgen
