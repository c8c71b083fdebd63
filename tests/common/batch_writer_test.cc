// The one write path: group commit over a real SQLite file, each body under
// its own savepoint, callers answered after the commit, bounded queue.
#include "common/batch_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/sqlite.h"
#include "tests/support/temp_dir.h"

namespace suishin {
namespace {

using ::suishin::testing::TempDir;

// The "transaction" the bodies get: the database itself.
using Writer = BatchWriter<Database>;

class BatchWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("batch-writer-test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(*std::move(dir));
    absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(dir_->File("w.sqlite3"));
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_EQ(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"), absl::OkStatus());
  }

  // Runs a group the way a store does: one transaction, savepoint per body.
  Writer::GroupRunner Runner() {
    return [this](const std::vector<const Writer::Body*>& bodies,
                  std::vector<absl::Status>* outcomes) {
      std::vector<std::function<absl::Status()>> steps;
      for (const Writer::Body* body : bodies)
        steps.push_back([this, body] { return (*body)(*db_); });
      {
        absl::MutexLock lock(&mu_);
        group_sizes_.push_back(bodies.size());
      }
      return db_->InGroupTransaction(steps, outcomes);
    };
  }

  int64_t Count(absl::string_view where = "1") {
    absl::StatusOr<Statement> statement =
        db_->Prepare(absl::StrCat("SELECT count(*) FROM t WHERE ", where));
    EXPECT_TRUE(statement.ok());
    EXPECT_TRUE(*statement->Step());
    return statement->ColumnInt(0);
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Database> db_;
  absl::Mutex mu_;
  std::vector<size_t> group_sizes_ ABSL_GUARDED_BY(mu_);
};

Writer::Body Insert(const std::string& key) {
  return [key](Database& db) {
    return db.Exec(absl::StrCat("INSERT INTO t VALUES ('", key, "', 1)"));
  };
}

TEST_F(BatchWriterTest, CommitsTheWritesWaitingTogetherAndAnswersEachAfterTheCommit) {
  Writer writer(Runner(), Writer::Options());
  // Hold the writer inside a first group until 20 more writes are queued.
  absl::Notification release;
  absl::Notification holding;
  writer.Submit(
      [&](Database& db) {
        holding.Notify();
        release.WaitForNotification();
        return db.Exec("INSERT INTO t VALUES ('first', 1)");
      },
      [](absl::Status status) { EXPECT_TRUE(status.ok()) << status; });
  holding.WaitForNotification();
  absl::BlockingCounter answered(20);
  std::atomic<int> ok{0};
  std::vector<int> order;
  absl::Mutex order_mu;
  for (int i = 0; i < 20; ++i) {
    writer.Submit(Insert(absl::StrCat("k", i)), [&, i](absl::Status status) {
      // Answered only once the commit is durable: the row is there.
      if (status.ok()) ++ok;
      {
        absl::MutexLock lock(&order_mu);
        order.push_back(i);
      }
      answered.DecrementCount();
    });
  }
  release.Notify();
  answered.Wait();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(Count(), 21);
  {
    absl::MutexLock lock(&mu_);
    ASSERT_EQ(group_sizes_.size(), 2u);
    EXPECT_EQ(group_sizes_[1], 20u);  // one commit, one fsync, for all twenty
  }
  std::vector<int> expected(20);
  for (int i = 0; i < 20; ++i) expected[i] = i;
  EXPECT_EQ(order, expected);  // answered in submission order
  EXPECT_EQ(writer.stats().writes, 21);
}

TEST_F(BatchWriterTest, ARefusedWriteFailsOnlyItsOwnCaller) {
  Writer writer(Runner(), Writer::Options());
  absl::Notification release;
  absl::Notification holding;
  writer.Submit(
      [&](Database&) {
        holding.Notify();
        release.WaitForNotification();
        return absl::OkStatus();
      },
      [](absl::Status) {});
  holding.WaitForNotification();
  std::vector<absl::Status> outcomes(3);
  absl::BlockingCounter answered(3);
  writer.Submit(Insert("a"), [&](absl::Status s) {
    outcomes[0] = s;
    answered.DecrementCount();
  });
  writer.Submit(
      [](Database& db) -> absl::Status {
        EXPECT_TRUE(db.Exec("INSERT INTO t VALUES ('b', 1)").ok());
        return absl::InvalidArgumentError("value: -1 must not be negative");
      },
      [&](absl::Status s) {
        outcomes[1] = s;
        answered.DecrementCount();
      });
  writer.Submit(Insert("c"), [&](absl::Status s) {
    outcomes[2] = s;
    answered.DecrementCount();
  });
  release.Notify();
  answered.Wait();
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_EQ(outcomes[1].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outcomes[1].message(), "value: -1 must not be negative");
  EXPECT_TRUE(outcomes[2].ok());
  EXPECT_EQ(Count("k = 'a' OR k = 'c'"), 2);
  EXPECT_EQ(Count("k = 'b'"), 0);
}

TEST_F(BatchWriterTest, RefusesWritesBeyondTheQueueLimitNamingIt) {
  Writer::Options options;
  options.max_queued = 3;
  Writer writer(Runner(), options);
  absl::Notification release;
  absl::Notification holding;
  writer.Submit(
      [&](Database&) {
        holding.Notify();
        release.WaitForNotification();
        return absl::OkStatus();
      },
      [](absl::Status) {});
  holding.WaitForNotification();
  absl::BlockingCounter answered(3);
  for (int i = 0; i < 3; ++i) {
    writer.Submit(Insert(absl::StrCat("q", i)), [&](absl::Status s) {
      EXPECT_TRUE(s.ok()) << s;
      answered.DecrementCount();
    });
  }
  absl::Status refused;
  writer.Submit(Insert("over"), [&](absl::Status s) { refused = s; });  // answered at once
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("--max_queued_writes"), absl::string_view::npos) << refused;
  release.Notify();
  answered.Wait();
  EXPECT_EQ(Count(), 3);
  EXPECT_EQ(writer.stats().refused_full, 1);
}

TEST_F(BatchWriterTest, WriteWaitsForTheOutcome) {
  Writer writer(Runner(), Writer::Options());
  EXPECT_EQ(writer.Write(Insert("x")), absl::OkStatus());
  EXPECT_EQ(Count("k = 'x'"), 1);
  EXPECT_EQ(writer.Write(Insert("x")).code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(BatchWriterTest, TheDestructorCommitsWhatIsQueued) {
  std::atomic<int> answered{0};
  {
    Writer writer(Runner(), Writer::Options());
    for (int i = 0; i < 50; ++i) {
      writer.Submit(Insert(absl::StrCat("d", i)), [&](absl::Status s) {
        EXPECT_TRUE(s.ok()) << s;
        ++answered;
      });
    }
  }
  EXPECT_EQ(answered.load(), 50);
  EXPECT_EQ(Count(), 50);
}

}  // namespace
}  // namespace suishin
