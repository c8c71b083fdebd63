#include "services/kpi/postgres_kpi_store.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "services/kpi/change_runs.h"

namespace suishin::kpi {
namespace {

// The advisory lock every write group takes: the change log's sequencer,
// (this number, the schema's hash): stores in different schemas of one
// database (the tests') keep sequencers of their own.
constexpr int64_t kChangeLogLock = 0x4b504931;  // "KPI1"

// What every write group NOTIFYs (at its commit) and Listen LISTENs to.
constexpr char kChangesChannel[] = "suishin_kpi_changes";

const std::vector<PgMigration>& Schema() {
  static const auto* migrations = new std::vector<PgMigration>{
      {1, R"sql(
CREATE TABLE kpis (
  key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  project_id text NOT NULL,
  name text NOT NULL,
  unit text NOT NULL,
  value_kind text NOT NULL,
  aggregation text NOT NULL,
  area_id text NOT NULL,
  data bytea NOT NULL
);
CREATE INDEX kpis_by_project ON kpis (project_id, key);
CREATE TABLE baselines (
  kpi_id text NOT NULL,
  region_id text NOT NULL,
  fiscal_year integer NOT NULL,
  value double precision NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (kpi_id, region_id)
);
CREATE TABLE targets (
  kpi_id text NOT NULL,
  region_id text NOT NULL,
  fiscal_year integer NOT NULL,
  value double precision NOT NULL,
  revisions integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (kpi_id, region_id)
);
CREATE TABLE actuals (
  kpi_id text NOT NULL,
  region_id text NOT NULL,
  fiscal_year integer NOT NULL,
  value double precision NOT NULL,
  numerator double precision,
  denominator double precision,
  reported_by text NOT NULL,
  report_time timestamptz NOT NULL,
  PRIMARY KEY (kpi_id, region_id, fiscal_year)
);
-- The change log in runs (services/kpi/change_runs.h); first_time is the
-- time of the run's first change, for SQL that asks when.
CREATE TABLE change_runs (
  first_sequence bigint PRIMARY KEY,
  last_sequence bigint NOT NULL,
  kpi_id text NOT NULL,
  first_time timestamptz NOT NULL,
  data bytea NOT NULL
);
CREATE INDEX change_runs_by_kpi ON change_runs (kpi_id, first_sequence);
)sql"},
  };
  return *migrations;
}

constexpr char kActualColumns[] =
    "kpi_id, region_id, fiscal_year, value, numerator, denominator, reported_by, "
    "suishin_micros(report_time)";

v1::Actual ReadActual(const PgResult& rows, int row) {
  v1::Actual actual;
  actual.set_kpi_id(std::string(rows.Text(row, 0)));
  actual.set_region_id(std::string(rows.Text(row, 1)));
  actual.mutable_fiscal_year()->set_year(static_cast<int32_t>(rows.Int(row, 2)));
  actual.set_value(rows.Double(row, 3));
  if (!rows.IsNull(row, 4)) actual.set_numerator(rows.Double(row, 4));
  if (!rows.IsNull(row, 5)) actual.set_denominator(rows.Double(row, 5));
  actual.set_reported_by(std::string(rows.Text(row, 6)));
  *actual.mutable_report_time() = ToProtoTimestamp(absl::FromUnixMicros(rows.Int(row, 7)));
  return actual;
}

std::vector<v1::Actual> ReadActuals(const PgResult& rows) {
  std::vector<v1::Actual> out;
  out.reserve(rows.rows());
  for (int row = 0; row < rows.rows(); ++row) out.push_back(ReadActual(rows, row));
  return out;
}

PgParams ActualParams(const v1::Actual& actual) {
  PgParams params;
  params.Text(actual.kpi_id())
      .Text(actual.region_id())
      .Int(actual.fiscal_year().year())
      .Double(actual.value())
      .OptionalDouble(actual.has_numerator(), actual.numerator())
      .OptionalDouble(actual.has_denominator(), actual.denominator())
      .Text(actual.reported_by())
      .Micros(FromProtoTimestamp(actual.report_time()));
  return params;
}

template <typename T>
absl::StatusOr<std::vector<T>> ReadMessages(const PgResult& rows, int column,
                                            absl::string_view table) {
  std::vector<T> out(rows.rows());
  for (int row = 0; row < rows.rows(); ++row) {
    if (!out[row].ParseFromString(rows.Bytes(row, column))) {
      return absl::DataLossError(absl::StrCat("a row of ", table, " does not parse"));
    }
  }
  return out;
}

}  // namespace

struct PostgresKpiStore::ChangeLog {
  int64_t next_sequence = 1;
};

namespace {

class PostgresTransaction : public KpiTransaction {
 public:
  // `log` is null in a read.
  PostgresTransaction(PgConnection& db, PostgresKpiStore::ChangeLog* log) : db_(db), log_(log) {}

