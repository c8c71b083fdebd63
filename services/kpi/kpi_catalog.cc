#include "services/kpi/kpi_catalog.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fiscal_year.h"
#include "common/page_token.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/kpi/kpi_rules.h"
#include "services/kpi/progress.h"
#include "services/kpi/value_writes.h"

namespace suishin::kpi {
namespace {

// ---- Snapshots: a KPI's data read in one unit of work ----

struct KpiData {
  // The sequence of the KPI's last change in the snapshot.
  int64_t generation = 0;
  v1::Kpi kpi;
  std::map<std::string, v1::Baseline> baselines;
  std::map<std::string, v1::Target> targets;
  std::map<std::string, std::map<int, v1::Actual>> actuals;
};

absl::StatusOr<KpiData> LoadKpi(KpiTransaction& tx, absl::string_view field, absl::string_view id) {
  KpiData data;
  ASSIGN_OR_RETURN(data.kpi, RequireKpi(tx, field, id));
  ASSIGN_OR_RETURN(std::vector<v1::Baseline> baselines, tx.Baselines(id));
  for (auto& baseline : baselines) data.baselines[baseline.region_id()] = std::move(baseline);
  ASSIGN_OR_RETURN(std::vector<v1::Target> targets, tx.Targets(id));
  for (auto& target : targets) data.targets[target.region_id()] = std::move(target);
  ASSIGN_OR_RETURN(std::vector<v1::Actual> actuals, tx.Actuals(id, ""));
  for (auto& actual : actuals) {
    const int year = actual.fiscal_year().year();
    data.actuals[actual.region_id()][year] = std::move(actual);
  }
  ASSIGN_OR_RETURN(data.generation, tx.LastSequenceOf(id));
  return data;
}

// What a year's points need: the KPI, its baselines and targets, and the
// actuals of the years asked for so far (AddYear).
absl::StatusOr<KpiData> LoadKpiDefinition(KpiTransaction& tx, absl::string_view id) {
  KpiData data;
  ASSIGN_OR_RETURN(data.kpi, RequireKpi(tx, "kpi_id", id));
  ASSIGN_OR_RETURN(std::vector<v1::Baseline> baselines, tx.Baselines(id));
  for (auto& baseline : baselines) data.baselines[baseline.region_id()] = std::move(baseline);
  ASSIGN_OR_RETURN(std::vector<v1::Target> targets, tx.Targets(id));
  for (auto& target : targets) data.targets[target.region_id()] = std::move(target);
  ASSIGN_OR_RETURN(data.generation, tx.LastSequenceOf(id));
  return data;
}

absl::Status AddYear(KpiTransaction& tx, KpiData& data, int year) {
  ASSIGN_OR_RETURN(std::vector<v1::Actual> actuals, tx.ActualsInYear(data.kpi.id(), year));
  for (auto& actual : actuals) data.actuals[actual.region_id()][year] = std::move(actual);
  return absl::OkStatus();
}

// ---- Figures of a region, stored or computed from the children ----

std::optional<v1::Baseline> BaselineOf(const KpiData& data, const std::string& region) {
  auto own = data.baselines.find(region);
  if (!Computed(data.kpi, region)) {
    if (own == data.baselines.end()) return std::nullopt;
    return own->second;
  }
  std::vector<Figure> children;
  int year = 0;
  for (const std::string& child : Children(data.kpi)) {
    auto it = data.baselines.find(child);
    if (it == data.baselines.end()) return std::nullopt;
    if (year != 0 && it->second.fiscal_year().year() != year) return std::nullopt;
    year = it->second.fiscal_year().year();
    children.push_back({child, it->second.value(), OptionalNumerator(it->second),
                        OptionalDenominator(it->second)});
  }
  const v1::Aggregate sum = AggregateFigures(data.kpi.aggregation(), children, std::nullopt);
  if (!sum.has_value()) {  // RATIO without denominators: the area's own figure
    if (own == data.baselines.end()) return std::nullopt;
    return own->second;
  }
  v1::Baseline baseline;
  baseline.set_region_id(region);
  *baseline.mutable_fiscal_year() = Year(year);
  baseline.set_value(sum.value());
  return baseline;
}

std::optional<v1::Target> TargetOf(const KpiData& data, const std::string& region) {
  auto own = data.targets.find(region);
  if (!Computed(data.kpi, region) ||
      data.kpi.aggregation() == v1::AGGREGATION_RULE_RATIO) {  // a rate's target is set, not summed
    if (own == data.targets.end()) return std::nullopt;
    return own->second;
  }
  double sum = 0;
  double original = 0;
  int year = 0;
  for (const std::string& child : Children(data.kpi)) {
    auto it = data.targets.find(child);
    if (it == data.targets.end()) return std::nullopt;
    if (year != 0 && it->second.fiscal_year().year() != year) return std::nullopt;
    year = it->second.fiscal_year().year();
    sum += it->second.value();
    original +=
        it->second.revisions().empty() ? it->second.value() : it->second.revisions(0).value();
  }
  v1::Target target;
  target.set_region_id(region);
  *target.mutable_fiscal_year() = Year(year);
  target.set_value(sum);
  if (original != sum) {  // 見直し前38カ所 = 28 + 4 + 6
    v1::TargetRevision* revision = target.add_revisions();
    *revision->mutable_fiscal_year() = Year(year);
    revision->set_value(original);
    revision->set_reason("Σ of the subprefectures' targets before their revisions");
  }
  return target;
}

ProgressInputs InputsOf(const v1::Kpi& kpi, const v1::Baseline& baseline,
                        const v1::Target& target) {
  ProgressInputs in;
  in.method = kpi.progress_method();
  in.direction = kpi.direction();
  in.baseline_year = baseline.fiscal_year().year();
  in.baseline = baseline.value();
  in.target_year = target.fiscal_year().year();
  in.target = target.value();
  return in;
}

// The area's figure in `year` by the KPI's rule, without its baseline,
// target or progress (what a series of the area needs year by year).
v1::Aggregate AreaFigure(const KpiData& data, int year) {
  const v1::Kpi& kpi = data.kpi;
  std::vector<Figure> children;
  for (const std::string& child : Children(kpi)) {
    Figure figure{child, std::nullopt, std::nullopt, std::nullopt};
    auto region = data.actuals.find(child);
    if (region != data.actuals.end()) {
      auto actual = region->second.find(year);
      if (actual != region->second.end()) {
        figure.value = actual->second.value();
        figure.numerator = OptionalNumerator(actual->second);
        figure.denominator = OptionalDenominator(actual->second);
      }
    }
    children.push_back(figure);
  }
  // The area's own figure; without a value when it reported none, so an
  // incomplete REPORTED aggregate names the area.
  std::optional<Figure> reported = Figure{kpi.area_id(), std::nullopt, std::nullopt, std::nullopt};
  auto area = data.actuals.find(kpi.area_id());
  if (area != data.actuals.end()) {
    auto actual = area->second.find(year);
    if (actual != area->second.end()) {
      reported = Figure{kpi.area_id(), actual->second.value(), OptionalNumerator(actual->second),
                        OptionalDenominator(actual->second)};
    }
  }
  return AggregateFigures(kpi.aggregation(), children, reported);
}

// The aggregate of the KPI's area in `year`, with its progress.
v1::Aggregate AggregateOf(const KpiData& data, int year) {
  const v1::Kpi& kpi = data.kpi;
  v1::Aggregate aggregate = AreaFigure(data, year);
  aggregate.set_kpi_id(kpi.id());
  aggregate.set_area_id(kpi.area_id());
  *aggregate.mutable_fiscal_year() = Year(year);
  const std::optional<v1::Baseline> baseline = BaselineOf(data, kpi.area_id());
  const std::optional<v1::Target> target = TargetOf(data, kpi.area_id());
  if (baseline) aggregate.set_baseline(baseline->value());
  if (target) aggregate.set_target(target->value());
  const std::optional<double> value =
      aggregate.has_value() ? std::optional<double>(aggregate.value()) : std::nullopt;
  if (baseline && target) {
    *aggregate.mutable_progress() = ComputePoint(InputsOf(kpi, *baseline, *target), year, value);
  } else {
    v1::ProgressPoint* point = aggregate.mutable_progress();
    *point->mutable_fiscal_year() = Year(year);
    if (value) point->set_value(*value);
    point->set_status(v1::PROGRESS_STATUS_UNKNOWN);
    point->set_undefined_reason("the area has no baseline or target");
  }
  if (!aggregate.complete()) {
    aggregate.mutable_progress()->set_undefined_reason(absl::StrCat(
        "incomplete: no actual for ", absl::StrJoin(aggregate.missing_region_ids(), ", ")));
  }
  return aggregate;
}

// The value of `region` in `year`: reported, or computed for an area.
std::optional<double> ValueOf(const KpiData& data, const std::string& region, int year) {
  if (Computed(data.kpi, region)) {
    const v1::Aggregate aggregate = AreaFigure(data, year);
    return aggregate.has_value() ? std::optional<double>(aggregate.value()) : std::nullopt;
  }
  auto it = data.actuals.find(region);
  if (it == data.actuals.end()) return std::nullopt;
  auto actual = it->second.find(year);
  if (actual == it->second.end()) return std::nullopt;
  return actual->second.value();
}

int LastActualYear(const KpiData& data, const std::string& region) {
  int last = 0;
  for (const std::string& source :
       Computed(data.kpi, region) ? Children(data.kpi) : std::vector<std::string>{region}) {
    auto it = data.actuals.find(source);
    if (it != data.actuals.end() && !it->second.empty()) {
      last = std::max(last, it->second.rbegin()->first);
    }
  }
  return last;
}

// A region's points from `first` to `last`.
std::vector<v1::ProgressPoint> PointsOf(const KpiData& data, const std::string& region, int first,
                                        int last) {
  const std::optional<v1::Baseline> baseline = BaselineOf(data, region);
  const std::optional<v1::Target> target = TargetOf(data, region);
  std::vector<v1::ProgressPoint> points;
  for (int year = first; year <= last; ++year) {
    const std::optional<double> value = ValueOf(data, region, year);
    if (baseline && target) {
      points.push_back(ComputePoint(InputsOf(data.kpi, *baseline, *target), year, value));
    } else {
      v1::ProgressPoint point;
      *point.mutable_fiscal_year() = Year(year);
      if (value) point.set_value(*value);
      point.set_status(v1::PROGRESS_STATUS_UNKNOWN);
      point.set_undefined_reason(baseline ? "no target" : "no baseline");
      points.push_back(std::move(point));
    }
  }
  return points;
}

// Changes are stored without the year's label, made again when read.
void LabelChange(v1::Change& change) {
  if (change.fiscal_year().year() != 0) {
    change.mutable_fiscal_year()->set_label(FormatFiscalYear(change.fiscal_year().year()));
  }
}

}  // namespace

KpiCatalog::KpiCatalog(KpiStore* store, FigureCache* cache) : store_(store), cache_(cache) {}

absl::StatusOr<std::optional<v1::Kpi>> KpiCatalog::FindKpi(const std::string& id) {
  std::optional<v1::Kpi> kpi;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(kpi, tx.FindKpi(id));
    return absl::OkStatus();
  }));
  return kpi;
}

