// How suishinctl shows plan data: the Japanese labels of enums and the text
// each command prints, built from protos with no I/O, so tests can check the
// exact output without a server.
//
// Every Format* function returns text ending in "\n" and wraps long text to
// `width` display columns (see terminal_table.h).
#ifndef SUISHIN_TOOLS_SUISHINCTL_VIEWS_H_
#define SUISHIN_TOOLS_SUISHINCTL_VIEWS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "report/labels.h"
#include "suishin/common/v1/common.pb.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::ctl {

using report::RegionNames;  // report/labels.h

// 区分: 実績 (ACHIEVEMENT), 今年度 (CURRENT), 次年度 (NEXT), 課題 (CHALLENGE);
// "?" for UNSPECIFIED or unknown values.
std::string StageLabel(plan::v1::InitiativeStage stage);

// 都道府県, 連携地域, 振興局, 市町村; "?" otherwise.
std::string RegionKindLabel(common::v1::RegionKind kind);

// 作成中 (DRAFT), 推進中 (ACTIVE), 終了 (CLOSED); "?" otherwise.
std::string ProjectStatusLabel(plan::v1::ProjectStatus status);

// The 地域 cell of an initiative: its region tags as 【宗谷】【上川】 (the id
// itself when `names` lacks it), or 連携地域 when it has none.
std::string RegionTagsLabel(const plan::v1::Initiative& initiative, const RegionNames& names);

// The import command's report: created/updated/unchanged per kind of entity.
std::string FormatImportCounts(const plan::v1::ImportPlanResponse& response);

// The region tree in the order given (parents before children), the id
// indented two spaces per level below the topmost region listed.
std::string FormatRegions(const std::vector<plan::v1::Region>& regions);

// One row per project: id, 連携地域, プロジェクト名, 状態, version.
std::string FormatProjects(const std::vector<plan::v1::Project>& projects);

// A project as the table's header block shows it: title, id, area (with
// `area_name` when known), status, version, 【概要・目的】 wrapped,
// 【施策展開】 as ■ lines, and how many of `initiatives` fall in each stage.
std::string FormatProject(const plan::v1::Project& project, absl::string_view area_name,
                          const std::vector<plan::v1::Initiative>& initiatives, int width);

// The initiatives table: id, 年度, 区分, 実施主体 (joined with ・), 地域, and the
// text wrapped in the last column; then "N initiative(s)".
std::string FormatInitiatives(const std::vector<plan::v1::Initiative>& initiatives,
                              const RegionNames& names, int width);

}  // namespace suishin::ctl

#endif  // SUISHIN_TOOLS_SUISHINCTL_VIEWS_H_
