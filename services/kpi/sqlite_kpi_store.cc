#include "services/kpi/sqlite_kpi_store.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "services/kpi/change_runs.h"

namespace suishin::kpi {
namespace {

// Migration 3: the one-row-per-change log of version 2 into runs.
absl::Status MoveChangesIntoRuns(Database& db) {
  ASSIGN_OR_RETURN(Statement read, db.Prepare("SELECT sequence, kpi_id, region_id, fiscal_year, "
                                              "data FROM changes ORDER BY sequence"));
  ASSIGN_OR_RETURN(Statement write, db.Prepare("INSERT INTO change_runs VALUES (?1, ?2, ?3, ?4)"));
  std::string kpi;
  int64_t first = 0;
  int64_t last = 0;
  int count = 0;
  std::string data;
  RunContext context;
  auto flush = [&]() -> absl::Status {
    if (count == 0) return absl::OkStatus();
    write.Reset();
    write.BindInt(1, first).BindInt(2, last).BindText(3, kpi).BindBlob(4, data);
    RETURN_IF_ERROR(write.Run());
    count = 0;
    data.clear();
    context = RunContext();
    return absl::OkStatus();
  };
  while (true) {
    ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(v1::Change change, ParseColumn<v1::Change>(read, 4, "changes"));
    const int64_t sequence = read.ColumnInt(0);
    const std::string change_kpi = read.ColumnText(1);
    change.set_region_id(read.ColumnText(2));
    if (const int64_t year = read.ColumnInt(3); year != 0) {
      change.mutable_fiscal_year()->set_year(static_cast<int32_t>(year));
    }
    if (count > 0 && (change_kpi != kpi || count >= kMaxRun || sequence != last + 1)) {
      RETURN_IF_ERROR(flush());
    }
    if (count == 0) {
      kpi = change_kpi;
      first = sequence;
    }
    EncodeInto(change, context, &data);
    last = sequence;
    ++count;
  }
  RETURN_IF_ERROR(flush());
  return db.Exec("DROP TABLE changes");
}

const std::vector<Migration>& Schema() {
  static const auto* migrations = new std::vector<Migration>{
      {1, R"sql(
CREATE TABLE kpis (
  key INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  project_id TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX kpis_by_project ON kpis (project_id, key);
)sql"},
      {2, R"sql(
CREATE TABLE baselines (
  kpi_id TEXT NOT NULL,
  region_id TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (kpi_id, region_id)
);
CREATE TABLE targets (
  kpi_id TEXT NOT NULL,
  region_id TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (kpi_id, region_id)
);
CREATE TABLE actuals (
  kpi_id TEXT NOT NULL,
  region_id TEXT NOT NULL,
  fiscal_year INTEGER NOT NULL,
  value REAL NOT NULL,
  numerator REAL,
  denominator REAL,
  reported_by TEXT NOT NULL,
  report_time_us INTEGER NOT NULL,
  PRIMARY KEY (kpi_id, region_id, fiscal_year)
) WITHOUT ROWID;
-- The log is read by sequence (WatchChanges) far more than by KPI
-- (GetHistory), and written on every change: no second index to keep up.
-- Rows are never deleted, so the plain rowid is gapless and increasing
-- (AUTOINCREMENT would cost a write to sqlite_sequence per change).
CREATE TABLE changes (
  sequence INTEGER PRIMARY KEY,
  kpi_id TEXT NOT NULL,
  region_id TEXT NOT NULL,
  fiscal_year INTEGER NOT NULL,
  data BLOB NOT NULL
);
)sql"},
      {3, R"sql(
-- The change log in runs: consecutive changes of one KPI share a row, each
-- change a suishin.kpi.v1.Change without its sequence and KPI (first_sequence
-- + its place in the run, and kpi_id) and without the time, kind, author,
-- reason and region it shares with the change before it (see EncodeInto).
-- One row per run instead of one per change keeps a large import's log
-- cheap to write.
CREATE TABLE change_runs (
  first_sequence INTEGER PRIMARY KEY,
  last_sequence INTEGER NOT NULL,
  kpi_id TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX change_runs_by_kpi ON change_runs (kpi_id, first_sequence);
)sql",
       MoveChangesIntoRuns},
  };
  return *migrations;
}

void BindOptional(Statement& statement, int index, bool has, double value) {
  if (has) {
    statement.BindDouble(index, value);
  } else {
    statement.BindNull(index);
  }
}

}  // namespace

// Where the next change's sequence comes from: the writer's, kept across
// groups (a read-only transaction has none).
struct SqliteKpiStore::ChangeLog {
  int64_t next_sequence = 1;
};

namespace {

class SqliteTransaction : public KpiTransaction {
 public:
  SqliteTransaction(Database& db, SqliteKpiStore::ChangeLog* log) : db_(db), log_(log) {}

