#include "common/sqlite.h"

#include <sys/stat.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace suishin {
namespace {

using ::suishin::testing::TempDir;

// A fresh database file in a temp dir that is removed when the test ends.
class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("sqlite-test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(*std::move(dir));
    path_ = dir_->File("test.sqlite3");
    db_ = OpenOrDie();
  }

  std::unique_ptr<Database> OpenOrDie() {
    absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(path_);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }

  // The single integer a query returns, or -1 when it returns no row.
  static int64_t QueryInt(Database& db, absl::string_view sql) {
    absl::StatusOr<Statement> statement = db.Prepare(sql);
    EXPECT_TRUE(statement.ok()) << statement.status();
    if (!statement.ok()) return -1;
    absl::StatusOr<bool> row = statement->Step();
    EXPECT_TRUE(row.ok()) << row.status();
    if (!row.ok() || !*row) return -1;
    return statement->ColumnInt(0);
  }

  static std::string QueryText(Database& db, absl::string_view sql) {
    absl::StatusOr<Statement> statement = db.Prepare(sql);
    EXPECT_TRUE(statement.ok()) << statement.status();
    if (!statement.ok()) return "";
    absl::StatusOr<bool> row = statement->Step();
    EXPECT_TRUE(row.ok()) << row.status();
    if (!row.ok() || !*row) return "";
    return statement->ColumnText(0);
  }

  static bool TableExists(Database& db, absl::string_view table) {
    absl::StatusOr<Statement> statement =
        db.Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
    EXPECT_TRUE(statement.ok()) << statement.status();
    if (!statement.ok()) return false;
    statement->BindText(1, table);
    absl::StatusOr<bool> row = statement->Step();
    EXPECT_TRUE(row.ok()) << row.status();
    return row.ok() && *row && statement->ColumnInt(0) == 1;
  }

  std::unique_ptr<TempDir> dir_;
  std::string path_;
  std::unique_ptr<Database> db_;
};

// ---------------------------------------------------------------- Open

TEST_F(SqliteTest, OpenUsesWalJournaling) {
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(QueryText(*db_, "PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteTest, OpenSetsSynchronousFull) {
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(QueryInt(*db_, "PRAGMA synchronous"), 2);  // 2 = FULL
}

TEST_F(SqliteTest, OpenTurnsForeignKeysOn) {
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(QueryInt(*db_, "PRAGMA foreign_keys"), 1);
}

TEST_F(SqliteTest, OpenSetsABusyTimeout) {
  ASSERT_NE(db_, nullptr);
  EXPECT_GT(QueryInt(*db_, "PRAGMA busy_timeout"), 0);
}

TEST_F(SqliteTest, OpenFailsForAFileInAMissingDirectory) {
  absl::StatusOr<std::unique_ptr<Database>> db =
      Database::Open(dir_->File("no-such-dir/test.sqlite3"));
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(absl::StrContains(db.status().message(), "no-such-dir")) << db.status();
}

TEST(SqliteMemoryTest, OpensAnInMemoryDatabase) {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(":memory:");
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->Exec("CREATE TABLE t (k INTEGER)"), absl::OkStatus());
}

TEST_F(SqliteTest, DataPersistsAfterClosingAndReopening) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"), absl::OkStatus());
  ASSERT_EQ(db_->Exec("INSERT INTO t VALUES ('稚内', 33000)"), absl::OkStatus());
  db_.reset();

  std::unique_ptr<Database> reopened = OpenOrDie();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(QueryInt(*reopened, "SELECT v FROM t WHERE k = '稚内'"), 33000);
}

// ---------------------------------------------------------------- Migrate

TEST_F(SqliteTest, NewFileHasSchemaVersionZero) {
  ASSERT_NE(db_, nullptr);
  absl::StatusOr<int> version = db_->SchemaVersion();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 0);
}