absl::Status KpiCatalog::GetKpi(const v1::GetKpiRequest& request, v1::GetKpiResponse* response) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(*response->mutable_kpi(), RequireKpi(tx, "id", request.id()));
    ASSIGN_OR_RETURN(std::vector<v1::Baseline> baselines, tx.Baselines(request.id()));
    for (auto& baseline : baselines) *response->add_baselines() = std::move(baseline);
    ASSIGN_OR_RETURN(std::vector<v1::Target> targets, tx.Targets(request.id()));
    for (auto& target : targets) *response->add_targets() = std::move(target);
    return absl::OkStatus();
  });
}

absl::Status KpiCatalog::ListKpis(const v1::ListKpisRequest& request,
                                  v1::ListKpisResponse* response) {
  if (!request.project_id().empty())
    RETURN_IF_ERROR(ValidateId("project_id", request.project_id()));
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t after, DecodePageToken("page_token", request.page_token()));
  return store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto page, tx.ListKpis(request.project_id(), after, page_size + 1));
    for (int i = 0; i < static_cast<int>(page.size()) && i < page_size; ++i) {
      *response->add_kpis() = page[i].kpi;
    }
    if (static_cast<int>(page.size()) > page_size) {
      response->set_next_page_token(EncodePageToken(page[page_size - 1].key));
    }
    return absl::OkStatus();
  });
}

