#include "services/plan/plan_catalog.h"

#include <google/protobuf/util/field_mask_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/fiscal_year.h"
#include "common/page_token.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace suishin::plan {
namespace {

using google::protobuf::FieldMask;
using google::protobuf::util::FieldMaskUtil;
using google::protobuf::util::MessageDifferencer;
using v1::Initiative;
using v1::Project;
using v1::Region;

constexpr size_t kMaxNameChars = 100;
constexpr size_t kMaxTitleChars = 500;
constexpr size_t kMaxTextChars = 4000;
constexpr size_t kMaxBodyChars = 50;

std::string Field(absl::string_view prefix, absl::string_view name) {
  return absl::StrCat(prefix, ".", name);
}

std::string Indexed(absl::string_view field, int index) {
  return absl::StrCat(field, "[", index, "]");
}

absl::string_view KindName(common::v1::RegionKind kind) {
  switch (kind) {
    case common::v1::REGION_KIND_PREFECTURE:
      return "a prefecture (都道府県)";
    case common::v1::REGION_KIND_COOPERATION_AREA:
      return "a cooperation area (連携地域)";
    case common::v1::REGION_KIND_SUBPREFECTURE:
      return "a subprefecture (振興局)";
    case common::v1::REGION_KIND_MUNICIPALITY:
      return "a municipality (市町村)";
    default:
      return "unspecified";
  }
}

// ---- Field checks: the request alone, no store. ----

absl::Status ValidateRegion(absl::string_view prefix, const Region& region) {
  RETURN_IF_ERROR(ValidateId(Field(prefix, "id"), region.id()));
  RETURN_IF_ERROR(ValidateText(Field(prefix, "name"), region.name(), kMaxNameChars));
  if (!common::v1::RegionKind_IsValid(region.kind()) ||
      region.kind() == common::v1::REGION_KIND_UNSPECIFIED) {
    return FieldError(Field(prefix, "kind"), absl::StrCat(region.kind()),
                      "must be PREFECTURE, COOPERATION_AREA, SUBPREFECTURE or MUNICIPALITY");
  }
  if (region.kind() == common::v1::REGION_KIND_PREFECTURE) {
    if (!region.parent_id().empty()) {
      return FieldError(Field(prefix, "parent_id"), region.parent_id(),
                        "must be empty for a prefecture, the root of the tree");
    }
  } else {
    RETURN_IF_ERROR(ValidateId(Field(prefix, "parent_id"), region.parent_id()));
  }
  if (!region.local_government_code().empty()) {
    if (region.kind() != common::v1::REGION_KIND_PREFECTURE &&
        region.kind() != common::v1::REGION_KIND_MUNICIPALITY) {
      return FieldError(Field(prefix, "local_government_code"), region.local_government_code(),
                        "only prefectures and municipalities have a 全国地方公共団体コード");
    }
    RETURN_IF_ERROR(ValidateLocalGovernmentCode(Field(prefix, "local_government_code"),
                                                region.local_government_code()));
  }
  return absl::OkStatus();
}

absl::Status ValidateProject(absl::string_view prefix, const Project& project) {
  RETURN_IF_ERROR(ValidateId(Field(prefix, "id"), project.id()));
  RETURN_IF_ERROR(ValidateId(Field(prefix, "area_id"), project.area_id()));
  RETURN_IF_ERROR(ValidateText(Field(prefix, "title"), project.title(), kMaxTitleChars));
  if (!project.overview().empty()) {
    RETURN_IF_ERROR(ValidateText(Field(prefix, "overview"), project.overview(), kMaxTextChars));
  }
  std::set<std::string> pillar_ids;
  for (int i = 0; i < project.pillars_size(); ++i) {
    const std::string field = Indexed(Field(prefix, "pillars"), i);
    const v1::Pillar& pillar = project.pillars(i);
    RETURN_IF_ERROR(ValidateId(Field(field, "id"), pillar.id()));
    RETURN_IF_ERROR(ValidateText(Field(field, "title"), pillar.title(), kMaxTitleChars));
    if (!pillar_ids.insert(pillar.id()).second) {
      return FieldError(Field(field, "id"), pillar.id(), "repeats an earlier pillar's id");
    }
  }
  if (!v1::ProjectStatus_IsValid(project.status()) ||
      project.status() == v1::PROJECT_STATUS_UNSPECIFIED) {
    return FieldError(Field(prefix, "status"), absl::StrCat(project.status()),
                      "must be DRAFT, ACTIVE or CLOSED");
  }
  return absl::OkStatus();
}

absl::Status ValidateRequiredYear(absl::string_view field, const common::v1::FiscalYear& year) {
  if (year.year() == 0) return FieldError(Field(field, "year"), "0", "is required");
  return ValidateFiscalYear(Field(field, "year"), year.year());
}

absl::Status ValidateInitiative(absl::string_view prefix, const Initiative& initiative,
                                bool id_required) {
  if (id_required || !initiative.id().empty()) {
    RETURN_IF_ERROR(ValidateId(Field(prefix, "id"), initiative.id()));
  }
  RETURN_IF_ERROR(ValidateId(Field(prefix, "project_id"), initiative.project_id()));
  RETURN_IF_ERROR(ValidateId(Field(prefix, "pillar_id"), initiative.pillar_id()));
  RETURN_IF_ERROR(ValidateRequiredYear(Field(prefix, "fiscal_year"), initiative.fiscal_year()));
  if (!v1::InitiativeStage_IsValid(initiative.stage()) ||
      initiative.stage() == v1::INITIATIVE_STAGE_UNSPECIFIED) {
    return FieldError(Field(prefix, "stage"), absl::StrCat(initiative.stage()),
                      "must be ACHIEVEMENT, CURRENT, NEXT or CHALLENGE");
  }
  RETURN_IF_ERROR(ValidateText(Field(prefix, "text"), initiative.text(), kMaxTextChars));
  std::set<std::string> seen;
  for (int i = 0; i < initiative.responsible_bodies_size(); ++i) {
    const std::string field = Indexed(Field(prefix, "responsible_bodies"), i);
    RETURN_IF_ERROR(ValidateText(field, initiative.responsible_bodies(i), kMaxBodyChars));
    if (!seen.insert(initiative.responsible_bodies(i)).second) {
      return FieldError(field, initiative.responsible_bodies(i), "is listed twice");
    }
  }
  seen.clear();
  for (int i = 0; i < initiative.region_ids_size(); ++i) {
    const std::string field = Indexed(Field(prefix, "region_ids"), i);
    RETURN_IF_ERROR(ValidateId(field, initiative.region_ids(i)));
    if (!seen.insert(initiative.region_ids(i)).second) {
      return FieldError(field, initiative.region_ids(i), "is listed twice");
    }
  }
  return absl::OkStatus();
}

// ---- Reference checks: against what the store holds. ----

absl::StatusOr<Region> RequireRegion(PlanTransaction& tx, absl::string_view field,
                                     absl::string_view id) {
  ASSIGN_OR_RETURN(std::optional<Region> region, tx.FindRegion(id));
  if (!region) return absl::NotFoundError(absl::StrCat(field, ": region \"", id, "\" not found"));
  return *std::move(region);
}

absl::StatusOr<Project> RequireProject(PlanTransaction& tx, absl::string_view field,
                                       absl::string_view id) {
  ASSIGN_OR_RETURN(std::optional<Project> project, tx.FindProject(id));
  if (!project) {
    return absl::NotFoundError(absl::StrCat(field, ": project \"", id, "\" not found"));
  }
  return *std::move(project);
}

// A region sits exactly one level below its parent.
absl::Status CheckRegionParent(PlanTransaction& tx, absl::string_view prefix,
                               const Region& region) {
  if (region.kind() == common::v1::REGION_KIND_PREFECTURE) return absl::OkStatus();
  const std::string field = Field(prefix, "parent_id");
  ASSIGN_OR_RETURN(Region parent, RequireRegion(tx, field, region.parent_id()));
  if (parent.kind() != region.kind() - 1) {
    return FieldError(
        field, region.parent_id(),
        absl::StrCat("is ", KindName(parent.kind()), ", but the parent of ",
                     KindName(region.kind()), " must be ",
                     KindName(static_cast<common::v1::RegionKind>(region.kind() - 1))));
  }
  return absl::OkStatus();
}

absl::Status CheckProjectArea(PlanTransaction& tx, absl::string_view prefix,
                              const Project& project) {
  const std::string field = Field(prefix, "area_id");
  ASSIGN_OR_RETURN(Region area, RequireRegion(tx, field, project.area_id()));
  if (area.kind() != common::v1::REGION_KIND_COOPERATION_AREA) {
    return FieldError(field, project.area_id(),
                      absl::StrCat("is ", KindName(area.kind()),
                                   "; a project belongs to a cooperation area (連携地域)"));
  }
  return absl::OkStatus();
}

// True when `id` is `root_id` or below it.
absl::StatusOr<bool> IsWithin(PlanTransaction& tx, std::string id, absl::string_view root_id) {
  for (int depth = 0; depth < 8 && !id.empty(); ++depth) {
    if (id == root_id) return true;
    ASSIGN_OR_RETURN(std::optional<Region> region, tx.FindRegion(id));
    if (!region) return false;
    id = region->parent_id();
  }
  return false;
}

absl::Status CheckInitiativeReferences(PlanTransaction& tx, absl::string_view prefix,
                                       const Initiative& initiative) {
  ASSIGN_OR_RETURN(Project project,
                   RequireProject(tx, Field(prefix, "project_id"), initiative.project_id()));
  std::vector<std::string> pillar_ids;
  for (const v1::Pillar& pillar : project.pillars()) pillar_ids.push_back(pillar.id());
  if (std::find(pillar_ids.begin(), pillar_ids.end(), initiative.pillar_id()) == pillar_ids.end()) {
    return FieldError(
        Field(prefix, "pillar_id"), initiative.pillar_id(),
        absl::StrCat("is not a pillar of project \"", project.id(), "\" (it has ",
                     pillar_ids.empty() ? "none" : absl::StrJoin(pillar_ids, ", "), ")"));
  }
  for (int i = 0; i < initiative.region_ids_size(); ++i) {
    const std::string field = Indexed(Field(prefix, "region_ids"), i);
    RETURN_IF_ERROR(RequireRegion(tx, field, initiative.region_ids(i)).status());
    ASSIGN_OR_RETURN(bool within, IsWithin(tx, initiative.region_ids(i), project.area_id()));
    if (!within) {
      return FieldError(field, initiative.region_ids(i),
                        absl::StrCat("is outside the project's area \"", project.area_id(), "\""));
    }
  }
  return absl::OkStatus();
}

// Pillars that `updated` drops from `current` must have no initiatives left.
absl::Status CheckDroppedPillars(PlanTransaction& tx, const Project& current,
                                 const Project& updated) {
  std::set<std::string> kept;
  for (const v1::Pillar& pillar : updated.pillars()) kept.insert(pillar.id());
  for (const v1::Pillar& pillar : current.pillars()) {
    if (kept.count(pillar.id())) continue;
    ASSIGN_OR_RETURN(int64_t count, tx.CountInitiatives(current.id(), pillar.id()));
    if (count > 0) {
      return absl::FailedPreconditionError(absl::StrCat("project.pillars: pillar \"", pillar.id(),
                                                        "\" still has ", count,
                                                        " initiatives; move or delete them first"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckVersion(absl::string_view field, int64_t requested, int64_t stored) {
  if (requested <= 0) {
    return FieldError(field, absl::StrCat(requested), "is required: send the version last read");
  }
  if (requested != stored) {
    return absl::FailedPreconditionError(absl::StrCat(field, ": ", requested,
                                                      " is stale; the stored version is ", stored,
                                                      " (read it again and retry)"));
  }
  return absl::OkStatus();
}

// Applies the masked fields of `patch` to `target`; empty mask = `all_fields`.
absl::Status ApplyMask(absl::string_view message_field, const FieldMask& mask,
                       const std::vector<std::string>& all_fields,
                       const google::protobuf::Message& patch, google::protobuf::Message* target) {
  FieldMask effective = mask;
  if (effective.paths_size() == 0) {
    for (const std::string& field : all_fields) effective.add_paths(field);
  }
  for (int i = 0; i < effective.paths_size(); ++i) {
    if (std::find(all_fields.begin(), all_fields.end(), effective.paths(i)) == all_fields.end()) {
      return FieldError(Indexed("update_mask.paths", i), effective.paths(i),
                        absl::StrCat("is not a field that can change; use one of ",
                                     absl::StrJoin(all_fields, ", "), " in ", message_field));
    }
  }
  FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(patch, effective, options, target);
  return absl::OkStatus();
}

std::string NewInitiativeId() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen;
  absl::MutexLock lock(&mu);
  return absl::StrFormat("i-%012x", absl::Uniform<uint64_t>(*gen) & 0xffffffffffffULL);
}

void Label(common::v1::FiscalYear* year) { year->set_label(FormatFiscalYear(year->year())); }

// Equal apart from what the service sets (version, times, labels).
template <typename T>
bool SameContent(T a, T b) {
  for (T* message : {&a, &b}) {
    const auto* descriptor = message->GetDescriptor();
    const auto* reflection = message->GetReflection();
    for (const char* name : {"version", "create_time", "update_time"}) {
      if (const auto* field = descriptor->FindFieldByName(name)) {
        reflection->ClearField(message, field);
      }
    }
  }
  if constexpr (std::is_same_v<T, Initiative>) {
    a.mutable_fiscal_year()->clear_label();
    b.mutable_fiscal_year()->clear_label();
  }
  return MessageDifferencer::Equals(a, b);
}

// Regions in tree order: each parent before its children, siblings in the
// order they were added.
std::vector<Region> TreeOrder(const std::vector<Region>& regions, absl::string_view root_id) {
  std::map<std::string, std::vector<const Region*>> children;
  std::vector<const Region*> roots;
  for (const Region& region : regions) {
    if (region.id() == root_id) roots.push_back(&region);
    children[region.parent_id()].push_back(&region);
  }
  if (root_id.empty()) roots = children[""];
  std::vector<Region> out;
  std::vector<const Region*> stack(roots.rbegin(), roots.rend());
  while (!stack.empty()) {
    const Region* region = stack.back();
    stack.pop_back();
    out.push_back(*region);
    const auto& kids = children[region->id()];
    stack.insert(stack.end(), kids.rbegin(), kids.rend());
  }
  return out;
}

}  // namespace

PlanCatalog::PlanCatalog(PlanStore* store, std::function<absl::Time()> now)
    : store_(store), now_(std::move(now)) {}

absl::Status PlanCatalog::CreateRegion(const v1::CreateRegionRequest& request,
                                       v1::CreateRegionResponse* response) {
  Region region = request.region();
  RETURN_IF_ERROR(ValidateRegion("region", region));
  *region.mutable_create_time() = ToProtoTimestamp(now_());
  RETURN_IF_ERROR(store_->Run([&](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<Region> existing, tx.FindRegion(region.id()));
    if (existing) {
      return absl::AlreadyExistsError(
          absl::StrCat("region.id: region \"", region.id(), "\" already exists"));
    }
    RETURN_IF_ERROR(CheckRegionParent(tx, "region", region));
    return tx.PutRegion(region);
  }));
  *response->mutable_region() = std::move(region);
  return absl::OkStatus();
}

absl::Status PlanCatalog::GetRegion(const v1::GetRegionRequest& request,
                                    v1::GetRegionResponse* response) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return store_->Run([&](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(*response->mutable_region(), RequireRegion(tx, "id", request.id()));
    return absl::OkStatus();
  });
}

absl::Status PlanCatalog::ListRegions(const v1::ListRegionsRequest& request,
                                      v1::ListRegionsResponse* response) {
  if (!request.root_id().empty()) RETURN_IF_ERROR(ValidateId("root_id", request.root_id()));
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t offset, DecodePageToken("page_token", request.page_token()));
  std::vector<Region> regions;
  RETURN_IF_ERROR(store_->Run([&](PlanTransaction& tx) -> absl::Status {
    if (!request.root_id().empty()) {
      RETURN_IF_ERROR(RequireRegion(tx, "root_id", request.root_id()).status());
    }
    ASSIGN_OR_RETURN(regions, tx.AllRegions());
    return absl::OkStatus();
  }));
  const std::vector<Region> ordered = TreeOrder(regions, request.root_id());
  // In tree order the page token carries a position, not a key.
  const size_t begin = static_cast<size_t>(offset);
  const size_t end = std::min(ordered.size(), begin + page_size);
  for (size_t i = begin; i < end; ++i) *response->add_regions() = ordered[i];
  if (end < ordered.size()) response->set_next_page_token(EncodePageToken(end));
  return absl::OkStatus();
}

absl::Status PlanCatalog::CreateProject(const v1::CreateProjectRequest& request,
                                        v1::CreateProjectResponse* response) {
  Project project = request.project();
  if (project.status() == v1::PROJECT_STATUS_UNSPECIFIED) {
    project.set_status(v1::PROJECT_STATUS_ACTIVE);
  }
  RETURN_IF_ERROR(ValidateProject("project", project));
  project.set_version(1);
  *project.mutable_create_time() = ToProtoTimestamp(now_());
  *project.mutable_update_time() = project.create_time();
  RETURN_IF_ERROR(store_->Run([&](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<Project> existing, tx.FindProject(project.id()));
    if (existing) {
      return absl::AlreadyExistsError(
          absl::StrCat("project.id: project \"", project.id(), "\" already exists"));
    }
    RETURN_IF_ERROR(CheckProjectArea(tx, "project", project));
    return tx.PutProject(project);
  }));
  *response->mutable_project() = std::move(project);
  return absl::OkStatus();
}

