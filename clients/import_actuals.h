// The one ImportActuals streamer: a KPI's rows sent to kpi-service in one
// client stream, all applied in one transaction or none.
//
// Contract: the rows go out in messages of kRowsPerMessage, on one call
// whose deadline is the Services' timeout plus kStreamTimePerRow per row,
// with the Services' metadata. On success, the service's answer. When the
// service refuses rows, INVALID_ARGUMENT and, in `*refused`, its answer with
// a RowError per bad row (each naming the row's line and field), so that
// the caller can say where in its own input each one is. Any other failure
// is the call's status with `*refused` left empty. Error messages are the
// service's, without a prefix: the caller names what it was importing.
//
// Example:
//   kpi::v1::ImportActualsResponse refused;
//   absl::StatusOr<kpi::v1::ImportActualsResponse> answer =
//       clients::ImportActuals(services, rows, &refused);
//   if (!answer.ok()) for (const kpi::v1::RowError& e : refused.errors()) Show(e);
#ifndef SUISHIN_CLIENTS_IMPORT_ACTUALS_H_
#define SUISHIN_CLIENTS_IMPORT_ACTUALS_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/services.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::clients {

// Rows per ImportActualsRequest message of the stream.
inline constexpr size_t kRowsPerMessage = 500;
// The stream's deadline grows by this much per row.
inline constexpr absl::Duration kStreamTimePerRow = absl::Milliseconds(1);

// Called after each message is written with the number of rows written so
// far, for a progress display.
using RowsSent = std::function<void(int64_t rows_sent)>;

// Sends `rows` on one ImportActuals stream of services.kpi (see above).
// `refused` may be null when the caller does not need the row errors.
absl::StatusOr<kpi::v1::ImportActualsResponse> ImportActuals(
    const Services& services, const std::vector<kpi::v1::ImportRow>& rows,
    kpi::v1::ImportActualsResponse* refused, const RowsSent& sent = nullptr);

}  // namespace suishin::clients

#endif  // SUISHIN_CLIENTS_IMPORT_ACTUALS_H_
