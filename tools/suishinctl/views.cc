#include "tools/suishinctl/views.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fiscal_year.h"
#include "tools/suishinctl/terminal_table.h"

namespace suishin::ctl {
namespace {

using plan::v1::ImportPlanResponse;
using plan::v1::Initiative;
using plan::v1::InitiativeStage;
using plan::v1::Project;
using plan::v1::Region;

// Stages in the order the management table prints its columns.
constexpr InitiativeStage kStages[] = {
    plan::v1::INITIATIVE_STAGE_ACHIEVEMENT,
    plan::v1::INITIATIVE_STAGE_CURRENT,
    plan::v1::INITIATIVE_STAGE_NEXT,
    plan::v1::INITIATIVE_STAGE_CHALLENGE,
};

std::string Count(int n, absl::string_view singular, absl::string_view plural) {
  return absl::StrCat(n, " ", n == 1 ? singular : plural);
}

}  // namespace

std::string StageLabel(InitiativeStage stage) {
  switch (stage) {
    case plan::v1::INITIATIVE_STAGE_ACHIEVEMENT:
      return "実績";
    case plan::v1::INITIATIVE_STAGE_CURRENT:
      return "今年度";
    case plan::v1::INITIATIVE_STAGE_NEXT:
      return "次年度";
    case plan::v1::INITIATIVE_STAGE_CHALLENGE:
      return "課題";
    default:
      return "?";
  }
}

std::string RegionKindLabel(common::v1::RegionKind kind) {
  switch (kind) {
    case common::v1::REGION_KIND_PREFECTURE:
      return "都道府県";
    case common::v1::REGION_KIND_COOPERATION_AREA:
      return "連携地域";
    case common::v1::REGION_KIND_SUBPREFECTURE:
      return "振興局";
    case common::v1::REGION_KIND_MUNICIPALITY:
      return "市町村";
    default:
      return "?";
  }
}

std::string ProjectStatusLabel(plan::v1::ProjectStatus status) {
  switch (status) {
    case plan::v1::PROJECT_STATUS_DRAFT:
      return "作成中";
    case plan::v1::PROJECT_STATUS_ACTIVE:
      return "推進中";
    case plan::v1::PROJECT_STATUS_CLOSED:
      return "終了";
    default:
      return "?";
  }
}

std::string RegionTagsLabel(const Initiative& initiative, const RegionNames& names) {
  if (initiative.region_ids().empty()) return "連携地域";
  std::string out;
  for (const std::string& id : initiative.region_ids()) {
    const auto it = names.find(id);
    absl::StrAppend(&out, "【", it != names.end() ? it->second : id, "】");
  }
  return out;
}

std::string FormatImportCounts(const ImportPlanResponse& response) {
  TerminalTable table({"種類", "created", "updated", "unchanged"});
  for (int c = 1; c <= 3; ++c) table.SetAlign(c, TerminalTable::Align::kRight);
  const auto add = [&](absl::string_view kind, const ImportPlanResponse::Counts& counts) {
    table.AddRow({std::string(kind), absl::StrCat(counts.created()), absl::StrCat(counts.updated()),
                  absl::StrCat(counts.unchanged())});
  };
  add("地域 (regions)", response.regions());
  add("プロジェクト (projects)", response.projects());
  add("取組 (initiatives)", response.initiatives());
  return table.Render();
}

std::string FormatRegions(const std::vector<Region>& regions) {
  std::map<std::string, int> depth;
  TerminalTable table({"id", "名称", "種別", "コード"});
  for (const Region& region : regions) {
    const auto parent = depth.find(region.parent_id());
    const int level = parent == depth.end() ? 0 : parent->second + 1;
    depth[region.id()] = level;
    table.AddRow({std::string(2 * level, ' ') + region.id(), region.name(),
                  RegionKindLabel(region.kind()), region.local_government_code()});
  }
  return absl::StrCat(table.Render(), Count(table.rows(), "region", "regions"), "\n");
}

std::string FormatProjects(const std::vector<Project>& projects) {
  TerminalTable table({"id", "連携地域", "プロジェクト名", "状態", "version"});
  table.SetAlign(4, TerminalTable::Align::kRight);
  for (const Project& project : projects) {
    table.AddRow({project.id(), project.area_id(), project.title(),
                  ProjectStatusLabel(project.status()), absl::StrCat(project.version())});
  }
  return absl::StrCat(table.Render(), Count(table.rows(), "project", "projects"), "\n");
}

std::string FormatProject(const Project& project, absl::string_view area_name,
                          const std::vector<Initiative>& initiatives, int width) {
  std::string out = absl::StrCat(project.title(), "\n\n");

  TerminalTable facts = TerminalTable::WithoutHeader(2);
  facts.AddRow({"id", project.id()});
  facts.AddRow({"連携地域", area_name.empty() || area_name == project.area_id()
                                ? project.area_id()
                                : absl::StrCat(area_name, " (", project.area_id(), ")")});
  facts.AddRow({"状態", ProjectStatusLabel(project.status())});
  facts.AddRow({"version", absl::StrCat(project.version())});
  absl::StrAppend(&out, facts.Render(width), "\n");

  absl::StrAppend(&out, "【概要・目的】\n");
  for (const std::string& line : WrapText(project.overview(), width)) {
    absl::StrAppend(&out, line, "\n");
  }
  absl::StrAppend(&out, "\n【施策展開】\n");
  for (const auto& pillar : project.pillars()) {
    // "■ " takes 2 columns (■ is East Asian Ambiguous, counted as 1); the
    // continuation lines are indented to match.
    const std::vector<std::string> lines = WrapText(pillar.title(), width - 2);
    for (size_t i = 0; i < lines.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "■ " : "  ", lines[i],
                      i + 1 == lines.size() ? absl::StrCat("  (", pillar.id(), ")") : "", "\n");
    }
  }

  std::map<int, int> per_stage;
  for (const Initiative& initiative : initiatives) ++per_stage[initiative.stage()];
  TerminalTable counts({"区分", "取組数"});
  counts.SetAlign(1, TerminalTable::Align::kRight);
  for (InitiativeStage stage : kStages) {
    counts.AddRow({StageLabel(stage), absl::StrCat(per_stage[stage])});
    per_stage.erase(stage);
  }
  int other = 0;
  for (const auto& [stage, n] : per_stage) other += n;
  if (other > 0) counts.AddRow({"?", absl::StrCat(other)});
  counts.AddRow({"計", absl::StrCat(initiatives.size())});
  absl::StrAppend(&out, "\n", counts.Render());
  return out;
}

std::string FormatInitiatives(const std::vector<Initiative>& initiatives, const RegionNames& names,
                              int width) {
  TerminalTable table({"id", "年度", "区分", "実施主体", "地域", "取組"});
  for (const Initiative& initiative : initiatives) {
    table.AddRow({initiative.id(), FormatFiscalYear(initiative.fiscal_year().year()),
                  StageLabel(initiative.stage()),
                  absl::StrJoin(initiative.responsible_bodies(), "・"),
                  RegionTagsLabel(initiative, names), initiative.text()});
  }
  return absl::StrCat(table.Render(width), Count(table.rows(), "initiative", "initiatives"), "\n");
}

}  // namespace suishin::ctl