absl::Status PlanCatalog::GetProject(const v1::GetProjectRequest& request,
                                     v1::GetProjectResponse* response) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return store_->Run([&](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(*response->mutable_project(), RequireProject(tx, "id", request.id()));
    return absl::OkStatus();
  });
}

absl::Status PlanCatalog::ListProjects(const v1::ListProjectsRequest& request,
                                       v1::ListProjectsResponse* response) {
  if (!request.area_id().empty()) RETURN_IF_ERROR(ValidateId("area_id", request.area_id()));
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t after, DecodePageToken("page_token", request.page_token()));
  return store_->Run([&](PlanTransaction& tx) -> absl::Status {
    if (!request.area_id().empty()) {
      RETURN_IF_ERROR(RequireRegion(tx, "area_id", request.area_id()).status());
    }
    ASSIGN_OR_RETURN(auto page, tx.ListProjects(request.area_id(), after, page_size + 1));
    for (int i = 0; i < static_cast<int>(page.size()) && i < page_size; ++i) {
      *response->add_projects() = page[i].value;
    }
    if (static_cast<int>(page.size()) > page_size) {
      response->set_next_page_token(EncodePageToken(page[page_size - 1].key));
    }
    return absl::OkStatus();
  });
}

absl::Status PlanCatalog::UpdateProject(const v1::UpdateProjectRequest& request,
                                        v1::UpdateProjectResponse* response) {
  RETURN_IF_ERROR(ValidateId("project.id", request.project().id()));
  Project updated;
  RETURN_IF_ERROR(store_->Run([&](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(Project current, RequireProject(tx, "project.id", request.project().id()));
    RETURN_IF_ERROR(
        CheckVersion("project.version", request.project().version(), current.version()));
    updated = current;
    RETURN_IF_ERROR(ApplyMask("project", request.update_mask(),
                              {"area_id", "title", "overview", "pillars", "status"},
                              request.project(), &updated));
    RETURN_IF_ERROR(ValidateProject("project", updated));
    RETURN_IF_ERROR(CheckProjectArea(tx, "project", updated));
    RETURN_IF_ERROR(CheckDroppedPillars(tx, current, updated));
    updated.set_version(current.version() + 1);
    *updated.mutable_update_time() = ToProtoTimestamp(now_());
    return tx.PutProject(updated);
  }));
  *response->mutable_project() = std::move(updated);
  return absl::OkStatus();
}

