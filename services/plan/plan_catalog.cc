#include "services/plan/plan_catalog.h"

#include <google/protobuf/util/field_mask_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/fiscal_year.h"
#include "common/page_token.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/plan/plan_validation.h"
#include "services/plan/region_tree.h"

namespace suishin::plan {
namespace {

using google::protobuf::FieldMask;
using google::protobuf::util::FieldMaskUtil;
using google::protobuf::util::MessageDifferencer;
using v1::Initiative;
using v1::Project;
using v1::Region;
using Body = PlanStore::Body;

// The fields UpdateProject and UpdateInitiative may change.
const std::vector<std::string>& ProjectFields() {
  static const auto* fields =
      new std::vector<std::string>{"area_id", "title", "overview", "pillars", "status"};
  return *fields;
}
const std::vector<std::string>& InitiativeFields() {
  static const auto* fields = new std::vector<std::string>{
      "pillar_id", "fiscal_year", "stage", "text", "responsible_bodies", "region_ids"};
  return *fields;
}

// ---- Checks against what the store holds (inside a body). ----

RegionLookup Lookup(PlanTransaction& tx) {
  return [&tx](absl::string_view id) { return tx.FindRegion(id); };
}

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

absl::Status CheckProjectArea(PlanTransaction& tx, absl::string_view prefix,
                              const Project& project) {
  const std::string field = Field(prefix, "area_id");
  ASSIGN_OR_RETURN(Region area, RequireRegion(tx, field, project.area_id()));
  if (area.kind() != common::v1::REGION_KIND_COOPERATION_AREA &&
      area.kind() != common::v1::REGION_KIND_PREFECTURE) {
    return FieldError(
        field, project.area_id(),
        absl::StrCat("is ", RegionKindName(area.kind()),
                     "; a project belongs to a cooperation area (連携地域) or the prefecture"));
  }
  return absl::OkStatus();
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
    ASSIGN_OR_RETURN(bool within,
                     IsWithin(Lookup(tx), initiative.region_ids(i), project.area_id()));
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

// A version the client sent, before any store is read.
absl::Status RequireVersion(absl::string_view field, int64_t requested) {
  if (requested > 0) return absl::OkStatus();
  return FieldError(field, absl::StrCat(requested), "is required: send the version last read");
}

absl::Status CheckVersion(absl::string_view field, int64_t requested, int64_t stored) {
  if (requested != stored) {
    return absl::FailedPreconditionError(absl::StrCat(field, ": ", requested,
                                                      " is stale; the stored version is ", stored,
                                                      " (read it again and retry)"));
  }
  return absl::OkStatus();
}

// The mask an update applies: `mask`'s paths, each one of `all_fields`, or
// all of them when it is empty.
absl::StatusOr<FieldMask> EffectiveMask(absl::string_view message_field, const FieldMask& mask,
                                        const std::vector<std::string>& all_fields) {
  RETURN_IF_ERROR(ValidateListSize("update_mask.paths", mask.paths_size()));
  FieldMask effective = mask;
  effective.DiscardUnknownFields();
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
  return effective;
}

// Applies the fields of `patch` that `mask` names to `target`.
void ApplyMask(const FieldMask& mask, const google::protobuf::Message& patch,
               google::protobuf::Message* target) {
  FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(patch, mask, options, target);
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

// ---- The writes: each checks its request alone, then returns the body that
// checks against the store and writes. A body owns copies of what it needs
// and fills the response only when it succeeds. ----

absl::StatusOr<Body> CreateRegionBody(const v1::CreateRegionRequest& request,
                                      v1::CreateRegionResponse* response, absl::Time now) {
  Region region = request.region();
  DropUnstoredFields(&region);
  RETURN_IF_ERROR(ValidateRegion("region", region));
  *region.mutable_create_time() = ToProtoTimestamp(now);
  return Body([region = std::move(region), response](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<Region> existing, tx.FindRegion(region.id()));
    if (existing) {
      return absl::AlreadyExistsError(
          absl::StrCat("region.id: region \"", region.id(), "\" already exists"));
    }
    RETURN_IF_ERROR(CheckRegionWrites({{"region", &region}}, Lookup(tx)));
    RETURN_IF_ERROR(tx.PutRegion(region));
    *response->mutable_region() = region;
    return absl::OkStatus();
  });
}

absl::StatusOr<Body> CreateProjectBody(const v1::CreateProjectRequest& request,
                                       v1::CreateProjectResponse* response, absl::Time now) {
  Project project = request.project();
  DropUnstoredFields(&project);
  if (project.status() == v1::PROJECT_STATUS_UNSPECIFIED) {
    project.set_status(v1::PROJECT_STATUS_ACTIVE);
  }
  RETURN_IF_ERROR(ValidateProject("project", project));
  project.set_version(1);
  *project.mutable_create_time() = ToProtoTimestamp(now);
  *project.mutable_update_time() = project.create_time();
  return Body([project = std::move(project), response](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<Project> existing, tx.FindProject(project.id()));
    if (existing) {
      return absl::AlreadyExistsError(
          absl::StrCat("project.id: project \"", project.id(), "\" already exists"));
    }
    RETURN_IF_ERROR(CheckProjectArea(tx, "project", project));
    RETURN_IF_ERROR(tx.PutProject(project));
    *response->mutable_project() = project;
    return absl::OkStatus();
  });
}

absl::StatusOr<Body> UpdateProjectBody(const v1::UpdateProjectRequest& request,
                                       v1::UpdateProjectResponse* response, absl::Time now) {
  Project patch = request.project();
  DropUnstoredFields(&patch);
  RETURN_IF_ERROR(ValidateId("project.id", patch.id()));
  RETURN_IF_ERROR(RequireVersion("project.version", patch.version()));
  ASSIGN_OR_RETURN(FieldMask mask,
                   EffectiveMask("project", request.update_mask(), ProjectFields()));
  // The whole message is bounded here; the merged one is checked in full below.
  RETURN_IF_ERROR(ValidateListSize("project.pillars", patch.pillars_size()));
  return Body([patch = std::move(patch), mask = std::move(mask), response,
               now](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(Project current, RequireProject(tx, "project.id", patch.id()));
    RETURN_IF_ERROR(CheckVersion("project.version", patch.version(), current.version()));
    Project updated = current;
    ApplyMask(mask, patch, &updated);
    updated.DiscardUnknownFields();
    RETURN_IF_ERROR(ValidateProject("project", updated));
    RETURN_IF_ERROR(CheckProjectArea(tx, "project", updated));
    RETURN_IF_ERROR(CheckDroppedPillars(tx, current, updated));
    updated.set_version(current.version() + 1);
    *updated.mutable_update_time() = ToProtoTimestamp(now);
    RETURN_IF_ERROR(tx.PutProject(updated));
    *response->mutable_project() = std::move(updated);
    return absl::OkStatus();
  });
}

absl::StatusOr<Body> CreateInitiativeBody(const v1::CreateInitiativeRequest& request,
                                          v1::CreateInitiativeResponse* response, absl::Time now) {
  Initiative initiative = request.initiative();
  DropUnstoredFields(&initiative);
  RETURN_IF_ERROR(ValidateInitiative("initiative", initiative, /*id_required=*/false));
  if (initiative.id().empty()) initiative.set_id(NewInitiativeId());
  Label(initiative.mutable_fiscal_year());
  initiative.set_version(1);
  *initiative.mutable_create_time() = ToProtoTimestamp(now);
  *initiative.mutable_update_time() = initiative.create_time();
  return Body([initiative = std::move(initiative), response](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<Initiative> existing, tx.FindInitiative(initiative.id()));
    if (existing) {
      return absl::AlreadyExistsError(
          absl::StrCat("initiative.id: initiative \"", initiative.id(), "\" already exists"));
    }
    RETURN_IF_ERROR(CheckInitiativeReferences(tx, "initiative", initiative));
    RETURN_IF_ERROR(tx.PutInitiative(initiative));
    *response->mutable_initiative() = initiative;
    return absl::OkStatus();
  });
}

absl::StatusOr<Body> UpdateInitiativeBody(const v1::UpdateInitiativeRequest& request,
                                          v1::UpdateInitiativeResponse* response, absl::Time now) {
  Initiative patch = request.initiative();
  DropUnstoredFields(&patch);
  RETURN_IF_ERROR(ValidateId("initiative.id", patch.id()));
  RETURN_IF_ERROR(RequireVersion("initiative.version", patch.version()));
  ASSIGN_OR_RETURN(FieldMask mask,
                   EffectiveMask("initiative", request.update_mask(), InitiativeFields()));
  RETURN_IF_ERROR(
      ValidateListSize("initiative.responsible_bodies", patch.responsible_bodies_size()));
  RETURN_IF_ERROR(ValidateListSize("initiative.region_ids", patch.region_ids_size()));
  return Body([patch = std::move(patch), mask = std::move(mask), response,
               now](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<Initiative> current, tx.FindInitiative(patch.id()));
    if (!current) {
      return absl::NotFoundError(
          absl::StrCat("initiative.id: initiative \"", patch.id(), "\" not found"));
    }
    RETURN_IF_ERROR(CheckVersion("initiative.version", patch.version(), current->version()));
    Initiative updated = *current;
    ApplyMask(mask, patch, &updated);
    updated.DiscardUnknownFields();
    RETURN_IF_ERROR(ValidateInitiative("initiative", updated, /*id_required=*/true));
    RETURN_IF_ERROR(CheckInitiativeReferences(tx, "initiative", updated));
    Label(updated.mutable_fiscal_year());
    updated.set_version(current->version() + 1);
    *updated.mutable_update_time() = ToProtoTimestamp(now);
    RETURN_IF_ERROR(tx.PutInitiative(updated));
    *response->mutable_initiative() = std::move(updated);
    return absl::OkStatus();
  });
}

