#include "services/kpi/sqlite_kpi_store.h"

#include <utility>
#include <vector>

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
  };
  return *migrations;
}

absl::StatusOr<v1::Kpi> ParseKpi(const std::string& bytes) {
  v1::Kpi kpi;
  if (!kpi.ParseFromString(bytes)) return absl::DataLossError("a row of kpis does not parse");
  return kpi;
}

class SqliteTransaction : public KpiTransaction {
 public:
  explicit SqliteTransaction(Database& db) : db_(db) {}

  absl::StatusOr<std::optional<v1::Kpi>> FindKpi(absl::string_view id) override {
    ASSIGN_OR_RETURN(Statement statement, db_.Prepare("SELECT data FROM kpis WHERE id = ?"));
    statement.BindText(1, id);
    ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return std::optional<v1::Kpi>();
    ASSIGN_OR_RETURN(v1::Kpi kpi, ParseKpi(statement.ColumnBlob(0)));
    return std::optional<v1::Kpi>(std::move(kpi));
  }

  absl::StatusOr<std::vector<KeyedKpi>> ListKpis(absl::string_view project_id, int64_t after_key,
                                                 int limit) override {
    ASSIGN_OR_RETURN(Statement statement,
                     db_.Prepare("SELECT key, data FROM kpis WHERE key > ?1 "
                                 "AND (?2 = '' OR project_id = ?2) ORDER BY key LIMIT ?3"));
    statement.BindInt(1, after_key).BindText(2, project_id).BindInt(3, limit);
    std::vector<KeyedKpi> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement.Step());
      if (!row) return out;
      ASSIGN_OR_RETURN(v1::Kpi kpi, ParseKpi(statement.ColumnBlob(1)));
      out.push_back({statement.ColumnInt(0), std::move(kpi)});
    }
  }

  absl::Status PutKpi(const v1::Kpi& kpi) override {
    ASSIGN_OR_RETURN(Statement statement,
                     db_.Prepare("INSERT INTO kpis (id, project_id, data) VALUES (?1, ?2, ?3) "
                                 "ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id, "
                                 "data = excluded.data"));
    statement.BindText(1, kpi.id())
        .BindText(2, kpi.project_id())
        .BindBlob(3, kpi.SerializeAsString());
    return statement.Run();
  }

 private:
  Database& db_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteKpiStore>> SqliteKpiStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
  RETURN_IF_ERROR(db->Migrate(Schema()));
  return std::unique_ptr<SqliteKpiStore>(new SqliteKpiStore(std::move(db)));
}

absl::Status SqliteKpiStore::Run(const std::function<absl::Status(KpiTransaction&)>& body) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction transaction(*db_);
  return db_->InTransaction([&] { return body(transaction); });
}

}  // namespace suishin::kpi