TEST_F(SqliteTest, MigrateAppliesEveryStepInOrderAndRecordsTheVersion) {
  ASSERT_NE(db_, nullptr);
  // Step 2 only works after step 1, step 3 only after step 2.
  ASSERT_EQ(db_->Migrate({
                {1, "CREATE TABLE t (k INTEGER PRIMARY KEY)"},
                {2, "ALTER TABLE t ADD COLUMN name TEXT"},
                {3, "INSERT INTO t (k, name) VALUES (1, 'one')"},
            }),
            absl::OkStatus());
  EXPECT_EQ(QueryText(*db_, "SELECT name FROM t WHERE k = 1"), "one");
  absl::StatusOr<int> version = db_->SchemaVersion();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 3);
}

TEST_F(SqliteTest, MigrateAgainIsANoOp) {
  ASSERT_NE(db_, nullptr);
  const std::vector<Migration> migrations = {
      {1, "CREATE TABLE t (k INTEGER PRIMARY KEY)"},
      {2, "INSERT INTO t VALUES (1)"},
  };
  ASSERT_EQ(db_->Migrate(migrations), absl::OkStatus());
  // Were either step run again, CREATE TABLE would fail or the count would be 2.
  ASSERT_EQ(db_->Migrate(migrations), absl::OkStatus());
  EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM t"), 1);
  EXPECT_EQ(*db_->SchemaVersion(), 2);
}

TEST_F(SqliteTest, MigrateAfterReopeningIsANoOp) {
  ASSERT_NE(db_, nullptr);
  const std::vector<Migration> migrations = {
      {1, "CREATE TABLE t (k INTEGER PRIMARY KEY)"},
      {2, "INSERT INTO t VALUES (1)"},
  };
  ASSERT_EQ(db_->Migrate(migrations), absl::OkStatus());
  db_.reset();
  std::unique_ptr<Database> reopened = OpenOrDie();
  ASSERT_NE(reopened, nullptr);
  ASSERT_EQ(reopened->Migrate(migrations), absl::OkStatus());
  EXPECT_EQ(QueryInt(*reopened, "SELECT count(*) FROM t"), 1);
  EXPECT_EQ(*reopened->SchemaVersion(), 2);
}

TEST_F(SqliteTest, MigrationAddedLaterAppliesAlone) {
  ASSERT_NE(db_, nullptr);
  std::vector<Migration> migrations = {
      {1, "CREATE TABLE t (k INTEGER PRIMARY KEY)"},
      {2, "INSERT INTO t VALUES (1)"},
  };
  ASSERT_EQ(db_->Migrate(migrations), absl::OkStatus());
  migrations.push_back({3, "INSERT INTO t VALUES (3)"});
  ASSERT_EQ(db_->Migrate(migrations), absl::OkStatus());
  // Row 1 once (step 2 not repeated), row 3 once.
  EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM t"), 2);
  EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM t WHERE k = 3"), 1);
  EXPECT_EQ(*db_->SchemaVersion(), 3);
}

TEST_F(SqliteTest, FailedMigrationIsRolledBackAndLeavesTheVersion) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Migrate({{1, "CREATE TABLE t (k INTEGER PRIMARY KEY)"}}), absl::OkStatus());
  // Step 2's first statement succeeds, its second fails.
  const absl::Status status = db_->Migrate({
      {1, "CREATE TABLE t (k INTEGER PRIMARY KEY)"},
      {2, "CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1)"},
      {3, "CREATE TABLE later (x INTEGER)"},
  });
  EXPECT_FALSE(status.ok());
  EXPECT_FALSE(TableExists(*db_, "half"));
  EXPECT_FALSE(TableExists(*db_, "later"));
  EXPECT_EQ(*db_->SchemaVersion(), 1);
}

