// ReplicaSync's head reads: figure reads that arrive together share one read
// of the log's head, and each still sees every change committed before it
// asked.
#include "services/kpi/replica_sync.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/sequence_feed.h"
#include "services/kpi/figure_cache.h"
#include "services/kpi/read_model.h"
#include "services/kpi/sqlite_kpi_store.h"
#include "tests/support/temp_dir.h"

namespace suishin::kpi {
namespace {

// A store whose head read is slow (as a PostgreSQL round trip under load),
// counting how often it is read.
class SlowHeadStore : public KpiStore {
 public:
  explicit SlowHeadStore(KpiStore* inner) : inner_(inner) {}
  absl::Status RunGroup(const std::vector<const Body*>& bodies,
                        std::vector<absl::Status>* outcomes) override {
    return inner_->RunGroup(bodies, outcomes);
  }
  absl::Status Read(const Body& body) override { return inner_->Read(body); }
  absl::StatusOr<int64_t> LogHead() override {
    heads_.fetch_add(1);
    absl::SleepFor(absl::Milliseconds(20));
    return inner_->LogHead();
  }
  int heads() const { return heads_.load(); }

 private:
  KpiStore* const inner_;
  std::atomic<int> heads_{0};
};

absl::Status Append(KpiStore& store, int value) {
  return store.Run([value](KpiTransaction& tx) -> absl::Status {
    v1::Change change;
    change.set_kind(v1::CHANGE_KIND_ACTUAL_RECORDED);
    change.set_kpi_id("kodomoen");
    change.set_region_id("soya");
    change.set_new_value(value);
    return tx.AppendChange(change).status();
  });
}

TEST(ReplicaSyncTest, ReadsArrivingTogetherShareOneHeadReadAndEachSeesWhatCameBefore) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("replica-sync");
  ASSERT_TRUE(dir.ok()) << dir.status();
  absl::StatusOr<std::unique_ptr<SqliteKpiStore>> sqlite = SqliteKpiStore::Open(dir->File("k.db"));
  ASSERT_TRUE(sqlite.ok()) << sqlite.status();
  SlowHeadStore store(sqlite->get());
  FigureCache cache(nullptr, FigureCache::Options());
  ReadModel reads(&store, &cache);
  SequenceFeed feed;
  ReplicaSync sync(&store, &cache, &reads, &feed, /*applied=*/0, ReplicaSync::Options());

  // Another replica's writes (straight into the store), then 32 reads at
  // once: each must have folded in everything written before it asked.
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(Append(store, i).ok());
  constexpr int kReaders = 32;
  std::atomic<int> stale{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&] {
      ASSERT_TRUE(sync.CatchUp().ok());
      if (sync.applied() < 5) stale.fetch_add(1);
    });
  }
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(stale.load(), 0);
  EXPECT_EQ(feed.last(), 5);
  EXPECT_EQ(cache.Generation("kodomoen"), 5);
  // Shared: far fewer head reads than callers (one running, one queued
  // behind it for all who came meanwhile).
  EXPECT_LE(store.heads(), 4) << "of " << kReaders << " callers";
  EXPECT_EQ(sync.head_reads(), store.heads());

  // A write after a read began is not promised to that read, but the next
  // read after the write sees it.
  ASSERT_TRUE(Append(store, 6).ok());
  ASSERT_TRUE(sync.CatchUp().ok());
  EXPECT_EQ(sync.applied(), 6);
}

}  // namespace
}  // namespace suishin::kpi
