// kpi-service's change log, imports and cache over real gRPC, with the seed
// loaded, a real Redis and a real plan-service: WatchChanges replays and
// follows the log and resumes across a restart; ImportActuals is all or
// nothing with an error per bad row; Redis going away and coming back never
// changes an answer; concurrent writers always read their own writes; and
// the cache, on or off, gives the same figures.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/redis_client.h"
#include "exchange/dataset_rows.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/services/kpi/kpi_fixture.h"

namespace suishin::kpi {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using testing::ActualRequest;
using testing::Context;
using testing::KpiTest;
using testing::Row;

// How long any wait for an event may take before the test fails.
constexpr absl::Duration kWaitBound = absl::Seconds(10);

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A WatchChanges stream read on its own thread: what has arrived so far, and
// a bounded wait for more.
class Watcher {
 public:
  Watcher(v1::KpiService::Stub& stub, int64_t from_sequence, const std::string& kpi_id = "",
          bool with_figures = false) {
    v1::WatchChangesRequest request;
    request.set_from_sequence(from_sequence);
    request.set_kpi_id(kpi_id);
    request.set_with_figures(with_figures);
    // Bounds the whole stream, so a hung server cannot hang the test.
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    reader_ = stub.WatchChanges(&context_, request);
    thread_ = std::thread([this] { Read(); });
  }
  ~Watcher() { Cancel(); }

  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Waits up to kWaitBound until `count` changes have arrived (or the stream
  // ended) and returns every change received so far.
  std::vector<v1::Change> WaitFor(size_t count) {
    absl::MutexLock lock(&mu_);
    wanted_ = count;
    mu_.AwaitWithTimeout(absl::Condition(this, &Watcher::EnoughOrEnded), kWaitBound);
    return changes_;
  }

  // Cancels the stream, waits for the reader thread, and returns how the
  // stream ended.
  grpc::Status Cancel() {
    context_.TryCancel();
    if (thread_.joinable()) thread_.join();
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  bool EnoughOrEnded() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return changes_.size() >= wanted_ || ended_;
  }

  void Read() {
    v1::WatchChangesResponse response;
    while (reader_->Read(&response)) {
      absl::MutexLock lock(&mu_);
      changes_.push_back(response.change());
    }
    grpc::Status status = reader_->Finish();
    absl::MutexLock lock(&mu_);
    ended_ = true;
    status_ = std::move(status);
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::WatchChangesResponse>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<v1::Change> changes_ ABSL_GUARDED_BY(mu_);
  size_t wanted_ ABSL_GUARDED_BY(mu_) = 0;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// What one GetProgress or GetAggregate call answered.
struct Answer {
  grpc::Status status;
  std::unique_ptr<google::protobuf::Message> response;
};

class KpiStreamTest : public KpiTest {
 protected:
  void SetUp() override {
    KpiTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(LoadSeedKpis());
  }

  // How many changes LoadSeedKpis made: a creation and one per row.
  int64_t SeedChanges() const {
    int64_t count = 0;
    for (const v1::KpiRecord& record : seed_.kpi().kpis()) {
      count += 1 + static_cast<int64_t>(exchange::RowsOf(record).size());
    }
    return count;
  }

  // Records an actual and returns its change-log sequence (0 on failure).
  int64_t Record(const std::string& kpi, const std::string& region, int year, double value) {
    v1::RecordActualResponse response;
    grpc::Status status =
        stub_->RecordActual(Context().get(), ActualRequest(kpi, region, year, value), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_GT(response.sequence(), 0) << kpi << " " << region << " " << year << " " << value;
    return response.sequence();
  }

  std::vector<v1::Change> History(const std::string& kpi) {
    v1::GetHistoryRequest request;
    request.set_kpi_id(kpi);
    v1::GetHistoryResponse response;
    grpc::Status status = stub_->GetHistory(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.changes().begin(), response.changes().end()};
  }

  v1::GetProgressResponse Progress(const std::string& kpi, const std::string& region, int as_of) {
    v1::GetProgressRequest request;
    request.set_kpi_id(kpi);
    request.set_region_id(region);
    request.mutable_as_of()->set_year(as_of);
    v1::GetProgressResponse response;
    grpc::Status status = stub_->GetProgress(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  v1::Aggregate AggregateOf(const std::string& kpi, int year) {
    v1::GetAggregateRequest request;
    request.set_kpi_id(kpi);
    request.set_area_id("dohoku");
    request.mutable_fiscal_year()->set_year(year);
    v1::GetAggregateResponse response;
    grpc::Status status = stub_->GetAggregate(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.aggregate();
  }

  // Sends `batches` as one ImportActuals stream, a message per batch.
  grpc::Status Import(const std::vector<std::vector<v1::ImportRow>>& batches,
                      v1::ImportActualsResponse* response) {
    auto context = Context();
    auto writer = stub_->ImportActuals(context.get(), response);
    for (const std::vector<v1::ImportRow>& batch : batches) {
      v1::ImportActualsRequest request;
      for (const v1::ImportRow& row : batch) *request.add_rows() = row;
      EXPECT_TRUE(writer->Write(request));
    }
    EXPECT_TRUE(writer->WritesDone());
    return writer->Finish();
  }
};

// ---- WatchChanges ----

TEST_F(KpiStreamTest, WatchChangesReplaysTheWholeLogThenFollowsLiveChanges) {
  const int64_t seeded = SeedChanges();
  Watcher watcher(*stub_, 1);
  const std::vector<v1::Change> backlog = watcher.WaitFor(seeded);
  ASSERT_EQ(static_cast<int64_t>(backlog.size()), seeded);
  for (size_t i = 0; i < backlog.size(); ++i) {
    ASSERT_EQ(backlog[i].sequence(), static_cast<int64_t>(i) + 1) << "a gap or a repeat";
  }
  EXPECT_EQ(backlog.front().kind(), v1::CHANGE_KIND_KPI_CREATED);
  EXPECT_EQ(backlog.front().kpi_id(), "kodomoen");

  // The replay is the log itself: every change GetHistory knows, the same.
  std::vector<v1::Change> logged = History("kodomoen");
  for (v1::Change& change : History("jishu-bousai")) logged.push_back(std::move(change));
  ASSERT_EQ(logged.size(), backlog.size());
  for (const v1::Change& change : logged) {
    const v1::Change& replayed = backlog[change.sequence() - 1];
    EXPECT_TRUE(MessageDifferencer::Equals(change, replayed))
        << change.ShortDebugString() << "\nvs\n"
        << replayed.ShortDebugString();
  }

  // A change made while the stream is open arrives on it.
  const int64_t sequence = Record("kodomoen", "soya", 2019, 4);
  EXPECT_EQ(sequence, seeded + 1);
  const std::vector<v1::Change> all = watcher.WaitFor(seeded + 1);
  ASSERT_EQ(static_cast<int64_t>(all.size()), seeded + 1);
  const v1::Change& live = all.back();
  EXPECT_EQ(live.sequence(), sequence);
  EXPECT_EQ(live.kind(), v1::CHANGE_KIND_ACTUAL_RECORDED);
  EXPECT_EQ(live.kpi_id(), "kodomoen");
  EXPECT_EQ(live.region_id(), "soya");
  EXPECT_EQ(live.fiscal_year().year(), 2019);
  EXPECT_FALSE(live.has_old_value());
  EXPECT_EQ(live.new_value(), 4);
  EXPECT_EQ(live.author(), "テスト振興局");

  // And a correction after it, in order.
  EXPECT_EQ(Record("kodomoen", "soya", 2019, 5), seeded + 2);
  const std::vector<v1::Change> more = watcher.WaitFor(seeded + 2);
  ASSERT_EQ(static_cast<int64_t>(more.size()), seeded + 2);
  EXPECT_EQ(more.back().kind(), v1::CHANGE_KIND_ACTUAL_CORRECTED);
  EXPECT_EQ(more.back().old_value(), 4);
  EXPECT_EQ(more.back().new_value(), 5);
  EXPECT_EQ(watcher.Cancel().error_code(), grpc::StatusCode::CANCELLED);
}

// The point of `year` in a GetProgress answer (fails when there is none).
v1::ProgressPoint PointIn(const v1::GetProgressResponse& progress, int year) {
  for (const v1::ProgressPoint& point : progress.points()) {
    if (point.fiscal_year().year() == year) return point;
  }
  ADD_FAILURE() << "no point for " << year << " in " << progress.ShortDebugString();
  return v1::ProgressPoint();
}

TEST_F(KpiStreamTest, WithFiguresAnActualsChangeCarriesTheNewPointsOfItsRegionAndArea) {
  const int64_t seeded = SeedChanges();
  // 宗谷 is then the one missing in R元.
  Record("kodomoen", "kamikawa", 2019, 40);
  Record("kodomoen", "rumoi", 2019, 4);
  Watcher plain(*stub_, seeded + 3);
  Watcher figures(*stub_, seeded + 3, "", /*with_figures=*/true);
  // 認定こども園設置数 is a SUM: 宗谷's figure makes 道北's. 自主防災組織率 is
  // REPORTED: 留萌's figure is its own only.
  const int64_t summed = Record("kodomoen", "soya", 2019, 4);
  const int64_t reported = Record("jishu-bousai", "rumoi", 2019, 40.1);
  const std::vector<v1::Change> with = figures.WaitFor(2);
  const std::vector<v1::Change> without = plain.WaitFor(2);
  ASSERT_EQ(with.size(), 2u);
  ASSERT_EQ(without.size(), 2u);
  for (const v1::Change& change : without) {
    EXPECT_TRUE(change.figures().empty()) << "not asked for: " << change.ShortDebugString();
    EXPECT_EQ(change.figures_generation(), 0);
  }

  // Each figure is what GetProgress answers for that year, at that generation.
  ASSERT_EQ(with[0].sequence(), summed);
  ASSERT_EQ(with[0].figures_size(), 2) << with[0].ShortDebugString();
  EXPECT_EQ(with[0].figures(0).region_id(), "soya");
  EXPECT_EQ(with[0].figures(1).region_id(), "dohoku");
  for (const v1::RegionPoint& figure : with[0].figures()) {
    const v1::GetProgressResponse progress = Progress("kodomoen", figure.region_id(), 2019);
    EXPECT_TRUE(MessageDifferencer::Equals(figure.point(), PointIn(progress, 2019)))
        << figure.ShortDebugString();
    EXPECT_EQ(with[0].figures_generation(), progress.generation());
  }
  EXPECT_EQ(with[0].figures_generation(), summed);
  EXPECT_EQ(with[0].figures(0).point().value(), 4);
  EXPECT_EQ(with[0].figures(1).point().value(), 40 + 4 + 4) << "道北 R元: 上川 + 留萌 + 宗谷";

  ASSERT_EQ(with[1].sequence(), reported);
  ASSERT_EQ(with[1].figures_size(), 1) << with[1].ShortDebugString();
  EXPECT_EQ(with[1].figures(0).region_id(), "rumoi");
  EXPECT_TRUE(MessageDifferencer::Equals(with[1].figures(0).point(),
                                         PointIn(Progress("jishu-bousai", "rumoi", 2019), 2019)));
  EXPECT_EQ(with[1].figures_generation(), reported);
}

TEST_F(KpiStreamTest, AnActualsChangeBeforeANewTargetComesWithoutFigures) {
  const int64_t before = Record("kodomoen", "soya", 2019, 4);
  v1::ReviseTargetRequest revise;
  revise.set_kpi_id("kodomoen");
  revise.set_region_id("soya");
  revise.mutable_fiscal_year()->set_year(2019);
  revise.set_value(8);
  revise.set_author("テスト");
  revise.set_reason("見直し");
  v1::ReviseTargetResponse revised;
  ASSERT_TRUE(stub_->ReviseTarget(Context().get(), revise, &revised).ok());
  const int64_t after = Record("kodomoen", "soya", 2019, 5);

  // Read after the revision: the figures of `before` would follow the new
  // target, fitting no series a follower had; `after`'s follow it rightly.
  Watcher figures(*stub_, before, "", /*with_figures=*/true);
  const std::vector<v1::Change> changes = figures.WaitFor(3);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].sequence(), before);
  EXPECT_TRUE(changes[0].figures().empty()) << changes[0].ShortDebugString();
  EXPECT_EQ(changes[1].kind(), v1::CHANGE_KIND_TARGET_REVISED);
  EXPECT_TRUE(changes[1].figures().empty());
  EXPECT_EQ(changes[2].sequence(), after);
  ASSERT_EQ(changes[2].figures_size(), 2) << changes[2].ShortDebugString();
  const v1::ProgressPoint& soya = changes[2].figures(0).point();
  EXPECT_EQ(soya.value(), 5);
  EXPECT_EQ(soya.rate_display(), "62.5%") << "5 / 8, the revised target";
  EXPECT_TRUE(MessageDifferencer::Equals(soya, PointIn(Progress("kodomoen", "soya", 2019), 2019)));
}

TEST_F(KpiStreamTest, ResumesAfterAServiceRestartWithoutLosingOrRepeatingAChange) {
  const int64_t seeded = SeedChanges();
  constexpr int64_t kSeen = 10;
  int64_t last_seen = 0;
  {
    Watcher watcher(*stub_, 0);  // 0 means from the beginning too
    const std::vector<v1::Change> first = watcher.WaitFor(kSeen);
    ASSERT_GE(first.size(), static_cast<size_t>(kSeen));
    for (int64_t i = 0; i < kSeen; ++i) ASSERT_EQ(first[i].sequence(), i + 1);
    last_seen = first[kSeen - 1].sequence();
    EXPECT_EQ(watcher.Cancel().error_code(), grpc::StatusCode::CANCELLED);
  }

  // While the client is away: one change before the restart, one after.
  const int64_t before_restart = Record("kodomoen", "soya", 2019, 4);
  EXPECT_EQ(before_restart, seeded + 1);
  ASSERT_NO_FATAL_FAILURE(StartKpiService());
  const int64_t after_restart = Record("jishu-bousai", "rumoi", 2019, 40.1);
  EXPECT_EQ(after_restart, seeded + 2) << "the log goes on from where it was";

  Watcher watcher(*stub_, last_seen + 1);
  const int64_t rest = seeded + 2 - last_seen;
  std::vector<v1::Change> resumed = watcher.WaitFor(rest);
  ASSERT_EQ(static_cast<int64_t>(resumed.size()), rest);
  for (int64_t i = 0; i < rest; ++i) {
    ASSERT_EQ(resumed[i].sequence(), last_seen + 1 + i) << "a gap or a repeat";
  }
  EXPECT_EQ(resumed[rest - 2].kpi_id(), "kodomoen");
  EXPECT_EQ(resumed[rest - 2].new_value(), 4);
  EXPECT_EQ(resumed[rest - 1].kpi_id(), "jishu-bousai");
  EXPECT_EQ(resumed[rest - 1].region_id(), "rumoi");
  EXPECT_EQ(resumed[rest - 1].new_value(), 40.1);

  // Nothing else is on its way: the next live change comes right after.
  const int64_t live = Record("kodomoen", "rumoi", 2019, 5);
  resumed = watcher.WaitFor(rest + 1);
  ASSERT_EQ(static_cast<int64_t>(resumed.size()), rest + 1);
  EXPECT_EQ(resumed.back().sequence(), live);
  EXPECT_EQ(live, seeded + 3);
}

TEST_F(KpiStreamTest, KpiFilterSendsOnlyThatKpisChanges) {
  const size_t own = History("jishu-bousai").size();
  ASSERT_GT(own, 0u);
  Watcher watcher(*stub_, 1, "jishu-bousai");
  std::vector<v1::Change> changes = watcher.WaitFor(own);
  ASSERT_EQ(changes.size(), own);
  int64_t previous = 0;
  for (const v1::Change& change : changes) {
    EXPECT_EQ(change.kpi_id(), "jishu-bousai") << change.ShortDebugString();
    EXPECT_GT(change.sequence(), previous);
    previous = change.sequence();
  }

  // Live: a kodomoen change first, then a jishu-bousai one. Changes come in
  // sequence order, so had the kodomoen one leaked it would come first.
  const int64_t other = Record("kodomoen", "kamikawa", 2019, 45);
  const int64_t mine = Record("jishu-bousai", "kamikawa", 2019, 55.5);
  ASSERT_LT(other, mine);
  changes = watcher.WaitFor(own + 1);
  ASSERT_EQ(changes.size(), own + 1);
  EXPECT_EQ(changes.back().sequence(), mine);
  EXPECT_EQ(changes.back().kpi_id(), "jishu-bousai");

  const int64_t other2 = Record("kodomoen", "kamikawa", 2019, 46);
  const int64_t mine2 = Record("jishu-bousai", "kamikawa", 2019, 56.5);
  ASSERT_LT(other2, mine2);
  changes = watcher.WaitFor(own + 2);
  ASSERT_EQ(changes.size(), own + 2);
  EXPECT_EQ(changes.back().sequence(), mine2);
}

// ---- ImportActuals ----

TEST_F(KpiStreamTest, ImportWithBadRowsStoresNothingAndListsEveryBadRow) {
  const int64_t seeded = SeedChanges();
  const size_t kodomoen_before = History("kodomoen").size();
  const size_t bousai_before = History("jishu-bousai").size();
  const v1::GetProgressResponse progress_before = Progress("kodomoen", "kamikawa", 2019);
  const v1::Aggregate aggregate_before = AggregateOf("kodomoen", 2019);

  const v1::ImportRow good1 = Row(1, "kodomoen", "kamikawa", 2019, 45);
  const v1::ImportRow negative = Row(2, "kodomoen", "rumoi", 2019, -1);
  const v1::ImportRow good3 = Row(3, "kodomoen", "soya", 2019, 4);
  const v1::ImportRow too_early = Row(4, "kodomoen", "soya", 2013, 2);  // baseline H26 (2014)
  const v1::ImportRow good5 = Row(5, "jishu-bousai", "kamikawa", 2019, 55);

  v1::ImportActualsResponse refused;
  grpc::Status status = Import({{good1, negative}, {good3, too_early, good5}}, &refused);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "line 2")) << status.error_message();

  v1::ImportActualsResponse details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()))
      << "error_details must be a serialized ImportActualsResponse";
  EXPECT_EQ(details.rows_applied(), 0);
  ASSERT_EQ(details.errors_size(), 2) << details.ShortDebugString();
  EXPECT_EQ(details.errors(0).line(), 2);
  EXPECT_EQ(details.errors(0).field(), "value");
  EXPECT_TRUE(Contains(details.errors(0).message(), "value")) << details.errors(0).message();
  EXPECT_TRUE(Contains(details.errors(0).message(), "\"-1\"")) << details.errors(0).message();
  EXPECT_TRUE(Contains(details.errors(0).message(), "negative")) << details.errors(0).message();
  EXPECT_EQ(details.errors(1).line(), 4);
  EXPECT_EQ(details.errors(1).field(), "fiscal_year.year");
  EXPECT_TRUE(Contains(details.errors(1).message(), "2013")) << details.errors(1).message();
  EXPECT_TRUE(Contains(details.errors(1).message(), "baseline")) << details.errors(1).message();

  // Nothing of it was stored, not even the good rows.
  EXPECT_EQ(History("kodomoen").size(), kodomoen_before);
  EXPECT_EQ(History("jishu-bousai").size(), bousai_before);
  const v1::GetProgressResponse progress_after = Progress("kodomoen", "kamikawa", 2019);
  EXPECT_TRUE(MessageDifferencer::Equals(progress_before, progress_after))
      << progress_after.ShortDebugString();
  const v1::Aggregate aggregate_after = AggregateOf("kodomoen", 2019);
  EXPECT_TRUE(MessageDifferencer::Equals(aggregate_before, aggregate_after))
      << aggregate_after.ShortDebugString();
  EXPECT_FALSE(aggregate_after.complete());

  // The same batch without its bad rows goes in whole, and the refused one
  // took no sequence: the log goes on right after the seed.
  v1::ImportActualsResponse accepted;
  status = Import({{good1}, {good3, good5}}, &accepted);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(accepted.rows_applied(), 3);
  EXPECT_EQ(accepted.errors_size(), 0);
  EXPECT_EQ(accepted.last_sequence(), seeded + 3);

  Watcher watcher(*stub_, seeded + 1);
  const std::vector<v1::Change> changes = watcher.WaitFor(3);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].sequence(), seeded + 1);
  EXPECT_EQ(changes[0].region_id(), "kamikawa");
  EXPECT_EQ(changes[0].new_value(), 45);
  EXPECT_EQ(changes[1].region_id(), "soya");
  EXPECT_EQ(changes[1].new_value(), 4);
  EXPECT_EQ(changes[2].kpi_id(), "jishu-bousai");
  EXPECT_EQ(changes[2].new_value(), 55);
  // rumoi has no R元 actual yet, so 道北's figure stays incomplete.
  const v1::Aggregate aggregate = AggregateOf("kodomoen", 2019);
  EXPECT_FALSE(aggregate.complete());
  ASSERT_EQ(aggregate.missing_region_ids_size(), 1);
  EXPECT_EQ(aggregate.missing_region_ids(0), "rumoi");
}

