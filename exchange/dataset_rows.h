// How a dataset file's KPI part becomes kpi-service calls: each KPI's
// definition for CreateKpi, and its baselines, targets (earlier revisions
// first, so the history is rebuilt) and actuals as ImportActuals rows.
#ifndef SUISHIN_EXCHANGE_DATASET_ROWS_H_
#define SUISHIN_EXCHANGE_DATASET_ROWS_H_

#include <vector>

#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::exchange {

// The rows that load `record`'s values, numbered from `first_line` on:
// baselines, then for each target its revisions oldest first and the current
// value last (each carrying the reason and author recorded for replacing the one before
// it), then actuals.
std::vector<kpi::v1::ImportRow> RowsOf(const kpi::v1::KpiRecord& record, int64_t first_line = 1);

}  // namespace suishin::exchange

#endif  // SUISHIN_EXCHANGE_DATASET_ROWS_H_
