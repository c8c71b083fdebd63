#include "services/kpi/read_model.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fiscal_year.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/kpi/kpi_rules.h"

namespace suishin::kpi {
namespace {

// GetProgress of `region` (tracked by the snapshot's KPI) up to `as_of` (0:
// the target year or the last actual, whichever is later).
void ComputeProgress(const KpiSnapshot& snapshot, const std::string& region, int as_of,
                     v1::GetProgressResponse* response) {
  const KpiFigures& figures = snapshot.figures;
  const std::optional<v1::Baseline> baseline = figures.BaselineOf(region);
  const std::optional<v1::Target> target = figures.TargetOf(region);
  const int last_actual = figures.LastActualYear(region);
  const int first = baseline ? baseline->fiscal_year().year() + 1 : last_actual;
  const int last =
      as_of != 0 ? as_of : std::max(target ? target->fiscal_year().year() : 0, last_actual);
  *response->mutable_kpi() = snapshot.data.kpi;
  response->set_region_id(region);
  response->set_computed_from_children(figures.tree().ComputedFromChildren(region));
  if (baseline) *response->mutable_baseline() = *baseline;
  if (target) *response->mutable_target() = *target;
  if (first > 0) {
    for (v1::ProgressPoint& point : figures.PointsOf(region, first, last)) {
      *response->add_points() = std::move(point);
    }
  }
  response->set_generation(snapshot.data.generation);
}

// `region` has regions below it in the KPI, or INVALID_ARGUMENT naming the
// areas it has.
absl::Status RequireArea(const KpiSnapshot& snapshot, const std::string& region) {
  RETURN_IF_ERROR(CheckRegion(snapshot.data.kpi, "area_id", region));
  const RegionTree& tree = snapshot.figures.tree();
  if (!tree.ChildrenOf(region).empty()) return absl::OkStatus();
  std::vector<std::string> areas;
  for (const std::string& id : tree.TreeOrder()) {
    if (!tree.ChildrenOf(id).empty()) areas.push_back(id);
  }
  return FieldError("area_id", region,
                    absl::StrCat("has no regions below it in KPI \"", snapshot.data.kpi.id(),
                                 "\": its figure is its own (GetProgress); the areas are ",
                                 absl::StrJoin(areas, ", ")));
}

// `answer` serialized, in a string of its own.
ReadModel::Wire Serialized(const google::protobuf::Message& answer) {
  auto owned = std::make_shared<const std::string>(answer.SerializeAsString());
  const absl::string_view bytes = *owned;
  return ReadModel::Wire{std::move(owned), bytes};
}

}  // namespace

KpiSnapshot::KpiSnapshot(KpiData loaded, bool ahead)
    : data(std::move(loaded)), figures(data, /*precompute=*/true) {
  // The data, about twice its encoded size as messages, and its figures.
  bytes = 2 * data.kpi.ByteSizeLong() + figures.computed_bytes();
  for (const auto& [region, baseline] : data.baselines) bytes += 2 * baseline.ByteSizeLong();
  for (const auto& [region, target] : data.targets) bytes += 2 * target.ByteSizeLong();
  for (const auto& [region, years] : data.actuals) {
    for (const auto& [year, actual] : years) bytes += 2 * actual.ByteSizeLong();
  }
  if (!ahead) return;
  const auto [first, last] = YearsOf(data);
  for (const std::string& id : figures.tree().TreeOrder()) {
    Region& region = regions[id];
    ComputeProgress(*this, id, 0, &region.progress);
    region.progress_bytes = region.progress.SerializeAsString();
    if (figures.tree().ChildrenOf(id).empty()) continue;
    region.first_year = first;
    for (int year = first; year <= last; ++year) {
      *region.aggregates.emplace_back().mutable_aggregate() = figures.AggregateOf(id, year);
    }
    for (const v1::GetAggregateResponse& aggregate : region.aggregates) {
      region.aggregate_bytes.push_back(aggregate.SerializeAsString());
    }
    region.aggregates_published = std::make_unique<std::atomic<bool>[]>(region.aggregates.size());
  }
  for (const auto& [id, region] : regions) {
    bytes += 2 * region.progress_bytes.size();  // the bytes, and about as much as a message
    for (const std::string& aggregate : region.aggregate_bytes) bytes += 2 * aggregate.size();
  }
}

ReadModel::ReadModel(KpiStore* store, FigureCache* cache, size_t max_kept_bytes)
    : store_(store),
      cache_(cache),
      ahead_(cache->enabled()),
      max_kept_bytes_(max_kept_bytes),
      slots_(std::make_shared<const Slots>()) {}

std::shared_ptr<ReadModel::Slot> ReadModel::FindSlot(absl::string_view kpi_id) const {
  const std::shared_ptr<const Slots> slots = std::atomic_load(&slots_);
  auto found = slots->find(kpi_id);
  return found == slots->end() ? nullptr : found->second;
}

std::shared_ptr<ReadModel::Slot> ReadModel::AddSlot(const std::string& kpi_id) {
  if (std::shared_ptr<Slot> slot = FindSlot(kpi_id)) return slot;
  absl::MutexLock lock(&add_mu_);
  const std::shared_ptr<const Slots> slots = std::atomic_load(&slots_);
  auto found = slots->find(kpi_id);
  if (found != slots->end()) return found->second;
  auto copy = std::make_shared<Slots>(*slots);
  std::shared_ptr<Slot> slot = std::make_shared<Slot>();
  (*copy)[kpi_id] = slot;
  std::atomic_store(&slots_, std::shared_ptr<const Slots>(std::move(copy)));
  slots_added_.fetch_add(1);
  return slot;
}

void ReadModel::AnsweredByCache(const std::string& kpi_id) {
  std::shared_ptr<Slot> slot = FindSlot(kpi_id);
  if (slot == nullptr) slot = AddSlot(kpi_id);  // the KPI exists: the cache had its figure
  if (slot->cache_answers.fetch_add(1) + 1 < 2) return;
  if (!Build("kpi_id", kpi_id).ok()) return;  // the next read tries again
  slot->cache_answers.store(0);
}

void ReadModel::Moved(const std::string& kpi_id, int64_t sequence) {
  std::shared_ptr<Slot> slot = AddSlot(kpi_id);
  slot->cache_answers.store(0);
  int64_t seen = slot->generation.load();
  while (seen < sequence && !slot->generation.compare_exchange_weak(seen, sequence)) {
  }
}

std::shared_ptr<const KpiSnapshot> ReadModel::Current(absl::string_view kpi_id) const {
  const std::shared_ptr<Slot> slot = FindSlot(kpi_id);
  if (slot == nullptr) return nullptr;
  const int64_t generation = slot->generation.load();
  std::shared_ptr<const KpiSnapshot> snapshot = std::atomic_load(&slot->snapshot);
  if (snapshot == nullptr || snapshot->data.generation < generation) return nullptr;
  return snapshot;
}

absl::StatusOr<std::shared_ptr<const KpiSnapshot>> ReadModel::Build(absl::string_view field,
                                                                    const std::string& kpi_id) {
  KpiData data;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(data, LoadKpi(tx, field, kpi_id));
    return absl::OkStatus();
  }));
  auto snapshot = std::make_shared<const KpiSnapshot>(std::move(data), ahead_);
  std::shared_ptr<Slot> slot = AddSlot(kpi_id);
  std::shared_ptr<const KpiSnapshot> kept = std::atomic_load(&slot->snapshot);
  // The newer of the two stays (another reader may have built one too).
  bool installed = false;
  while ((kept == nullptr || kept->data.generation < snapshot->data.generation) &&
         !(installed = std::atomic_compare_exchange_weak(&slot->snapshot, &kept, snapshot))) {
  }
  if (installed) {
    const int64_t added = static_cast<int64_t>(snapshot->bytes) -
                          (kept == nullptr ? 0 : static_cast<int64_t>(kept->bytes));
    if (kept_bytes_.fetch_add(added) + added > static_cast<int64_t>(max_kept_bytes_)) DropAll();
  }
  return std::shared_ptr<const KpiSnapshot>(snapshot);
}

