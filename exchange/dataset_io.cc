#include "exchange/dataset_io.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "clients/services.h"
#include "common/proto_util.h"
#include "common/status_macros.h"

namespace suishin::exchange {
namespace {

using kpi::v1::KpiService;
using plan::v1::PlanService;

// Items per list call: the services' maximum.
constexpr int kPageSize = 1000;

// Where `region_id` comes in `kpi`'s regions: its index, or past the end.
int RegionRank(const kpi::v1::Kpi& kpi, const std::string& region_id) {
  const auto& ids = kpi.region_ids();
  return static_cast<int>(std::find(ids.begin(), ids.end(), region_id) - ids.begin());
}

// Sorts `items` (with region_id()) into the order of kpi.region_ids, the
// others after them by id; stable otherwise.
template <typename Item>
void OrderByRegion(const kpi::v1::Kpi& kpi, google::protobuf::RepeatedPtrField<Item>* items) {
  std::stable_sort(items->begin(), items->end(), [&](const Item& a, const Item& b) {
    return std::make_pair(RegionRank(kpi, a.region_id()), a.region_id()) <
           std::make_pair(RegionRank(kpi, b.region_id()), b.region_id());
  });
}

// The line and column (1-based, in characters) of byte `offset` of `text`.
std::pair<int, int> LineAndColumn(absl::string_view text, size_t offset) {
  int line = 1;
  int column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {  // not a UTF-8 continuation byte
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

std::string OneLineParseError(absl::string_view message, absl::string_view text) {
  const size_t first = message.find('\n');
  if (first == absl::string_view::npos) return std::string(message);
  const size_t last = message.rfind('\n');
  const absl::string_view head = message.substr(0, first);
  const absl::string_view caret_line = message.substr(last + 1);
  const absl::string_view excerpt =
      last > first ? message.substr(first + 1, last - first - 1) : absl::string_view();
  const size_t caret = caret_line.find_first_not_of(' ');
  if (last == first || caret == absl::string_view::npos || caret_line.substr(caret) != "^") {
    return absl::StrReplaceAll(message, {{"\n", " "}});  // not excerpt and caret
  }
  if (excerpt.empty()) return absl::StrCat(head, " (at the end of the file)");
  const size_t at = text.find(excerpt);
  if (at != absl::string_view::npos && text.find(excerpt, at + 1) == absl::string_view::npos) {
    const auto [line, column] = LineAndColumn(text, at + caret);
    return absl::StrCat(head, " (line ", line, ", column ", column, ")");
  }
  return absl::StrCat(head, " (near \"", absl::StrReplaceAll(excerpt, {{"\n", " "}}), "\")");
}

absl::StatusOr<dataset::v1::Dataset> ParseDatasetJson(absl::string_view path,
                                                      absl::string_view text) {
  dataset::v1::Dataset dataset;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), &dataset, options);
  if (status.ok()) return dataset;
  // As ReadJsonFile words it, on one line.
  return absl::InvalidArgumentError(OneLineParseError(
      absl::StrCat(path, ": not a valid ", dataset.GetTypeName(), ": ",
                   absl::string_view(status.message().data(), status.message().size())),
      text));
}

absl::StatusOr<dataset::v1::Dataset> ReadDatasetFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseDatasetJson(path, text.str());
}

absl::Status CheckDatasetReferences(const clients::Services& services, absl::string_view path,
                                    const dataset::v1::Dataset& dataset) {
  const kpi::v1::KpiDataset& kpis = dataset.kpi();
  if (kpis.kpis().empty()) return absl::OkStatus();
  const auto refuse = [&](absl::string_view field, absl::string_view problem) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", field, ": ", problem, "; nothing stored"));
  };

