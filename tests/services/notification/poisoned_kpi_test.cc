// The follower survives a poisoned KPI: when kpi-service answers with an
// error for one KPI only (an error of its own, a reply too large to send, a
// deadline only that KPI misses), that KPI is set aside with its reason and
// listed in GetStatus, the cursor moves on past its changes, alerts for the
// other KPIs keep flowing, and once the KPI answers again it is evaluated.
// When kpi-service as a whole is down, nothing is set aside and the cursor
// waits.
//
// kpi-service is a stand-in here (fake_kpi_service.h, in this process over
// real gRPC): the real one cannot be made to fail for one KPI on demand.
// notification-service is the in-process NotificationServer with its
// follower, over real gRPC and a real SQLite file.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/server.h"
#include "tests/services/notification/fake_kpi_service.h"
#include "tests/services/notification/notification_server.h"
#include "tests/services/notification/suite_fixture.h"
#include "tests/support/temp_dir.h"

namespace suishin::notification {
namespace {

using testing::Context;
using testing::Eventually;
using testing::FakeKpiService;
using testing::NotificationServer;
using testing::NotificationServerOptions;
using testing::Subscriber;
using testing::TestKpi;

// True once an ACHIEVED event of `kpi_id` has arrived.
std::function<bool(const std::vector<v1::AlertEvent>&)> AchievedOf(const std::string& kpi_id) {
  return [kpi_id](const std::vector<v1::AlertEvent>& events) {
    for (const v1::AlertEvent& event : events) {
      if (event.alert().kpi_id() == kpi_id && event.alert().rule() == v1::RULE_KIND_ACHIEVED &&
          event.kind() == v1::EVENT_KIND_FIRED) {
        return true;
      }
    }
    return false;
  };
}

class PoisonedKpiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = suishin::testing::TempDir::Create("notification-poison");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<suishin::testing::TempDir>(*std::move(dir));
    auto host =
        ServiceHost::Start("127.0.0.1:0", {{kpi::v1::KpiService::service_full_name(), &kpi_}});
    ASSERT_TRUE(host.ok()) << host.status();
    kpi_host_ = *std::move(host);
  }

  void TearDown() override {
    subscriber_.reset();
    server_.reset();
    if (kpi_host_) kpi_host_->Shutdown(absl::Milliseconds(100));
  }