absl::Status KpiCatalog::GetProgress(const v1::GetProgressRequest& request,
                                     v1::GetProgressResponse* response) {
  RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  RETURN_IF_ERROR(ValidateId("region_id", request.region_id()));
  const int as_of = request.as_of().year();
  if (as_of != 0) RETURN_IF_ERROR(ValidateFiscalYear("as_of.year", as_of));
  const std::string key =
      cache_->Key(request.kpi_id(), "progress.v2", absl::StrCat(request.region_id(), "/", as_of));
  if (std::optional<std::string> hit = cache_->Get(key); hit && response->ParseFromString(*hit)) {
    return absl::OkStatus();
  }
  KpiData data;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(data, LoadKpi(tx, "kpi_id", request.kpi_id()));
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(CheckRegion(data.kpi, "region_id", request.region_id()));
  const std::optional<v1::Baseline> baseline = BaselineOf(data, request.region_id());
  const std::optional<v1::Target> target = TargetOf(data, request.region_id());
  const int last_actual = LastActualYear(data, request.region_id());
  const int first = baseline ? baseline->fiscal_year().year() + 1 : last_actual;
  const int last =
      as_of != 0 ? as_of : std::max(target ? target->fiscal_year().year() : 0, last_actual);
  *response->mutable_kpi() = data.kpi;
  response->set_region_id(request.region_id());
  response->set_computed_from_children(Computed(data.kpi, request.region_id()));
  if (baseline) *response->mutable_baseline() = *baseline;
  if (target) *response->mutable_target() = *target;
  if (first > 0) {
    for (v1::ProgressPoint& point : PointsOf(data, request.region_id(), first, last)) {
      *response->add_points() = std::move(point);
    }
  }
  response->set_generation(data.generation);
  cache_->Put(key, response->SerializeAsString());
  return absl::OkStatus();
}