  absl::StatusOr<std::optional<v1::Kpi>> FindKpi(absl::string_view id) override {
    ASSIGN_OR_RETURN(PgResult rows,
                     db_.Exec("SELECT data FROM kpis WHERE id = $1", PgParams().Text(id)));
    ASSIGN_OR_RETURN(std::vector<v1::Kpi> kpis, ReadMessages<v1::Kpi>(rows, 0, "kpis"));
    if (kpis.empty()) return std::optional<v1::Kpi>();
    return std::optional<v1::Kpi>(std::move(kpis[0]));
  }

  absl::StatusOr<std::vector<KeyedKpi>> ListKpis(absl::string_view project_id, int64_t after_key,
                                                 int limit) override {
    ASSIGN_OR_RETURN(PgResult rows,
                     db_.Exec("SELECT key, data FROM kpis WHERE key > $1 "
                              "AND ($2 = '' OR project_id = $2) ORDER BY key LIMIT $3",
                              PgParams().Int(after_key).Text(project_id).Int(limit)));
    ASSIGN_OR_RETURN(std::vector<v1::Kpi> kpis, ReadMessages<v1::Kpi>(rows, 1, "kpis"));
    std::vector<KeyedKpi> out;
    out.reserve(kpis.size());
    for (size_t i = 0; i < kpis.size(); ++i) {
      out.push_back({rows.Int(static_cast<int>(i), 0), std::move(kpis[i])});
    }
    return out;
  }

  absl::Status PutKpi(const v1::Kpi& kpi) override {
    return db_
        .Run(
            "INSERT INTO kpis (id, project_id, name, unit, value_kind, aggregation, area_id, "
            "data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET "
            "project_id = excluded.project_id, name = excluded.name, unit = excluded.unit, "
            "value_kind = excluded.value_kind, aggregation = excluded.aggregation, "
            "area_id = excluded.area_id, data = excluded.data",
            PgParams()
                .Text(kpi.id())
                .Text(kpi.project_id())
                .Text(kpi.name())
                .Text(kpi.unit())
                .Text(v1::ValueKind_Name(kpi.value_kind()))
                .Text(v1::AggregationRule_Name(kpi.aggregation()))
                .Text(kpi.area_id())
                .Bytes(kpi.SerializeAsString()))
        .status();
  }

  absl::StatusOr<std::vector<v1::Baseline>> Baselines(absl::string_view kpi_id) override {
    ASSIGN_OR_RETURN(PgResult rows,
                     db_.Exec("SELECT data FROM baselines WHERE kpi_id = $1 ORDER BY region_id",
                              PgParams().Text(kpi_id)));
    return ReadMessages<v1::Baseline>(rows, 0, "baselines");
  }

  absl::Status PutBaseline(absl::string_view kpi_id, const v1::Baseline& baseline) override {
    return db_
        .Run(
            "INSERT INTO baselines VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kpi_id, region_id) "
            "DO UPDATE SET fiscal_year = excluded.fiscal_year, value = excluded.value, "
            "data = excluded.data",
            PgParams()
                .Text(kpi_id)
                .Text(baseline.region_id())
                .Int(baseline.fiscal_year().year())
                .Double(baseline.value())
                .Bytes(baseline.SerializeAsString()))
        .status();
  }

