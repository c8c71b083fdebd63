// TLS on the suite's servers and channels: a TLS server answers a client
// that trusts its CA, and nobody else: not a plaintext client, not one that
// trusts another CA, not one presenting a certificate of another CA (the
// services' mutual TLS); a service refuses to listen beyond loopback
// without TLS and authentication; the flags name what is wrong with them.
#include "common/tls.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "common/server.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_ca);

namespace suishin {
namespace {

using ::suishin::testing::TempDir;
using ::suishin::testing::TestPki;

// The health check, over `credentials`.
grpc::Status Check(const std::string& address,
                   const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  auto channel = grpc::CreateChannel(address, credentials);
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, request, &response);
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("tls");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(*std::move(dir));
    absl::StatusOr<TestPki> ours = TestPki::Make(dir_->File("ours"));
    absl::StatusOr<TestPki> theirs = TestPki::Make(dir_->File("theirs"));
    ASSERT_TRUE(ours.ok() && theirs.ok()) << ours.status() << theirs.status();
    ours_ = *ours;
    theirs_ = *theirs;
  }
  void TearDown() override { SetProcessTls(TlsSettings()); }

  std::unique_ptr<TempDir> dir_;
  TestPki ours_;
  TestPki theirs_;
};

TEST_F(TlsTest, ATlsServerAnswersOnlyClientsThatTrustItAndThatItTrusts) {
  SetProcessTls(ours_.Tls());
  absl::StatusOr<std::unique_ptr<ServiceHost>> host = ServiceHost::Start("127.0.0.1:0", {});
  ASSERT_TRUE(host.ok()) << host.status();
  const std::string address = (*host)->address();

  // A client that trusts our CA, with no certificate of its own (suishinctl),
  // and a service presenting ours (mutual TLS).
  EXPECT_TRUE(Check(address, ChannelCredentials(ours_.ClientTls())).ok());
  const grpc::Status mutual = Check(address, ChannelCredentials(ours_.Tls()));
  EXPECT_TRUE(mutual.ok()) << mutual.error_message();

  // Plaintext, a client trusting another CA, a certificate of another CA.
  EXPECT_EQ(Check(address, grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Check(address, ChannelCredentials(theirs_.ClientTls())).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  TlsSettings impostor = theirs_.Tls();
  impostor.ca = ours_.ClientTls().ca;  // trusts the server, but is not trusted
  EXPECT_EQ(Check(address, ChannelCredentials(impostor)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  (*host)->Shutdown(absl::Seconds(1));
}

TEST_F(TlsTest, WithoutTlsAServiceListensOnlyOnLoopback) {
  TlsSettings plain;
  for (const char* listen : {"127.0.0.1:50061", "localhost:0", "[::1]:50062", "127.0.0.9:1"}) {
    EXPECT_TRUE(CheckListenAddress("--plan_listen", listen, plain).ok()) << listen;
  }
  for (const char* listen : {"0.0.0.0:50061", "[::]:50061", "10.0.0.5:50061", "suishin:1"}) {
    const absl::Status refused = CheckListenAddress("--plan_listen", listen, plain);
    EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << listen;
    EXPECT_TRUE(absl::StartsWith(refused.message(), absl::StrCat("--plan_listen=", listen)))
        << refused;
    EXPECT_TRUE(absl::StrContains(refused.message(), "--allow_insecure_listen")) << refused;
  }
  // Beyond loopback: TLS and authentication together, or the explicit flag.
  EXPECT_FALSE(CheckListenAddress("--plan_listen", "0.0.0.0:1", ours_.Tls()).ok());
  EXPECT_TRUE(CheckListenAddress("--plan_listen", "0.0.0.0:1", ours_.Tls(), ours_.Auth()).ok());
  // Tokens never travel in the clear, even on loopback.
  const absl::Status clear =
      CheckListenAddress("--plan_listen", "127.0.0.1:1", plain, ours_.Auth());
  EXPECT_EQ(clear.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StartsWith(clear.message(), "--auth_keys needs --tls_cert")) << clear;
  plain.allow_insecure_listen = true;
  EXPECT_TRUE(CheckListenAddress("--plan_listen", "0.0.0.0:1", plain).ok());
}

TEST_F(TlsTest, TheFlagsNameWhatIsWrongWithThem) {
  absl::SetFlag(&FLAGS_tls_cert, ours_.cert_file);
  absl::SetFlag(&FLAGS_tls_key, ours_.key_file);
  absl::SetFlag(&FLAGS_tls_ca, ours_.ca_file);
  absl::StatusOr<TlsSettings> good = TlsFromFlags();
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_TRUE(good->serves_tls() && good->calls_tls());

  absl::SetFlag(&FLAGS_tls_key, "");
  EXPECT_TRUE(absl::StrContains(TlsFromFlags().status().message(), "--tls_cert and --tls_key"));
  absl::SetFlag(&FLAGS_tls_key, dir_->File("missing.pem"));
  EXPECT_TRUE(absl::StartsWith(TlsFromFlags().status().message(), "--tls_key="))
      << TlsFromFlags().status();
  absl::SetFlag(&FLAGS_tls_key, ours_.key_file);
  absl::SetFlag(&FLAGS_tls_ca, dir_->File("not.pem"));
  { std::ofstream(dir_->File("not.pem")) << "not a certificate\n"; }
  const absl::Status not_pem = TlsFromFlags().status();
  EXPECT_EQ(not_pem.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(not_pem.message(), "holds no PEM")) << not_pem;
  absl::SetFlag(&FLAGS_tls_cert, "");
  absl::SetFlag(&FLAGS_tls_key, "");
  absl::SetFlag(&FLAGS_tls_ca, "");
}

}  // namespace
}  // namespace suishin
