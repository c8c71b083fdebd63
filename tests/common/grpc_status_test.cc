#include "common/grpc_status.h"

#include <grpcpp/support/status.h>

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace suishin {
namespace {

struct CodeCase {
  absl::StatusCode absl_code;
  grpc::StatusCode grpc_code;
  // The name both libraries give the code; checked against Abseil's own
  // spelling so a mistyped row cannot pass.
  std::string name;
};

// Every canonical code except OK.
const std::vector<CodeCase>& ErrorCodes() {
  static const auto* cases = new std::vector<CodeCase>{
      {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED, "CANCELLED"},
      {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN, "UNKNOWN"},
      {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT"},
      {absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED,
       "DEADLINE_EXCEEDED"},
      {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND, "NOT_FOUND"},
      {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS, "ALREADY_EXISTS"},
      {absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED,
       "PERMISSION_DENIED"},
      {absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED,
       "RESOURCE_EXHAUSTED"},
      {absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION,
       "FAILED_PRECONDITION"},
      {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED, "ABORTED"},
      {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE, "OUT_OF_RANGE"},
      {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED, "UNIMPLEMENTED"},
      {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL, "INTERNAL"},
      {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE"},
      {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS, "DATA_LOSS"},
      {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED"},
  };
  return *cases;
}

// Guards the table itself: all 16 error codes, each once, each row's Abseil
// code really having the row's name.
TEST(GrpcStatusTest, TableCoversEveryErrorCodeOnce) {
  std::set<int> seen;
  for (const CodeCase& c : ErrorCodes()) {
    EXPECT_EQ(absl::StatusCodeToString(c.absl_code), c.name);
    seen.insert(static_cast<int>(c.absl_code));
  }
  EXPECT_EQ(seen.size(), 16u);
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), 16);
}

TEST(GrpcStatusTest, EveryErrorCodeMapsToTheGrpcCodeOfTheSameName) {
  for (const CodeCase& c : ErrorCodes()) {
    const grpc::Status converted = ToGrpcStatus(absl::Status(c.absl_code, "boom"));
    EXPECT_EQ(converted.error_code(), c.grpc_code) << c.name;
    EXPECT_FALSE(converted.ok()) << c.name;
  }
}

TEST(GrpcStatusTest, ToGrpcStatusKeepsTheMessage) {
  const std::string message = "region.id: must be lower-case (got \"宗谷\")\nsecond line";
  for (const CodeCase& c : ErrorCodes()) {
    EXPECT_EQ(ToGrpcStatus(absl::Status(c.absl_code, message)).error_message(), message) << c.name;
  }
}

TEST(GrpcStatusTest, OkMapsToOk) {
  const grpc::Status converted = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(converted.ok());
  EXPECT_EQ(converted.error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(converted.error_message(), "");
}

TEST(GrpcStatusTest, FromGrpcStatusMapsEveryErrorCodeAndKeepsTheMessage) {
  for (const CodeCase& c : ErrorCodes()) {
    const absl::Status converted =
        FromGrpcStatus(grpc::Status(c.grpc_code, "道北: 見つかりません"));
    EXPECT_EQ(converted, absl::Status(c.absl_code, "道北: 見つかりません")) << c.name;
  }
}

TEST(GrpcStatusTest, FromGrpcStatusMapsOkToOk) {
  EXPECT_EQ(FromGrpcStatus(grpc::Status::OK), absl::OkStatus());
}

TEST(GrpcStatusTest, RoundTripsEveryErrorStatus) {
  for (const CodeCase& c : ErrorCodes()) {
    const absl::Status original(c.absl_code, absl::StrCat("failed: ", c.name));
    EXPECT_EQ(FromGrpcStatus(ToGrpcStatus(original)), original) << c.name;
  }
}

TEST(GrpcStatusTest, RoundTripsOk) {
  EXPECT_TRUE(FromGrpcStatus(ToGrpcStatus(absl::OkStatus())).ok());
}

}  // namespace
}  // namespace suishin