absl::StatusOr<Body> DeleteInitiativeBody(const v1::DeleteInitiativeRequest& request) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  RETURN_IF_ERROR(RequireVersion("version", request.version()));
  return Body(
      [id = request.id(), version = request.version()](PlanTransaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<Initiative> current, tx.FindInitiative(id));
        if (!current)
          return absl::NotFoundError(absl::StrCat("id: initiative \"", id, "\" not found"));
        RETURN_IF_ERROR(CheckVersion("version", version, current->version()));
        return tx.DeleteInitiative(id);
      });
}

// Counts one entity of an import.
void Count(v1::ImportPlanResponse::Counts* counts, bool existed, bool same) {
  if (!existed) {
    counts->set_created(counts->created() + 1);
  } else if (same) {
    counts->set_unchanged(counts->unchanged() + 1);
  } else {
    counts->set_updated(counts->updated() + 1);
  }
}

// The body of ImportPlan: the region tree checked for all regions at once
// (a parent may come later), then every entity stored unless unchanged.
absl::Status Import(PlanTransaction& tx, const v1::PlanDataset& dataset,
                    const google::protobuf::Timestamp& now, v1::ImportPlanResponse* response) {
  std::vector<RegionWrite> writes;
  writes.reserve(dataset.regions_size());
  for (int i = 0; i < dataset.regions_size(); ++i) {
    writes.push_back({Indexed("dataset.regions", i), &dataset.regions(i)});
  }
  RETURN_IF_ERROR(CheckRegionWrites(writes, Lookup(tx)));

  v1::ImportPlanResponse counts;
  for (Region region : dataset.regions()) {
    ASSIGN_OR_RETURN(std::optional<Region> existing, tx.FindRegion(region.id()));
    const bool same = existing && SameContent(*existing, region);
    Count(counts.mutable_regions(), existing.has_value(), same);
    if (same) continue;
    *region.mutable_create_time() = existing ? existing->create_time() : now;
    RETURN_IF_ERROR(tx.PutRegion(region));
  }
  for (int i = 0; i < dataset.projects_size(); ++i) {
    const std::string prefix = Indexed("dataset.projects", i);
    Project project = dataset.projects(i);
    ASSIGN_OR_RETURN(std::optional<Project> existing, tx.FindProject(project.id()));
    const bool same = existing && SameContent(*existing, project);
    Count(counts.mutable_projects(), existing.has_value(), same);
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
    Count(counts.mutable_initiatives(), existing.has_value(), same);
    if (same) continue;
    RETURN_IF_ERROR(CheckInitiativeReferences(tx, prefix, initiative));
    Label(initiative.mutable_fiscal_year());
    initiative.set_version(existing ? existing->version() + 1 : 1);
    *initiative.mutable_create_time() = existing ? existing->create_time() : now;
    *initiative.mutable_update_time() = now;
    RETURN_IF_ERROR(tx.PutInitiative(initiative));
  }
  *response = std::move(counts);
  return absl::OkStatus();
}

