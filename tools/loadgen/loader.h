// Putting a dataset into the services: the plan with ImportPlan, KPIs with
// CreateKpi, and baseline, target and actual rows with one ImportActuals
// stream. Each prints a progress line to `out` as it goes and returns a status
// whose message says which call failed and why, in words a person running a
// benchmark can act on (UNIMPLEMENTED, for a kpi-service that does not have
// the method yet, says so).
#ifndef SUISHIN_TOOLS_LOADGEN_LOADER_H_
#define SUISHIN_TOOLS_LOADGEN_LOADER_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "suishin/plan/v1/plan.grpc.pb.h"

namespace suishin::loadgen {

// A failed call as a status: "Method: CODE: message", with a hint for
// UNIMPLEMENTED (the server does not have the method yet) and UNAVAILABLE.
absl::Status RpcError(absl::string_view method, const grpc::Status& status);

// ImportPlan with the whole dataset; a second import of the same dataset
// changes nothing.
absl::Status LoadPlan(plan::v1::PlanService::StubInterface& plan,
                      const plan::v1::PlanDataset& dataset, absl::Duration timeout,
                      std::ostream& out);

// CreateKpi for each KPI, from `threads` threads at once. A KPI that already
// exists counts as done (so a run can be repeated on the same database).
absl::Status CreateKpis(kpi::v1::KpiService::StubInterface& kpi,
                        const std::vector<kpi::v1::Kpi>& kpis, int threads, absl::Duration timeout,
                        std::ostream& out);

// What an ImportActuals stream did.
struct ImportResult {
  int64_t rows_sent = 0;
  int64_t messages = 0;
  int64_t rows_applied = 0;
  // From the start of the call to its answer: sending, and the server
  // checking and committing every row.
  absl::Duration elapsed;
};

// Fills the next request message and returns true, or returns false when there
// are no more rows.
using NextBatch = std::function<bool(kpi::v1::ImportActualsRequest& request)>;

// One ImportActuals call: messages from `next` until it returns false, then
// the answer. `progress` (may be empty) is called after each message with the
// rows sent so far. A refused import comes back as its status, with the first
// row errors from the status details in the message.
absl::StatusOr<ImportResult> StreamImport(kpi::v1::KpiService::StubInterface& kpi,
                                          const NextBatch& next, absl::Duration timeout,
                                          const std::function<void(int64_t)>& progress);

}  // namespace suishin::loadgen

#endif  // SUISHIN_TOOLS_LOADGEN_LOADER_H_
