// The one place where absl::Status becomes grpc::Status.
//
// Below the RPC layer everything returns absl::Status; service classes hand
// their result to ToGrpcStatus when they finish a call. The canonical codes
// have the same numbers in both libraries, so the mapping is exact and the
// message passes through unchanged.
#ifndef SUISHIN_COMMON_GRPC_STATUS_H_
#define SUISHIN_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace suishin {

// Converts a status for the wire. An OK status maps to grpc::Status::OK.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Converts a status received from another service back into absl::Status, so
// a caller can pass on a dependency's answer (e.g. plan-service's NOT_FOUND).
absl::Status FromGrpcStatus(const grpc::Status& status);

// Finishes a unary callback-API call with `status` and returns its reactor:
//   return FinishUnary(context, catalog_.GetProject(*request, response));
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status);

}  // namespace suishin

#endif  // SUISHIN_COMMON_GRPC_STATUS_H_