absl::StatusOr<Body> ImportPlanBody(const v1::ImportPlanRequest& request,
                                    v1::ImportPlanResponse* response, absl::Time now,
                                    int max_items) {
  RETURN_IF_ERROR(ValidateImportSize(request.dataset(), max_items));
  auto dataset = std::make_shared<v1::PlanDataset>(request.dataset());
  DropUnstoredFields(dataset.get());
  for (Project& project : *dataset->mutable_projects()) {
    if (project.status() == v1::PROJECT_STATUS_UNSPECIFIED) {
      project.set_status(v1::PROJECT_STATUS_ACTIVE);
    }
  }
  RETURN_IF_ERROR(ValidatePlanDataset(*dataset, max_items));
  return Body([dataset = std::shared_ptr<const v1::PlanDataset>(std::move(dataset)), response,
               now = ToProtoTimestamp(now)](PlanTransaction& tx) {
    return Import(tx, *dataset, now, response);
  });
}

BatchWriter<PlanTransaction>::Options WriterOptions(const PlanCatalog::Options& options) {
  BatchWriter<PlanTransaction>::Options writer;
  writer.name = "plan-writer";
  writer.max_queued = options.max_queued_writes;
  writer.max_group = options.max_group;
  return writer;
}

}  // namespace

PlanCatalog::PlanCatalog(PlanStore* store) : PlanCatalog(store, Options()) {}

