// The KPI stores' change log, on SQLite and PostgreSQL alike: runs of one
// KPI's changes, sequences without gaps across groups and refused bodies,
// reads that say how far they looked. On SQLite, the move of a version 2
// file (one row per change) into runs. On PostgreSQL, several writers (two
// stores on one database, as two replicas) sharing one gapless log that a
// reader follows without skipping, and figures in columns SQL can read.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/postgres.h"
#include "common/proto_util.h"
#include "common/sqlite.h"
#include "services/kpi/open_kpi_store.h"
#include "services/kpi/sqlite_kpi_store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

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

// Each test's store: a SQLite file, or a schema of its own in the test
// PostgreSQL (the parameter says which).
class KpiStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("kpi-store-test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(*std::move(dir));
    location_ = dir_->File("kpi.db");
    if (GetParam() == "postgresql") {
      absl::StatusOr<std::string> url = suishin::testing::NewPostgresStore();
      ASSERT_TRUE(url.ok()) << url.status();
      location_ = *url;
    }
  }

  std::unique_ptr<KpiStore> Open() {
    absl::StatusOr<std::unique_ptr<KpiStore>> store = OpenKpiStore(location_);
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
  std::string location_;
};

INSTANTIATE_TEST_SUITE_P(Engines, KpiStoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

using SqliteKpiStoreTest = KpiStoreTest;
INSTANTIATE_TEST_SUITE_P(Sqlite, SqliteKpiStoreTest, ::testing::Values("sqlite"),
                         [](const auto& info) { return info.param; });

using PostgresKpiStoreTest = KpiStoreTest;
INSTANTIATE_TEST_SUITE_P(Postgres, PostgresKpiStoreTest, ::testing::Values("postgresql"),
                         [](const auto& info) { return info.param; });

TEST_P(KpiStoreTest, SequencesStayGaplessAcrossRefusedBodiesAndGroups) {
  std::unique_ptr<KpiStore> store = Open();
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
TEST_P(KpiStoreTest, EveryChangeOfARunComesBackExactly) {
  std::unique_ptr<KpiStore> store = Open();
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

TEST_P(KpiStoreTest, ALongRunIsSplitAndReadBackWhole) {
  std::unique_ptr<KpiStore> store = Open();
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
TEST_P(SqliteKpiStoreTest, MovesAVersionTwoLogIntoRuns) {
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
  std::unique_ptr<KpiStore> store = Open();
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

// Two stores on one database are two replicas' writers. Their groups
// interleave; the log they share must still be 1, 2, 3, ... with every
// change once, and a reader following it (always asking for what comes
// after the last sequence it saw) must never find a hole it later skips.
TEST_P(PostgresKpiStoreTest, SeveralWritersShareOneGaplessLogAFollowerNeverSkips) {
  std::unique_ptr<KpiStore> a = Open();
  std::unique_ptr<KpiStore> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kGroups = 60;
  std::atomic<bool> writing{true};
  auto write = [&](KpiStore* store, std::string kpi, std::vector<int64_t>* got) {
    for (int i = 0; i < kGroups; ++i) {
      // A group of two bodies, the second refused: its sequences go to the
      // next group, so the refusal leaves no hole either.
      KpiStore::Body ok = [&](KpiTransaction& tx) -> absl::Status {
        for (int n = 0; n < 3; ++n) {
          v1::Change change = MakeChange(kpi, "soya", 2019, i * 3 + n);
          absl::StatusOr<int64_t> sequence = tx.AppendChange(change);
          if (!sequence.ok()) return sequence.status();
          got->push_back(*sequence);
        }
        return absl::OkStatus();
      };
      KpiStore::Body refused = [&](KpiTransaction& tx) -> absl::Status {
        v1::Change change = MakeChange(kpi, "rumoi", 2019, -1);
        if (!tx.AppendChange(change).ok()) return absl::InternalError("append");
        return absl::InvalidArgumentError("refused");
      };
      const size_t before = got->size();
      std::vector<absl::Status> outcomes;
      ASSERT_EQ(store->RunGroup({&ok, &refused}, &outcomes), absl::OkStatus());
      ASSERT_EQ(outcomes[0], absl::OkStatus());
      ASSERT_EQ(outcomes[1].code(), absl::StatusCode::kInvalidArgument);
      ASSERT_EQ(got->size(), before + 3);
    }
  };
  std::vector<int64_t> from_a, from_b;
  std::vector<int64_t> followed;
  std::thread follower([&] {
    int64_t last = 0;
    while (true) {
      const bool done = !writing.load();
      ChangeQuery query;
      query.from_sequence = last + 1;
      ChangePage page = Read(*b, query);
      for (const v1::Change& change : page.changes) {
        // The first one read must be the one right after the last seen.
        EXPECT_EQ(change.sequence(), last + 1) << "the follower skipped";
        last = change.sequence();
        followed.push_back(last);
      }
      if (done && page.changes.empty()) return;
    }
  });
  std::thread writer_a(write, a.get(), "kodomoen", &from_a);
  std::thread writer_b(write, b.get(), "jishu-bousai", &from_b);
  writer_a.join();
  writer_b.join();
  writing = false;
  follower.join();

  std::vector<int64_t> all = from_a;
  all.insert(all.end(), from_b.begin(), from_b.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 2u * kGroups * 3);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<int64_t>(i + 1));
  EXPECT_EQ(followed, all);
}

// What a BI tool sees: the figures in typed columns, not only messages.
TEST_P(PostgresKpiStoreTest, FiguresSitInColumnsSqlCanRead) {
  std::unique_ptr<KpiStore> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(store->Run([](KpiTransaction& tx) -> absl::Status {
    v1::Kpi kpi;
    kpi.set_id("kodomoen");
    kpi.set_project_id("kosodate");
    kpi.set_name("認定こども園設置数");
    kpi.set_unit("箇所");
    kpi.set_value_kind(v1::VALUE_KIND_COUNT);
    if (absl::Status put = tx.PutKpi(kpi); !put.ok()) return put;
    v1::Baseline baseline;
    baseline.set_region_id("soya");
    baseline.mutable_fiscal_year()->set_year(2014);
    baseline.set_value(3);
    if (absl::Status put = tx.PutBaseline("kodomoen", baseline); !put.ok()) return put;
    v1::Actual actual;
    actual.set_kpi_id("kodomoen");
    actual.set_region_id("soya");
    actual.mutable_fiscal_year()->set_year(2018);
    actual.set_value(5.5);
    actual.set_reported_by("宗谷総合振興局");
    *actual.mutable_report_time() = ToProtoTimestamp(absl::FromUnixMicros(1561939200123456));
    return tx.PutActual(actual);
  }),
            absl::OkStatus());
  absl::StatusOr<std::unique_ptr<PgConnection>> sql = PgConnection::Connect(location_);
  ASSERT_TRUE(sql.ok()) << sql.status();
  absl::StatusOr<PgResult> rows = (*sql)->Exec(
      "SELECT k.name, k.value_kind, b.value, a.value, a.fiscal_year, "
      "to_char(a.report_time, 'YYYY-MM-DD HH24:MI:SS.US'), pg_typeof(a.value)::text, "
      "pg_typeof(a.report_time)::text FROM kpis k JOIN baselines b ON b.kpi_id = k.id "
      "JOIN actuals a ON a.kpi_id = k.id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows(), 1);
  EXPECT_EQ(rows->Text(0, 0), "認定こども園設置数");
  EXPECT_EQ(rows->Text(0, 1), "VALUE_KIND_COUNT");
  EXPECT_DOUBLE_EQ(rows->Double(0, 2), 3);
  EXPECT_DOUBLE_EQ(rows->Double(0, 3), 5.5);
  EXPECT_EQ(rows->Int(0, 4), 2018);
  EXPECT_EQ(rows->Text(0, 5), "2019-07-01 00:00:00.123456");
  EXPECT_EQ(rows->Text(0, 6), "double precision");
  EXPECT_EQ(rows->Text(0, 7), "timestamp with time zone");
}

// A write through a read is refused, and leaves nothing.
TEST_P(KpiStoreTest, AWriteThroughAReadIsRefused) {
  std::unique_ptr<KpiStore> store = Open();
  ASSERT_NE(store, nullptr);
  const absl::Status status = store->Read([](KpiTransaction& tx) -> absl::Status {
    v1::Kpi kpi;
    kpi.set_id("kodomoen");
    return tx.PutKpi(kpi);
  });
  EXPECT_FALSE(status.ok());
  ASSERT_EQ(store->Read([](KpiTransaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<v1::Kpi>> kpi = tx.FindKpi("kodomoen");
    EXPECT_TRUE(kpi.ok() && !kpi->has_value());
    return absl::OkStatus();
  }),
            absl::OkStatus());
}

}  // namespace
}  // namespace suishin::kpi