absl::Status KpiCatalog::GetAggregate(const v1::GetAggregateRequest& request,
                                      v1::GetAggregateResponse* response) {
  RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  RETURN_IF_ERROR(ValidateId("area_id", request.area_id()));
  RETURN_IF_ERROR(RequireYear("fiscal_year.year", request.fiscal_year()));
  const int year = request.fiscal_year().year();
  const std::string key =
      cache_->Key(request.kpi_id(), "aggregate", absl::StrCat(request.area_id(), "/", year));
  if (std::optional<std::string> hit = cache_->Get(key); hit && response->ParseFromString(*hit)) {
    return absl::OkStatus();
  }
  KpiData data;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(data, LoadKpi(tx, "kpi_id", request.kpi_id()));
    return absl::OkStatus();
  }));
  if (request.area_id() != data.kpi.area_id()) {
    return FieldError(
        "area_id", request.area_id(),
        absl::StrCat("is not the area of KPI \"", data.kpi.id(), "\" (", data.kpi.area_id(), ")"));
  }
  *response->mutable_aggregate() = AggregateOf(data, year);
  cache_->Put(key, response->SerializeAsString());
  return absl::OkStatus();
}

absl::Status KpiCatalog::GetKpiTable(const v1::GetKpiTableRequest& request,
                                     v1::GetKpiTableResponse* response) {
  RETURN_IF_ERROR(ValidateId("project_id", request.project_id()));
  RETURN_IF_ERROR(RequireYear("as_of.year", request.as_of()));
  const int as_of = request.as_of().year();
  std::vector<KpiData> kpis;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    int64_t after = 0;
    while (true) {
      ASSIGN_OR_RETURN(auto page, tx.ListKpis(request.project_id(), after, 1000));
      for (const KeyedKpi& keyed : page) {
        ASSIGN_OR_RETURN(KpiData data, LoadKpi(tx, "kpi_id", keyed.kpi.id()));
        kpis.push_back(std::move(data));
      }
      if (page.size() < 1000) return absl::OkStatus();
      after = page.back().key;
    }
  }));
  if (kpis.empty()) {
    return absl::NotFoundError(
        absl::StrCat("project_id: project \"", request.project_id(), "\" has no KPIs"));
  }
  response->set_project_id(request.project_id());
  *response->mutable_as_of() = Year(as_of);
  for (const KpiData& data : kpis) {
    v1::KpiTable* table = response->add_tables();
    *table->mutable_kpi() = data.kpi;
    int first_year = 0;
    int last_year = 0;
    for (const std::string& region : data.kpi.region_ids()) {
      const std::optional<v1::Baseline> baseline = BaselineOf(data, region);
      const std::optional<v1::Target> target = TargetOf(data, region);
      if (baseline && (first_year == 0 || baseline->fiscal_year().year() < first_year)) {
        first_year = baseline->fiscal_year().year();
      }
      if (target) last_year = std::max(last_year, target->fiscal_year().year());
    }
    for (int year = first_year; first_year > 0 && year <= last_year; ++year) {
      *table->add_years() = Year(year);
    }
    for (const std::string& region : data.kpi.region_ids()) {
      v1::KpiTableRow* row = table->add_rows();
      row->set_region_id(region);
      auto name = data.kpi.region_names().find(region);
      row->set_region_name(name == data.kpi.region_names().end() ? region : name->second);
      const std::optional<v1::Baseline> baseline = BaselineOf(data, region);
      const std::optional<v1::Target> target = TargetOf(data, region);
      if (baseline) *row->mutable_baseline() = *baseline;
      if (target) *row->mutable_target() = *target;
      const int first = baseline ? baseline->fiscal_year().year() + 1 : first_year + 1;
      const int last = std::min(as_of, target ? target->fiscal_year().year() : last_year);
      if (first > 0) {
        for (v1::ProgressPoint& point : PointsOf(data, region, first, last)) {
          *row->add_points() = std::move(point);
        }
      }
      row->set_computed_from_children(Computed(data.kpi, region));
      if (row->computed_from_children()) *row->mutable_aggregate() = AggregateOf(data, last);
    }
  }
  return absl::OkStatus();
}

