// A dataset file's contents loaded into the services, as `suishinctl
// import` and `import-json` and the gateway's dataset import do it: the plan
// part with ImportPlan (created, updated, unchanged), then each KPI with
// CreateKpi (or found already there with the same definition) and its
// baselines, targets and actuals (dataset_rows.h) in one ImportActuals
// stream, unless it was already present with values.
//
// Contract: no terminal or file I/O; calls go through clients::Services (its
// deadline and metadata). Each KPI's rows are all applied or none; the plan
// and the KPIs before a failing one stay imported (importing the same file
// again finishes the job and changes nothing twice).
#ifndef SUISHIN_EXCHANGE_DATASET_IMPORT_H_
#define SUISHIN_EXCHANGE_DATASET_IMPORT_H_

#include <google/protobuf/struct.pb.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "clients/services.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::exchange {

// What the import did with one KPI of a dataset.
struct KpiImportResult {
  std::string kpi_id;
  std::string name;
  // True when CreateKpi made it; false when it was already present.
  bool created = false;
  // False for a KPI already present with values: its rows are not sent
  // again (identical actuals would be no-ops, but target rows would add
  // revisions).
  bool rows_sent = false;
  // Rows in the file for this KPI, and how many ImportActuals applied.
  int64_t rows = 0;
  int64_t rows_applied = 0;
};

// Rows of the KPI part sent so far, of `total`, while sending `kpi_id`'s.
using KpiRowsProgress = std::function<void(int64_t done, int64_t total, absl::string_view kpi_id)>;

// Loads `dataset`'s KPI part (see above). Appends one entry per KPI handled
// to `results`, also when it fails part-way, so the caller can report what
// was done. Rows are numbered through the KPI part in the order RowsOf gives
// them; when ImportActuals refuses a KPI's rows, its answer (a RowError per
// bad row, "line" in that numbering) is put in `*refused` (when not null)
// and the refusal returned, its message starting kpi "ID": .
absl::Status ImportKpis(const clients::Services& services, const kpi::v1::KpiDataset& dataset,
                        std::vector<KpiImportResult>* results,
                        kpi::v1::ImportActualsResponse* refused = nullptr,
                        const KpiRowsProgress& progress = nullptr);

// The plan part of `dataset` with ImportPlan (its answer in `*plan`), then
// its KPI part with ImportKpis.
absl::Status ImportDataset(const clients::Services& services, const dataset::v1::Dataset& dataset,
                           plan::v1::ImportPlanResponse* plan,
                           std::vector<KpiImportResult>* results,
                           kpi::v1::ImportActualsResponse* refused = nullptr,
                           const KpiRowsProgress& progress = nullptr);

// What an import did, as JSON for a program to read:
// {"plan": ImportPlanResponse, "kpi": {"kpis": [{id, name, result ("created"
// or "present"), rows, rowsApplied}]}}.
google::protobuf::Struct ImportSummaryJson(const plan::v1::ImportPlanResponse& plan,
                                           const std::vector<KpiImportResult>& results);

}  // namespace suishin::exchange

#endif  // SUISHIN_EXCHANGE_DATASET_IMPORT_H_
