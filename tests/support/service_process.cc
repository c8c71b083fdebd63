#include "tests/support/service_process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/postgres.h"
#include "tests/support/test_store.h"

namespace suishin::testing {

const std::string kSuishinctlBinary = SUISHIN_BINARY_DIR "/tools/suishinctl/suishinctl";
const std::string kPlanServiceBinary = SUISHIN_BINARY_DIR "/services/plan/plan-service";
const std::string kKpiServiceBinary = SUISHIN_BINARY_DIR "/services/kpi/kpi-service";
const std::string kNotificationServiceBinary =
    SUISHIN_BINARY_DIR "/services/notification/notification-service";

absl::StatusOr<ServiceProcess> ServiceProcess::Start(const TempDir& dir, const std::string& name,
                                                     std::vector<std::string> argv,
                                                     absl::Duration timeout) {
  const std::string port_file = dir.File(name + ".port");
  const std::string log = dir.File(name + ".log");
  argv.push_back("--port_file=" + port_file);
  if (PostgresPass()) {
    // Each store file named becomes the schema standing for it; the files a
    // service keeps beside its store stay in the test's folder.
    bool audit = false, key = false, notification = false;
    std::vector<std::string> beside;
    for (std::string& arg : argv) {
      audit = audit || absl::StartsWith(arg, "--audit_db=");
      key = key || absl::StartsWith(arg, "--webhook_secret_key_file=");
      for (absl::string_view flag : {"--plan_db=", "--kpi_db=", "--notification_db="}) {
        if (!absl::StartsWith(arg, flag) || IsPostgresUrl(arg.substr(flag.size()))) continue;
        const std::string path = arg.substr(flag.size());
        absl::StatusOr<std::string> url = StoreFor(path);
        if (!url.ok()) return url.status();
        arg = absl::StrCat(flag, *url);
        beside.push_back(path);
        notification = notification || flag == "--notification_db=";
      }
    }
    if (!beside.empty() && !audit) argv.push_back("--audit_db=" + beside[0] + ".audit");
    if (notification && !key) {
      argv.push_back("--webhook_secret_key_file=" + beside.back() + ".secret-key");
    }
  }
  // With TLS, as an installation runs (unless the test set TLS flags itself).
  const bool own_tls = std::any_of(argv.begin(), argv.end(), [](const std::string& arg) {
    return absl::StartsWith(arg, "--tls_");
  });
  if (!own_tls) {
    absl::StatusOr<TestPki> pki = UseTestPki(dir);
    if (!pki.ok()) return pki.status();
    for (const std::string& flag : pki->Flags()) argv.push_back(flag);
  }
  absl::StatusOr<ChildProcess> child = ChildProcess::Start(argv, {}, log, log);
  if (!child.ok()) return child.status();
  ServiceProcess service(*std::move(child), name, log);
  absl::StatusOr<std::string> port = service.child_.WaitForFile(port_file, timeout);
  if (!port.ok()) {
    return absl::Status(port.status().code(),
                        absl::StrCat(name, ": ", port.status().message(), "\n", service.Log()));
  }
  int number = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*port), &number)) {
    return absl::InternalError(absl::StrCat(name, ": port file holds \"", *port, "\""));
  }
  service.address_ = absl::StrCat("127.0.0.1:", number);
  return service;
}

std::string ServiceProcess::Log() const {
  absl::StatusOr<std::string> log = ReadWholeFile(log_path_);
  return log.ok() ? *log : std::string(log.status().message());
}

absl::Status ServiceProcess::Stop(absl::Duration timeout) {
  if (!child_.running()) return absl::OkStatus();
  absl::StatusOr<int> status = child_.Terminate(timeout);
  if (!status.ok()) {
    return absl::Status(status.status().code(),
                        absl::StrCat(name_, ": ", status.status().message(), "\n", Log()));
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(absl::StrCat(name_, ": wait status ", *status, "\n", Log()));
  }
  return absl::OkStatus();
}

absl::StatusOr<TestPki> UseTestPki(const TempDir& dir) {
  absl::StatusOr<TestPki> pki = TestPki::Make(dir.File("pki"));
  if (!pki.ok()) return pki.status();
  SetProcessTls(pki->Tls());
  setenv("SUISHIN_TLS_CA", pki->ca_file.c_str(), /*overwrite=*/1);
  // This process and the suishinctl it runs call as a person would, with a
  // token (12 hours, every role).
  const std::string token =
      pki->Token("suishinctl-test", {"viewer", "officer", "planner", "operator"}, {"hokkaido"},
                 absl::Hours(12));
  SetProcessToken(token);
  const std::string token_file = pki->dir + "/test.token";
  {
    std::ofstream out(token_file);
    out << token << "\n";
  }
  setenv("SUISHIN_TOKEN_FILE", token_file.c_str(), /*overwrite=*/1);
  return pki;
}

void StartService(const TempDir& dir, const std::string& name, std::vector<std::string> argv,
                  std::optional<ServiceProcess>* service) {
  absl::StatusOr<ServiceProcess> started = ServiceProcess::Start(dir, name, std::move(argv));
  ASSERT_TRUE(started.ok()) << started.status();
  service->emplace(*std::move(started));
}

void StartPlanService(const TempDir& dir, const std::string& name,
                      std::optional<ServiceProcess>* service) {
  StartService(
      dir, name,
      {kPlanServiceBinary, "--plan_listen=127.0.0.1:0", "--plan_db=" + dir.File(name + ".db")},
      service);
}

void StartKpiService(const TempDir& dir, const std::string& name, const std::string& plan_address,
                     std::optional<ServiceProcess>* service) {
  StartService(dir, name,
               {kKpiServiceBinary, "--kpi_listen=127.0.0.1:0", "--kpi_db=" + dir.File(name + ".db"),
                "--plan_address=" + plan_address, "--redis_url="},
               service);
}

void StopService(std::optional<ServiceProcess>* service) {
  if (!*service) return;
  const absl::Status status = (*service)->Stop();
  EXPECT_TRUE(status.ok()) << status;
}

std::vector<std::string> SuishinctlArgv(std::vector<std::string> args,
                                        const std::string& plan_address,
                                        const std::string& kpi_address,
                                        const std::string& notification_address) {
  args.insert(args.begin(), kSuishinctlBinary);
  args.push_back("--plan_address=" + plan_address);
  args.push_back("--kpi_address=" + kpi_address);
  if (!notification_address.empty()) {
    args.push_back("--notification_address=" + notification_address);
  }
  return args;
}

RunResult RunSuishinctl(const std::vector<std::string>& argv,
                        const std::vector<std::string>& env_overrides,
                        const std::string& scratch_dir) {
  absl::StatusOr<RunResult> result =
      RunToCompletion(argv, env_overrides, scratch_dir, kSuishinctlRunTimeout);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : RunResult{};
}

}  // namespace suishin::testing
