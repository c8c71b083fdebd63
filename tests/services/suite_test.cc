// The three real service binaries: each starts on port 0 with its own SQLite
// file, with TLS and token checking as deployed, answers the standard health
// check with SERVING, lists its API and the audit trail's over server
// reflection, and exits cleanly on SIGTERM.
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/sync_stream.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/channel.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "reflection_wire.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"

namespace suishin {
namespace {

using ::suishin::testing::ChildProcess;
using ::suishin::testing::TempDir;

struct Binary {
  std::string name;     // plan-service
  std::string path;     // relative to the build dir
  std::string listen;   // its listen flag
  std::string db_flag;  // its store flag
  std::string api;      // the service it must list over reflection
};

std::vector<Binary> Binaries() {
  return {
      {"plan-service", "/services/plan/plan-service", "--plan_listen", "--plan_db",
       "suishin.plan.v1.PlanService"},
      {"kpi-service", "/services/kpi/kpi-service", "--kpi_listen", "--kpi_db",
       "suishin.kpi.v1.KpiService"},
      {"notification-service", "/services/notification/notification-service",
       "--notification_listen", "--notification_db", "suishin.notification.v1.NotificationService"},
  };
}

// The service names a server lists over grpc.reflection.v1alpha.
std::vector<std::string> ListServices(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  using Stream = grpc::ClientReaderWriter<testing::reflection::ListServicesRequest,
                                          testing::reflection::ListServicesResponse>;
  std::unique_ptr<Stream> stream(
      grpc::internal::ClientReaderWriterFactory<testing::reflection::ListServicesRequest,
                                                testing::reflection::ListServicesResponse>::
          Create(channel.get(),
                 grpc::internal::RpcMethod(
                     "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                     grpc::internal::RpcMethod::BIDI_STREAMING),
                 &context));
  testing::reflection::ListServicesRequest request;
  request.set_list_services("*");
  std::vector<std::string> names;
  if (!stream->Write(request)) return names;
  stream->WritesDone();
  testing::reflection::ListServicesResponse response;
  while (stream->Read(&response)) {
    for (const auto& service : response.list_services_response().service()) {
      names.push_back(service.name());
    }
  }
  EXPECT_TRUE(stream->Finish().ok());
  return names;
}

TEST(SuiteTest, EachBinaryServesHealthAndReflectionAndStopsOnSigterm) {
  auto dir = TempDir::Create("suite-test");
  ASSERT_TRUE(dir.ok()) << dir.status();
  // TLS and tokens: this process's channels trust the test CA and send a token.
  auto pki = testing::UseTestPki(*dir);
  ASSERT_TRUE(pki.ok()) << pki.status();
  for (const Binary& binary : Binaries()) {
    SCOPED_TRACE(binary.name);
    const std::string port_file = dir->File(binary.name + ".port");
    std::vector<std::string> argv = {std::string(SUISHIN_BINARY_DIR) + binary.path,
                                     binary.listen + "=127.0.0.1:0",
                                     binary.db_flag + "=" + dir->File(binary.name + ".db"),
                                     "--port_file=" + port_file, "--shutdown_grace_ms=500"};
    for (const std::string& flag : pki->Flags()) argv.push_back(flag);
    // The health check alone, in plaintext, as Kubernetes' grpc probes call it.
    const int health_port = testing::PickUnusedPort();
    argv.push_back(absl::StrCat("--health_listen=127.0.0.1:", health_port));
    auto child = ChildProcess::Start(argv, {}, dir->File(binary.name + ".out"),
                                     dir->File(binary.name + ".err"));
    ASSERT_TRUE(child.ok()) << child.status();
    auto port_text = child->WaitForFile(port_file, absl::Seconds(20));
    ASSERT_TRUE(port_text.ok()) << port_text.status();
    int port = 0;
    ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(*port_text), &port)) << *port_text;
    auto channel = MakeChannel(absl::StrCat("127.0.0.1:", port));

    // SERVING for the server and its API: over TLS on the service's port,
    // and in plaintext on the health port (what Kubernetes' probes call).
    auto plain = grpc::CreateChannel(absl::StrCat("127.0.0.1:", health_port),
                                     grpc::InsecureChannelCredentials());
    for (const auto& [where, on] : {std::pair{"service port", channel}, {"health port", plain}}) {
      auto health = grpc::health::v1::Health::NewStub(on);
      for (const std::string& service : {std::string(), binary.api}) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        grpc::health::v1::HealthCheckRequest request;
        request.set_service(service);
        grpc::health::v1::HealthCheckResponse response;
        grpc::Status status = health->Check(&context, request, &response);
        ASSERT_TRUE(status.ok()) << where << ", " << service << ": " << status.error_message();
        EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING)
            << where << ", " << service;
      }
    }
    // Only the health check there: the API is not served without TLS.
    const std::vector<std::string> plain_services = ListServices(plain);
    EXPECT_EQ(std::find(plain_services.begin(), plain_services.end(), binary.api),
              plain_services.end());

