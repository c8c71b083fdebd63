// Whole datasets (suishin.dataset.v1.Dataset, the format of
// data/seed/dohoku-2019.json) between a front end and the services: parsing
// a dataset's JSON (from a string, or a file), checking its references
// against what the services hold before anything is stored, reading
// everything the services hold back as one dataset, and writing it as JSON.
//
// Contract: ParseDatasetJson, DatasetJson, ActualsFromHistory and
// StripOutputOnly are pure; ReadDatasetFile reads one file; the functions
// taking clients::Services call the services through it (each call with its
// deadline and metadata) and store nothing. Errors are absl::Status naming
// the input (`path`, or whatever name the caller gives a string) and the
// field in the file's spelling.
//
// Example (import-json):
//   ASSIGN_OR_RETURN(dataset::v1::Dataset dataset, ReadDatasetFile(path));
//   RETURN_IF_ERROR(CheckDatasetReferences(services, path, dataset));
#ifndef SUISHIN_EXCHANGE_DATASET_IO_H_
#define SUISHIN_EXCHANGE_DATASET_IO_H_

#include <google/protobuf/repeated_field.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/services.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::exchange {

// Reads a dataset file like ReadJsonFile (unknown fields are an error), but a
// syntax error is reported on one line, with where it is ("… (line 3,
// column 14)", "… (at the end of the file)") instead of the parser's
// multi-line excerpt.
absl::StatusOr<dataset::v1::Dataset> ReadDatasetFile(const std::string& path);

// What ReadDatasetFile does with the file's bytes once read: `text` parsed
// as a dataset (unknown fields are an error), or INVALID_ARGUMENT
// "<path>: not a valid suishin.dataset.v1.Dataset: …" on one line. No I/O.
absl::StatusOr<dataset::v1::Dataset> ParseDatasetJson(absl::string_view path,
                                                      absl::string_view text);

// `message` (a protobuf JSON parser's error, possibly followed by an excerpt
// of the input and a line with a caret under the fault) on one line, the
// excerpt replaced by the fault's line and column in `text` (the parsed
// input) when it can be found there once.
std::string OneLineParseError(absl::string_view message, absl::string_view text);

// Checks before anything is stored what would otherwise be refused only
// after the plan part had been: each KPI names a project that is in the file
// or in plan-service, its area (when given) is that project's area, its
// regions are in the file or in plan-service and within that area, its
// baselines, targets and actuals are of those regions, and its actuals'
// kpiId is the KPI's (or empty); no KPI id appears twice. INVALID_ARGUMENT
// naming the file and the field in the file's spelling
// ("kpi.kpis[0].kpi.projectId") otherwise. Calls ListRegions and ListProjects
// only when the file has KPIs.
absl::Status CheckDatasetReferences(const clients::Services& services, absl::string_view path,
                                    const dataset::v1::Dataset& dataset);

// Everything the services hold as one dataset, `source` left empty: every
// region (tree order), project and initiative (per project, in the order
// they were added), and every KPI with its baselines, targets (with their
// revisions) and actuals (ActualsFromHistory), output-only fields cleared
// (StripOutputOnly), baselines and targets in the order of the KPI's
// region_ids.
absl::StatusOr<dataset::v1::Dataset> ExportDataset(const clients::Services& services);

// The actuals of `kpi` as they stand after `changes` (its change log, as
// GetHistory gives it): for each region and fiscal year the last
// ACTUAL_RECORDED or ACTUAL_CORRECTED change by sequence, with its new value,
// numerator and denominator, author as reported_by and change_time as
// report_time. Ordered by the region's place in kpi.region_ids (other regions
// after them, by id), then by year.
std::vector<kpi::v1::Actual> ActualsFromHistory(
    const kpi::v1::Kpi& kpi, const google::protobuf::RepeatedPtrField<kpi::v1::Change>& changes);

// Clears what the services set and an import cannot carry: create_time,
// update_time and version of regions, projects, initiatives and KPIs, KPIs'
// region_names, region_parents and region_kinds, targets' revise_time,
// actuals' report_time, and every fiscal year's label. What stays is what an import stores as
// given, so that export → import into empty services → export gives the same dataset.
void StripOutputOnly(dataset::v1::Dataset* dataset);

// `dataset` in the protobuf JSON mapping as dataset files are written:
// lowerCamelCase names, UTF-8 as is, two spaces per level, a final newline.
std::string DatasetJson(const dataset::v1::Dataset& dataset);

}  // namespace suishin::exchange

#endif  // SUISHIN_EXCHANGE_DATASET_IO_H_