TEST_F(KpiStreamTest, ImportRefusesAnActualRepeatedInTheSameImport) {
  const v1::ImportRow first = Row(1, "kodomoen", "kamikawa", 2019, 45);
  const v1::ImportRow again = Row(2, "kodomoen", "kamikawa", 2019, 46);
  v1::ImportActualsResponse refused;
  grpc::Status status = Import({{first}, {again}}, &refused);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  v1::ImportActualsResponse details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  ASSERT_EQ(details.errors_size(), 1);
  EXPECT_EQ(details.errors(0).line(), 2);
  EXPECT_NE(details.errors(0).message().find("repeats"), std::string::npos)
      << details.errors(0).message();
}

// ---- Redis is only a cache ----

TEST_F(KpiStreamTest, AnswersStayRightWhileRedisIsDownAndTheCacheRefillsAfter) {
  // 道北 認定こども園 H30 = 41 + 4 + soya; 宗谷's target is 6.
  auto check = [&](double soya) {
    SCOPED_TRACE(absl::StrCat("soya = ", soya));
    const v1::Aggregate aggregate = AggregateOf("kodomoen", 2018);
    EXPECT_TRUE(aggregate.complete());
    EXPECT_EQ(aggregate.value(), 41 + 4 + soya);
    ASSERT_EQ(aggregate.components_size(), 3);
    EXPECT_EQ(aggregate.components(2).region_id(), "soya");
    EXPECT_EQ(aggregate.components(2).value(), soya);
    const v1::GetProgressResponse progress = Progress("kodomoen", "soya", 2018);
    ASSERT_FALSE(progress.points().empty());
    const v1::ProgressPoint& h30 = *progress.points().rbegin();
    EXPECT_EQ(h30.fiscal_year().year(), 2018);
    EXPECT_EQ(h30.value(), soya);
    EXPECT_NEAR(h30.rate(), soya / 6 * 100, 1e-9);
  };
  check(3);
  check(3);  // now from the cache

  ASSERT_TRUE(redis_->Stop().ok());
  const int64_t errors_up = kpi_->cache_stats().redis_errors;
  Record("kodomoen", "soya", 2018, 5);
  check(5);
  const int64_t errors_down = kpi_->cache_stats().redis_errors;
  EXPECT_GT(errors_down, errors_up) << "the cache should have tried Redis and failed";
  Record("kodomoen", "soya", 2018, 6);
  check(6);
  EXPECT_GT(kpi_->cache_stats().redis_errors, errors_down);

  ASSERT_TRUE(redis_->Restart().ok());
  absl::StatusOr<RedisOptions> options = ParseRedisUrl(redis_->url());
  ASSERT_TRUE(options.ok()) << options.status();
  RedisClient redis(*options);
  auto keys = [&]() -> long long {
    absl::StatusOr<RedisReply> reply = redis.Command({"DBSIZE"});
    return reply.ok() ? reply->integer : -1;
  };
  ASSERT_EQ(keys(), 0) << "a restarted Redis starts empty";

  // Each round writes (a new generation, so the reads must ask Redis) and
  // reads; done once a round meets no Redis error and Redis holds figures.
  // The client may wait out its reconnect backoff first: poll, bounded.
  const absl::Time deadline = absl::Now() + kWaitBound;
  bool refilled = false;
  int rounds = 0;
  while (!refilled && absl::Now() < deadline) {
    const int64_t errors = kpi_->cache_stats().redis_errors;
    const double soya = 7 + rounds++ % 2;
    Record("kodomoen", "soya", 2018, soya);
    check(soya);
    refilled = kpi_->cache_stats().redis_errors == errors && keys() > 0;
  }
  ASSERT_TRUE(refilled) << "after " << rounds << " rounds";

  // The errors have stopped for good.
  const int64_t errors_after = kpi_->cache_stats().redis_errors;
  for (int i = 0; i < 3; ++i) {
    const double soya = 9 + i;
    Record("kodomoen", "soya", 2018, soya);
    check(soya);
  }
  EXPECT_EQ(kpi_->cache_stats().redis_errors, errors_after);

  // A fresh process finds the last figures in Redis.
  ASSERT_NO_FATAL_FAILURE(StartKpiService());
  check(11);
  const FigureCache::Stats stats = kpi_->cache_stats();
  EXPECT_EQ(stats.redis_hits, 2) << "aggregate and progress";
  EXPECT_EQ(stats.redis_errors, 0);
}

