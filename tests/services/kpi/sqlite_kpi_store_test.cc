// The SQLite KPI store's change log: runs of one KPI's changes, sequences
// without gaps across groups and refused bodies, reads that say how far they
// looked, and the move of a version 2 file (one row per change) into runs.
#include "services/kpi/sqlite_kpi_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sqlite.h"
#include "tests/support/temp_dir.h"

namespace suishin::kpi {
namespace {

using ::suishin::testing::TempDir;

v1::Change MakeChange(const std::string& kpi, const std::string& region, int year, double value) {
  v1::Change change;
  change.set_kind(v1::CHANGE_KIND_ACTUAL_RECORDED);
  change.set_kpi_id(kpi);
  change.set_region_id(region);
  change.mutable_fiscal_year()->set_year(year);
  change.set_new_value(value);
  change.set_author("上川総合振興局");
  return change;
}

class SqliteKpiStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("kpi-store-test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(*std::move(dir));
  }

  std::unique_ptr<SqliteKpiStore> Open() {
    absl::StatusOr<std::unique_ptr<SqliteKpiStore>> store =
        SqliteKpiStore::Open(dir_->File("kpi.db"));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static ChangePage Read(KpiStore& store, ChangeQuery query) {
    ChangePage page;
    EXPECT_EQ(store.Read([&](KpiTransaction& tx) -> absl::Status {
      absl::StatusOr<ChangePage> read = tx.Changes(query);
      if (!read.ok()) return read.status();
      page = *std::move(read);
      return absl::OkStatus();
    }),
              absl::OkStatus());
    return page;
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(SqliteKpiStoreTest, SequencesStayGaplessAcrossRefusedBodiesAndGroups) {
  std::unique_ptr<SqliteKpiStore> store = Open();
  ASSERT_NE(store, nullptr);
  // Three KPIs' changes interleaved in one body, a refused body in the
  // middle of the group, and a body after it.
  const KpiStore::Body first = [](KpiTransaction& tx) -> absl::Status {
    for (int i = 0; i < 5; ++i) {
      v1::Change change =
          MakeChange(i % 2 == 0 ? "kodomoen" : "jishu-bousai", "kamikawa", 2015 + i, i);
      absl::StatusOr<int64_t> sequence = tx.AppendChange(change);
      if (!sequence.ok()) return sequence.status();
      EXPECT_EQ(*sequence, i + 1);
    }
    return absl::OkStatus();
  };
  const KpiStore::Body refused = [](KpiTransaction& tx) -> absl::Status {
    v1::Change change = MakeChange("kodomoen", "rumoi", 2019, 9);
    EXPECT_EQ(*tx.AppendChange(change), 6);
    return absl::InvalidArgumentError("value: refused");
  };
  const KpiStore::Body after = [](KpiTransaction& tx) -> absl::Status {
    v1::Change change = MakeChange("kodomoen", "soya", 2019, 4);
    absl::StatusOr<int64_t> sequence = tx.AppendChange(change);
    EXPECT_EQ(*sequence, 6);  // the refused body's sequence, given to the next
    return sequence.status();
  };
  std::vector<absl::Status> outcomes;
  ASSERT_EQ(store->RunGroup({&first, &refused, &after}, &outcomes), absl::OkStatus());
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_FALSE(outcomes[1].ok());
  EXPECT_TRUE(outcomes[2].ok());
  // A second group goes on from there.
  ASSERT_EQ(store->Run([](KpiTransaction& tx) -> absl::Status {
    v1::Change change = MakeChange("kodomoen", "soya", 2020, 5);
    EXPECT_EQ(*tx.AppendChange(change), 7);
    return absl::OkStatus();
  }),
            absl::OkStatus());

  ChangeQuery all;
  ChangePage page = Read(*store, all);
  ASSERT_EQ(page.changes.size(), 7u);
  for (size_t i = 0; i < page.changes.size(); ++i) EXPECT_EQ(page.changes[i].sequence(), i + 1);
  EXPECT_EQ(page.changes[5].region_id(), "soya");
  EXPECT_EQ(page.changes[5].kpi_id(), "kodomoen");
  EXPECT_EQ(page.changes[1].kpi_id(), "jishu-bousai");
  EXPECT_EQ(page.changes[1].fiscal_year().year(), 2016);
  EXPECT_EQ(page.changes[0].author(), "上川総合振興局");
  EXPECT_TRUE(page.at_end);
  EXPECT_EQ(page.scanned_through, 7);

  // One KPI, from the middle: only its changes, and the read says it looked
  // to the end of the log.
  ChangeQuery one;
  one.kpi_id = "jishu-bousai";
  one.from_sequence = 3;
  page = Read(*store, one);
  ASSERT_EQ(page.changes.size(), 1u);
  EXPECT_EQ(page.changes[0].sequence(), 4);
  EXPECT_EQ(page.scanned_through, 7);

  // A limit stops the read early and says where.
  ChangeQuery limited;
  limited.kpi_id = "kodomoen";
  limited.limit = 2;
  page = Read(*store, limited);
  ASSERT_EQ(page.changes.size(), 2u);
  EXPECT_FALSE(page.at_end);
  EXPECT_EQ(page.scanned_through, 3);

  // Reopened, the next sequence follows the last one stored.
  store.reset();
  store = Open();
  ASSERT_EQ(store->Run([](KpiTransaction& tx) -> absl::Status {
    v1::Change change = MakeChange("kodomoen", "soya", 2021, 6);
    EXPECT_EQ(*tx.AppendChange(change), 8);
    return absl::OkStatus();
  }),
            absl::OkStatus());
}

// A run leaves out what a change shares with the one before it: what comes
// back must be each change exactly, also where a field goes from set to
// empty or back.
TEST_F(SqliteKpiStoreTest, EveryChangeOfARunComesBackExactly) {
  std::unique_ptr<SqliteKpiStore> store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<v1::Change> written;
  for (int i = 0; i < 12; ++i) {
    v1::Change change = MakeChange("kodomoen", i % 3 == 0 ? "soya" : "rumoi", 2015 + i % 4, i);
    change.set_kind(i % 5 == 4 ? v1::CHANGE_KIND_ACTUAL_CORRECTED
                               : v1::CHANGE_KIND_ACTUAL_RECORDED);
    change.set_author(i % 4 == 1 ? "" : "上川総合振興局");
    change.set_reason(i % 3 == 2 ? "見直し" : "");
    change.mutable_change_time()->set_seconds(1700000000 + i / 4);
    change.mutable_change_time()->set_nanos(i % 2 == 0 ? 0 : 500);
    if (i % 5 == 4) change.set_old_value(i - 1);
    written.push_back(change);
  }
  ASSERT_EQ(store->Run([&](KpiTransaction& tx) -> absl::Status {
    for (v1::Change change : written) {
      absl::StatusOr<int64_t> sequence = tx.AppendChange(change);
      if (!sequence.ok()) return sequence.status();
    }
    return absl::OkStatus();
  }),
            absl::OkStatus());
  const ChangePage page = Read(*store, ChangeQuery());
  ASSERT_EQ(page.changes.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    v1::Change expected = written[i];
    expected.set_sequence(static_cast<int64_t>(i) + 1);
    EXPECT_EQ(page.changes[i].SerializeAsString(), expected.SerializeAsString())
        << i << ": " << page.changes[i].ShortDebugString() << " vs " << expected.ShortDebugString();
  }
}

TEST_F(SqliteKpiStoreTest, ALongRunIsSplitAndReadBackWhole) {
  std::unique_ptr<SqliteKpiStore> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(store->Run([](KpiTransaction& tx) -> absl::Status {
    for (int i = 0; i < 3000; ++i) {
      v1::Change change = MakeChange("imp-0001", "kamikawa", 1989 + i % 100, i);
      absl::StatusOr<int64_t> sequence = tx.AppendChange(change);
      if (!sequence.ok()) return sequence.status();
    }
    return absl::OkStatus();
  }),
            absl::OkStatus());
  ChangeQuery query;
  query.limit = 5000;
  query.from_sequence = 1500;
  ChangePage page = Read(*store, query);
  ASSERT_EQ(page.changes.size(), 1501u);
  EXPECT_EQ(page.changes.front().sequence(), 1500);
  EXPECT_DOUBLE_EQ(page.changes.front().new_value(), 1499);
  EXPECT_EQ(page.changes.back().sequence(), 3000);
}

// A file written before the log was kept in runs: one row per change, with
// KPI, region and year in columns. Opening it moves every change over with
// its sequence and content.
TEST_F(SqliteKpiStoreTest, MovesAVersionTwoLogIntoRuns) {
  {
    absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(dir_->File("kpi.db"));
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_EQ((*db)->Exec(R"sql(
CREATE TABLE kpis (key INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
                   project_id TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX kpis_by_project ON kpis (project_id, key);
CREATE TABLE baselines (kpi_id TEXT NOT NULL, region_id TEXT NOT NULL, data BLOB NOT NULL,
                        PRIMARY KEY (kpi_id, region_id));
CREATE TABLE targets (kpi_id TEXT NOT NULL, region_id TEXT NOT NULL, data BLOB NOT NULL,
                      PRIMARY KEY (kpi_id, region_id));
CREATE TABLE actuals (kpi_id TEXT NOT NULL, region_id TEXT NOT NULL,
                      fiscal_year INTEGER NOT NULL, value REAL NOT NULL, numerator REAL,
                      denominator REAL, reported_by TEXT NOT NULL,
                      report_time_us INTEGER NOT NULL,
                      PRIMARY KEY (kpi_id, region_id, fiscal_year)) WITHOUT ROWID;
CREATE TABLE changes (sequence INTEGER PRIMARY KEY, kpi_id TEXT NOT NULL,
                      region_id TEXT NOT NULL, fiscal_year INTEGER NOT NULL,
                      data BLOB NOT NULL);
PRAGMA user_version = 2;
)sql"),
              absl::OkStatus());
    absl::StatusOr<Statement> insert =
        (*db)->Prepare("INSERT INTO changes VALUES (?1, ?2, ?3, ?4, ?5)");
    ASSERT_TRUE(insert.ok());
    const std::vector<std::string> kpis = {"kodomoen", "kodomoen", "jishu-bousai", "kodomoen"};
    for (int i = 0; i < 4; ++i) {
      // As version 2 stored it: KPI, region and year only in the columns.
      v1::Change change = MakeChange(kpis[i], "", 0, 10 + i);
      change.clear_kpi_id();
      change.clear_region_id();
      change.clear_fiscal_year();
      insert->Reset();
      insert->BindInt(1, i + 1)
          .BindText(2, kpis[i])
          .BindText(3, i == 2 ? "rumoi" : "soya")
          .BindInt(4, 2015 + i)
          .BindBlob(5, change.SerializeAsString());
      ASSERT_EQ(insert->Run(), absl::OkStatus());
    }
  }
  std::unique_ptr<SqliteKpiStore> store = Open();
  ASSERT_NE(store, nullptr);
  ChangePage page = Read(*store, ChangeQuery());
  ASSERT_EQ(page.changes.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(page.changes[i].sequence(), i + 1);
    EXPECT_DOUBLE_EQ(page.changes[i].new_value(), 10 + i);
    EXPECT_EQ(page.changes[i].fiscal_year().year(), 2015 + i);
  }
  EXPECT_EQ(page.changes[2].kpi_id(), "jishu-bousai");
  EXPECT_EQ(page.changes[2].region_id(), "rumoi");
  EXPECT_EQ(page.changes[3].region_id(), "soya");
  ASSERT_EQ(store->Read([](KpiTransaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> last = tx.LastSequences();
    EXPECT_TRUE(last.ok());
    EXPECT_EQ(last->size(), 2u);
    for (const auto& [kpi, sequence] : *last) {
      EXPECT_EQ(sequence, kpi == "kodomoen" ? 4 : 3) << kpi;
    }
    return absl::OkStatus();
  }),
            absl::OkStatus());
  ASSERT_EQ(store->Run([](KpiTransaction& tx) -> absl::Status {
    v1::Change change = MakeChange("kodomoen", "soya", 2020, 5);
    EXPECT_EQ(*tx.AppendChange(change), 5);
    return absl::OkStatus();
  }),
            absl::OkStatus());
}

}  // namespace
}  // namespace suishin::kpi