absl::Status KpiCatalog::GetHistory(const v1::GetHistoryRequest& request,
                                    v1::GetHistoryResponse* response) {
  RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  if (!request.region_id().empty()) RETURN_IF_ERROR(ValidateId("region_id", request.region_id()));
  if (request.fiscal_year().year() != 0) {
    RETURN_IF_ERROR(ValidateFiscalYear("fiscal_year.year", request.fiscal_year().year()));
  }
  ASSIGN_OR_RETURN(const int page_size, EffectivePageSize("page_size", request.page_size()));
  // The token carries the last sequence the previous page looked at.
  ASSIGN_OR_RETURN(const int64_t after, DecodePageToken("page_token", request.page_token()));
  return store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Kpi kpi, RequireKpi(tx, "kpi_id", request.kpi_id()));
    if (!request.region_id().empty()) {
      RETURN_IF_ERROR(CheckRegion(kpi, "region_id", request.region_id()));
    }
    ChangeQuery query;
    query.from_sequence = after + 1;
    query.kpi_id = request.kpi_id();
    query.region_id = request.region_id();
    query.fiscal_year = request.fiscal_year().year();
    query.limit = page_size;
    ASSIGN_OR_RETURN(ChangePage page, tx.Changes(query));
    for (v1::Change& change : page.changes) {
      LabelChange(change);
      *response->add_changes() = std::move(change);
    }
    // A page that stopped early (full, or the scan bound) has a next one,
    // which may turn out empty; one that reached the end has none.
    if (!page.at_end) response->set_next_page_token(EncodePageToken(page.scanned_through));
    return absl::OkStatus();
  });
}

absl::StatusOr<LogBatch<v1::Change>> KpiCatalog::ReadChanges(int64_t after,
                                                             const std::string& kpi_id, int limit,
                                                             bool with_figures) {
  LogBatch<v1::Change> batch;
  RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
    ChangeQuery query;
    query.from_sequence = std::max<int64_t>(after + 1, 1);
    query.kpi_id = kpi_id;
    query.limit = limit;
    ASSIGN_OR_RETURN(ChangePage page, tx.Changes(query));
    batch.entries = std::move(page.changes);
    batch.scanned_through = page.scanned_through;
    if (with_figures) RETURN_IF_ERROR(AttachFigures(tx, batch.entries));
    return absl::OkStatus();
  }));
  for (v1::Change& change : batch.entries) LabelChange(change);
  return batch;
}

absl::Status KpiCatalog::AttachFigures(KpiTransaction& tx, std::vector<v1::Change>& changes) {
  // Each KPI's baselines and targets once, each year's actuals once.
  std::map<std::string, KpiData> kpis;
  std::map<std::string, std::set<int>> years;
  for (v1::Change& change : changes) {
    if (change.kind() != v1::CHANGE_KIND_ACTUAL_RECORDED &&
        change.kind() != v1::CHANGE_KIND_ACTUAL_CORRECTED) {
      continue;
    }
    // A baseline or target that changed after this change (it may be in
    // this snapshot) would make its figures fit no series the reader had.
    if (cache_->BaselinesOrTargetsGeneration(change.kpi_id()) > change.sequence()) continue;
    auto data = kpis.find(change.kpi_id());
    if (data == kpis.end()) {
      ASSIGN_OR_RETURN(KpiData loaded, LoadKpiDefinition(tx, change.kpi_id()));
      data = kpis.emplace(change.kpi_id(), std::move(loaded)).first;
    }
    const int year = change.fiscal_year().year();
    if (years[change.kpi_id()].insert(year).second)
      RETURN_IF_ERROR(AddYear(tx, data->second, year));
    const v1::Kpi& kpi = data->second.kpi;
    std::vector<std::string> regions = {change.region_id()};
    if (change.region_id() != kpi.area_id() && Computed(kpi, kpi.area_id())) {
      regions.push_back(kpi.area_id());
    }
    for (const std::string& region : regions) {
      v1::RegionPoint* figure = change.add_figures();
      figure->set_region_id(region);
      *figure->mutable_point() = std::move(PointsOf(data->second, region, year, year).front());
    }
    change.set_figures_generation(data->second.generation);
  }
  return absl::OkStatus();
}

}  // namespace suishin::kpi
