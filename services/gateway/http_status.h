// gRPC status to HTTP: the usual HTTP status for each code (as Google's
// API design guide maps them) and the JSON error body the gateway answers
// with, which keeps the service's code and message unchanged:
//   {"code": 5, "status": "NOT_FOUND", "message": "kpi_id: no KPI \"k9\""}
// and, where the service sent details with the error (an import's refused
// rows: the RPC's response message), the same details as google.protobuf.Any:
//   "details": [{"@type": "type.googleapis.com/suishin.kpi.v1.ImportActualsResponse",
//                "errors": [{"line": "7", "field": "value", "message": "..."}], ...}]
#ifndef SUISHIN_SERVICES_GATEWAY_HTTP_STATUS_H_
#define SUISHIN_SERVICES_GATEWAY_HTTP_STATUS_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/strings/string_view.h"

namespace suishin::gateway {

// 400 INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE; 401
// UNAUTHENTICATED; 403 PERMISSION_DENIED; 404 NOT_FOUND; 409 ALREADY_EXISTS,
// ABORTED; 429 RESOURCE_EXHAUSTED; 499 CANCELLED; 501 UNIMPLEMENTED; 503
// UNAVAILABLE; 504 DEADLINE_EXCEEDED; 500 the rest.
int HttpStatusOf(grpc::StatusCode code);

// "NOT_FOUND" for grpc::StatusCode::NOT_FOUND.
std::string CodeName(grpc::StatusCode code);

// The JSON error body for a status with `code` and `message`, and `detail`
// when not null.
std::string ErrorJson(grpc::StatusCode code, absl::string_view message,
                      const google::protobuf::Message* detail = nullptr);

}  // namespace suishin::gateway

#endif  // SUISHIN_SERVICES_GATEWAY_HTTP_STATUS_H_
