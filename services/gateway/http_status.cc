#include "services/gateway/http_status.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace suishin::gateway {

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

std::string CodeName(grpc::StatusCode code) {
  // absl's codes are gRPC's, number for number.
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string ErrorJson(grpc::StatusCode code, absl::string_view message,
                      const google::protobuf::Message* detail) {
  google::protobuf::Value text;
  text.set_string_value(std::string(message));
  std::string quoted;
  (void)google::protobuf::util::MessageToJsonString(text, &quoted);
  std::string details;
  if (detail != nullptr) {
    google::protobuf::Any any;
    any.PackFrom(*detail);
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    std::string json;
    if (google::protobuf::util::MessageToJsonString(any, &json, options).ok()) {
      details = absl::StrCat(",\"details\":[", json, "]");
    }
  }
  return absl::StrCat("{\"code\":", static_cast<int>(code), ",\"status\":\"", CodeName(code),
                      "\",\"message\":", quoted, details, "}");
}

}  // namespace suishin::gateway