absl::Status PlanCatalog::CreateInitiative(const v1::CreateInitiativeRequest& request,
                                           v1::CreateInitiativeResponse* response) {
  Initiative initiative = request.initiative();
  RETURN_IF_ERROR(ValidateInitiative("initiative", initiative, /*id_required=*/false));
  if (initiative.id().empty()) initiative.set_id(NewInitiativeId());
  Label(initiative.mutable_fiscal_year());
  initiative.set_version(1);
  *initiative.mutable_create_time() = ToProtoTimestamp(now_());
  *initiative.mutable_update_time() = initiative.create_time();
  RETURN_IF_ERROR(store_->Run([&](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<Initiative> existing, tx.FindInitiative(initiative.id()));
    if (existing) {
      return absl::AlreadyExistsError(
          absl::StrCat("initiative.id: initiative \"", initiative.id(), "\" already exists"));
    }
    RETURN_IF_ERROR(CheckInitiativeReferences(tx, "initiative", initiative));
    return tx.PutInitiative(initiative);
  }));
  *response->mutable_initiative() = std::move(initiative);
  return absl::OkStatus();
}

absl::Status PlanCatalog::ListInitiatives(const v1::ListInitiativesRequest& request,
                                          v1::ListInitiativesResponse* response) {
  InitiativeQuery query;
  if (!request.project_id().empty()) {
    RETURN_IF_ERROR(ValidateId("project_id", request.project_id()));
    query.project_id = request.project_id();
  }
  if (request.fiscal_year().year() != 0) {
    RETURN_IF_ERROR(ValidateFiscalYear("fiscal_year.year", request.fiscal_year().year()));
    query.fiscal_year = request.fiscal_year().year();
  }
  if (!v1::InitiativeStage_IsValid(request.stage())) {
    return FieldError("stage", absl::StrCat(request.stage()), "is not a known stage");
  }
  query.stage = request.stage();
  if (!request.region_id().empty()) {
    RETURN_IF_ERROR(ValidateId("region_id", request.region_id()));
    query.region_id = request.region_id();
  }
  if (!request.responsible_body().empty()) {
    RETURN_IF_ERROR(ValidateText("responsible_body", request.responsible_body(), kMaxBodyChars));
    query.responsible_body = request.responsible_body();
  }
  if (!request.pillar_id().empty()) {
    RETURN_IF_ERROR(ValidateId("pillar_id", request.pillar_id()));
    query.pillar_id = request.pillar_id();
  }
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(query.after_key, DecodePageToken("page_token", request.page_token()));
  query.limit = page_size + 1;
  return store_->Run([&](PlanTransaction& tx) -> absl::Status {
    if (!query.project_id.empty()) {
      RETURN_IF_ERROR(RequireProject(tx, "project_id", query.project_id).status());
    }
    if (!query.region_id.empty()) {
      RETURN_IF_ERROR(RequireRegion(tx, "region_id", query.region_id).status());
    }
    ASSIGN_OR_RETURN(auto page, tx.ListInitiatives(query));
    for (int i = 0; i < static_cast<int>(page.size()) && i < page_size; ++i) {
      *response->add_initiatives() = page[i].value;
    }
    if (static_cast<int>(page.size()) > page_size) {
      response->set_next_page_token(EncodePageToken(page[page_size - 1].key));
    }
    return absl::OkStatus();
  });
}

