#include "services/plan/plan_validation.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/fiscal_year.h"
#include "common/limits.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace suishin::plan {
namespace {

absl::Status ValidateRequiredYear(absl::string_view field, const common::v1::FiscalYear& year) {
  if (year.year() == 0) return FieldError(Field(field, "year"), "0", "is required");
  return ValidateFiscalYear(Field(field, "year"), year.year());
}

// Each id of `items` once, within one kind of entity of a dataset.
template <typename Items>
absl::Status CheckDistinctIds(absl::string_view field, const Items& items, absl::string_view what) {
  std::set<std::string> ids;
  for (int i = 0; i < items.size(); ++i) {
    if (!ids.insert(items.Get(i).id()).second) {
      return FieldError(Field(Indexed(field, i), "id"), items.Get(i).id(),
                        absl::StrCat("repeats an earlier ", what));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string Field(absl::string_view prefix, absl::string_view name) {
  return absl::StrCat(prefix, ".", name);
}

std::string Indexed(absl::string_view field, int index) {
  return absl::StrCat(field, "[", index, "]");
}

void DropUnstoredFields(v1::Region* region) {
  region->DiscardUnknownFields();
  region->clear_create_time();
}

void DropUnstoredFields(v1::Project* project) {
  project->DiscardUnknownFields();
  project->clear_create_time();
  project->clear_update_time();
}

void DropUnstoredFields(v1::Initiative* initiative) {
  initiative->DiscardUnknownFields();
  initiative->clear_create_time();
  initiative->clear_update_time();
  if (initiative->has_fiscal_year()) initiative->mutable_fiscal_year()->clear_label();
}

void DropUnstoredFields(v1::PlanDataset* dataset) {
  dataset->DiscardUnknownFields();
  for (v1::Region& region : *dataset->mutable_regions()) DropUnstoredFields(&region);
  for (v1::Project& project : *dataset->mutable_projects()) DropUnstoredFields(&project);
  for (v1::Initiative& initiative : *dataset->mutable_initiatives()) {
    DropUnstoredFields(&initiative);
  }
}

absl::Status ValidateRegion(absl::string_view prefix, const v1::Region& region) {
  RETURN_IF_ERROR(ValidateId(Field(prefix, "id"), region.id()));
  RETURN_IF_ERROR(ValidateName(Field(prefix, "name"), region.name()));
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
    if (region.parent_id() == region.id()) {
      return FieldError(Field(prefix, "parent_id"), region.parent_id(),
                        "is the region itself; a region is never its own parent");
    }
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

absl::Status ValidateProject(absl::string_view prefix, const v1::Project& project) {
  RETURN_IF_ERROR(ValidateId(Field(prefix, "id"), project.id()));
  RETURN_IF_ERROR(ValidateId(Field(prefix, "area_id"), project.area_id()));
  RETURN_IF_ERROR(ValidateLongText(Field(prefix, "title"), project.title()));
  if (!project.overview().empty()) {
    RETURN_IF_ERROR(ValidateLongText(Field(prefix, "overview"), project.overview()));
  }
  RETURN_IF_ERROR(ValidateListSize(Field(prefix, "pillars"), project.pillars_size()));
  std::set<std::string> pillar_ids;
  for (int i = 0; i < project.pillars_size(); ++i) {
    const std::string field = Indexed(Field(prefix, "pillars"), i);
    const v1::Pillar& pillar = project.pillars(i);
    RETURN_IF_ERROR(ValidateId(Field(field, "id"), pillar.id()));
    RETURN_IF_ERROR(ValidateLongText(Field(field, "title"), pillar.title()));
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

absl::Status ValidateInitiative(absl::string_view prefix, const v1::Initiative& initiative,
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
  RETURN_IF_ERROR(ValidateLongText(Field(prefix, "text"), initiative.text()));
  RETURN_IF_ERROR(
      ValidateListSize(Field(prefix, "responsible_bodies"), initiative.responsible_bodies_size()));
  std::set<std::string> seen;
  for (int i = 0; i < initiative.responsible_bodies_size(); ++i) {
    const std::string field = Indexed(Field(prefix, "responsible_bodies"), i);
    RETURN_IF_ERROR(ValidateName(field, initiative.responsible_bodies(i)));
    if (!seen.insert(initiative.responsible_bodies(i)).second) {
      return FieldError(field, initiative.responsible_bodies(i), "is listed twice");
    }
  }
  RETURN_IF_ERROR(ValidateListSize(Field(prefix, "region_ids"), initiative.region_ids_size()));
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

absl::Status ValidateImportSize(const v1::PlanDataset& dataset, int max_items) {
  const int64_t items = static_cast<int64_t>(dataset.regions_size()) + dataset.projects_size() +
                        dataset.initiatives_size();
  if (items <= max_items) return absl::OkStatus();
  return LimitError("dataset: regions + projects + initiatives", items, max_items,
                    "--import_plan_max_items");
}

absl::Status ValidatePlanDataset(const v1::PlanDataset& dataset, int max_items) {
  RETURN_IF_ERROR(ValidateImportSize(dataset, max_items));
  for (int i = 0; i < dataset.regions_size(); ++i) {
    RETURN_IF_ERROR(ValidateRegion(Indexed("dataset.regions", i), dataset.regions(i)));
  }
  RETURN_IF_ERROR(CheckDistinctIds("dataset.regions", dataset.regions(), "region"));
  for (int i = 0; i < dataset.projects_size(); ++i) {
    RETURN_IF_ERROR(ValidateProject(Indexed("dataset.projects", i), dataset.projects(i)));
  }
  RETURN_IF_ERROR(CheckDistinctIds("dataset.projects", dataset.projects(), "project"));
  for (int i = 0; i < dataset.initiatives_size(); ++i) {
    RETURN_IF_ERROR(ValidateInitiative(Indexed("dataset.initiatives", i), dataset.initiatives(i),
                                       /*id_required=*/true));
  }
  return CheckDistinctIds("dataset.initiatives", dataset.initiatives(), "initiative");
}

}  // namespace suishin::plan