void ReadModel::DropAll() {
  const std::shared_ptr<const Slots> slots = std::atomic_load(&slots_);
  for (const auto& [kpi_id, slot] : *slots) {
    std::atomic_store(&slot->snapshot, std::shared_ptr<const KpiSnapshot>());
  }
  kept_bytes_.store(0);
}

absl::StatusOr<std::shared_ptr<const KpiSnapshot>> ReadModel::Snapshot(absl::string_view field,
                                                                       const std::string& kpi_id) {
  if (std::shared_ptr<const KpiSnapshot> current = Current(kpi_id)) return current;
  return Build(field, kpi_id);
}

void ReadModel::Publish(std::atomic<bool>& published, const std::string& kpi_id,
                        absl::string_view kind, absl::string_view args, const std::string& bytes) {
  if (published.load(std::memory_order_relaxed) || published.exchange(true)) return;
  cache_->Put(cache_->Key(kpi_id, kind, args), bytes);
}

absl::StatusOr<ReadModel::Wire> ReadModel::GetProgressWire(const v1::GetProgressRequest& request) {
  if (request.as_of().year() == 0) {
    if (std::shared_ptr<const KpiSnapshot> snapshot = Current(request.kpi_id())) {
      auto region = snapshot->regions.find(request.region_id());
      if (region != snapshot->regions.end()) {
        cache_->CountLocalHit();
        Publish(region->second.progress_published, request.kpi_id(), "progress.v2",
                absl::StrCat(request.region_id(), "/0"), region->second.progress_bytes);
        const absl::string_view bytes = region->second.progress_bytes;
        return Wire{std::move(snapshot), bytes};
      }
    }
  }
  v1::GetProgressResponse response;
  RETURN_IF_ERROR(GetProgress(request, &response));
  return Serialized(response);
}