PlanCatalog::PlanCatalog(PlanStore* store, Options options)
    : store_(store),
      options_(std::move(options)),
      writer_(
          [store](const std::vector<const Body*>& bodies, std::vector<absl::Status>* outcomes) {
            return store->RunGroup(bodies, outcomes);
          },
          WriterOptions(options_)) {}

void PlanCatalog::Write(absl::StatusOr<Body> body, Done done) {
  if (!body.ok()) {
    done(body.status());
    return;
  }
  writer_.Submit(*std::move(body), std::move(done));
  // After: once counted, the body is in the writer's queue (or refused).
  submitted_.fetch_add(1, std::memory_order_relaxed);
}

PlanCatalog::WriteStats PlanCatalog::write_stats() const {
  const BatchWriter<PlanTransaction>::Stats stats = writer_.stats();
  WriteStats out;
  out.submitted = submitted_.load(std::memory_order_relaxed);
  out.groups = stats.groups;
  out.writes = stats.writes;
  return out;
}

// ---- Reads ----

absl::StatusOr<std::vector<std::string>> PlanCatalog::RegionAndAbove(absl::string_view region_id) {
  std::vector<std::string> above;
  RETURN_IF_ERROR(store_->Read([&](PlanTransaction& tx) -> absl::Status {
    std::string at(region_id);
    while (!at.empty() && above.size() < static_cast<size_t>(kMaxRegionDepth)) {
      ASSIGN_OR_RETURN(std::optional<Region> region, tx.FindRegion(at));
      if (!region) break;
      above.push_back(at);
      at = region->parent_id();
    }
    return absl::OkStatus();
  }));
  return above;
}

absl::StatusOr<std::string> PlanCatalog::AreaOfProject(absl::string_view project_id) {
  std::string area;
  RETURN_IF_ERROR(store_->Read([&](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Project> project, tx.FindProject(project_id));
    if (project) area = project->area_id();
    return absl::OkStatus();
  }));
  return area;
}

absl::StatusOr<std::string> PlanCatalog::AreaOfInitiative(absl::string_view initiative_id) {
  std::string area;
  RETURN_IF_ERROR(store_->Read([&](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Initiative> initiative, tx.FindInitiative(initiative_id));
    if (!initiative) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::optional<v1::Project> project, tx.FindProject(initiative->project_id()));
    if (project) area = project->area_id();
    return absl::OkStatus();
  }));
  return area;
}

