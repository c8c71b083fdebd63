// Replicas that stay coherent, with real processes: one PostgreSQL, one
// Redis, plan-service and two kpi-service replicas on the same database.
// A write through replica A is seen by a read through replica B that starts
// after it returned; a WatchChanges stream held on B sees A's writes, in
// order, none missing; a client balancing over both reaches both.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/channel.h"
#include "google/protobuf/util/message_differencer.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "tests/support/redis_server.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace suishin::kpi {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::suishin::testing::RedisServer;
using ::suishin::testing::ServiceProcess;
using ::suishin::testing::TempDir;

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("replicas");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_.emplace(*std::move(dir));
    absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    absl::StatusOr<std::string> database = ::suishin::testing::NewPostgresStore();
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
    ASSERT_NO_FATAL_FAILURE(::suishin::testing::StartPlanService(*dir_, "plan", &plan_));
    for (const char* name : {"kpi-a", "kpi-b"}) {
      std::optional<ServiceProcess> replica;
      ASSERT_NO_FATAL_FAILURE(::suishin::testing::StartService(
          *dir_, name,
          {::suishin::testing::kKpiServiceBinary, "--kpi_listen=127.0.0.1:0",
           "--kpi_db=" + database_, "--audit_db=" + dir_->File(absl::StrCat(name, ".audit")),
           "--plan_address=" + plan_->address(), "--redis_url=" + redis_->url(),
           // The polling fallback well under the test's waits; NOTIFY is sooner.
           "--replica_poll_ms=200"},
          &replica));
      replicas_.push_back(std::move(*replica));
    }
    a_ = v1::KpiService::NewStub(MakeChannel(replicas_[0].address()));
    b_ = v1::KpiService::NewStub(MakeChannel(replicas_[1].address()));
    // The seed dataset, through replica A.
    ::suishin::testing::RunResult run = ::suishin::testing::RunSuishinctl(
        ::suishin::testing::SuishinctlArgv(
            {"import", SUISHIN_SOURCE_DIR "/data/seed/dohoku-2019.json"}, plan_->address(),
            replicas_[0].address()),
        {}, dir_->path());
    ASSERT_EQ(run.exit_code, 0) << run.err << replicas_[0].Log();
  }

  void TearDown() override {
    for (ServiceProcess& replica : replicas_) EXPECT_TRUE(replica.Stop().ok()) << replica.Log();
    ::suishin::testing::StopService(&plan_);
  }

  // Records 宗谷's 認定こども園 figure for `year` through `stub`: its sequence.
  int64_t Record(v1::KpiService::Stub& stub, int year, double value) {
    v1::RecordActualRequest request;
    v1::Actual* actual = request.mutable_actual();
    actual->set_kpi_id("kodomoen");
    actual->set_region_id("soya");
    actual->mutable_fiscal_year()->set_year(year);
    actual->set_value(value);
    actual->set_reported_by("宗谷総合振興局");
    v1::RecordActualResponse response;
    grpc::Status status = stub.RecordActual(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.sequence();
  }

  v1::GetAggregateResponse Aggregate(v1::KpiService::Stub& stub, int year) {
    v1::GetAggregateRequest request;
    request.set_kpi_id("kodomoen");
    request.set_area_id("dohoku");
    request.mutable_fiscal_year()->set_year(year);
    v1::GetAggregateResponse response;
    grpc::Status status = stub.GetAggregate(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  v1::GetProgressResponse Progress(v1::KpiService::Stub& stub) {
    v1::GetProgressRequest request;
    request.set_kpi_id("kodomoen");
    request.set_region_id("soya");
    v1::GetProgressResponse response;
    grpc::Status status = stub.GetProgress(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::optional<TempDir> dir_;
  std::unique_ptr<RedisServer> redis_;
  std::string database_;
  std::optional<ServiceProcess> plan_;
  std::vector<ServiceProcess> replicas_;
  std::unique_ptr<v1::KpiService::Stub> a_;
  std::unique_ptr<v1::KpiService::Stub> b_;
};

// Each write answers on one replica; the read that follows, on the other,
// must already show it: the aggregate over 道北 and 宗谷's progress are what
// the writing replica answers, and not what either answered before.
TEST_F(ReplicasTest, AReadOnOneReplicaAfterAWriteOnTheOtherShowsTheNewFigure) {
  // Both replicas have served (and cached) the figures before the writes.
  v1::GetAggregateResponse before = Aggregate(*b_, 2019);
  ASSERT_TRUE(MessageDifferencer::Equals(before, Aggregate(*a_, 2019)));
  for (int i = 0; i < 12; ++i) {
    v1::KpiService::Stub& writer = i % 2 == 0 ? *a_ : *b_;
    v1::KpiService::Stub& reader = i % 2 == 0 ? *b_ : *a_;
    ASSERT_GT(Record(writer, 2019, 40 + i), 0);
    const v1::GetAggregateResponse read = Aggregate(reader, 2019);
    EXPECT_FALSE(MessageDifferencer::Equals(read, before)) << "write " << i << " not seen";
    EXPECT_TRUE(MessageDifferencer::Equals(read, Aggregate(writer, 2019)))
        << "write " << i << ": " << read.ShortDebugString();
    EXPECT_TRUE(MessageDifferencer::Equals(Progress(reader), Progress(writer))) << "write " << i;
    before = read;
  }
}

// A stream held on B from the start: every change, A's and B's, in
// sequence order, none missing, and it goes on as A writes.
TEST_F(ReplicasTest, AStreamOnOneReplicaSeesTheOthersWritesInOrderNoneMissing) {
  absl::Mutex mu;
  std::vector<int64_t> seen;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::WatchChangesRequest request;
  request.set_from_sequence(1);
  std::unique_ptr<grpc::ClientReader<v1::WatchChangesResponse>> reader =
      b_->WatchChanges(&context, request);
  std::thread reading([&] {
    v1::WatchChangesResponse response;
    while (reader->Read(&response)) {
      absl::MutexLock lock(&mu);
      seen.push_back(response.change().sequence());
    }
  });
  int64_t last = 0;
  for (int i = 0; i < 30; ++i) last = Record(*a_, 2015 + i % 5, i);
  ASSERT_GT(last, 30);
  // Woken by A's commits (NOTIFY, or the poll), not by any read on B.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    {
      absl::MutexLock lock(&mu);
      if (!seen.empty() && seen.back() >= last) break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  {
    absl::MutexLock lock(&mu);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back(), last);
    for (size_t i = 0; i < seen.size(); ++i) {
      ASSERT_EQ(seen[i], static_cast<int64_t>(i + 1)) << "a change missing or out of order";
    }
  }
  context.TryCancel();
  reading.join();
}

// One channel over both replicas (as over a headless Service's pods):
// round-robin, and its reads go on when one replica stops, retried on the
// other.
TEST_F(ReplicasTest, AClientBalancesOverBothReplicasAndItsReadsOutliveOne) {
  std::shared_ptr<grpc::Channel> both =
      MakeChannel(absl::StrCat("ipv4:", replicas_[0].address(), ",", replicas_[1].address()));
  std::unique_ptr<v1::KpiService::Stub> stub = v1::KpiService::NewStub(both);
  for (int i = 0; i < 10; ++i) {
    v1::GetKpiRequest request;
    request.set_id("kodomoen");
    v1::GetKpiResponse response;
    grpc::Status status = stub->GetKpi(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(both->GetLoadBalancingPolicyName(), "round_robin");
  ASSERT_TRUE(replicas_[0].Stop().ok()) << replicas_[0].Log();
  for (int i = 0; i < 20; ++i) {
    v1::GetProgressResponse progress = Progress(*stub);
    EXPECT_GT(progress.points_size(), 0) << "read " << i << " after replica A stopped";
  }
}

}  // namespace
}  // namespace suishin::kpi