absl::StatusOr<ReadModel::Wire> ReadModel::GetAggregateWire(
    const v1::GetAggregateRequest& request) {
  if (std::shared_ptr<const KpiSnapshot> snapshot = Current(request.kpi_id())) {
    auto region = snapshot->regions.find(request.area_id());
    const int index = region == snapshot->regions.end()
                          ? -1
                          : request.fiscal_year().year() - region->second.first_year;
    if (index >= 0 && index < static_cast<int>(region->second.aggregate_bytes.size())) {
      cache_->CountLocalHit();
      Publish(region->second.aggregates_published[index], request.kpi_id(), "aggregate",
              absl::StrCat(request.area_id(), "/", request.fiscal_year().year()),
              region->second.aggregate_bytes[index]);
      const absl::string_view bytes = region->second.aggregate_bytes[index];
      return Wire{std::move(snapshot), bytes};
    }
  }
  v1::GetAggregateResponse response;
  RETURN_IF_ERROR(GetAggregate(request, &response));
  return Serialized(response);
}

absl::Status ReadModel::GetProgress(const v1::GetProgressRequest& request,
                                    v1::GetProgressResponse* response) {
  RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  RETURN_IF_ERROR(ValidateId("region_id", request.region_id()));
  const int as_of = request.as_of().year();
  if (as_of != 0) RETURN_IF_ERROR(ValidateFiscalYear("as_of.year", as_of));
  const std::string args = absl::StrCat(request.region_id(), "/", as_of);
  std::shared_ptr<const KpiSnapshot> snapshot = Current(request.kpi_id());
  if (snapshot != nullptr && as_of == 0) {
    auto region = snapshot->regions.find(request.region_id());
    if (region != snapshot->regions.end()) {
      cache_->CountLocalHit();
      *response = region->second.progress;
      Publish(region->second.progress_published, request.kpi_id(), "progress.v2", args,
              region->second.progress_bytes);
      return absl::OkStatus();
    }
  }
  const std::string key = cache_->Key(request.kpi_id(), "progress.v2", args);
  if (std::optional<std::string> hit = cache_->Get(key); hit && response->ParseFromString(*hit)) {
    if (snapshot == nullptr) AnsweredByCache(request.kpi_id());
    return absl::OkStatus();
  }
  if (snapshot == nullptr) {
    ASSIGN_OR_RETURN(snapshot, Build("kpi_id", request.kpi_id()));
  }
  auto region = snapshot->regions.find(request.region_id());
  if (region != snapshot->regions.end() && as_of == 0) {
    *response = region->second.progress;
    region->second.progress_published.store(true);
  } else {
    RETURN_IF_ERROR(CheckRegion(snapshot->data.kpi, "region_id", request.region_id()));
    ComputeProgress(*snapshot, request.region_id(), as_of, response);
  }
  cache_->Put(key, response->SerializeAsString());
  return absl::OkStatus();
}

