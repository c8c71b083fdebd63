// The bulk-import benchmark and its baseline: the same synthetic actual rows
// (MakeBulkActuals) sent through kpi-service's ImportActuals, and inserted by
// a plain SQLite loop into a table of their own, so the cost of the service
// (gRPC, validation, the change log, its schema) shows as a ratio to the
// cost of the storage engine alone.
//
// Both time only the loading: the rows are generated before the clock starts,
// KPIs are created before it starts; the import's clock runs from opening the
// stream to the server's answer, the baseline's from BEGIN to COMMIT.
#ifndef SUISHIN_TOOLS_LOADGEN_IMPORT_LOAD_H_
#define SUISHIN_TOOLS_LOADGEN_IMPORT_LOAD_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "suishin/plan/v1/plan.grpc.pb.h"

namespace suishin::loadgen {

struct ImportOptions {
  int64_t rows = 1000000;
  // Rows per ImportActualsRequest message.
  int batch = 1000;
  // Threads creating the KPIs the rows need.
  int create_threads = 8;
  // Deadline of the ImportActuals call (one transaction for every row).
  absl::Duration import_timeout = absl::Minutes(10);
  // Deadline of every other call.
  absl::Duration timeout = absl::Seconds(10);
};

// Loads the Hokkaido plan (ImportPlan: no effect when already there), creates
// the "imp-NNNN" KPIs the rows need, then streams the rows in one
// ImportActuals call and prints rows/s, ending with a line
// "RESULT label=import rows=… seconds=… rows_per_s=…".
absl::Status RunImportBenchmark(plan::v1::PlanService::StubInterface& plan,
                                kpi::v1::KpiService::StubInterface& kpi,
                                const ImportOptions& options, std::ostream& out);

// Inserts the same rows into table loadgen_actuals (kpi_id TEXT, region_id
// TEXT, fiscal_year INTEGER, value REAL, PRIMARY KEY (kpi_id, region_id,
// fiscal_year)) of the SQLite file at `path` (made fresh: the table is
// dropped first; nothing else in the file is touched), WAL journal,
// synchronous=FULL as the services use, one prepared statement, one
// transaction. Prints rows/s and "RESULT label=sqlite rows=… seconds=…
// rows_per_s=…".
absl::Status RunSqliteBaseline(const std::string& path, int64_t rows, std::ostream& out);

}  // namespace suishin::loadgen

#endif  // SUISHIN_TOOLS_LOADGEN_IMPORT_LOAD_H_