  absl::StatusOr<std::vector<v1::Target>> Targets(absl::string_view kpi_id) override {
    ASSIGN_OR_RETURN(PgResult rows,
                     db_.Exec("SELECT data FROM targets WHERE kpi_id = $1 ORDER BY region_id",
                              PgParams().Text(kpi_id)));
    return ReadMessages<v1::Target>(rows, 0, "targets");
  }

  absl::Status PutTarget(absl::string_view kpi_id, const v1::Target& target) override {
    return db_
        .Run(
            "INSERT INTO targets VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kpi_id, region_id) "
            "DO UPDATE SET fiscal_year = excluded.fiscal_year, value = excluded.value, "
            "revisions = excluded.revisions, data = excluded.data",
            PgParams()
                .Text(kpi_id)
                .Text(target.region_id())
                .Int(target.fiscal_year().year())
                .Double(target.value())
                .Int(target.revisions_size())
                .Bytes(target.SerializeAsString()))
        .status();
  }

  absl::StatusOr<std::optional<v1::Actual>> FindActual(absl::string_view kpi_id,
                                                       absl::string_view region_id,
                                                       int fiscal_year) override {
    ASSIGN_OR_RETURN(PgResult rows,
                     db_.Exec(absl::StrCat("SELECT ", kActualColumns,
                                           " FROM actuals WHERE kpi_id = $1 AND region_id = $2 "
                                           "AND fiscal_year = $3"),
                              PgParams().Text(kpi_id).Text(region_id).Int(fiscal_year)));
    if (rows.rows() == 0) return std::optional<v1::Actual>();
    return std::optional<v1::Actual>(ReadActual(rows, 0));
  }

  absl::StatusOr<std::vector<v1::Actual>> Actuals(absl::string_view kpi_id,
                                                  absl::string_view region_id) override {
    ASSIGN_OR_RETURN(PgResult rows, db_.Exec(absl::StrCat("SELECT ", kActualColumns,
                                                          " FROM actuals WHERE kpi_id = $1 "
                                                          "AND ($2 = '' OR region_id = $2) "
                                                          "ORDER BY region_id, fiscal_year"),
                                             PgParams().Text(kpi_id).Text(region_id)));
    return ReadActuals(rows);
  }

  absl::StatusOr<std::vector<v1::Actual>> ActualsInYear(absl::string_view kpi_id,
                                                        int fiscal_year) override {
    ASSIGN_OR_RETURN(PgResult rows,
                     db_.Exec(absl::StrCat("SELECT ", kActualColumns,
                                           " FROM actuals WHERE kpi_id = $1 AND fiscal_year = $2 "
                                           "ORDER BY region_id"),
                              PgParams().Text(kpi_id).Int(fiscal_year)));
    return ReadActuals(rows);
  }

  absl::StatusOr<bool> InsertActualIfAbsent(const v1::Actual& actual) override {
    // A failed statement would abort the whole transaction: no conflict
    // error, a count of rows instead.
    ASSIGN_OR_RETURN(const int64_t added,
                     db_.Run("INSERT INTO actuals VALUES ($1, $2, $3, $4, $5, $6, $7, "
                             "suishin_time($8)) ON CONFLICT DO NOTHING",
                             ActualParams(actual)));
    return added == 1;
  }

  absl::Status PutActual(const v1::Actual& actual) override {
    return db_
        .Run(
            "INSERT INTO actuals VALUES ($1, $2, $3, $4, $5, $6, $7, suishin_time($8)) "
            "ON CONFLICT (kpi_id, region_id, fiscal_year) DO UPDATE SET value = excluded.value, "
            "numerator = excluded.numerator, denominator = excluded.denominator, "
            "reported_by = excluded.reported_by, report_time = excluded.report_time",
            ActualParams(actual))
        .status();
  }

