#include "services/kpi/sqlite_kpi_store.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "common/status_macros.h"

namespace suishin::kpi {
namespace {

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

class SqliteTransaction : public KpiTransaction {
 public:
  explicit SqliteTransaction(Database& db) : db_(db) {}

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

  absl::StatusOr<bool> InsertActualIfAbsent(const v1::Actual& actual) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     CachedHere(insert_actual_,
                                "INSERT INTO actuals VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                                "ON CONFLICT (kpi_id, region_id, fiscal_year) DO NOTHING"));
    BindActual(*statement, actual);
    RETURN_IF_ERROR(statement->Run());
    return sqlite3_changes(db_.handle()) == 1;
  }

  absl::Status PutActual(const v1::Actual& actual) override {
    ASSIGN_OR_RETURN(
        Statement * statement,
        db_.Cached("INSERT INTO actuals VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                   "ON CONFLICT (kpi_id, region_id, fiscal_year) DO UPDATE SET "
                   "value = excluded.value, numerator = excluded.numerator, "
                   "denominator = excluded.denominator, reported_by = excluded.reported_by, "
                   "report_time_us = excluded.report_time_us"));
    BindActual(*statement, actual);
    return statement->Run();
  }

  absl::StatusOr<int64_t> AppendChange(v1::Change& change) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     CachedHere(append_change_,
                                "INSERT INTO changes (kpi_id, region_id, fiscal_year, data) "
                                "VALUES (?1, ?2, ?3, ?4)"));
    // The sequence is the row's key, and KPI, region and year are columns:
    // the stored message holds the rest. They are moved out (no copy) while
    // it is serialized, then put back.
    if (change.sequence() != 0) return absl::InternalError("a new change has no sequence yet");
    kpi_id_.clear();
    region_id_.clear();
    change.mutable_kpi_id()->swap(kpi_id_);
    change.mutable_region_id()->swap(region_id_);
    const int year = change.fiscal_year().year();
    common::v1::FiscalYear* fiscal_year = change.release_fiscal_year();
    change.SerializeToString(&buffer_);
    change.set_allocated_fiscal_year(fiscal_year);
    change.mutable_kpi_id()->swap(kpi_id_);
    change.mutable_region_id()->swap(region_id_);
    statement->BindText(1, change.kpi_id())
        .BindText(2, change.region_id())
        .BindInt(3, year)
        .BindBlob(4, buffer_);
    RETURN_IF_ERROR(statement->Run());
    return sqlite3_last_insert_rowid(db_.handle());
  }

  absl::StatusOr<std::vector<v1::Change>> Changes(const ChangeQuery& query) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT sequence, data, kpi_id, region_id, fiscal_year "
                                "FROM changes WHERE sequence >= ?1 "
                                "AND (?2 = '' OR kpi_id = ?2) AND (?3 = '' OR region_id = ?3) "
                                "AND (?4 = 0 OR fiscal_year = ?4) ORDER BY sequence LIMIT ?5"));
    statement->BindInt(1, query.from_sequence)
        .BindText(2, query.kpi_id)
        .BindText(3, query.region_id)
        .BindInt(4, query.fiscal_year)
        .BindInt(5, query.limit);
    std::vector<v1::Change> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement->Step());
      if (!row) return out;
      ASSIGN_OR_RETURN(v1::Change change, ParseColumn<v1::Change>(*statement, 1, "changes"));
      change.set_sequence(statement->ColumnInt(0));
      change.set_kpi_id(statement->ColumnText(2));
      change.set_region_id(statement->ColumnText(3));
      if (const int64_t year = statement->ColumnInt(4); year != 0) {
        change.mutable_fiscal_year()->set_year(static_cast<int32_t>(year));
      }
      out.push_back(std::move(change));
    }
  }

  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> LastSequences() override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT kpi_id, MAX(sequence) FROM changes GROUP BY kpi_id"));
    std::vector<std::pair<std::string, int64_t>> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement->Step());
      if (!row) return out;
      out.emplace_back(statement->ColumnText(0), statement->ColumnInt(1));
    }
  }

 private:
  static void BindActual(Statement& statement, const v1::Actual& actual) {
    statement.BindText(1, actual.kpi_id())
        .BindText(2, actual.region_id())
        .BindInt(3, actual.fiscal_year().year())
        .BindDouble(4, actual.value());
    BindOptional(statement, 5, actual.has_numerator(), actual.numerator());
    BindOptional(statement, 6, actual.has_denominator(), actual.denominator());
    statement.BindText(7, actual.reported_by())
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
  // Statements of the hot paths, looked up once per unit of work.
  absl::StatusOr<Statement*> CachedHere(Statement*& slot, absl::string_view sql) {
    if (slot == nullptr) {
      ASSIGN_OR_RETURN(slot, db_.Cached(sql));
    } else {
      slot->Reset();
    }
    return slot;
  }

  Statement* append_change_ = nullptr;
  Statement* insert_actual_ = nullptr;
  // Reused to serialize changes without allocating per row.
  std::string buffer_;
  std::string kpi_id_;
  std::string region_id_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteKpiStore>> SqliteKpiStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
  RETURN_IF_ERROR(db->Migrate(Schema()));
  ASSIGN_OR_RETURN(std::unique_ptr<Database> reader, Database::Open(path));
  return std::unique_ptr<SqliteKpiStore>(new SqliteKpiStore(std::move(db), std::move(reader)));
}

absl::Status SqliteKpiStore::Read(const std::function<absl::Status(KpiTransaction&)>& body) {
  absl::MutexLock lock(&read_mu_);
  SqliteTransaction transaction(*reader_);
  return reader_->InReadTransaction([&] { return body(transaction); });
}

absl::Status SqliteKpiStore::Run(const std::function<absl::Status(KpiTransaction&)>& body) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction transaction(*db_);
  return db_->InTransaction([&] { return body(transaction); });
}

}  // namespace suishin::kpi
