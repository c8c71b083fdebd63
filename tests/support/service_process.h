// The real service binaries (plan-service, kpi-service, notification-service)
// as child processes of an end-to-end test, and the real suishinctl run
// against them.
//
// A service is started with --port_file=<dir>/<name>.port (so it can listen
// on port 0), logging to <dir>/<name>.log; Start waits, with a bound, for the
// port file and gives the address "127.0.0.1:<port>". Stop sends SIGTERM and
// is OK only when the service exits with status 0.
//
// Example:
//   std::optional<ServiceProcess> plan, kpi;
//   ASSERT_NO_FATAL_FAILURE(StartPlanService(*dir, "plan", &plan));
//   ASSERT_NO_FATAL_FAILURE(StartKpiService(*dir, "kpi", plan->address(), &kpi));
//   RunResult run = RunSuishinctl(
//       SuishinctlArgv({"import", seed}, plan->address(), kpi->address()), {}, dir->path());
//   EXPECT_EQ(run.exit_code, 0) << run.err << kpi->Log();
//   StopService(&kpi);  // EXPECTs a clean exit.
//   StopService(&plan);
//
// Not thread-safe; a ServiceProcess is move-only.
#ifndef SUISHIN_TESTS_SUPPORT_SERVICE_PROCESS_H_
#define SUISHIN_TESTS_SUPPORT_SERVICE_PROCESS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace suishin::testing {

// How long a service may take to write its port file, a suishinctl run may
// take, and a service may take to exit after SIGTERM.
inline constexpr absl::Duration kServiceStartTimeout = absl::Seconds(20);
inline constexpr absl::Duration kSuishinctlRunTimeout = absl::Seconds(30);
inline constexpr absl::Duration kServiceStopTimeout = absl::Seconds(10);

// The binaries of this build.
extern const std::string kSuishinctlBinary;
extern const std::string kPlanServiceBinary;
extern const std::string kKpiServiceBinary;
extern const std::string kNotificationServiceBinary;

// The certificates and token key of the services started in `dir` (made in
// <dir>/pki once), and this process made their client: its channels
// (MakeChannel) trust their CA and present the service certificate, and
// every suishinctl it runs trusts the CA (SUISHIN_TLS_CA) and sends a token
// of every role (SUISHIN_TOKEN_FILE).
absl::StatusOr<TestPki> UseTestPki(const TempDir& dir);

class ServiceProcess {
 public:
  // Starts `argv` plus --port_file=<dir>/<name>.port, its standard output
  // and error appended to <dir>/<name>.log, and waits up to `timeout` for the
  // port. On failure (the child is killed) the status carries the log. The
  // service runs with TLS (UseTestPki(dir)) unless `argv` has --tls_ flags.
  static absl::StatusOr<ServiceProcess> Start(const TempDir& dir, const std::string& name,
                                              std::vector<std::string> argv,
                                              absl::Duration timeout = kServiceStartTimeout);

  ServiceProcess(ServiceProcess&&) = default;
  ServiceProcess& operator=(ServiceProcess&&) = default;

  const std::string& name() const { return name_; }
  // "127.0.0.1:<port>".
  const std::string& address() const { return address_; }
  bool running() const { return child_.running(); }
  // What the service has written to its log so far (or why it cannot be read).
  std::string Log() const;

  // SIGTERM, then waits up to `timeout`. OK when the service exited with
  // status 0 or was not running; otherwise the wait status (or the timeout)
  // and the log.
  absl::Status Stop(absl::Duration timeout = kServiceStopTimeout);

 private:
  ServiceProcess(ChildProcess child, std::string name, std::string log_path)
      : child_(std::move(child)), name_(std::move(name)), log_path_(std::move(log_path)) {}

  ChildProcess child_;
  std::string name_;
  std::string log_path_;
  std::string address_;
};

// ServiceProcess::Start into `service`, or a fatal failure (ASSERT) naming why.
void StartService(const TempDir& dir, const std::string& name, std::vector<std::string> argv,
                  std::optional<ServiceProcess>* service);

// plan-service on port 0 with its database at <dir>/<name>.db, through
// StartService.
void StartPlanService(const TempDir& dir, const std::string& name,
                      std::optional<ServiceProcess>* service);

// kpi-service on port 0 with its database at <dir>/<name>.db, following the
// plan-service at `plan_address`, without Redis; through StartService.
void StartKpiService(const TempDir& dir, const std::string& name, const std::string& plan_address,
                     std::optional<ServiceProcess>* service);

// Stops `service` if it holds one that is running, and EXPECTs a clean exit.
void StopService(std::optional<ServiceProcess>* service);

// kSuishinctlBinary, `args`, then --plan_address, --kpi_address and (when
// not empty) --notification_address.
std::vector<std::string> SuishinctlArgv(std::vector<std::string> args,
                                        const std::string& plan_address,
                                        const std::string& kpi_address,
                                        const std::string& notification_address = "");

// Runs `argv` to completion (see RunToCompletion) within kSuishinctlRunTimeout;
// EXPECTs that it could be run, and returns an empty RunResult when not.
RunResult RunSuishinctl(const std::vector<std::string>& argv,
                        const std::vector<std::string>& env_overrides,
                        const std::string& scratch_dir);

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_SERVICE_PROCESS_H_