  absl::StatusOr<int64_t> AppendChange(v1::Change& change) override {
    if (change.sequence() != 0) return absl::InternalError("a new change has no sequence yet");
    if (log_ == nullptr) return absl::FailedPreconditionError("the change log is read-only here");
    if (run_.Breaks(change)) RETURN_IF_ERROR(FlushRun());
    const int64_t sequence = log_->next_sequence++;
    change.set_principal(principal());
    if (run_.count == 0) run_time_ = FromProtoTimestamp(change.change_time());
    run_.Add(change, sequence);
    return sequence;
  }

  // Writes the run being built; called when a body ends, before its
  // savepoint is released, so a body's log is stored with its data.
  absl::Status FlushRun() {
    if (run_.count == 0) return absl::OkStatus();
    PgParams params;
    params.Int(run_.first).Int(run_.last).Text(run_.kpi).Micros(run_time_).Bytes(run_.data);
    run_.Clear();
    return db_.Run("INSERT INTO change_runs VALUES ($1, $2, $3, suishin_time($4), $5)", params)
        .status();
  }

  // Forgets the run being built (its body failed).
  void DiscardRun() { run_.Clear(); }

  absl::StatusOr<ChangePage> Changes(const ChangeQuery& query) override {
    RETURN_IF_ERROR(FlushRun());  // a write reading its own log sees it all
    ChangePageBuilder builder(query);
    const bool one_kpi = !query.kpi_id.empty();
    // From the run holding `from` (the last to start at or before it), in
    // pages, so a long log is not read into memory at once.
    ASSIGN_OR_RETURN(
        PgResult seek,
        db_.Exec(one_kpi ? "SELECT first_sequence FROM change_runs WHERE kpi_id = $2 "
                           "AND first_sequence <= $1 ORDER BY first_sequence DESC LIMIT 1"
                         : "SELECT first_sequence FROM change_runs WHERE first_sequence <= $1 "
                           "AND $2 = '' ORDER BY first_sequence DESC LIMIT 1",
                 PgParams().Int(builder.from()).Text(query.kpi_id)));
    int64_t start = seek.rows() > 0 ? seek.Int(0, 0) : builder.from();
    constexpr int kPage = 64;
    while (true) {
      ASSIGN_OR_RETURN(
          PgResult runs,
          db_.Exec(one_kpi ? "SELECT first_sequence, last_sequence, kpi_id, data FROM change_runs "
                             "WHERE kpi_id = $2 AND first_sequence >= $1 "
                             "ORDER BY first_sequence LIMIT $3"
                           : "SELECT first_sequence, last_sequence, kpi_id, data FROM change_runs "
                             "WHERE first_sequence >= $1 AND $2 = '' "
                             "ORDER BY first_sequence LIMIT $3",
                   PgParams().Int(start).Text(query.kpi_id).Int(kPage)));
      for (int row = 0; row < runs.rows(); ++row) {
        ASSIGN_OR_RETURN(bool more, builder.AddRun(runs.Int(row, 0), runs.Int(row, 1),
                                                   runs.Text(row, 2), runs.Bytes(row, 3)));
        if (!more) return builder.Finish(/*at_end=*/false, 0);
      }
      if (runs.rows() < kPage) break;
      start = runs.Int(runs.rows() - 1, 0) + 1;
    }
    ASSIGN_OR_RETURN(const int64_t last, LastSequence());
    return builder.Finish(/*at_end=*/true, last);
  }

  absl::StatusOr<int64_t> LastSequence() override {
    ASSIGN_OR_RETURN(PgResult rows, db_.Exec("SELECT last_sequence FROM change_runs "
                                             "ORDER BY first_sequence DESC LIMIT 1"));
    return rows.rows() > 0 ? rows.Int(0, 0) : 0;
  }

