// The follower survives a poisoned KPI: when kpi-service answers with an
// error for one KPI only (an error of its own, a reply too large to send, a
// deadline only that KPI misses), that KPI is set aside with its reason and
// listed in GetStatus, the cursor moves on past its changes, alerts for the
// other KPIs keep flowing, and once the KPI answers again it is evaluated.
// When kpi-service as a whole is down, nothing is set aside and the cursor
// waits.
//
// kpi-service is a stand-in here (FakeKpiService, in this process over real
// gRPC): the real one cannot be made to fail for one KPI on demand.
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
#include "tests/services/notification/notification_server.h"
#include "tests/services/notification/suite_fixture.h"
#include "tests/support/temp_dir.h"

namespace suishin::notification {
namespace {

using testing::AchievedProgress;
using testing::Context;
using testing::Eventually;
using testing::NotificationServer;
using testing::NotificationServerOptions;
using testing::Subscriber;
using testing::TestKpi;

// kpi-service as far as the follower uses it: ListKpis, GetKpi, GetProgress
// (every KPI has reached its target) and WatchChanges, with failures set per
// KPI or for everything.
class FakeKpiService final : public kpi::v1::KpiService::Service {
 public:
  // How GetProgress of a KPI fails.
  struct Poison {
    grpc::Status status;     // answered as is, unless OK
    bool too_large = false;  // a reply larger than any message may be
    absl::Duration delay;    // answered this late (or when cancelled)
  };

  // Adds a KPI and its KPI_CREATED change.
  void AddKpi(const kpi::v1::Kpi& kpi) {
    absl::MutexLock lock(&mu_);
    kpis_[kpi.id()] = kpi;
    AppendLocked(kpi::v1::CHANGE_KIND_KPI_CREATED, kpi.id(), kpi.area_id());
  }
  void RecordActual(const std::string& kpi_id, const std::string& region_id) {
    absl::MutexLock lock(&mu_);
    AppendLocked(kpi::v1::CHANGE_KIND_ACTUAL_RECORDED, kpi_id, region_id);
  }
  void SetPoison(const std::string& kpi_id, std::optional<Poison> poison) {
    absl::MutexLock lock(&mu_);
    if (poison) {
      poisons_[kpi_id] = *poison;
    } else {
      poisons_.erase(kpi_id);
    }
  }
  void SetDown(bool down) {
    absl::MutexLock lock(&mu_);
    down_ = down;
  }
  // The last change's sequence.
  int64_t last_sequence() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int64_t>(changes_.size());
  }
  // Waits until at least `n` calls were refused while down.
  bool WaitForRefusals(int n, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return refused_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

  grpc::Status ListKpis(grpc::ServerContext*, const kpi::v1::ListKpisRequest*,
                        kpi::v1::ListKpisResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (down_) return RefuseLocked();
    for (const auto& [id, kpi] : kpis_) *response->add_kpis() = kpi;
    return grpc::Status::OK;
  }

  grpc::Status GetKpi(grpc::ServerContext*, const kpi::v1::GetKpiRequest* request,
                      kpi::v1::GetKpiResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (down_) return RefuseLocked();
    auto kpi = kpis_.find(request->id());
    if (kpi == kpis_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "id: no such KPI");
    *response->mutable_kpi() = kpi->second;
    return grpc::Status::OK;
  }

  grpc::Status GetProgress(grpc::ServerContext* context, const kpi::v1::GetProgressRequest* request,
                           kpi::v1::GetProgressResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (down_) return RefuseLocked();
    auto kpi = kpis_.find(request->kpi_id());
    if (kpi == kpis_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "kpi_id: no such KPI");
    *response = AchievedProgress(kpi->second, request->region_id());
    auto poison = poisons_.find(request->kpi_id());
    if (poison == poisons_.end()) return grpc::Status::OK;
    if (poison->second.delay > absl::ZeroDuration()) {
      // Late, but no later than the caller cares for.
      const absl::Time until = absl::Now() + poison->second.delay;
      bool never = false;
      while (absl::Now() < until && !context->IsCancelled()) {
        mu_.AwaitWithTimeout(absl::Condition(&never), absl::Milliseconds(10));
      }
    }
    if (poison->second.too_large) {
      // Larger than --max_message_bytes: it cannot be sent.
      response->mutable_points(0)->set_undefined_reason(std::string(5 * 1024 * 1024, 'x'));
    }
    return poison->second.status;
  }

  grpc::Status WatchChanges(grpc::ServerContext* context,
                            const kpi::v1::WatchChangesRequest* request,
                            grpc::ServerWriter<kpi::v1::WatchChangesResponse>* writer) override {
    int64_t next = std::max<int64_t>(request->from_sequence(), 1);
    while (!context->IsCancelled()) {
      std::vector<kpi::v1::Change> batch;
      {
        absl::MutexLock lock(&mu_);
        if (down_) return RefuseLocked();
        auto more = [this, next]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return static_cast<int64_t>(changes_.size()) >= next || down_;
        };
        // Woken by a change; looks at the cancellation now and then.
        mu_.AwaitWithTimeout(absl::Condition(&more), absl::Milliseconds(50));
        for (; next <= static_cast<int64_t>(changes_.size()); ++next) {
          batch.push_back(changes_[next - 1]);
        }
      }
      for (kpi::v1::Change& change : batch) {
        kpi::v1::WatchChangesResponse response;
        *response.mutable_change() = std::move(change);
        if (!writer->Write(response)) return grpc::Status::OK;
      }
    }
    return grpc::Status::OK;
  }

 private:
  void AppendLocked(kpi::v1::ChangeKind kind, const std::string& kpi_id,
                    const std::string& region_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    kpi::v1::Change& change = changes_.emplace_back();
    change.set_sequence(static_cast<int64_t>(changes_.size()));
    change.set_kind(kind);
    change.set_kpi_id(kpi_id);
    change.set_region_id(region_id);
    change.mutable_fiscal_year()->set_year(2018);
  }

  grpc::Status RefuseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++refused_;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "kpi-service is down");
  }

  mutable absl::Mutex mu_;
  std::map<std::string, kpi::v1::Kpi> kpis_ ABSL_GUARDED_BY(mu_);
  std::vector<kpi::v1::Change> changes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Poison> poisons_ ABSL_GUARDED_BY(mu_);
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  int refused_ ABSL_GUARDED_BY(mu_) = 0;
};

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