  absl::StatusOr<std::optional<v1::Kpi>> FindKpi(absl::string_view id) override {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("SELECT data FROM kpis WHERE id = ?"));
    statement->BindText(1, id);
    return ReadMessage<v1::Kpi>(*statement, 0, "kpis");
  }

  absl::StatusOr<std::vector<KeyedKpi>> ListKpis(absl::string_view project_id, int64_t after_key,
                                                 int limit) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT key, data FROM kpis WHERE key > ?1 "
                                "AND (?2 = '' OR project_id = ?2) ORDER BY key LIMIT ?3"));
    statement->BindInt(1, after_key).BindText(2, project_id).BindInt(3, limit);
    std::vector<KeyedKpi> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement->Step());
      if (!row) return out;
      ASSIGN_OR_RETURN(v1::Kpi kpi, ParseColumn<v1::Kpi>(*statement, 1, "kpis"));
      out.push_back({statement->ColumnInt(0), std::move(kpi)});
    }
  }

  absl::Status PutKpi(const v1::Kpi& kpi) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("INSERT INTO kpis (id, project_id, data) VALUES (?1, ?2, ?3) "
                                "ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id, "
                                "data = excluded.data"));
    statement->BindText(1, kpi.id()).BindText(2, kpi.project_id());
    statement->BindBlob(3, kpi.SerializeAsString());
    return statement->Run();
  }

  absl::StatusOr<std::vector<v1::Baseline>> Baselines(absl::string_view kpi_id) override {
    return ReadAll<v1::Baseline>("SELECT data FROM baselines WHERE kpi_id = ? ORDER BY region_id",
                                 kpi_id, "baselines");
  }

  absl::Status PutBaseline(absl::string_view kpi_id, const v1::Baseline& baseline) override {
    return Put(
        "INSERT INTO baselines VALUES (?1, ?2, ?3) ON CONFLICT (kpi_id, region_id) "
        "DO UPDATE SET data = excluded.data",
        kpi_id, baseline.region_id(), baseline.SerializeAsString());
  }

  absl::StatusOr<std::vector<v1::Target>> Targets(absl::string_view kpi_id) override {
    return ReadAll<v1::Target>("SELECT data FROM targets WHERE kpi_id = ? ORDER BY region_id",
                               kpi_id, "targets");
  }

  absl::Status PutTarget(absl::string_view kpi_id, const v1::Target& target) override {
    return Put(
        "INSERT INTO targets VALUES (?1, ?2, ?3) ON CONFLICT (kpi_id, region_id) "
        "DO UPDATE SET data = excluded.data",
        kpi_id, target.region_id(), target.SerializeAsString());
  }

  absl::StatusOr<std::optional<v1::Actual>> FindActual(absl::string_view kpi_id,
                                                       absl::string_view region_id,
                                                       int fiscal_year) override {
    ASSIGN_OR_RETURN(
        Statement * statement,
        db_.Cached("SELECT kpi_id, region_id, fiscal_year, value, numerator, denominator, "
                   "reported_by, report_time_us FROM actuals "
                   "WHERE kpi_id = ?1 AND region_id = ?2 AND fiscal_year = ?3"));
    statement->BindText(1, kpi_id).BindText(2, region_id).BindInt(3, fiscal_year);
    ASSIGN_OR_RETURN(bool row, statement->Step());
    if (!row) return std::optional<v1::Actual>();
    return std::optional<v1::Actual>(ReadActual(*statement));
  }

  absl::StatusOr<std::vector<v1::Actual>> Actuals(absl::string_view kpi_id,
                                                  absl::string_view region_id) override {
    ASSIGN_OR_RETURN(
        Statement * statement,
        db_.Cached("SELECT kpi_id, region_id, fiscal_year, value, numerator, denominator, "
                   "reported_by, report_time_us FROM actuals "
                   "WHERE kpi_id = ?1 AND (?2 = '' OR region_id = ?2) "
                   "ORDER BY region_id, fiscal_year"));
    statement->BindText(1, kpi_id).BindText(2, region_id);
    std::vector<v1::Actual> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement->Step());
      if (!row) return out;
      out.push_back(ReadActual(*statement));
    }
  }

  absl::StatusOr<std::vector<v1::Actual>> ActualsInYear(absl::string_view kpi_id,
                                                        int fiscal_year) override {
    ASSIGN_OR_RETURN(
        Statement * statement,
        db_.Cached("SELECT kpi_id, region_id, fiscal_year, value, numerator, denominator, "
                   "reported_by, report_time_us FROM actuals "
                   "WHERE kpi_id = ?1 AND fiscal_year = ?2 ORDER BY region_id"));
    statement->BindText(1, kpi_id).BindInt(2, fiscal_year);
    std::vector<v1::Actual> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement->Step());
      if (!row) return out;
      out.push_back(ReadActual(*statement));
    }
  }

  absl::StatusOr<bool> InsertActualIfAbsent(const v1::Actual& actual) override {
    // A plain INSERT: most rows are new, and a taken key is the statement's
    // own failure (the transaction goes on), cheaper than an upsert's check.
    ASSIGN_OR_RETURN(
        Statement * statement,
        CachedHere(insert_actual_, "INSERT INTO actuals VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    BindActual(*statement, actual);
    absl::Status inserted = statement->Run();
    if (inserted.ok()) return true;
    if (sqlite3_extended_errcode(db_.handle()) == SQLITE_CONSTRAINT_PRIMARYKEY) return false;
    return inserted;
  }

  absl::Status PutActual(const v1::Actual& actual) override {
    // Usually a correction of a row that is there: one seek by key.
    ASSIGN_OR_RETURN(Statement * update,
                     CachedHere(update_actual_,
                                "UPDATE actuals SET value = ?4, numerator = ?5, denominator = ?6, "
                                "reported_by = ?7, report_time_us = ?8 "
                                "WHERE kpi_id = ?1 AND region_id = ?2 AND fiscal_year = ?3"));
    BindActual(*update, actual);
    RETURN_IF_ERROR(update->Run());
    if (sqlite3_changes(db_.handle()) == 1) return absl::OkStatus();
    ASSIGN_OR_RETURN(bool added, InsertActualIfAbsent(actual));
    return added ? absl::OkStatus() : absl::InternalError("actuals: a row came and went");
  }

  absl::StatusOr<int64_t> AppendChange(v1::Change& change) override {
    if (change.sequence() != 0) return absl::InternalError("a new change has no sequence yet");
    if (log_ == nullptr) return absl::FailedPreconditionError("the change log is read-only here");
    if (run_.Breaks(change)) RETURN_IF_ERROR(FlushRun());
    const int64_t sequence = log_->next_sequence++;
    change.set_principal(principal());
    run_.Add(change, sequence);
    return sequence;
  }

  // Writes the run being built. Called when a body ends (before its savepoint
  // is released), so a body's log is in the database with its data.
  absl::Status FlushRun() {
    if (run_.count == 0) return absl::OkStatus();
    ASSIGN_OR_RETURN(Statement * statement,
                     CachedHere(append_run_, "INSERT INTO change_runs VALUES (?1, ?2, ?3, ?4)"));
    statement->BindInt(1, run_.first)
        .BindInt(2, run_.last)
        .BindTextUnowned(3, run_.kpi)
        .BindBlobUnowned(4, run_.data);
    run_.Clear();
    absl::Status status = statement->Run();
    statement->Reset();  // lets go of the run's data before it is reused
    return status;
  }

  // Forgets the run being built (its body failed).
  void DiscardRun() { run_.Clear(); }

  absl::StatusOr<ChangePage> Changes(const ChangeQuery& query) override {
    RETURN_IF_ERROR(FlushRun());  // a write reading its own log sees it all
    ChangePageBuilder builder(query);
    // The run holding `from`, or the first after it: seek, then walk on.
    ASSIGN_OR_RETURN(
        Statement * seek,
        db_.Cached(query.kpi_id.empty()
                       ? "SELECT first_sequence FROM change_runs WHERE first_sequence <= ?1 "
                         "ORDER BY first_sequence DESC LIMIT 1"
                       : "SELECT first_sequence FROM change_runs WHERE kpi_id = ?2 "
                         "AND first_sequence <= ?1 ORDER BY first_sequence DESC LIMIT 1"));
    seek->BindInt(1, builder.from());
    if (!query.kpi_id.empty()) seek->BindText(2, query.kpi_id);
    ASSIGN_OR_RETURN(bool found, seek->Step());
    const int64_t start = found ? seek->ColumnInt(0) : builder.from();
    seek->Reset();
    ASSIGN_OR_RETURN(
        Statement * runs,
        db_.Cached(query.kpi_id.empty()
                       ? "SELECT first_sequence, last_sequence, kpi_id, data FROM change_runs "
                         "WHERE first_sequence >= ?1 ORDER BY first_sequence"
                       : "SELECT first_sequence, last_sequence, kpi_id, data FROM change_runs "
                         "WHERE kpi_id = ?2 AND first_sequence >= ?1 ORDER BY first_sequence"));
    runs->BindInt(1, start);
    if (!query.kpi_id.empty()) runs->BindText(2, query.kpi_id);
    bool at_end = false;
    while (true) {
      ASSIGN_OR_RETURN(bool row, runs->Step());
      if (!row) {
        at_end = true;
        break;
      }
      ASSIGN_OR_RETURN(bool more, builder.AddRun(runs->ColumnInt(0), runs->ColumnInt(1),
                                                 runs->ColumnText(2), runs->ColumnBlob(3)));
      if (!more) break;
    }
    runs->Reset();
    int64_t last = 0;
    if (at_end) {
      ASSIGN_OR_RETURN(last, LastSequence());
    }
    return builder.Finish(at_end, last);
  }

  absl::StatusOr<int64_t> LastSequence() override {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("SELECT last_sequence FROM change_runs "
                                                       "ORDER BY first_sequence DESC LIMIT 1"));
    ASSIGN_OR_RETURN(bool row, statement->Step());
    const int64_t last = row ? statement->ColumnInt(0) : 0;
    statement->Reset();
    return last;
  }

  absl::StatusOr<int64_t> LastSequenceOf(absl::string_view kpi_id) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT last_sequence FROM change_runs WHERE kpi_id = ?1 "
                                "ORDER BY first_sequence DESC LIMIT 1"));
    statement->BindText(1, kpi_id);
    ASSIGN_OR_RETURN(bool row, statement->Step());
    const int64_t last = row ? statement->ColumnInt(0) : 0;
    statement->Reset();
    return last;
  }

  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> LastSequences() override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT kpi_id, MAX(last_sequence) FROM change_runs "
                                "GROUP BY kpi_id"));
    std::vector<std::pair<std::string, int64_t>> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement->Step());
      if (!row) return out;
      out.emplace_back(statement->ColumnText(0), statement->ColumnInt(1));
    }
  }

 private:
  static void BindActual(Statement& statement, const v1::Actual& actual) {
    // `actual` outlives the statement's one run.
    statement.BindTextUnowned(1, actual.kpi_id())
        .BindTextUnowned(2, actual.region_id())
        .BindInt(3, actual.fiscal_year().year())
        .BindDouble(4, actual.value());
    BindOptional(statement, 5, actual.has_numerator(), actual.numerator());
    BindOptional(statement, 6, actual.has_denominator(), actual.denominator());
    statement.BindTextUnowned(7, actual.reported_by())
        .BindInt(8, absl::ToUnixMicros(FromProtoTimestamp(actual.report_time())));
  }

  static v1::Actual ReadActual(const Statement& statement) {
    v1::Actual actual;
    actual.set_kpi_id(statement.ColumnText(0));
    actual.set_region_id(statement.ColumnText(1));
    actual.mutable_fiscal_year()->set_year(static_cast<int32_t>(statement.ColumnInt(2)));
    actual.set_value(statement.ColumnDouble(3));
    if (!statement.ColumnIsNull(4)) actual.set_numerator(statement.ColumnDouble(4));
    if (!statement.ColumnIsNull(5)) actual.set_denominator(statement.ColumnDouble(5));
    actual.set_reported_by(statement.ColumnText(6));
    *actual.mutable_report_time() = ToProtoTimestamp(absl::FromUnixMicros(statement.ColumnInt(7)));
    return actual;
  }

  template <typename T>
  absl::StatusOr<std::vector<T>> ReadAll(absl::string_view sql, absl::string_view kpi_id,
                                         absl::string_view table) {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached(sql));
    statement->BindText(1, kpi_id);
    return ReadMessages<T>(*statement, 0, table);
  }

  absl::Status Put(absl::string_view sql, absl::string_view kpi_id, absl::string_view region_id,
                   const std::string& data) {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached(sql));
    statement->BindText(1, kpi_id).BindText(2, region_id).BindBlob(3, data);
    return statement->Run();
  }

  Database& db_;
  // Statements of the hot paths, looked up once per unit of work; every
  // parameter is bound before each run, so the bindings are not cleared.
  absl::StatusOr<Statement*> CachedHere(Statement*& slot, absl::string_view sql) {
    if (slot == nullptr) {
      ASSIGN_OR_RETURN(slot, db_.Cached(sql));
    } else {
      slot->ResetKeepingBindings();
    }
    return slot;
  }

  SqliteKpiStore::ChangeLog* log_;
  Statement* append_run_ = nullptr;
  Statement* insert_actual_ = nullptr;
  Statement* update_actual_ = nullptr;
  // The run of one KPI's changes being built (written by FlushRun).
  RunBuilder run_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteKpiStore>> SqliteKpiStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
  RETURN_IF_ERROR(db->Migrate(Schema()));
  // The writer keeps up to 64 MiB of pages: a large import's b-tree and log
  // stay in memory while it is applied.
  RETURN_IF_ERROR(db->Exec("PRAGMA cache_size = -65536"));
  ASSIGN_OR_RETURN(std::unique_ptr<ReaderPool> readers, ReaderPool::Open(path, kReaders));
  std::unique_ptr<SqliteKpiStore> store(new SqliteKpiStore(std::move(db), std::move(readers)));
  {
    absl::MutexLock lock(&store->mu_);
    ASSIGN_OR_RETURN(store->checkpointer_, Checkpointer::Start(store->db_.get(), path));
  }
  RETURN_IF_ERROR(store->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(const int64_t last, tx.LastSequence());
    absl::MutexLock lock(&store->mu_);
    store->log_->next_sequence = last + 1;
    return absl::OkStatus();
  }));
  return store;
}

SqliteKpiStore::SqliteKpiStore(std::unique_ptr<Database> db, std::unique_ptr<ReaderPool> readers)
    : db_(std::move(db)), log_(std::make_unique<ChangeLog>()), readers_(std::move(readers)) {}

SqliteKpiStore::~SqliteKpiStore() {
  absl::MutexLock lock(&mu_);
  checkpointer_.reset();  // before the connection it watches
}

absl::Status SqliteKpiStore::Read(const Body& body) {
  return readers_->Read([&](Database& db) {
    SqliteTransaction transaction(db, /*log=*/nullptr);
    return body(transaction);
  });
}

absl::Status SqliteKpiStore::RunGroup(const std::vector<const Body*>& bodies,
                                      std::vector<absl::Status>* outcomes) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction transaction(*db_, log_.get());
  const int64_t group_start = log_->next_sequence;
  std::vector<std::function<absl::Status()>> steps =
      GroupSteps(bodies, transaction, log_->next_sequence);
  absl::Status committed = db_->InGroupTransaction(steps, outcomes);
  if (!committed.ok()) log_->next_sequence = group_start;
  return committed;
}

}  // namespace suishin::kpi