TEST_F(SqliteTest, MigrateListedOutOfOrderStillAppliesEveryStep) {
  ASSERT_NE(db_, nullptr);
  const absl::Status status = db_->Migrate({
      {2, "CREATE TABLE b (x INTEGER)"},
      {1, "CREATE TABLE a (x INTEGER)"},
  });
  if (status.ok()) {
    EXPECT_TRUE(TableExists(*db_, "a"));
    EXPECT_TRUE(TableExists(*db_, "b"));
  } else {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  }
}

// ---------------------------------------------------------------- InTransaction

TEST_F(SqliteTest, InTransactionCommitsWhenTheBodySucceeds) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (k INTEGER)"), absl::OkStatus());
  ASSERT_EQ(db_->InTransaction([&]() -> absl::Status {
    absl::Status status = db_->Exec("INSERT INTO t VALUES (1)");
    if (!status.ok()) return status;
    return db_->Exec("INSERT INTO t VALUES (2)");
  }),
            absl::OkStatus());
  db_.reset();  // Committed means visible from a new connection.
  std::unique_ptr<Database> reopened = OpenOrDie();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(QueryInt(*reopened, "SELECT count(*) FROM t"), 2);
}

TEST_F(SqliteTest, InTransactionRollsBackEverythingAndReturnsTheBodysError) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (k INTEGER)"), absl::OkStatus());
  ASSERT_EQ(db_->Exec("INSERT INTO t VALUES (0)"), absl::OkStatus());
  const absl::Status status = db_->InTransaction([&]() -> absl::Status {
    EXPECT_EQ(db_->Exec("INSERT INTO t VALUES (1)"), absl::OkStatus());
    EXPECT_EQ(db_->Exec("UPDATE t SET k = 100 WHERE k = 0"), absl::OkStatus());
    EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM t"), 2);  // Written, not yet committed.
    return absl::FailedPreconditionError("version conflict");
  });
  EXPECT_EQ(status, absl::FailedPreconditionError("version conflict"));
  EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM t"), 1);
  EXPECT_EQ(QueryInt(*db_, "SELECT k FROM t"), 0);
}

TEST_F(SqliteTest, InTransactionCanRunAgainAfterARollback) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (k INTEGER)"), absl::OkStatus());
  ASSERT_FALSE(db_->InTransaction([]() { return absl::InternalError("boom"); }).ok());
  ASSERT_EQ(db_->InTransaction([&]() { return db_->Exec("INSERT INTO t VALUES (1)"); }),
            absl::OkStatus());
  EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM t"), 1);
}

// ---------------------------------------------------------------- Error mapping

TEST_F(SqliteTest, UniqueViolationIsAlreadyExists) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, name TEXT UNIQUE)"),
            absl::OkStatus());
  ASSERT_EQ(db_->Exec("INSERT INTO t VALUES (1, 'soya')"), absl::OkStatus());

  absl::StatusOr<Statement> insert = db_->Prepare("INSERT INTO t VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  insert->BindInt(1, 2).BindText(2, "soya");
  EXPECT_EQ(insert->Run().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(SqliteTest, PrimaryKeyViolationIsAlreadyExists) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY)"), absl::OkStatus());
  ASSERT_EQ(db_->Exec("INSERT INTO t VALUES ('soya')"), absl::OkStatus());
  EXPECT_EQ(db_->Exec("INSERT INTO t VALUES ('soya')").code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(SqliteTest, IntegerPrimaryKeyViolationIsAlreadyExists) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (seq INTEGER PRIMARY KEY)"), absl::OkStatus());
  ASSERT_EQ(db_->Exec("INSERT INTO t VALUES (7)"), absl::OkStatus());
  EXPECT_EQ(db_->Exec("INSERT INTO t VALUES (7)").code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(SqliteTest, OtherConstraintViolationsAreFailedPrecondition) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE parent (id INTEGER PRIMARY KEY);"
                      "CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent(id),"
                      "                    n INTEGER CHECK (n > 0))"),
            absl::OkStatus());
  EXPECT_EQ(db_->Exec("INSERT INTO child VALUES (NULL, 1)").code(),
            absl::StatusCode::kFailedPrecondition);  // NOT NULL
  EXPECT_EQ(db_->Exec("INSERT INTO child VALUES (42, 1)").code(),
            absl::StatusCode::kFailedPrecondition);  // FOREIGN KEY
  ASSERT_EQ(db_->Exec("INSERT INTO parent VALUES (42)"), absl::OkStatus());
  EXPECT_EQ(db_->Exec("INSERT INTO child VALUES (42, 0)").code(),
            absl::StatusCode::kFailedPrecondition);  // CHECK
}