absl::Status PlanCatalog::GetRegion(const v1::GetRegionRequest& request,
                                    v1::GetRegionResponse* response) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return store_->Read([&](PlanTransaction& tx) -> absl::Status {
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
  RETURN_IF_ERROR(store_->Read([&](PlanTransaction& tx) -> absl::Status {
    if (!request.root_id().empty()) {
      RETURN_IF_ERROR(RequireRegion(tx, "root_id", request.root_id()).status());
    }
    ASSIGN_OR_RETURN(regions, tx.AllRegions());
    return absl::OkStatus();
  }));
  const std::vector<Region> ordered = TreeOrder(regions, request.root_id());
  // In tree order the page token carries a position, not a key.
  const size_t begin = std::min(static_cast<size_t>(offset), ordered.size());
  const size_t end = std::min(ordered.size(), begin + page_size);
  for (size_t i = begin; i < end; ++i) *response->add_regions() = ordered[i];
  if (end < ordered.size()) response->set_next_page_token(EncodePageToken(end));
  return absl::OkStatus();
}

absl::Status PlanCatalog::GetProject(const v1::GetProjectRequest& request,
                                     v1::GetProjectResponse* response) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return store_->Read([&](PlanTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(*response->mutable_project(), RequireProject(tx, "id", request.id()));
    return absl::OkStatus();
  });
}

absl::Status PlanCatalog::ListProjects(const v1::ListProjectsRequest& request,
                                       v1::ListProjectsResponse* response) {
  if (!request.area_id().empty()) RETURN_IF_ERROR(ValidateId("area_id", request.area_id()));
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t after, DecodePageToken("page_token", request.page_token()));
  return store_->Read([&](PlanTransaction& tx) -> absl::Status {
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
    RETURN_IF_ERROR(ValidateName("responsible_body", request.responsible_body()));
    query.responsible_body = request.responsible_body();
  }
  if (!request.pillar_id().empty()) {
    RETURN_IF_ERROR(ValidateId("pillar_id", request.pillar_id()));
    query.pillar_id = request.pillar_id();
  }
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(query.after_key, DecodePageToken("page_token", request.page_token()));
  query.limit = page_size + 1;
  return store_->Read([&](PlanTransaction& tx) -> absl::Status {
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

// ---- Writes ----

void PlanCatalog::CreateRegion(const v1::CreateRegionRequest& request,
                               v1::CreateRegionResponse* response, Done done) {
  Write(CreateRegionBody(request, response, options_.clock->Now()), std::move(done));
}

void PlanCatalog::CreateProject(const v1::CreateProjectRequest& request,
                                v1::CreateProjectResponse* response, Done done) {
  Write(CreateProjectBody(request, response, options_.clock->Now()), std::move(done));
}

void PlanCatalog::UpdateProject(const v1::UpdateProjectRequest& request,
                                v1::UpdateProjectResponse* response, Done done) {
  Write(UpdateProjectBody(request, response, options_.clock->Now()), std::move(done));
}

void PlanCatalog::CreateInitiative(const v1::CreateInitiativeRequest& request,
                                   v1::CreateInitiativeResponse* response, Done done) {
  Write(CreateInitiativeBody(request, response, options_.clock->Now()), std::move(done));
}

void PlanCatalog::UpdateInitiative(const v1::UpdateInitiativeRequest& request,
                                   v1::UpdateInitiativeResponse* response, Done done) {
  Write(UpdateInitiativeBody(request, response, options_.clock->Now()), std::move(done));
}

void PlanCatalog::DeleteInitiative(const v1::DeleteInitiativeRequest& request,
                                   v1::DeleteInitiativeResponse* /*response*/, Done done) {
  Write(DeleteInitiativeBody(request), std::move(done));
}

void PlanCatalog::ImportPlan(const v1::ImportPlanRequest& request, v1::ImportPlanResponse* response,
                             Done done) {
  Write(ImportPlanBody(request, response, options_.clock->Now(), options_.import_max_items),
        std::move(done));
}

}  // namespace suishin::plan
