#include "report/report_model.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "clients/services.h"
#include "common/fiscal_year.h"
#include "common/status_macros.h"
#include "report/labels.h"

namespace suishin::report {
namespace {

using kpi::v1::Kpi;
using kpi::v1::KpiTable;
using kpi::v1::KpiTableRow;
using kpi::v1::ProgressPoint;
using notification::v1::Alert;
using plan::v1::Initiative;
using plan::v1::InitiativeStage;

constexpr int kPageSize = 500;

// What a cell shows when a figure exists but cannot be shown.

absl::StatusOr<std::vector<Initiative>> ListStage(const clients::Services& services,
                                                  const std::string& project_id,
                                                  InitiativeStage stage, int year) {
  plan::v1::ListInitiativesRequest request;
  request.set_project_id(project_id);
  request.set_stage(stage);
  request.mutable_fiscal_year()->set_year(year);
  return clients::ListAll(services, services.plan, request, kPageSize,
                          &plan::v1::PlanService::StubInterface::ListInitiatives,
                          &plan::v1::ListInitiativesResponse::mutable_initiatives);
}

// The firing alerts of the KPIs of `tables`, or why they cannot be had.
ReportAlerts GatherAlerts(const clients::Services& services,
                          const kpi::v1::GetKpiTableResponse& tables) {
  ReportAlerts alerts;
  if (tables.tables().empty()) {  // An empty filter would match every KPI.
    alerts.available = true;
    return alerts;
  }
  if (services.notification == nullptr) {
    alerts.error = "no notification-service stub";
    return alerts;
  }
  notification::v1::ListAlertsRequest request;
  for (const KpiTable& table : tables.tables()) {
    request.mutable_filter()->add_kpi_ids(table.kpi().id());
  }
  absl::StatusOr<std::vector<Alert>> listed =
      clients::ListAll(services, services.notification, request, kPageSize,
                       &notification::v1::NotificationService::StubInterface::ListAlerts,
                       &notification::v1::ListAlertsResponse::mutable_alerts);
  if (!listed.ok()) {
    alerts.error = absl::StrCat(absl::StatusCodeToString(listed.status().code()), ": ",
                                listed.status().message());
    return alerts;
  }
  alerts.available = true;
  // Order: KPI as the tables come, region as the KPI's rows come, most
  // severe first.
  std::map<std::string, int> kpi_order;
  std::map<std::pair<std::string, std::string>, int> region_order;
  for (const KpiTable& table : tables.tables()) {
    kpi_order.emplace(table.kpi().id(), static_cast<int>(kpi_order.size()));
    int n = 0;
    for (const KpiTableRow& row : table.rows()) {
      region_order.emplace(std::make_pair(table.kpi().id(), row.region_id()), n++);
    }
  }
  const auto rank = [](const std::map<std::string, int>& order, const std::string& key) {
    const auto it = order.find(key);
    return it == order.end() ? static_cast<int>(order.size()) : it->second;
  };
  for (Alert& alert : *listed) {
    if (alert.state() == notification::v1::ALERT_STATE_FIRING) {
      alerts.firing.push_back(std::move(alert));
    }
  }
  std::stable_sort(alerts.firing.begin(), alerts.firing.end(), [&](const Alert& a, const Alert& b) {
    const int ka = rank(kpi_order, a.kpi_id());
    const int kb = rank(kpi_order, b.kpi_id());
    if (ka != kb) return ka < kb;
    const auto ra = region_order.find({a.kpi_id(), a.region_id()});
    const auto rb = region_order.find({b.kpi_id(), b.region_id()});
    const int ia = ra == region_order.end() ? 1 << 20 : ra->second;
    const int ib = rb == region_order.end() ? 1 << 20 : rb->second;
    if (ia != ib) return ia < ib;
    return a.severity() > b.severity();
  });
  return alerts;
}

// "見直し前38カ所", with the year when it differs from the current target's.
std::string RevisionLabel(const kpi::v1::TargetRevision& revision, const kpi::v1::Target& target,
                          const Kpi& kpi) {
  std::string out = absl::StrCat("見直し前", ValueWithUnit(revision.value(), kpi));
  if (revision.fiscal_year().year() != target.fiscal_year().year()) {
    absl::StrAppend(&out, " ", EraFiscalYear(revision.fiscal_year().year()));
  }
  return out;
}

}  // namespace

absl::StatusOr<ReportModel> GatherReport(const clients::Services& services,
                                         const std::string& project_id, int year) {
  ReportModel model;
  model.year = year;

  plan::v1::GetProjectRequest project_request;
  project_request.set_id(project_id);
  plan::v1::GetProjectResponse project_response;
  RETURN_IF_ERROR(clients::Invoke(services, [&](grpc::ClientContext* context) {
    return services.plan->GetProject(context, project_request, &project_response);
  }));
  model.project = project_response.project();

  plan::v1::ListRegionsRequest regions_request;
  regions_request.set_root_id(model.project.area_id());
  absl::StatusOr<std::vector<plan::v1::Region>> regions =
      ListAll(services, services.plan, regions_request, kPageSize,
              &plan::v1::PlanService::StubInterface::ListRegions,
              &plan::v1::ListRegionsResponse::mutable_regions);
  // A project always has its area; should it be gone, tags show ids.
  if (!regions.ok() && !absl::IsNotFound(regions.status())) return regions.status();
  model.area_label = model.project.area_id();
  if (regions.ok()) {
    for (const plan::v1::Region& region : *regions) {
      model.region_names[region.id()] = region.name();
      if (region.id() != model.project.area_id() || region.name().empty()) continue;
      model.area_label = region.name();
      if (region.kind() == common::v1::REGION_KIND_COOPERATION_AREA &&
          !absl::EndsWith(region.name(), "連携地域")) {
        absl::StrAppend(&model.area_label, "連携地域");
      }
    }
  }

  const struct {
    InitiativeStage stage;
    int year;
    std::vector<PillarGroup>* groups;
  } columns[] = {
      {plan::v1::INITIATIVE_STAGE_ACHIEVEMENT, year, &model.achievements},
      {plan::v1::INITIATIVE_STAGE_CHALLENGE, year, &model.challenges},
      {plan::v1::INITIATIVE_STAGE_CURRENT, year, &model.current},
      {plan::v1::INITIATIVE_STAGE_NEXT, year + 1, &model.next},
  };
  for (const auto& column : columns) {
    ASSIGN_OR_RETURN(std::vector<Initiative> initiatives,
                     ListStage(services, project_id, column.stage, column.year));
    *column.groups = GroupByPillar(model.project, initiatives);
  }

  kpi::v1::GetKpiTableRequest table_request;
  table_request.set_project_id(project_id);
  table_request.mutable_as_of()->set_year(year);
  RETURN_IF_ERROR(clients::Invoke(services, [&](grpc::ClientContext* context) {
    return services.kpi->GetKpiTable(context, table_request, &model.kpi_tables);
  }));

  model.alerts = GatherAlerts(services, model.kpi_tables);
  return model;
}

std::vector<PillarGroup> GroupByPillar(const plan::v1::Project& project,
                                       const std::vector<Initiative>& initiatives) {
  std::vector<PillarGroup> groups;
  std::map<std::string, size_t> index;
  for (const plan::v1::Pillar& pillar : project.pillars()) {
    if (index.count(pillar.id()) > 0) continue;
    index[pillar.id()] = groups.size();
    groups.push_back({pillar.id(), pillar.title().empty() ? pillar.id() : pillar.title(), {}});
  }
  for (const Initiative& initiative : initiatives) {
    auto it = index.find(initiative.pillar_id());
    if (it == index.end()) {
      it = index.emplace(initiative.pillar_id(), groups.size()).first;
      groups.push_back({initiative.pillar_id(), initiative.pillar_id(), {}});
    }
    groups[it->second].initiatives.push_back(initiative);
  }
  groups.erase(std::remove_if(groups.begin(), groups.end(),
                              [](const PillarGroup& group) { return group.initiatives.empty(); }),
               groups.end());
  return groups;
}

std::string BodiesSuffix(const Initiative& initiative) {
  if (initiative.responsible_bodies().empty()) return "";
  return absl::StrCat("（", absl::StrJoin(initiative.responsible_bodies(), "、"), "）");
}

std::string RegionTagsSuffix(const Initiative& initiative, const RegionNames& names) {
  std::string out;
  for (const std::string& id : initiative.region_ids()) {
    const auto it = names.find(id);
    absl::StrAppend(&out, "【", it == names.end() || it->second.empty() ? id : it->second, "】");
  }
  return out;
}

std::string InitiativeLine(const Initiative& initiative, const RegionNames& names) {
  return absl::StrCat(initiative.text(), BodiesSuffix(initiative),
                      RegionTagsSuffix(initiative, names));
}

std::string LongFiscalYear(int year) {
  return absl::StrCat(JapaneseFiscalYear(year), "（", year, "年度）");
}

std::string CurrentHeading(int year) {
  return absl::StrCat("今年度の主な取組（", LongFiscalYear(year), "）");
}

std::string NextHeading(int year) {
  return absl::StrCat("次年度の取組（", LongFiscalYear(year + 1), "）");
}

std::string KpiRowLabel(const KpiTableRow& row, const Kpi& kpi) {
  const std::string& name = row.region_name();
  if (row.region_id() != kpi.area_id()) return name.empty() ? row.region_id() : name;
  const auto kind = kpi.region_kinds().find(row.region_id());
  if (kind != kpi.region_kinds().end() &&
      kind->second != common::v1::REGION_KIND_COOPERATION_AREA) {
    return name.empty() ? row.region_id() : name;  // 北海道 is no 連携地域
  }
  if (name.empty() || name == row.region_id()) return "連携地域";
  return absl::EndsWith(name, "連携地域") ? name : absl::StrCat(name, "連携地域");
}

std::string KpiRowIndentedLabel(const KpiTableRow& row, const Kpi& kpi) {
  std::string indent;
  for (int level = 1; level < row.depth(); ++level) absl::StrAppend(&indent, "　");
  return absl::StrCat(indent, KpiRowLabel(row, kpi));
}

KpiGrid BuildKpiGrid(const KpiTable& table) {
  const Kpi& kpi = table.kpi();
  KpiGrid grid;
  grid.kpi_id = kpi.id();
  grid.heading = absl::StrCat("○", kpi.name().empty() ? kpi.id() : kpi.name());
  grid.unit = kpi.unit();
  const bool gap_closure = kpi.progress_method() == kpi::v1::PROGRESS_METHOD_GAP_CLOSURE ||
                           (kpi.progress_method() == kpi::v1::PROGRESS_METHOD_UNSPECIFIED &&
                            kpi.direction() == kpi::v1::DIRECTION_DECREASE);
  grid.rate_formula = gap_closure ? "（実績 − 基準）÷（目標 − 基準）× 100" : "実績 ÷ 目標 × 100";

  std::set<int> baseline_years;
  std::set<int> target_years;
  std::set<int> years;
  for (const auto& year : table.years()) years.insert(year.year());
  std::set<int> valued_years;  // Years in which some region has an actual.
  for (const KpiTableRow& row : table.rows()) {
    if (row.has_baseline()) baseline_years.insert(row.baseline().fiscal_year().year());
    if (row.has_target()) target_years.insert(row.target().fiscal_year().year());
    for (const ProgressPoint& point : row.points()) {
      years.insert(point.fiscal_year().year());
      if (point.has_value()) valued_years.insert(point.fiscal_year().year());
    }
  }
  const bool one_baseline_year = baseline_years.size() == 1;
  const bool one_target_year = target_years.size() == 1;
  grid.baseline_header =
      one_baseline_year ? absl::StrCat(EraFiscalYear(*baseline_years.begin()), "（基準）") : "基準";
  grid.target_header =
      one_target_year ? absl::StrCat(EraFiscalYear(*target_years.begin()), "（目標）") : "目標";
  const int first_baseline = baseline_years.empty() ? 0 : *baseline_years.begin();
  const int last_target = target_years.empty() ? 0 : *target_years.rbegin();
  for (int year : years) {
    if (!baseline_years.empty() && year <= first_baseline) continue;
    // The target year's column is the target column unless someone has an
    // actual for it; after the target year only years with actuals.
    if (one_target_year && year == last_target && valued_years.count(year) == 0) continue;
    if (!target_years.empty() && year > last_target && valued_years.count(year) == 0) continue;
    grid.columns.push_back({year, EraFiscalYear(year)});
  }

  for (const KpiTableRow& row : table.rows()) {
    KpiGridRow out;
    out.region_id = row.region_id();
    out.label = KpiRowIndentedLabel(row, kpi);
    if (row.has_baseline()) {
      out.baseline = ValueWithUnit(row.baseline().value(), kpi);
      if (!one_baseline_year) {
        absl::StrAppend(&out.baseline, " ", EraFiscalYear(row.baseline().fiscal_year().year()));
      }
    }
    if (row.has_target()) {
      out.target = ValueWithUnit(row.target().value(), kpi);
      if (!one_target_year) {
        absl::StrAppend(&out.target, " ", EraFiscalYear(row.target().fiscal_year().year()));
      }
      for (const auto& revision : row.target().revisions()) {
        out.revisions.push_back(RevisionLabel(revision, row.target(), kpi));
      }
    }
    const bool computed = row.computed_from_children();
    for (const KpiGridColumn& column : grid.columns) {
      KpiGridCell cell;
      const ProgressPoint* point = PointOf(row, column.year);
      const std::string where =
          absl::StrCat(kNoFigure, " ", out.label, " ", FormatFiscalYear(column.year));
      if (point != nullptr) cell.status = point->status();
      if (point != nullptr && point->has_value()) {
        cell.value = ValueWithUnit(point->value(), kpi);
        cell.rate = point->rate_display();
        if (cell.rate.empty()) {
          cell.rate = std::string(kNoFigure);
          grid.notes.push_back(absl::StrCat(where, " 進捗率: ", RateUndefinedNote(*point)));
        }
      } else if (point != nullptr && computed) {
        grid.notes.push_back(absl::StrCat(where, ": ", AreaUndefinedNote(table, row, *point)));
        cell.value = std::string(kNoFigure);
      }
      out.cells.push_back(std::move(cell));
    }
    for (const std::string& warning : row.aggregate().warnings()) {
      grid.notes.push_back(absl::StrCat("注: ", out.label, " ",
                                        FormatFiscalYear(row.aggregate().fiscal_year().year()),
                                        ": ", warning));
    }
    grid.rows.push_back(std::move(out));
  }
  return grid;
}

std::string AlertShortSummary(const Alert& alert, const Kpi* kpi) {
  if (kpi == nullptr || kpi->name().empty()) return alert.summary();
  const std::string prefix =
      absl::StrCat(kpi->name(), " ", RegionName(*kpi, alert.region_id()), ": ");
  absl::string_view summary = alert.summary();
  if (!absl::ConsumePrefix(&summary, prefix) || summary.empty()) return alert.summary();
  return std::string(summary);
}

std::string AlertRegionLabel(const kpi::v1::GetKpiTableResponse& tables, const Alert& alert) {
  for (const KpiTable& table : tables.tables()) {
    if (table.kpi().id() != alert.kpi_id()) continue;
    for (const KpiTableRow& row : table.rows()) {
      if (row.region_id() == alert.region_id()) return KpiRowLabel(row, table.kpi());
    }
    return RegionName(table.kpi(), alert.region_id());
  }
  return alert.region_id();
}

const Kpi* FindKpi(const kpi::v1::GetKpiTableResponse& tables, absl::string_view kpi_id) {
  for (const KpiTable& table : tables.tables()) {
    if (table.kpi().id() == kpi_id) return &table.kpi();
  }
  return nullptr;
}

}  // namespace suishin::report