  // What the import will find: plan-service's regions and projects, and the
  // file's in their place.
  std::map<std::string, std::string> parents;  // region → its parent
  std::map<std::string, std::string> areas;    // project → its area
  {
    ASSIGN_OR_RETURN(std::vector<plan::v1::Region> regions,
                     clients::ListAll(services, services.plan, plan::v1::ListRegionsRequest(),
                                      kPageSize, &PlanService::StubInterface::ListRegions,
                                      &plan::v1::ListRegionsResponse::mutable_regions));
    for (const plan::v1::Region& region : regions) parents[region.id()] = region.parent_id();
    ASSIGN_OR_RETURN(std::vector<plan::v1::Project> projects,
                     clients::ListAll(services, services.plan, plan::v1::ListProjectsRequest(),
                                      kPageSize, &PlanService::StubInterface::ListProjects,
                                      &plan::v1::ListProjectsResponse::mutable_projects));
    for (const plan::v1::Project& project : projects) areas[project.id()] = project.area_id();
  }
  for (const plan::v1::Region& region : dataset.plan().regions()) {
    parents[region.id()] = region.parent_id();
  }
  for (const plan::v1::Project& project : dataset.plan().projects()) {
    areas[project.id()] = project.area_id();
  }
  const auto within = [&](std::string region, const std::string& area) {
    for (int depth = 0; depth <= static_cast<int>(parents.size()); ++depth) {
      if (region == area) return true;
      const auto it = parents.find(region);
      if (it == parents.end() || it->second.empty()) return false;
      region = it->second;
    }
    return false;  // a cycle
  };

  std::set<std::string> ids;
  for (int i = 0; i < kpis.kpis_size(); ++i) {
    const kpi::v1::KpiRecord& record = kpis.kpis(i);
    const kpi::v1::Kpi& kpi = record.kpi();
    const std::string at = absl::StrCat("kpi.kpis[", i, "]");
    if (!kpi.id().empty() && !ids.insert(kpi.id()).second) {
      return refuse(absl::StrCat(at, ".kpi.id"),
                    absl::StrCat("KPI \"", kpi.id(), "\" is in the file twice"));
    }
    const auto project = areas.find(kpi.project_id());
    if (project == areas.end()) {
      return refuse(absl::StrCat(at, ".kpi.projectId"),
                    absl::StrCat("project \"", kpi.project_id(),
                                 "\" is neither in the file nor in plan-service"));
    }
    const std::string& area = project->second;
    if (!kpi.area_id().empty() && kpi.area_id() != area) {
      return refuse(absl::StrCat(at, ".kpi.areaId"),
                    absl::StrCat("\"", kpi.area_id(), "\" is not the area of project \"",
                                 kpi.project_id(), "\" (", area, ")"));
    }
    for (int j = 0; j < kpi.region_ids_size(); ++j) {
      const std::string& region = kpi.region_ids(j);
      const std::string field = absl::StrCat(at, ".kpi.regionIds[", j, "]");
      if (parents.find(region) == parents.end()) {
        return refuse(field, absl::StrCat("region \"", region,
                                          "\" is neither in the file nor in plan-service"));
      }
      if (!within(region, area)) {
        return refuse(field, absl::StrCat("region \"", region, "\" is not in area \"", area,
                                          "\" of project \"", kpi.project_id(), "\""));
      }
    }
    const std::set<std::string> tracked(kpi.region_ids().begin(), kpi.region_ids().end());
    const auto check_region = [&](absl::string_view list, int j, const std::string& region) {
      if (tracked.count(region) > 0) return absl::OkStatus();
      return refuse(
          absl::StrCat(at, ".", list, "[", j, "].regionId"),
          absl::StrCat("region \"", region, "\" is not one of KPI \"", kpi.id(), "\"'s regionIds"));
    };
    for (int j = 0; j < record.baselines_size(); ++j) {
      RETURN_IF_ERROR(check_region("baselines", j, record.baselines(j).region_id()));
    }
    for (int j = 0; j < record.targets_size(); ++j) {
      RETURN_IF_ERROR(check_region("targets", j, record.targets(j).region_id()));
    }
    for (int j = 0; j < record.actuals_size(); ++j) {
      const kpi::v1::Actual& actual = record.actuals(j);
      RETURN_IF_ERROR(check_region("actuals", j, actual.region_id()));
      if (!actual.kpi_id().empty() && actual.kpi_id() != kpi.id()) {
        return refuse(absl::StrCat(at, ".actuals[", j, "].kpiId"),
                      absl::StrCat("\"", actual.kpi_id(),
                                   "\" is not the KPI it is listed under (\"", kpi.id(), "\")"));
      }
    }
  }
  return absl::OkStatus();
}