    const std::vector<std::string> services = ListServices(channel);
    EXPECT_NE(std::find(services.begin(), services.end(), binary.api), services.end());
    EXPECT_NE(std::find(services.begin(), services.end(), "grpc.health.v1.Health"), services.end());
    EXPECT_NE(std::find(services.begin(), services.end(), "suishin.common.v1.AuditService"),
              services.end());

    auto stopped = child->Terminate(absl::Seconds(20));
    ASSERT_TRUE(stopped.ok()) << stopped.status();
    EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0) << "wait status " << *stopped;
  }
}

TEST(SuiteTest, MalformedConfigurationStopsWithAMessage) {
  auto dir = TempDir::Create("suite-test");
  ASSERT_TRUE(dir.ok()) << dir.status();
  // Not the test PKI an earlier test of this process may have exported
  // (UseTestPki): only the malformed value may be wrong.
  const std::vector<std::string> no_pki = {"SUISHIN_TLS_CA=", "SUISHIN_TOKEN_FILE="};
  auto run =
      testing::RunToCompletion({std::string(SUISHIN_BINARY_DIR) + "/services/kpi/kpi-service",
                                "--kpi_listen=nowhere", "--kpi_db=" + dir->File("kpi.db")},
                               no_pki, dir->path(), absl::Seconds(20));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 2);
  EXPECT_NE(run->err.find("--kpi_listen"), std::string::npos) << run->err;
  EXPECT_NE(run->err.find("nowhere"), std::string::npos) << run->err;

  auto env = testing::RunToCompletion(
      {std::string(SUISHIN_BINARY_DIR) + "/services/plan/plan-service"},
      {"SUISHIN_SHUTDOWN_GRACE_MS=soon", "SUISHIN_TLS_CA=", "SUISHIN_TOKEN_FILE="}, dir->path(),
      absl::Seconds(20));
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->exit_code, 2);
  EXPECT_NE(env->err.find("SUISHIN_SHUTDOWN_GRACE_MS"), std::string::npos) << env->err;
}

TEST(SuiteTest, HelpListsTheFlagsEachBinaryAccepts) {
  auto dir = TempDir::Create("suite-help");
  ASSERT_TRUE(dir.ok()) << dir.status();
  // Each binary's own flags (from its main.cc) and the process's (common/).
  for (const auto& [binary, own] : std::vector<std::pair<std::string, std::string>>{
           {"services/plan/plan-service", "--plan_listen"},
           {"services/kpi/kpi-service", "--kpi_listen"},
           {"services/notification/notification-service", "--notification_listen"},
           {"services/gateway/gateway", "--gateway_listen"}}) {
    auto run = testing::RunToCompletion({std::string(SUISHIN_BINARY_DIR) + "/" + binary, "--help"},
                                        {}, dir->path(), absl::Seconds(20));
    ASSERT_TRUE(run.ok()) << binary << ": " << run.status();
    const std::string shown = run->out + run->err;
    EXPECT_EQ(shown.find("No flags matched"), std::string::npos) << binary << ":\n" << shown;
    for (const std::string& flag : {own, std::string("--max_message_bytes"),
                                    std::string("--tls_cert"), std::string("--auth_keys")}) {
      EXPECT_NE(shown.find(flag), std::string::npos) << binary << " --help lacks " << flag;
    }
    // Named by the file that defines them, not by the checkout's path.
    EXPECT_NE(shown.find("Flags from common/limits.cc"), std::string::npos) << shown;
    // Nothing ran: --help only tells.
    EXPECT_NE(run->exit_code, -1);
  }
}

}  // namespace
}  // namespace suishin