TEST_F(SqliteTest, BadSqlIsInternalAndQuotesTheStatement) {
  ASSERT_NE(db_, nullptr);
  const absl::StatusOr<Statement> statement = db_->Prepare("SELEKT 1");
  ASSERT_FALSE(statement.ok());
  EXPECT_EQ(statement.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StrContains(statement.status().message(), "SELEKT 1")) << statement.status();
}

TEST_F(SqliteTest, AFailedBindIsReportedByStep) {
  ASSERT_NE(db_, nullptr);
  absl::StatusOr<Statement> statement = db_->Prepare("SELECT ?");
  ASSERT_TRUE(statement.ok()) << statement.status();
  statement->BindInt(2, 1);  // There is no parameter 2.
  const absl::StatusOr<bool> row = statement->Step();
  ASSERT_FALSE(row.ok());
  EXPECT_TRUE(absl::StrContains(row.status().message(), "bind")) << row.status();
}

TEST(SqliteErrorTest, BusyAndLockedAreUnavailable) {
  EXPECT_EQ(SqliteError(nullptr, SQLITE_BUSY, "step").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(nullptr, SQLITE_BUSY_SNAPSHOT, "step").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(nullptr, SQLITE_LOCKED, "step").code(), absl::StatusCode::kUnavailable);
}

TEST(SqliteErrorTest, MessageSaysWhichOperationFailed) {
  const absl::Status status = SqliteError(nullptr, SQLITE_IOERR, "write kpi");
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StartsWith(status.message(), "write kpi: ")) << status;
}

// ---------------------------------------------------------------- Bind / Step / Column

TEST_F(SqliteTest, RoundTripsEveryColumnType) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)"),
            absl::OkStatus());
  const int64_t big = std::numeric_limits<int64_t>::min();
  const double ratio = 0.1 + 0.2;  // Not exactly representable: must survive bit for bit.
  const std::string text = "宗谷総合振興局 \"quoted\" 😀";
  const std::string blob("\0\x01\xff\0tail\0", 9);

  absl::StatusOr<Statement> insert = db_->Prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  insert->BindInt(1, big).BindDouble(2, ratio).BindText(3, text).BindBlob(4, blob).BindNull(5);
  ASSERT_EQ(insert->Run(), absl::OkStatus());

  absl::StatusOr<Statement> select = db_->Prepare("SELECT i, d, s, b, n FROM t");
  ASSERT_TRUE(select.ok()) << select.status();
  absl::StatusOr<bool> row = select->Step();
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_TRUE(*row);
  EXPECT_EQ(select->ColumnInt(0), big);
  EXPECT_EQ(select->ColumnDouble(1), ratio);
  EXPECT_EQ(select->ColumnText(2), text);
  EXPECT_EQ(select->ColumnBlob(3), blob);
  EXPECT_EQ(select->ColumnBlob(3).size(), 9u);
  EXPECT_TRUE(select->ColumnIsNull(4));
  EXPECT_FALSE(select->ColumnIsNull(0));
  EXPECT_FALSE(select->ColumnIsNull(3));
  absl::StatusOr<bool> next = select->Step();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_FALSE(*next);
}

