#include "clients/import_actuals.h"

#include <algorithm>
#include <memory>

#include "common/grpc_status.h"

namespace suishin::clients {

absl::StatusOr<kpi::v1::ImportActualsResponse> ImportActuals(
    const Services& services, const std::vector<kpi::v1::ImportRow>& rows,
    kpi::v1::ImportActualsResponse* refused, const RowsSent& sent) {
  if (refused != nullptr) refused->Clear();
  std::unique_ptr<grpc::ClientContext> context =
      NewCallContext(services, kStreamTimePerRow * static_cast<int64_t>(rows.size()));
  kpi::v1::ImportActualsResponse response;
  std::unique_ptr<grpc::ClientWriterInterface<kpi::v1::ImportActualsRequest>> writer =
      services.kpi->ImportActuals(context.get(), &response);
  for (size_t first = 0; first < rows.size(); first += kRowsPerMessage) {
    kpi::v1::ImportActualsRequest request;
    const size_t end = std::min(rows.size(), first + kRowsPerMessage);
    for (size_t i = first; i < end; ++i) *request.add_rows() = rows[i];
    // A failed write means the call is over; Finish says why.
    if (!writer->Write(request)) break;
    if (sent) sent(static_cast<int64_t>(end));
  }
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (status.ok()) return response;
  if (refused != nullptr && status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
      !status.error_details().empty() && !refused->ParseFromString(status.error_details())) {
    refused->Clear();
  }
  return FromGrpcStatus(status);
}

}  // namespace suishin::clients
