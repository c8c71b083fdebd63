// ReadModel on a real SQLite store, written through the real KpiWriter: a
// snapshot is kept and served until its KPI moves, and the bound on kept
// bytes drops snapshots without changing an answer.
#include "services/kpi/read_model.h"

#include <gtest/gtest.h>

#include <memory>

#include "absl/synchronization/notification.h"
#include "common/sequence_feed.h"
#include "services/kpi/kpi_writer.h"
#include "services/kpi/open_kpi_store.h"
#include "tests/services/kpi/kpi_fixture.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace suishin::kpi {
namespace {

class ReadModelTest : public ::testing::Test {
 protected:
  // A store, a cache without Redis, a read model kept within `max_kept_bytes`,
  // and a KPI (宗谷 and 留萌 under 道北) with 宗谷's H30 actual.
  void Start(size_t max_kept_bytes) {
    auto dir = suishin::testing::TempDir::Create("read-model");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<suishin::testing::TempDir>(*std::move(dir));
    auto store = OpenKpiStore(*suishin::testing::StoreFor(dir_->File("kpi.db")));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    reads_ = std::make_unique<ReadModel>(store_.get(), &cache_, max_kept_bytes);
    auto writer = KpiWriter::Create(store_.get(), &cache_, reads_.get(), &feed_, {});
    ASSERT_TRUE(writer.ok()) << writer.status();
    writer_ = *std::move(writer);
    v1::Kpi kpi;
    kpi.set_id("kodomoen");
    kpi.set_project_id("p");
    kpi.set_name("認定こども園設置数");
    kpi.set_value_kind(v1::VALUE_KIND_COUNT);
    kpi.set_aggregation(v1::AGGREGATION_RULE_SUM);
    kpi.set_area_id("dohoku");
    for (const char* region : {"dohoku", "rumoi", "soya"}) kpi.add_region_ids(region);
    v1::CreateKpiResponse created;
    ASSERT_TRUE(Wait([&](KpiWriter::Done done) { writer_->CreateKpi(kpi, &created, done); }).ok());
    Record(3);
  }

  absl::Status Wait(const std::function<void(KpiWriter::Done)>& write) {
    absl::Notification finished;
    absl::Status status;
    write([&](absl::Status result) {
      status = std::move(result);
      finished.Notify();
    });
    finished.WaitForNotification();
    return status;
  }

  void Record(double value) {
    v1::RecordActualResponse response;
    const v1::RecordActualRequest request = testing::ActualRequest("kodomoen", "soya", 2018, value);
    ASSERT_TRUE(
        Wait([&](KpiWriter::Done done) { writer_->RecordActual(request, &response, done); }).ok());
  }

  double SoyaH30() {
    v1::GetProgressRequest request;
    request.set_kpi_id("kodomoen");
    request.set_region_id("soya");
    v1::GetProgressResponse response;
    EXPECT_TRUE(reads_->GetProgress(request, &response).ok());
    return response.points().empty() ? -1 : response.points().rbegin()->value();
  }

  std::unique_ptr<suishin::testing::TempDir> dir_;
  std::unique_ptr<KpiStore> store_;
  FigureCache cache_{nullptr, FigureCache::Options()};
  SequenceFeed feed_;
  std::unique_ptr<ReadModel> reads_;
  std::unique_ptr<KpiWriter> writer_;
};

TEST_F(ReadModelTest, ASnapshotIsServedUntilItsKpiMoves) {
  ASSERT_NO_FATAL_FAILURE(Start(ReadModel::kDefaultMaxKeptBytes));
  auto first = reads_->Snapshot("kpi_id", "kodomoen");
  auto again = reads_->Snapshot("kpi_id", "kodomoen");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->get(), again->get()) << "kept";
  EXPECT_EQ(SoyaH30(), 3);
  ASSERT_NO_FATAL_FAILURE(Record(5));
  auto moved = reads_->Snapshot("kpi_id", "kodomoen");
  ASSERT_TRUE(moved.ok());
  EXPECT_NE(moved->get(), first->get()) << "the write moved the KPI: built again";
  EXPECT_EQ(SoyaH30(), 5);
}

TEST_F(ReadModelTest, BeyondItsBoundNothingIsKeptAndAnswersStayRight) {
  ASSERT_NO_FATAL_FAILURE(Start(/*max_kept_bytes=*/1));
  auto first = reads_->Snapshot("kpi_id", "kodomoen");
  auto again = reads_->Snapshot("kpi_id", "kodomoen");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_NE(first->get(), again->get()) << "dropped as soon as it was kept: built each time";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(SoyaH30(), 3);
  ASSERT_NO_FATAL_FAILURE(Record(4));
  EXPECT_EQ(SoyaH30(), 4);
}

}  // namespace
}  // namespace suishin::kpi
