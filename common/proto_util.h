// Small bridges between protobuf and the rest: times, enum names, JSON files.
#ifndef SUISHIN_COMMON_PROTO_UTIL_H_
#define SUISHIN_COMMON_PROTO_UTIL_H_

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace suishin {

google::protobuf::Timestamp ToProtoTimestamp(absl::Time time);
absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& timestamp);

// Reads a file in the protobuf JSON mapping into `message`. Unknown fields are
// an error. INVALID_ARGUMENT names the file and what the parser said;
// NOT_FOUND when the file cannot be read.
absl::Status ReadJsonFile(const std::string& path, google::protobuf::Message* message);

// The message in the protobuf JSON mapping, UTF-8 kept as is; indented
// unless `compact`.
std::string ToJson(const google::protobuf::Message& message, bool compact = false);

}  // namespace suishin

#endif  // SUISHIN_COMMON_PROTO_UTIL_H_
