// The whole suite as real processes for acceptance tests, in the style of
// Alertmanager's: a real redis-server, the plan-service, kpi-service and
// notification-service binaries on free loopback ports with their own SQLite
// files in a temporary folder, and stubs to drive them. notification-service
// can be killed (SIGKILL) and restarted on the same files.
#ifndef SUISHIN_TESTS_SERVICES_NOTIFICATION_SUITE_FIXTURE_H_
#define SUISHIN_TESTS_SERVICES_NOTIFICATION_SUITE_FIXTURE_H_

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "suishin/notification/v1/notification.grpc.pb.h"
#include "suishin/plan/v1/plan.grpc.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace suishin::notification::testing {

// A deadline 10 s away.
std::unique_ptr<grpc::ClientContext> Context();

// An alert as people name it: rule, KPI, region, severity ("LAGGING",
// "jishu-bousai", "soya", "CRITICAL").
using AlertKey = std::tuple<std::string, std::string, std::string, std::string>;
AlertKey KeyOf(const v1::Alert& alert);
// DESIGN.md §2: the seventeen alerts the seed gives with the fixture's clock.
std::set<AlertKey> SeedAlertKeys();

// Polls `condition` every 10 ms until it holds (true) or `timeout` passes
// (false). Only for states no stream or receiver announces (a row in
// ListDeadLetters, a Redis-backed listing); wait on the event where there is one.
bool Eventually(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(20));

// Records (or corrects) one actual through kpi-service; its change's
// sequence in `sequence` when given.
grpc::Status RecordActual(kpi::v1::KpiService::Stub* stub, const std::string& kpi_id,
                          const std::string& region_id, int fiscal_year, double value,
                          int64_t* sequence = nullptr);

// Reads a Subscribe stream on its own thread and keeps every event.
class Subscriber {
 public:
  Subscriber(v1::NotificationService::Stub* stub, int64_t after_event_id,
             v1::AlertFilter filter = {});
  ~Subscriber();
  // Waits until at least `n` events arrived; false after `timeout`.
  bool WaitFor(size_t n, absl::Duration timeout = absl::Seconds(20));
  // Waits until `done` holds for the events received so far (it is called
  // under the subscriber's lock, so it must not call back into it); false
  // after `timeout`.
  bool WaitUntil(std::function<bool(const std::vector<v1::AlertEvent>&)> done,
                 absl::Duration timeout = absl::Seconds(20));
  // Waits until the stream has ended (cancelled, or the server went away);
  // false after `timeout`.
  bool WaitForEnd(absl::Duration timeout = absl::Seconds(20));
  std::vector<v1::AlertEvent> events() const;
  // Cancels the stream and joins the thread.
  void Stop();

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderInterface<v1::SubscribeResponse>> stream_;
  mutable absl::Mutex mu_;
  std::vector<v1::AlertEvent> events_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class SuiteTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Flags every notification-service start gets, on top of the defaults the
  // fixture sets (ports, files, Redis, --now, short retry and circuit
  // delays).
  std::vector<std::string> notification_flags_;
  // Flags every kpi-service start gets (set before SetUp for the first).
  std::vector<std::string> kpi_flags_;

  // Starts notification-service (again) on its files.
  void StartNotification();
  // Starts one more notification-service with the same flags (a replica,
  // when notification_flags_ name a PostgreSQL store) into `slot`: its
  // address; its log's path in `log`.
  std::string StartNotificationInto(std::optional<suishin::testing::ChildProcess>& slot,
                                    std::string* log = nullptr);
  // SIGKILL: no shutdown, no flush; what it acknowledged must survive.
  void KillNotification();
  void StartKpi();
  // Starts one more kpi-service with the same flags (a replica, when
  // kpi_flags_ name a PostgreSQL store) into `slot`: its address.
  std::string StartKpiInto(std::optional<suishin::testing::ChildProcess>& slot);
  void StopKpi();
  // The seed's plan and KPI data through the API.
  void LoadSeed();
  // The alerts ListAlerts returns now (firing only unless asked).
  std::vector<v1::Alert> Alerts(bool include_resolved = false);

  std::unique_ptr<suishin::testing::TempDir> dir_;
  // The suite's CA and service certificate (every binary gets them).
  suishin::testing::TestPki pki_;
  std::unique_ptr<suishin::testing::RedisServer> redis_;
  std::optional<suishin::testing::ChildProcess> plan_;
  std::optional<suishin::testing::ChildProcess> kpi_;
  std::optional<suishin::testing::ChildProcess> notification_;
  std::string plan_address_;
  std::string kpi_address_;
  std::string notification_address_;
  std::unique_ptr<plan::v1::PlanService::Stub> plan_stub_;
  std::unique_ptr<kpi::v1::KpiService::Stub> kpi_stub_;
  std::unique_ptr<v1::NotificationService::Stub> notification_stub_;
  dataset::v1::Dataset seed_;
  int starts_ = 0;

 private:
  // Starts a binary with a port file and returns host:port; its log's path
  // in `log` when given.
  std::string StartBinary(std::optional<suishin::testing::ChildProcess>& slot,
                          const std::string& name, std::vector<std::string> argv,
                          std::string* log = nullptr);
};

}  // namespace suishin::notification::testing

#endif  // SUISHIN_TESTS_SERVICES_NOTIFICATION_SUITE_FIXTURE_H_