absl::Status PlanCatalog::UpdateInitiative(const v1::UpdateInitiativeRequest& request,
                                           v1::UpdateInitiativeResponse* response) {
  RETURN_IF_ERROR(ValidateId("initiative.id", request.initiative().id()));
  Initiative updated;
  RETURN_IF_ERROR(store_->Run([&](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<Initiative> current,
                     tx.FindInitiative(request.initiative().id()));
    if (!current) {
      return absl::NotFoundError(
          absl::StrCat("initiative.id: initiative \"", request.initiative().id(), "\" not found"));
    }
    RETURN_IF_ERROR(
        CheckVersion("initiative.version", request.initiative().version(), current->version()));
    updated = *current;
    RETURN_IF_ERROR(
        ApplyMask("initiative", request.update_mask(),
                  {"pillar_id", "fiscal_year", "stage", "text", "responsible_bodies", "region_ids"},
                  request.initiative(), &updated));
    RETURN_IF_ERROR(ValidateInitiative("initiative", updated, /*id_required=*/true));
    RETURN_IF_ERROR(CheckInitiativeReferences(tx, "initiative", updated));
    Label(updated.mutable_fiscal_year());
    updated.set_version(current->version() + 1);
    *updated.mutable_update_time() = ToProtoTimestamp(now_());
    return tx.PutInitiative(updated);
  }));
  *response->mutable_initiative() = std::move(updated);
  return absl::OkStatus();
}