TEST_F(SqliteTest, EmptyTextAndBlobAreNotNull) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (s TEXT, b BLOB)"), absl::OkStatus());
  absl::StatusOr<Statement> insert = db_->Prepare("INSERT INTO t VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  insert->BindText(1, "").BindBlob(2, "");
  ASSERT_EQ(insert->Run(), absl::OkStatus());
  EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM t WHERE s IS NOT NULL AND b IS NOT NULL"), 1);
}

TEST_F(SqliteTest, ResetRunsAStatementAgainWithNewBindings) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (k INTEGER, v TEXT)"), absl::OkStatus());
  absl::StatusOr<Statement> insert = db_->Prepare("INSERT INTO t VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  insert->BindInt(1, 1).BindText(2, "one");
  ASSERT_EQ(insert->Run(), absl::OkStatus());
  insert->Reset();
  insert->BindInt(1, 2);  // Reset clears bindings: v is NULL this time.
  ASSERT_EQ(insert->Run(), absl::OkStatus());
  EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM t"), 2);
  EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM t WHERE k = 2 AND v IS NULL"), 1);
}

TEST_F(SqliteTest, StepReturnsEveryRowThenFalse) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (k INTEGER); INSERT INTO t VALUES (1), (2), (3)"),
            absl::OkStatus());
  absl::StatusOr<Statement> select = db_->Prepare("SELECT k FROM t ORDER BY k");
  ASSERT_TRUE(select.ok()) << select.status();
  std::vector<int64_t> keys;
  while (true) {
    absl::StatusOr<bool> row = select->Step();
    ASSERT_TRUE(row.ok()) << row.status();
    if (!*row) break;
    keys.push_back(select->ColumnInt(0));
  }
  EXPECT_EQ(keys, (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(SqliteTest, AMovedStatementStillWorks) {
  ASSERT_NE(db_, nullptr);
  absl::StatusOr<Statement> prepared = db_->Prepare("SELECT 7");
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  Statement moved = *std::move(prepared);
  absl::StatusOr<Statement> other = db_->Prepare("SELECT 8");
  ASSERT_TRUE(other.ok()) << other.status();
  moved = *std::move(other);  // Finalises "SELECT 7", takes over "SELECT 8".
  absl::StatusOr<bool> row = moved.Step();
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_TRUE(*row);
  EXPECT_EQ(moved.ColumnInt(0), 8);
}

// ---------------------------------------------------------------- Group commit

TEST_F(SqliteTest, AGroupKeepsTheBodiesThatSucceedAndNothingOfTheOneThatFailed) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"), absl::OkStatus());
  std::vector<absl::Status> outcomes;
  const absl::Status committed = db_->InGroupTransaction(
      {[&] { return db_->Exec("INSERT INTO t VALUES ('上川', 41)"); },
       [&]() -> absl::Status {
         // Writes, then is refused: its write must vanish with it.
         EXPECT_EQ(db_->Exec("INSERT INTO t VALUES ('留萌', 4)"), absl::OkStatus());
         return absl::InvalidArgumentError("value: refused");
       },
       // Sees the first body's row: bodies run in order in one transaction.
       [&] { return db_->Exec("UPDATE t SET v = v + 1 WHERE k = '上川'"); },
       // A constraint violation fails this body only.
       [&] { return db_->Exec("INSERT INTO t VALUES ('上川', 0)"); },
       [&] { return db_->Exec("INSERT INTO t VALUES ('宗谷', 3)"); }},
      &outcomes);
  ASSERT_EQ(committed, absl::OkStatus());
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_EQ(outcomes[1].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(outcomes[2].ok());
  EXPECT_FALSE(outcomes[3].ok());
  EXPECT_TRUE(outcomes[4].ok());
  EXPECT_EQ(QueryInt(*db_, "SELECT v FROM t WHERE k = '上川'"), 42);
  EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM t WHERE k = '留萌'"), 0);
  EXPECT_EQ(QueryInt(*db_, "SELECT v FROM t WHERE k = '宗谷'"), 3);
  // Nothing is left open: the next transaction starts cleanly.
  EXPECT_EQ(db_->InTransaction([&] { return db_->Exec("DELETE FROM t"); }), absl::OkStatus());
}

TEST_F(SqliteTest, AFailedGroupCommitFailsEveryBodyAndStoresNothing) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE parent (k INTEGER PRIMARY KEY);"
                      "CREATE TABLE child (p INTEGER REFERENCES parent (k) "
                      "DEFERRABLE INITIALLY DEFERRED)"),
            absl::OkStatus());
  std::vector<absl::Status> outcomes;
  // A deferred foreign key fails at COMMIT, after every body said OK.
  const absl::Status committed =
      db_->InGroupTransaction({[&] { return db_->Exec("INSERT INTO parent VALUES (1)"); },
                               [&] { return db_->Exec("INSERT INTO child VALUES (2)"); }},
                              &outcomes);
  EXPECT_FALSE(committed.ok());
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0], committed);
  EXPECT_EQ(outcomes[1], committed);
  EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM parent"), 0);
}

