// kpi-service's two seams, taken as every service's harness takes them
// (tests/support/seams.h): with its shared cache down at every call, every
// figure comes from SQLite unchanged and the failures are counted; the clock
// handed in stamps its writes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "common/proto_util.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "tests/services/kpi/kpi_fixture.h"
#include "tests/support/unavailable_cache.h"

namespace suishin::kpi::testing {
namespace {

// `message`'s bytes with its maps in key order, so equal answers compare
// equal whichever process or path serialized them.
std::string Canonical(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

class CacheSeamTest : public KpiTest {
 protected:
  // Restarts kpi-service on the same SQLite file with `seams`.
  void StartWith(suishin::testing::Seams seams) {
    stub_.reset();
    kpi_.reset();
    auto kpi = KpiServer::Start(dir_->File("kpi.db"), plan_->address(), redis_->url(),
                                /*cache=*/true, KpiServiceImpl::Options(), seams);
    ASSERT_TRUE(kpi.ok()) << kpi.status();
    kpi_ = *std::move(kpi);
    stub_ = kpi_->NewStub();
  }

  // Every seed KPI's progress in every region it tracks, latest and as of
  // H30, and its area's aggregate in H30.
  std::vector<std::string> ReadEveryFigure() {
    std::vector<std::string> answers;
    for (const v1::KpiRecord& record : seed_.kpi().kpis()) {
      for (const std::string& region : record.kpi().region_ids()) {
        for (int as_of : {0, 2018}) {
          v1::GetProgressRequest request;
          request.set_kpi_id(record.kpi().id());
          request.set_region_id(region);
          request.mutable_as_of()->set_year(as_of);
          v1::GetProgressResponse response;
          grpc::Status status = stub_->GetProgress(Context().get(), request, &response);
          EXPECT_TRUE(status.ok())
              << record.kpi().id() << " " << region << ": " << status.error_message();
          answers.push_back(Canonical(response));
        }
      }
      v1::GetAggregateRequest request;
      request.set_kpi_id(record.kpi().id());
      request.set_area_id(record.kpi().area_id());
      request.mutable_fiscal_year()->set_year(2018);
      v1::GetAggregateResponse response;
      grpc::Status status = stub_->GetAggregate(Context().get(), request, &response);
      EXPECT_TRUE(status.ok()) << record.kpi().id() << ": " << status.error_message();
      answers.push_back(Canonical(response));
    }
    return answers;
  }
};

TEST_F(CacheSeamTest, WithTheCacheDownAtEveryCallEveryFigureComesFromTheStoreUnchanged) {
  StartKpiService();
  LoadSeedKpis();
  const std::vector<std::string> expected = ReadEveryFigure();
  ASSERT_GT(expected.size(), 10u);

  suishin::testing::UnavailableCache down;
  StartWith({/*clock=*/nullptr, &down});
  EXPECT_EQ(ReadEveryFigure(), expected);
  // Read again: now from the process's own read model, still without the cache.
  EXPECT_EQ(ReadEveryFigure(), expected);
  EXPECT_GT(down.calls(), 0);
  const FigureCache::Stats stats = kpi_->cache_stats();
  EXPECT_GT(stats.redis_errors, 0);
  EXPECT_EQ(stats.redis_hits, 0);

  // A write is read back at once with the cache down.
  v1::RecordActualResponse recorded;
  grpc::Status status =
      stub_->RecordActual(Context().get(), ActualRequest("kodomoen", "soya", 2019, 9), &recorded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::GetProgressRequest request;
  request.set_kpi_id("kodomoen");
  request.set_region_id("soya");
  v1::GetProgressResponse progress;
  status = stub_->GetProgress(Context().get(), request, &progress);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GT(progress.points_size(), 0);
  EXPECT_EQ(progress.points(progress.points_size() - 1).fiscal_year().year(), 2019);
  EXPECT_EQ(progress.points(progress.points_size() - 1).value(), 9);
}

TEST_F(CacheSeamTest, TheClockHandedInStampsWrites) {
  const absl::Time noon =
      absl::FromCivil(absl::CivilSecond(2020, 6, 30, 12, 0, 0), absl::FixedTimeZone(9 * 3600));
  FixedClock clock(noon);
  StartWith({&clock, /*cache=*/nullptr});
  LoadSeedKpis();
  v1::GetKpiRequest request;
  request.set_id("kodomoen");
  v1::GetKpiResponse response;
  grpc::Status status = stub_->GetKpi(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(FromProtoTimestamp(response.kpi().create_time()), noon);
}

}  // namespace
}  // namespace suishin::kpi::testing