absl::Status ReadModel::GetAggregate(const v1::GetAggregateRequest& request,
                                     v1::GetAggregateResponse* response) {
  RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  RETURN_IF_ERROR(ValidateId("area_id", request.area_id()));
  RETURN_IF_ERROR(RequireYear("fiscal_year.year", request.fiscal_year()));
  const int year = request.fiscal_year().year();
  const std::string args = absl::StrCat(request.area_id(), "/", year);
  // The snapshot's own answer for `year`, if it computed one.
  auto kept = [&](const KpiSnapshot& snapshot)
      -> std::pair<const v1::GetAggregateResponse*, std::atomic<bool>*> {
    auto region = snapshot.regions.find(request.area_id());
    if (region == snapshot.regions.end()) return {nullptr, nullptr};
    const int index = year - region->second.first_year;
    if (index < 0 || index >= static_cast<int>(region->second.aggregates.size())) {
      return {nullptr, nullptr};
    }
    return {&region->second.aggregates[index], &region->second.aggregates_published[index]};
  };
  std::shared_ptr<const KpiSnapshot> snapshot = Current(request.kpi_id());
  if (snapshot != nullptr) {
    if (auto [answer, published] = kept(*snapshot); answer != nullptr) {
      cache_->CountLocalHit();
      *response = *answer;
      if (!published->load(std::memory_order_relaxed)) {
        Publish(*published, request.kpi_id(), "aggregate", args, response->SerializeAsString());
      }
      return absl::OkStatus();
    }
  }
  const std::string key = cache_->Key(request.kpi_id(), "aggregate", args);
  if (std::optional<std::string> hit = cache_->Get(key); hit && response->ParseFromString(*hit)) {
    if (snapshot == nullptr) AnsweredByCache(request.kpi_id());
    return absl::OkStatus();
  }
  if (snapshot == nullptr) {
    ASSIGN_OR_RETURN(snapshot, Build("kpi_id", request.kpi_id()));
  }
  if (auto [answer, published] = kept(*snapshot); answer != nullptr) {
    *response = *answer;
    published->store(true);
  } else {
    RETURN_IF_ERROR(RequireArea(*snapshot, request.area_id()));
    *response->mutable_aggregate() = snapshot->figures.AggregateOf(request.area_id(), year);
  }
  cache_->Put(key, response->SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<ReadModel::Wire> ReadModel::GetKpiTableWire(const v1::GetKpiTableRequest& request) {
  const std::string key = absl::StrCat(request.project_id(), "/", request.as_of().year(), "/",
                                       request.with_municipalities());
  if (ahead_) {
    std::shared_ptr<const std::string> bytes;
    {
      absl::MutexLock lock(&tables_mu_);
      auto kept = tables_.find(key);
      if (kept != tables_.end() && kept->second.slots_added == slots_added_.load()) {
        bytes = kept->second.bytes;
        for (const auto& [kpi_id, generation] : kept->second.generations) {
          std::shared_ptr<const KpiSnapshot> current = Current(kpi_id);
          if (current == nullptr || current->data.generation != generation) bytes = nullptr;
          if (bytes == nullptr) break;
        }
      }
    }
    if (bytes != nullptr) {
      cache_->CountLocalHit();
      const absl::string_view view = *bytes;
      return Wire{std::move(bytes), view};
    }
  }
  const int64_t slots_added = slots_added_.load();
  v1::GetKpiTableResponse response;
  KeptTable kept;
  RETURN_IF_ERROR(ComputeTable(request, &response, &kept.generations));
  Wire wire = Serialized(response);
  if (ahead_) {
    kept.slots_added = slots_added;
    kept.bytes = std::static_pointer_cast<const std::string>(wire.owner);
    absl::MutexLock lock(&tables_mu_);
    if (tables_.size() >= 10000) tables_.clear();  // start over
    tables_[key] = std::move(kept);
  }
  return wire;
}

absl::Status ReadModel::GetKpiTable(const v1::GetKpiTableRequest& request,
                                    v1::GetKpiTableResponse* response) {
  return ComputeTable(request, response, nullptr);
}

absl::Status ReadModel::ComputeTable(const v1::GetKpiTableRequest& request,
                                     v1::GetKpiTableResponse* response,
                                     std::vector<std::pair<std::string, int64_t>>* used) {
  RETURN_IF_ERROR(ValidateId("project_id", request.project_id()));
  RETURN_IF_ERROR(RequireYear("as_of.year", request.as_of()));
  const int as_of = request.as_of().year();
  std::vector<std::string> kpi_ids;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    int64_t after = 0;
    while (true) {
      ASSIGN_OR_RETURN(auto page, tx.ListKpis(request.project_id(), after, 1000));
      for (const KeyedKpi& keyed : page) kpi_ids.push_back(keyed.kpi.id());
      if (page.size() < 1000) return absl::OkStatus();
      after = page.back().key;
    }
  }));
  if (kpi_ids.empty()) {
    return absl::NotFoundError(
        absl::StrCat("project_id: project \"", request.project_id(), "\" has no KPIs"));
  }
  response->set_project_id(request.project_id());
  *response->mutable_as_of() = Year(as_of);
  for (const std::string& kpi_id : kpi_ids) {
    ASSIGN_OR_RETURN(std::shared_ptr<const KpiSnapshot> snapshot, Snapshot("kpi_id", kpi_id));
    if (used != nullptr) used->emplace_back(kpi_id, snapshot->data.generation);
    const KpiData& data = snapshot->data;
    const KpiFigures& figures = snapshot->figures;
    const RegionTree& tree = figures.tree();
    v1::KpiTable* table = response->add_tables();
    *table->mutable_kpi() = data.kpi;
    // Rows in tree order, each region followed by the regions below it; the
    // 市町村 only when asked for (their 振興局 is computed from them anyway).
    const std::vector<std::string> order = tree.TreeOrder();
    std::vector<const std::string*> regions;
    for (const std::string& region : order) {
      auto kind = data.kpi.region_kinds().find(region);
      const bool municipality = kind != data.kpi.region_kinds().end() &&
                                kind->second == common::v1::REGION_KIND_MUNICIPALITY;
      if (municipality && !request.with_municipalities()) continue;
      regions.push_back(&region);
    }
    // Each row's series: kept in the snapshot, or computed for this table.
    std::vector<v1::GetProgressResponse> computed(regions.size());
    std::vector<const KpiSnapshot::Region*> kept_regions(regions.size(), nullptr);
    for (size_t i = 0; i < regions.size(); ++i) {
      auto kept = snapshot->regions.find(*regions[i]);
      if (kept != snapshot->regions.end()) {
        kept_regions[i] = &kept->second;
      } else {
        ComputeProgress(*snapshot, *regions[i], 0, &computed[i]);
      }
    }
    auto series_of = [&](size_t i) -> const v1::GetProgressResponse& {
      return kept_regions[i] != nullptr ? kept_regions[i]->progress : computed[i];
    };
    int first_year = 0;
    int last_year = 0;
    for (size_t i = 0; i < regions.size(); ++i) {
      const v1::GetProgressResponse& series = series_of(i);
      if (series.has_baseline() &&
          (first_year == 0 || series.baseline().fiscal_year().year() < first_year)) {
        first_year = series.baseline().fiscal_year().year();
      }
      if (series.has_target())
        last_year = std::max(last_year, series.target().fiscal_year().year());
    }
    for (int year = first_year; first_year > 0 && year <= last_year; ++year) {
      *table->add_years() = Year(year);
    }
    for (size_t i = 0; i < regions.size(); ++i) {
      const std::string* region = regions[i];
      const v1::GetProgressResponse& series = series_of(i);
      v1::KpiTableRow* row = table->add_rows();
      row->set_region_id(*region);
      auto name = data.kpi.region_names().find(*region);
      row->set_region_name(name == data.kpi.region_names().end() ? *region : name->second);
      row->set_depth(tree.DepthOf(*region));
      row->set_parent_region_id(tree.ParentOf(*region));
      if (series.has_baseline()) *row->mutable_baseline() = series.baseline();
      if (series.has_target()) *row->mutable_target() = series.target();
      const int first =
          series.has_baseline() ? series.baseline().fiscal_year().year() + 1 : first_year + 1;
      const int last =
          std::min(as_of, series.has_target() ? series.target().fiscal_year().year() : last_year);
      // The kept series' points, where they cover the columns; else computed.
      const int kept_first = series.points().empty() ? 0 : series.points(0).fiscal_year().year();
      for (int year = first; first > 0 && year <= last; ++year) {
        const int index = year - kept_first;
        if (kept_first > 0 && index >= 0 && index < series.points_size()) {
          *row->add_points() = series.points(index);
        } else {
          *row->add_points() = figures.PointsOf(*region, year, year).front();
        }
      }
      row->set_computed_from_children(series.computed_from_children());
      if (row->computed_from_children()) {
        const KpiSnapshot::Region* kept = kept_regions[i];
        const int index = kept == nullptr ? -1 : last - kept->first_year;
        if (index >= 0 && index < static_cast<int>(kept->aggregates.size())) {
          *row->mutable_aggregate() = kept->aggregates[index].aggregate();
        } else {
          *row->mutable_aggregate() = figures.AggregateOf(*region, last);
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace suishin::kpi