  absl::StatusOr<int64_t> LastSequenceOf(absl::string_view kpi_id) override {
    ASSIGN_OR_RETURN(PgResult rows,
                     db_.Exec("SELECT last_sequence FROM change_runs WHERE kpi_id = $1 "
                              "ORDER BY first_sequence DESC LIMIT 1",
                              PgParams().Text(kpi_id)));
    return rows.rows() > 0 ? rows.Int(0, 0) : 0;
  }

  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> LastSequences() override {
    ASSIGN_OR_RETURN(PgResult rows, db_.Exec("SELECT kpi_id, MAX(last_sequence) FROM change_runs "
                                             "GROUP BY kpi_id"));
    std::vector<std::pair<std::string, int64_t>> out;
    out.reserve(rows.rows());
    for (int row = 0; row < rows.rows(); ++row) {
      out.emplace_back(std::string(rows.Text(row, 0)), rows.Int(row, 1));
    }
    return out;
  }

 private:
  PgConnection& db_;
  PostgresKpiStore::ChangeLog* log_;
  // The run of one KPI's changes being built (written by FlushRun).
  RunBuilder run_;
  absl::Time run_time_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresKpiStore>> PostgresKpiStore::Open(const std::string& url,
                                                                         int readers) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> db, PgConnection::Connect(url));
  RETURN_IF_ERROR(db->Migrate(Schema()));
  ASSIGN_OR_RETURN(std::unique_ptr<PgPool> pool, PgPool::Open(url, readers));
  return std::unique_ptr<PostgresKpiStore>(
      new PostgresKpiStore(url, std::move(db), std::move(pool)));
}

PostgresKpiStore::PostgresKpiStore(std::string url, std::unique_ptr<PgConnection> db,
                                   std::unique_ptr<PgPool> readers)
    : url_(std::move(url)),
      db_(std::move(db)),
      log_(std::make_unique<ChangeLog>()),
      readers_(std::move(readers)) {}

absl::StatusOr<int64_t> PostgresKpiStore::LogHead() {
  ASSIGN_OR_RETURN(PgResult rows, readers_->Query("SELECT last_sequence FROM change_runs "
                                                  "ORDER BY first_sequence DESC LIMIT 1"));
  return rows.rows() > 0 ? rows.Int(0, 0) : 0;
}

std::unique_ptr<StoreListener> PostgresKpiStore::Listen() {
  return ListenTo(url_, kChangesChannel);
}

PostgresKpiStore::~PostgresKpiStore() = default;

absl::Status PostgresKpiStore::Read(const Body& body) {
  return readers_->Read([&](PgConnection& db) {
    PostgresTransaction transaction(db, /*log=*/nullptr);
    return body(transaction);
  });
}

absl::Status PostgresKpiStore::RunGroup(const std::vector<const Body*>& bodies,
                                        std::vector<absl::Status>* outcomes) {
  absl::MutexLock lock(&mu_);
  PostgresTransaction transaction(*db_, log_.get());
  // The sequencer: held to COMMIT, so the last sequence read after it is
  // the last committed by any replica (see the header).
  auto sequencer = [&]() -> absl::Status {
    RETURN_IF_ERROR(
        db_->Exec("SELECT pg_advisory_xact_lock($1::integer, hashtext(current_schema()))",
                  PgParams().Int(kChangeLogLock))
            .status());
    // Sent at COMMIT, and only then: the other replicas look at the log.
    RETURN_IF_ERROR(
        db_->Exec("SELECT pg_notify($1, '')", PgParams().Text(kChangesChannel)).status());
    ASSIGN_OR_RETURN(PgResult last, db_->Exec("SELECT last_sequence FROM change_runs "
                                              "ORDER BY first_sequence DESC LIMIT 1"));
    log_->next_sequence = (last.rows() > 0 ? last.Int(0, 0) : 0) + 1;
    return absl::OkStatus();
  };
  std::vector<std::function<absl::Status()>> steps =
      GroupSteps(bodies, transaction, log_->next_sequence);
  return db_->InGroupTransaction(sequencer, steps, outcomes);
}

}  // namespace suishin::kpi