TEST_F(SqliteTest, ReadersSeeTheLastCommitWhileAWriteIsOpen) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (k INTEGER)"), absl::OkStatus());
  ASSERT_EQ(db_->Exec("INSERT INTO t VALUES (1)"), absl::OkStatus());
  absl::StatusOr<std::unique_ptr<ReaderPool>> pool = ReaderPool::Open(path_, 2);
  ASSERT_TRUE(pool.ok()) << pool.status();
  // The writer holds its transaction open (with an uncommitted row) while
  // both readers read: neither waits, and neither sees the row.
  ASSERT_EQ(db_->InTransaction([&]() -> absl::Status {
    EXPECT_EQ(db_->Exec("INSERT INTO t VALUES (2)"), absl::OkStatus());
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ((*pool)->Read([&](Database& reader) -> absl::Status {
        EXPECT_EQ(QueryInt(reader, "SELECT count(*) FROM t"), 1);
        return absl::OkStatus();
      }),
                absl::OkStatus());
    }
    return absl::OkStatus();
  }),
            absl::OkStatus());
  EXPECT_EQ((*pool)->Read([&](Database& reader) -> absl::Status {
    EXPECT_EQ(QueryInt(reader, "SELECT count(*) FROM t"), 2);
    return absl::OkStatus();
  }),
            absl::OkStatus());
}

// The writer's log is checkpointed on another thread once it grows past the
// threshold: the rows reach the database file without the writer copying
// them itself.
TEST_F(SqliteTest, TheCheckpointerCopiesTheLogIntoTheFileOffTheWritersThread) {
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(db_->Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)"), absl::OkStatus());
  absl::StatusOr<std::unique_ptr<Checkpointer>> checkpointer =
      Checkpointer::Start(db_.get(), path_, /*pages=*/8);
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status();
  const std::string blob(4000, 'x');
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(db_->InTransaction([&]() -> absl::Status {
      absl::StatusOr<Statement> insert = db_->Prepare("INSERT INTO t VALUES (?, ?)");
      if (!insert.ok()) return insert.status();
      insert->BindInt(1, i).BindBlob(2, blob);
      return insert->Run();
    }),
              absl::OkStatus());
  }
  const absl::Time limit = absl::Now() + absl::Seconds(10);
  while ((*checkpointer)->checkpoints() == 0 && absl::Now() < limit) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GT((*checkpointer)->checkpoints(), 0);
  checkpointer->reset();  // a last checkpoint, then the hook is gone
  // The file itself (not only its log) now holds the rows: 40 × 4 KB.
  struct stat file;
  ASSERT_EQ(stat(path_.c_str(), &file), 0);
  EXPECT_GT(file.st_size, 40 * 4000);
  EXPECT_EQ(QueryInt(*db_, "SELECT count(*) FROM t"), 40);
}

}  // namespace
}  // namespace suishin