std::vector<kpi::v1::Actual> ActualsFromHistory(
    const kpi::v1::Kpi& kpi, const google::protobuf::RepeatedPtrField<kpi::v1::Change>& changes) {
  // (region's rank, region, year) → the latest change.
  std::map<std::tuple<int, std::string, int>, const kpi::v1::Change*> latest;
  for (const kpi::v1::Change& change : changes) {
    if (change.kind() != kpi::v1::CHANGE_KIND_ACTUAL_RECORDED &&
        change.kind() != kpi::v1::CHANGE_KIND_ACTUAL_CORRECTED) {
      continue;
    }
    const kpi::v1::Change*& slot = latest[{RegionRank(kpi, change.region_id()), change.region_id(),
                                           change.fiscal_year().year()}];
    if (slot == nullptr || slot->sequence() < change.sequence()) slot = &change;
  }
  std::vector<kpi::v1::Actual> actuals;
  actuals.reserve(latest.size());
  for (const auto& [key, change] : latest) {
    kpi::v1::Actual& actual = actuals.emplace_back();
    actual.set_kpi_id(kpi.id());
    actual.set_region_id(change->region_id());
    actual.mutable_fiscal_year()->set_year(change->fiscal_year().year());
    actual.set_value(change->new_value());
    if (change->has_new_numerator()) actual.set_numerator(change->new_numerator());
    if (change->has_new_denominator()) actual.set_denominator(change->new_denominator());
    actual.set_reported_by(change->author());
    *actual.mutable_report_time() = change->change_time();
  }
  return actuals;
}

void StripOutputOnly(dataset::v1::Dataset* dataset) {
  plan::v1::PlanDataset* plan = dataset->mutable_plan();
  for (plan::v1::Region& region : *plan->mutable_regions()) region.clear_create_time();
  for (plan::v1::Project& project : *plan->mutable_projects()) {
    project.clear_version();
    project.clear_create_time();
    project.clear_update_time();
  }
  for (plan::v1::Initiative& initiative : *plan->mutable_initiatives()) {
    initiative.clear_version();
    initiative.clear_create_time();
    initiative.clear_update_time();
    if (initiative.has_fiscal_year()) initiative.mutable_fiscal_year()->clear_label();
  }
  for (kpi::v1::KpiRecord& record : *dataset->mutable_kpi()->mutable_kpis()) {
    kpi::v1::Kpi* kpi = record.mutable_kpi();
    kpi->clear_version();
    kpi->clear_create_time();
    kpi->clear_region_names();
    kpi->clear_region_parents();
    kpi->clear_region_kinds();
    for (kpi::v1::Baseline& baseline : *record.mutable_baselines()) {
      if (baseline.has_fiscal_year()) baseline.mutable_fiscal_year()->clear_label();
    }
    for (kpi::v1::Target& target : *record.mutable_targets()) {
      if (target.has_fiscal_year()) target.mutable_fiscal_year()->clear_label();
      for (kpi::v1::TargetRevision& revision : *target.mutable_revisions()) {
        revision.clear_revise_time();
        if (revision.has_fiscal_year()) revision.mutable_fiscal_year()->clear_label();
      }
    }
    for (kpi::v1::Actual& actual : *record.mutable_actuals()) {
      actual.clear_report_time();
      if (actual.has_fiscal_year()) actual.mutable_fiscal_year()->clear_label();
    }
  }
}