  void StartNotification() {
    NotificationServerOptions options;
    options.kpi_address = kpi_host_->address();
    options.follow.rpc_timeout = absl::Milliseconds(500);
    options.follow.max_reconnect_delay = absl::Milliseconds(200);
    options.follow.set_aside.base_delay = absl::Milliseconds(50);
    options.follow.set_aside.max_delay = absl::Milliseconds(200);
    auto server = NotificationServer::Start(dir_->File("notification.db"), std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
    subscriber_ = std::make_unique<Subscriber>(stub_.get(), 0);
  }

  v1::GetStatusResponse Status() {
    v1::GetStatusResponse status;
    grpc::Status rpc = stub_->GetStatus(Context().get(), {}, &status);
    EXPECT_TRUE(rpc.ok()) << rpc.error_message();
    return status;
  }

  // The set-aside entry of `kpi_id` in `status`, if any.
  static std::optional<v1::SetAsideKpi> SetAside(const v1::GetStatusResponse& status,
                                                 const std::string& kpi_id) {
    for (const v1::SetAsideKpi& kpi : status.set_aside_kpis()) {
      if (kpi.kpi_id() == kpi_id) return kpi;
    }
    return std::nullopt;
  }

  FakeKpiService kpi_;
  std::unique_ptr<ServiceHost> kpi_host_;
  std::unique_ptr<suishin::testing::TempDir> dir_;
  std::unique_ptr<NotificationServer> server_;
  std::unique_ptr<v1::NotificationService::Stub> stub_;
  std::unique_ptr<Subscriber> subscriber_;
};

struct PoisonCase {
  const char* name;
  FakeKpiService::Poison poison;
  // What the set-aside reason says.
  const char* code;
};

class PoisonedKpiCaseTest : public PoisonedKpiTest,
                            public ::testing::WithParamInterface<PoisonCase> {};

TEST_P(PoisonedKpiCaseTest, IsSetAsideWhileTheOthersKeepFlowingAndComesBackWhenItAnswers) {
  const PoisonCase& c = GetParam();
  kpi_.AddKpi(TestKpi("good-1", "r-1"));
  kpi_.AddKpi(TestKpi("bad", "r-1"));
  kpi_.SetPoison("bad", c.poison);
  ASSERT_NO_FATAL_FAILURE(StartNotification());

  // The start's full evaluation: good-1 fires, bad is set aside with its reason.
  ASSERT_TRUE(subscriber_->WaitUntil(AchievedOf("good-1")));
  std::optional<v1::SetAsideKpi> bad;
  ASSERT_TRUE(Eventually([&] { return (bad = SetAside(Status(), "bad")).has_value(); }))
      << Status().DebugString();
  EXPECT_TRUE(absl::StrContains(bad->reason(), "GetProgress r-1")) << bad->reason();
  EXPECT_TRUE(absl::StrContains(bad->reason(), c.code)) << bad->reason();
  EXPECT_GE(bad->failures(), 1);
  EXPECT_TRUE(bad->has_next_attempt_time());

  // Changes go on: one of bad's, then a new KPI. The cursor moves past both,
  // and the new KPI's alert fires.
  kpi_.RecordActual("bad", "r-1");
  kpi_.AddKpi(TestKpi("good-2", "r-2"));
  ASSERT_TRUE(subscriber_->WaitUntil(AchievedOf("good-2")));
  const int64_t next = kpi_.last_sequence() + 1;
  ASSERT_TRUE(Eventually([&] { return Status().cursor() == next; })) << Status().DebugString();
  // Retried with backoff meanwhile, and still set aside.
  ASSERT_TRUE(Eventually([&] {
    std::optional<v1::SetAsideKpi> again = SetAside(Status(), "bad");
    return again && again->failures() >= 2;
  })) << Status().DebugString();
  EXPECT_FALSE(AchievedOf("bad")(subscriber_->events()));

  // It answers again: evaluated, and off the list.
  kpi_.SetPoison("bad", std::nullopt);
  ASSERT_TRUE(subscriber_->WaitUntil(AchievedOf("bad")));
  EXPECT_TRUE(Eventually([&] { return Status().set_aside_kpis().empty(); }))
      << Status().DebugString();
}

INSTANTIATE_TEST_SUITE_P(
    Poisons, PoisonedKpiCaseTest,
    ::testing::Values(
        PoisonCase{"Internal",
                   {grpc::Status(grpc::StatusCode::INTERNAL, "a row of actuals does not parse"),
                    false, absl::ZeroDuration()},
                   "INTERNAL"},
        PoisonCase{"InvalidArgument",
                   {grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "region_id: not tracked"),
                    false, absl::ZeroDuration()},
                   "INVALID_ARGUMENT"},
        PoisonCase{"ReplyTooLarge",
                   {grpc::Status::OK, /*too_large=*/true, absl::ZeroDuration()},
                   "RESOURCE_EXHAUSTED"},
        PoisonCase{"MissesItsDeadline",
                   {grpc::Status::OK, /*too_large=*/false, absl::Seconds(2)},
                   "DEADLINE_EXCEEDED"}),
    [](const ::testing::TestParamInfo<PoisonCase>& info) { return info.param.name; });

TEST_F(PoisonedKpiTest, WhenKpiServiceIsDownNothingIsSetAsideAndTheCursorWaits) {
  kpi_.AddKpi(TestKpi("good-1", "r-1"));
  kpi_.SetDown(true);
  ASSERT_NO_FATAL_FAILURE(StartNotification());
  // The follower keeps trying...
  ASSERT_TRUE(kpi_.WaitForRefusals(6, absl::Seconds(20)));
  // ...and sets nothing aside, and records nothing.
  v1::GetStatusResponse status = Status();
  EXPECT_TRUE(status.set_aside_kpis().empty()) << status.DebugString();
  EXPECT_EQ(status.cursor(), 1);
  EXPECT_TRUE(subscriber_->events().empty());

  kpi_.SetDown(false);
  ASSERT_TRUE(subscriber_->WaitUntil(AchievedOf("good-1")));
  EXPECT_TRUE(Eventually([&] { return Status().cursor() == kpi_.last_sequence() + 1; }))
      << Status().DebugString();
  EXPECT_TRUE(Status().set_aside_kpis().empty());
}

}  // namespace
}  // namespace suishin::notification