// ---- Read-your-writes ----

TEST_F(KpiStreamTest, ConcurrentWritersAlwaysReadTheirOwnWrites) {
  constexpr int kIterations = 100;
  const std::vector<std::string> regions = {"kamikawa", "rumoi", "soya"};
  std::vector<std::vector<std::string>> failures(regions.size());
  std::vector<std::thread> writers;
  for (size_t w = 0; w < regions.size(); ++w) {
    writers.emplace_back([&, w] {
      const std::string& region = regions[w];
      std::vector<std::string>& failed = failures[w];
      std::unique_ptr<v1::KpiService::Stub> stub = kpi_->NewStub();
      for (int i = 0; i < kIterations; ++i) {
        const std::string at = absl::StrCat(region, " #", i, ": ");
        v1::RecordActualResponse recorded;
        grpc::Status status = stub->RecordActual(
            Context().get(), ActualRequest("kodomoen", region, 2018, i), &recorded);
        if (!status.ok()) {
          failed.push_back(at + "RecordActual: " + status.error_message());
          continue;
        }
        v1::GetProgressRequest progress_request;
        progress_request.set_kpi_id("kodomoen");
        progress_request.set_region_id(region);
        progress_request.mutable_as_of()->set_year(2018);
        v1::GetProgressResponse progress;
        status = stub->GetProgress(Context().get(), progress_request, &progress);
        if (!status.ok() || progress.points().empty()) {
          failed.push_back(at + "GetProgress: " + status.error_message());
        } else if (const v1::ProgressPoint& h30 = *progress.points().rbegin();
                   h30.fiscal_year().year() != 2018 || !h30.has_value() || h30.value() != i) {
          failed.push_back(at + "GetProgress read " + h30.ShortDebugString());
        }
        v1::GetAggregateRequest aggregate_request;
        aggregate_request.set_kpi_id("kodomoen");
        aggregate_request.set_area_id("dohoku");
        aggregate_request.mutable_fiscal_year()->set_year(2018);
        v1::GetAggregateResponse aggregate;
        status = stub->GetAggregate(Context().get(), aggregate_request, &aggregate);
        if (!status.ok()) {
          failed.push_back(at + "GetAggregate: " + status.error_message());
          continue;
        }
        double sum = 0;
        bool seen = false;
        for (const v1::AggregateComponent& component : aggregate.aggregate().components()) {
          sum += component.value();
          if (component.region_id() == region) {
            seen = true;
            if (component.value() != i) {
              failed.push_back(at + "GetAggregate component " + component.ShortDebugString());
            }
          }
        }
        if (!seen) failed.push_back(at + "GetAggregate has no component for the region");
        if (aggregate.aggregate().value() != sum) {
          failed.push_back(at + "GetAggregate value is not the sum of its components: " +
                           aggregate.aggregate().ShortDebugString());
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  for (size_t w = 0; w < regions.size(); ++w) {
    EXPECT_TRUE(failures[w].empty())
        << failures[w].size()
        << " stale reads, the first: " << (failures[w].empty() ? "" : failures[w].front());
  }
  const v1::Aggregate aggregate = AggregateOf("kodomoen", 2018);
  EXPECT_EQ(aggregate.value(), 3 * (kIterations - 1));
}

// ---- The cache changes no answer ----

TEST_F(KpiStreamTest, InstallationsSharingARedisKeepTheirFiguresApart) {
  absl::StatusOr<RedisOptions> options = ParseRedisUrl(redis_->url());
  ASSERT_TRUE(options.ok()) << options.status();
  RedisOptions a = *options;
  a.key_prefix = "pref-a";
  RedisOptions b = *options;
  b.key_prefix = "pref-b";
  RedisClient redis_a(a), redis_b(b), redis_b_again(b);
  FigureCache cache_a(&redis_a, FigureCache::Options());
  FigureCache cache_b(&redis_b, FigureCache::Options());
  // Another process of installation B: nothing in its own map yet.
  FigureCache cache_b_again(&redis_b_again, FigureCache::Options());
  // The same KPI id, generation and arguments in both installations.
  const std::string key_a = cache_a.Key("kodomoen", "progress", "soya/0");
  const std::string key_b = cache_b.Key("kodomoen", "progress", "soya/0");
  EXPECT_TRUE(absl::StartsWith(key_a, "pref-a:kpi:kodomoen:")) << key_a;
  cache_a.Put(key_a, "A's figure");
  EXPECT_FALSE(cache_b.Get(key_b).has_value()) << "B never sees A's figure";
  cache_b.Put(key_b, "B's figure");
  EXPECT_EQ(cache_b_again.Get(cache_b_again.Key("kodomoen", "progress", "soya/0")),
            std::optional<std::string>("B's figure"));
  EXPECT_EQ(cache_b_again.stats().redis_hits, 1);
  absl::StatusOr<RedisReply> keys = redis_a.Command({"KEYS", "pref-a:*"});
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->elements.size(), 1u);
  EXPECT_EQ(keys->elements[0].str, key_a);
}

TEST_F(KpiStreamTest, CacheOnAndOffGiveTheSameFigures) {
  struct Query {
    std::string label;
    std::function<Answer()> call;
  };
  std::vector<Query> queries;
  for (const std::string kpi : {"kodomoen", "jishu-bousai"}) {
    for (const std::string region : {"dohoku", "kamikawa", "rumoi", "soya"}) {
      for (int as_of : {0, 2014, 2015, 2016, 2017, 2018, 2019, 2020}) {
        queries.push_back({absl::StrCat("GetProgress ", kpi, " ", region, " ", as_of), [=] {
                             v1::GetProgressRequest request;
                             request.set_kpi_id(kpi);
                             request.set_region_id(region);
                             request.mutable_as_of()->set_year(as_of);
                             auto response = std::make_unique<v1::GetProgressResponse>();
                             grpc::Status status =
                                 stub_->GetProgress(Context().get(), request, response.get());
                             return Answer{status, std::move(response)};
                           }});
      }
    }
    for (int year = 2014; year <= 2020; ++year) {
      queries.push_back({absl::StrCat("GetAggregate ", kpi, " dohoku ", year), [=] {
                           v1::GetAggregateRequest request;
                           request.set_kpi_id(kpi);
                           request.set_area_id("dohoku");
                           request.mutable_fiscal_year()->set_year(year);
                           auto response = std::make_unique<v1::GetAggregateResponse>();
                           grpc::Status status =
                               stub_->GetAggregate(Context().get(), request, response.get());
                           return Answer{status, std::move(response)};
                         }});
    }
  }
  const int64_t count = static_cast<int64_t>(queries.size());

  // Cache on, first reads: computed.
  std::vector<Answer> expected;
  for (const Query& query : queries) {
    expected.push_back(query.call());
    ASSERT_TRUE(expected.back().status.ok())
        << query.label << ": " << expected.back().status.error_message();
  }
  auto same_as_expected = [&](const char* pass) {
    for (int64_t i = 0; i < count; ++i) {
      SCOPED_TRACE(absl::StrCat(pass, ": ", queries[i].label));
      const Answer answer = queries[i].call();
      ASSERT_TRUE(answer.status.ok()) << answer.status.error_message();
      EXPECT_TRUE(MessageDifferencer::Equals(*answer.response, *expected[i].response))
          << answer.response->ShortDebugString() << "\nvs\n"
          << expected[i].response->ShortDebugString();
    }
  };

  // Cache on, the same reads again: every one a local hit, same answers.
  const FigureCache::Stats before = kpi_->cache_stats();
  same_as_expected("cache on, again");
  const FigureCache::Stats after = kpi_->cache_stats();
  EXPECT_EQ(after.local_hits - before.local_hits, count);
  EXPECT_EQ(after.misses, before.misses);

  // Cache off: every figure computed afresh, the same.
  ASSERT_NO_FATAL_FAILURE(StartKpiService(/*cache=*/false));
  same_as_expected("cache off");
  EXPECT_EQ(kpi_->cache_stats().local_hits, 0);
  EXPECT_EQ(kpi_->cache_stats().redis_hits, 0);

  // Cache on in a fresh process: the figures the first pass left in Redis,
  // until a KPI Redis answered for twice gets its own snapshot (read model);
  // none computed for lack of a cached one.
  ASSERT_NO_FATAL_FAILURE(StartKpiService(/*cache=*/true));
  same_as_expected("cache on, from Redis");
  const FigureCache::Stats fresh = kpi_->cache_stats();
  EXPECT_GE(fresh.redis_hits, 4) << "two answers of each KPI before its snapshot";
  EXPECT_EQ(fresh.redis_hits + fresh.local_hits, count);
  EXPECT_EQ(fresh.misses, 0);
}

}  // namespace
}  // namespace suishin::kpi