absl::StatusOr<dataset::v1::Dataset> ExportDataset(const clients::Services& services) {
  dataset::v1::Dataset dataset;
  plan::v1::PlanDataset* plan = dataset.mutable_plan();

  ASSIGN_OR_RETURN(std::vector<plan::v1::Region> regions,
                   clients::ListAll(services, services.plan, plan::v1::ListRegionsRequest(),
                                    kPageSize, &PlanService::StubInterface::ListRegions,
                                    &plan::v1::ListRegionsResponse::mutable_regions));
  for (plan::v1::Region& region : regions) *plan->add_regions() = std::move(region);

  ASSIGN_OR_RETURN(std::vector<plan::v1::Project> projects,
                   clients::ListAll(services, services.plan, plan::v1::ListProjectsRequest(),
                                    kPageSize, &PlanService::StubInterface::ListProjects,
                                    &plan::v1::ListProjectsResponse::mutable_projects));
  for (plan::v1::Project& project : projects) {
    plan::v1::ListInitiativesRequest request;
    request.set_project_id(project.id());
    ASSIGN_OR_RETURN(std::vector<plan::v1::Initiative> initiatives,
                     clients::ListAll(services, services.plan, request, kPageSize,
                                      &PlanService::StubInterface::ListInitiatives,
                                      &plan::v1::ListInitiativesResponse::mutable_initiatives));
    *plan->add_projects() = std::move(project);
    for (plan::v1::Initiative& initiative : initiatives) {
      *plan->add_initiatives() = std::move(initiative);
    }
  }

  ASSIGN_OR_RETURN(std::vector<kpi::v1::Kpi> kpis,
                   clients::ListAll(services, services.kpi, kpi::v1::ListKpisRequest(), kPageSize,
                                    &KpiService::StubInterface::ListKpis,
                                    &kpi::v1::ListKpisResponse::mutable_kpis));
  for (const kpi::v1::Kpi& listed : kpis) {
    kpi::v1::GetKpiRequest get;
    get.set_id(listed.id());
    kpi::v1::GetKpiResponse stored;
    RETURN_IF_ERROR(Invoke(services, [&](grpc::ClientContext* context) {
      return services.kpi->GetKpi(context, get, &stored);
    }));
    kpi::v1::GetHistoryRequest history_request;
    history_request.set_kpi_id(listed.id());
    kpi::v1::GetHistoryResponse history;
    ASSIGN_OR_RETURN(std::vector<kpi::v1::Change> changes,
                     clients::ListAll(services, services.kpi, history_request, kPageSize,
                                      &KpiService::StubInterface::GetHistory,
                                      &kpi::v1::GetHistoryResponse::mutable_changes));
    for (kpi::v1::Change& change : changes) *history.add_changes() = std::move(change);

    kpi::v1::KpiRecord* record = dataset.mutable_kpi()->add_kpis();
    *record->mutable_kpi() = std::move(*stored.mutable_kpi());
    *record->mutable_baselines() = std::move(*stored.mutable_baselines());
    *record->mutable_targets() = std::move(*stored.mutable_targets());
    OrderByRegion(record->kpi(), record->mutable_baselines());
    OrderByRegion(record->kpi(), record->mutable_targets());
    for (kpi::v1::Actual& actual : ActualsFromHistory(record->kpi(), history.changes())) {
      *record->add_actuals() = std::move(actual);
    }
  }
  StripOutputOnly(&dataset);
  return dataset;
}

std::string DatasetJson(const dataset::v1::Dataset& dataset) {
  // The printer indents by one space per level and keeps every string on its
  // line (a newline in one is written \n), so the spaces that begin a line
  // are all indentation: doubling them gives two per level.
  const std::string printed = ToJson(dataset);
  std::string out;
  out.reserve(printed.size() * 5 / 4);
  bool line_start = true;
  for (const char c : printed) {
    if (line_start && c == ' ') {
      out += "  ";
      continue;
    }
    line_start = c == '\n';
    out += c;
  }
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

}  // namespace suishin::exchange