absl::Status PlanCatalog::DeleteInitiative(const v1::DeleteInitiativeRequest& request,
                                           v1::DeleteInitiativeResponse* response) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return store_->Run([&](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<Initiative> current, tx.FindInitiative(request.id()));
    if (!current) {
      return absl::NotFoundError(absl::StrCat("id: initiative \"", request.id(), "\" not found"));
    }
    RETURN_IF_ERROR(CheckVersion("version", request.version(), current->version()));
    return tx.DeleteInitiative(request.id());
  });
}

absl::Status PlanCatalog::ImportPlan(const v1::ImportPlanRequest& request,
                                     v1::ImportPlanResponse* response) {
  const v1::PlanDataset& dataset = request.dataset();
  // Every field first, so a bad dataset is refused before anything is read.
  std::set<std::string> ids;
  for (int i = 0; i < dataset.regions_size(); ++i) {
    const std::string prefix = Indexed("dataset.regions", i);
    RETURN_IF_ERROR(ValidateRegion(prefix, dataset.regions(i)));
    if (!ids.insert(dataset.regions(i).id()).second) {
      return FieldError(Field(prefix, "id"), dataset.regions(i).id(), "repeats an earlier region");
    }
  }
  ids.clear();
  for (int i = 0; i < dataset.projects_size(); ++i) {
    const std::string prefix = Indexed("dataset.projects", i);
    Project project = dataset.projects(i);
    if (project.status() == v1::PROJECT_STATUS_UNSPECIFIED) {
      project.set_status(v1::PROJECT_STATUS_ACTIVE);
    }
    RETURN_IF_ERROR(ValidateProject(prefix, project));
    if (!ids.insert(project.id()).second) {
      return FieldError(Field(prefix, "id"), project.id(), "repeats an earlier project");
    }
  }
  ids.clear();
  for (int i = 0; i < dataset.initiatives_size(); ++i) {
    const std::string prefix = Indexed("dataset.initiatives", i);
    RETURN_IF_ERROR(ValidateInitiative(prefix, dataset.initiatives(i), /*id_required=*/true));
    if (!ids.insert(dataset.initiatives(i).id()).second) {
      return FieldError(Field(prefix, "id"), dataset.initiatives(i).id(),
                        "repeats an earlier initiative");
    }
  }

  const google::protobuf::Timestamp now = ToProtoTimestamp(now_());
  v1::ImportPlanResponse counts;
  auto count = [](v1::ImportPlanResponse::Counts* counts, bool existed, bool same) {
    if (!existed) {
      counts->set_created(counts->created() + 1);
    } else if (same) {
      counts->set_unchanged(counts->unchanged() + 1);
    } else {
      counts->set_updated(counts->updated() + 1);
    }
  };
  RETURN_IF_ERROR(store_->Run([&](PlanTransaction& tx) -> absl::Status {
    for (int i = 0; i < dataset.regions_size(); ++i) {
      const std::string prefix = Indexed("dataset.regions", i);
      Region region = dataset.regions(i);
      ASSIGN_OR_RETURN(std::optional<Region> existing, tx.FindRegion(region.id()));
      const bool same = existing && SameContent(*existing, region);
      count(counts.mutable_regions(), existing.has_value(), same);
      if (same) continue;
      RETURN_IF_ERROR(CheckRegionParent(tx, prefix, region));
      *region.mutable_create_time() = existing ? existing->create_time() : now;
      RETURN_IF_ERROR(tx.PutRegion(region));
    }
    for (int i = 0; i < dataset.projects_size(); ++i) {
      const std::string prefix = Indexed("dataset.projects", i);
      Project project = dataset.projects(i);
      if (project.status() == v1::PROJECT_STATUS_UNSPECIFIED) {
        project.set_status(v1::PROJECT_STATUS_ACTIVE);
      }
      ASSIGN_OR_RETURN(std::optional<Project> existing, tx.FindProject(project.id()));
      const bool same = existing && SameContent(*existing, project);
      count(counts.mutable_projects(), existing.has_value(), same);
      if (same) continue;
      RETURN_IF_ERROR(CheckProjectArea(tx, prefix, project));
      if (existing) RETURN_IF_ERROR(CheckDroppedPillars(tx, *existing, project));
      project.set_version(existing ? existing->version() + 1 : 1);
      *project.mutable_create_time() = existing ? existing->create_time() : now;
      *project.mutable_update_time() = now;
      RETURN_IF_ERROR(tx.PutProject(project));
    }
    for (int i = 0; i < dataset.initiatives_size(); ++i) {
      const std::string prefix = Indexed("dataset.initiatives", i);
      Initiative initiative = dataset.initiatives(i);
      ASSIGN_OR_RETURN(std::optional<Initiative> existing, tx.FindInitiative(initiative.id()));
      const bool same = existing && SameContent(*existing, initiative);
      count(counts.mutable_initiatives(), existing.has_value(), same);
      if (same) continue;
      RETURN_IF_ERROR(CheckInitiativeReferences(tx, prefix, initiative));
      Label(initiative.mutable_fiscal_year());
      initiative.set_version(existing ? existing->version() + 1 : 1);
      *initiative.mutable_create_time() = existing ? existing->create_time() : now;
      *initiative.mutable_update_time() = now;
      RETURN_IF_ERROR(tx.PutInitiative(initiative));
    }
    return absl::OkStatus();
  }));
  *response = std::move(counts);
  return absl::OkStatus();
}

}  // namespace suishin::plan
