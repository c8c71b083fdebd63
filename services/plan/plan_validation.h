// What plan-service checks in a request alone, before it reaches the store:
// every field (an INVALID_ARGUMENT naming the field and the value), every
// bound (the limit and its flag named: --max_name_chars for names,
// --max_text_chars for texts, --max_list_items for repeated fields,
// --import_plan_max_items for one ImportPlan), and the fields a client may
// send but the service never stores as sent.
//
// Pure functions, no I/O: they run on the gRPC thread, and what needs the
// store (references, versions, the region tree) is checked in the write's
// body (plan_catalog.cc, region_tree.h).
//
// Example:
//   v1::Region region = request.region();
//   DropUnstoredFields(&region);
//   RETURN_IF_ERROR(ValidateRegion("region", region));
#ifndef SUISHIN_SERVICES_PLAN_PLAN_VALIDATION_H_
#define SUISHIN_SERVICES_PLAN_PLAN_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::plan {

// "<prefix>.<name>", "<field>[<index>]": how errors name a field.
std::string Field(absl::string_view prefix, absl::string_view name);
std::string Indexed(absl::string_view field, int index);

// Drops unknown fields (at every depth) and the output-only fields the
// service sets itself: create and update times, the fiscal year's label.
// Versions stay: on an update or a delete they carry the version the client
// last read; the write sets the stored one.
void DropUnstoredFields(v1::Region* region);
void DropUnstoredFields(v1::Project* project);
void DropUnstoredFields(v1::Initiative* initiative);
void DropUnstoredFields(v1::PlanDataset* dataset);

// Every field of a region, named under `prefix` ("region",
// "dataset.regions[3]"): id, name, kind, parent (none for a prefecture,
// never the region itself), 全国地方公共団体コード.
absl::Status ValidateRegion(absl::string_view prefix, const v1::Region& region);

// Every field of a project: id, area id, title, overview, pillars (at most
// --max_list_items, distinct ids), status (set: callers default it).
absl::Status ValidateProject(absl::string_view prefix, const v1::Project& project);

// Every field of an initiative: id (when `id_required` or given), project,
// pillar, fiscal year, stage, text, responsible bodies and region tags (each
// at most --max_list_items, none listed twice).
absl::Status ValidateInitiative(absl::string_view prefix, const v1::Initiative& initiative,
                                bool id_required);

// At most `max_items` regions, projects and initiatives together in one
// dataset (--import_plan_max_items): cheap, so checked before the dataset is
// copied or walked.
absl::Status ValidateImportSize(const v1::PlanDataset& dataset, int max_items);

// A whole dataset for ImportPlan: its size first (ValidateImportSize), then
// every entity as above, with no id twice within its kind. Projects must
// have their status defaulted already.
absl::Status ValidatePlanDataset(const v1::PlanDataset& dataset, int max_items);

}  // namespace suishin::plan

#endif  // SUISHIN_SERVICES_PLAN_PLAN_VALIDATION_H_
