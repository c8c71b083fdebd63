#include "tools/loadgen/import_load.h"

#include <sqlite3.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/loadgen/loader.h"
#include "tools/loadgen/synthetic_dataset.h"

namespace suishin::loadgen {
namespace {

void PrintRate(const std::string& label, int64_t rows, absl::Duration elapsed, std::ostream& out) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  const double rate = seconds > 0 ? static_cast<double>(rows) / seconds : 0;
  out << absl::StrFormat("%s: %d rows in %.3f s = %.0f rows/s\n", label, rows, seconds, rate);
  out << absl::StrFormat("RESULT label=%s rows=%d seconds=%.3f rows_per_s=%.0f\n", label, rows,
                         seconds, rate);
  out.flush();
}

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

absl::Status SqliteFailure(sqlite3* db, absl::string_view what) {
  return absl::InternalError(absl::StrCat("sqlite: ", what, ": ", sqlite3_errmsg(db)));
}

absl::Status Exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqliteFailure(db, sql);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunImportBenchmark(plan::v1::PlanService::StubInterface& plan,
                                kpi::v1::KpiService::StubInterface& kpi,
                                const ImportOptions& options, std::ostream& out) {
  const BulkActuals bulk = MakeBulkActuals(options.rows);
  out << "import: " << bulk.rows.size() << " actual rows for " << bulk.kpis.size()
      << " KPIs (imp-0001…) × their area's subprefectures × fiscal years 1989–2100, in messages of "
      << options.batch << " rows" << std::endl;
  if (absl::Status status = LoadPlan(plan, MakeHokkaidoPlan(), options.timeout, out);
      !status.ok()) {
    return status;
  }
  if (absl::Status status =
          CreateKpis(kpi, bulk.kpis, options.create_threads, options.timeout, out);
      !status.ok()) {
    return status;
  }

  size_t next = 0;
  auto next_batch = [&](kpi::v1::ImportActualsRequest& request) {
    if (next >= bulk.rows.size()) return false;
    const size_t end = std::min(bulk.rows.size(), next + static_cast<size_t>(options.batch));
    for (; next < end; ++next) {
      const BulkActuals::Row& source = bulk.rows[next];
      kpi::v1::ImportRow* row = request.add_rows();
      row->set_line(static_cast<int64_t>(next + 1));
      row->set_kind(kpi::v1::ROW_KIND_ACTUAL);
      row->set_kpi_id(bulk.kpi_ids[source.kpi]);
      row->set_region_id(bulk.region_ids[source.region]);
      row->mutable_fiscal_year()->set_year(source.year);
      row->set_value(source.value);
      row->set_reported_by("loadgen");
    }
    return true;
  };
  const int64_t step = std::max<int64_t>(100000, options.batch);
  auto progress = [&](int64_t sent) {
    if (sent % step == 0) out << "import: " << sent << " rows sent" << std::endl;
  };
  out << "import: streaming (the clock starts now)" << std::endl;
  absl::StatusOr<ImportResult> result =
      StreamImport(kpi, next_batch, options.import_timeout, progress);
  if (!result.ok()) return result.status();
  if (result->rows_applied != result->rows_sent) {
    out << "import: WARNING: the server applied " << result->rows_applied << " of "
        << result->rows_sent << " rows\n";
  }
  PrintRate("import", result->rows_applied, result->elapsed, out);
  return absl::OkStatus();
}

absl::Status RunSqliteBaseline(const std::string& path, int64_t rows, std::ostream& out) {
  const BulkActuals bulk = MakeBulkActuals(rows);
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::unique_ptr<sqlite3, SqliteCloser> db(raw);
  if (rc != SQLITE_OK) return SqliteFailure(db.get(), absl::StrCat("open ", path));
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                          "DROP TABLE IF EXISTS loadgen_actuals",
                          "CREATE TABLE loadgen_actuals (kpi_id TEXT NOT NULL, region_id TEXT "
                          "NOT NULL, fiscal_year INTEGER NOT NULL, value REAL NOT NULL, PRIMARY "
                          "KEY (kpi_id, region_id, fiscal_year))"}) {
    if (absl::Status status = Exec(db.get(), sql); !status.ok()) return status;
  }
  out << "sqlite-baseline: " << bulk.rows.size() << " rows into " << path
      << " (WAL, synchronous=FULL, one prepared INSERT, one transaction)" << std::endl;

  const absl::Time start = absl::Now();
  sqlite3_stmt* raw_stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), "INSERT INTO loadgen_actuals VALUES (?, ?, ?, ?)", -1, &raw_stmt,
                         nullptr) != SQLITE_OK) {
    return SqliteFailure(db.get(), "prepare INSERT");
  }
  std::unique_ptr<sqlite3_stmt, StatementFinalizer> insert(raw_stmt);
  if (absl::Status status = Exec(db.get(), "BEGIN"); !status.ok()) return status;
  for (const BulkActuals::Row& row : bulk.rows) {
    const std::string& kpi_id = bulk.kpi_ids[row.kpi];
    const std::string& region_id = bulk.region_ids[row.region];
    sqlite3_bind_text(insert.get(), 1, kpi_id.data(), static_cast<int>(kpi_id.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(insert.get(), 2, region_id.data(), static_cast<int>(region_id.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int(insert.get(), 3, row.year);
    sqlite3_bind_double(insert.get(), 4, row.value);
    if (sqlite3_step(insert.get()) != SQLITE_DONE) return SqliteFailure(db.get(), "INSERT");
    sqlite3_reset(insert.get());
  }
  if (absl::Status status = Exec(db.get(), "COMMIT"); !status.ok()) return status;
  const absl::Duration elapsed = absl::Now() - start;

  PrintRate("sqlite", static_cast<int64_t>(bulk.rows.size()), elapsed, out);
  return absl::OkStatus();
}

}  // namespace suishin::loadgen
