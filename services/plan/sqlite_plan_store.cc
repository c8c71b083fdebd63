#include "services/plan/sqlite_plan_store.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace suishin::plan {
namespace {

const std::vector<Migration>& Schema() {
  static const auto* migrations = new std::vector<Migration>{
      {1, R"sql(
CREATE TABLE regions (
  key INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  data BLOB NOT NULL
);
CREATE TABLE projects (
  key INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  area_id TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE TABLE initiatives (
  key INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  project_id TEXT NOT NULL,
  pillar_id TEXT NOT NULL,
  fiscal_year INTEGER NOT NULL,
  stage INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX initiatives_by_project ON initiatives (project_id, key);
CREATE TABLE initiative_regions (
  initiative_id TEXT NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
  region_id TEXT NOT NULL,
  PRIMARY KEY (initiative_id, region_id)
);
CREATE TABLE initiative_bodies (
  initiative_id TEXT NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
  body TEXT NOT NULL,
  PRIMARY KEY (initiative_id, body)
);
)sql"},
  };
  return *migrations;
}

// Reads the message of a lookup by id, if there is a row.
template <typename T>
absl::StatusOr<std::optional<T>> FindOne(Database& db, absl::string_view sql, absl::string_view id,
                                         absl::string_view table) {
  ASSIGN_OR_RETURN(Statement statement, db.Prepare(sql));
  statement.BindText(1, id);
  return ReadMessage<T>(statement, 0, table);
}

class SqliteTransaction : public PlanTransaction {
 public:
  // `writable` is false inside a Read: then every Put and Delete fails.
  SqliteTransaction(Database& db, bool writable) : db_(db), writable_(writable) {}

  absl::StatusOr<std::optional<v1::Region>> FindRegion(absl::string_view id) override {
    return FindOne<v1::Region>(db_, "SELECT data FROM regions WHERE id = ?", id, "regions");
  }

  absl::StatusOr<std::vector<v1::Region>> AllRegions() override {
    ASSIGN_OR_RETURN(Statement statement,
                     db_.Prepare("SELECT key, data FROM regions ORDER BY key"));
    ASSIGN_OR_RETURN(auto keyed, ReadKeyed<v1::Region>(statement, "regions"));
    std::vector<v1::Region> regions;
    for (auto& item : keyed) regions.push_back(std::move(item.value));
    return regions;
  }

  absl::Status PutRegion(const v1::Region& region) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement statement,
                     db_.Prepare("INSERT INTO regions (id, data) VALUES (?1, ?2) "
                                 "ON CONFLICT (id) DO UPDATE SET data = excluded.data"));
    statement.BindText(1, region.id()).BindBlob(2, region.SerializeAsString());
    return statement.Run();
  }

  absl::StatusOr<std::optional<v1::Project>> FindProject(absl::string_view id) override {
    return FindOne<v1::Project>(db_, "SELECT data FROM projects WHERE id = ?", id, "projects");
  }

  absl::StatusOr<std::vector<Keyed<v1::Project>>> ListProjects(absl::string_view area_id,
                                                               int64_t after_key,
                                                               int limit) override {
    ASSIGN_OR_RETURN(Statement statement,
                     db_.Prepare("SELECT key, data FROM projects WHERE key > ?1 "
                                 "AND (?2 = '' OR area_id = ?2) ORDER BY key LIMIT ?3"));
    statement.BindInt(1, after_key).BindText(2, area_id).BindInt(3, limit);
    return ReadKeyed<v1::Project>(statement, "projects");
  }

  absl::Status PutProject(const v1::Project& project) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement statement,
                     db_.Prepare("INSERT INTO projects (id, area_id, data) VALUES (?1, ?2, ?3) "
                                 "ON CONFLICT (id) DO UPDATE SET area_id = excluded.area_id, "
                                 "data = excluded.data"));
    statement.BindText(1, project.id())
        .BindText(2, project.area_id())
        .BindBlob(3, project.SerializeAsString());
    return statement.Run();
  }

  absl::StatusOr<std::optional<v1::Initiative>> FindInitiative(absl::string_view id) override {
    return FindOne<v1::Initiative>(db_, "SELECT data FROM initiatives WHERE id = ?", id,
                                   "initiatives");
  }

  absl::StatusOr<std::vector<Keyed<v1::Initiative>>> ListInitiatives(
      const InitiativeQuery& query) override {
    ASSIGN_OR_RETURN(
        Statement statement,
        db_.Prepare("SELECT key, data FROM initiatives i WHERE key > ?1 "
                    "AND (?2 = '' OR project_id = ?2) "
                    "AND (?3 = 0 OR fiscal_year = ?3) "
                    "AND (?4 = 0 OR stage = ?4) "
                    "AND (?5 = '' OR pillar_id = ?5) "
                    "AND (?6 = '' OR EXISTS (SELECT 1 FROM initiative_regions r "
                    "  WHERE r.initiative_id = i.id AND r.region_id = ?6)) "
                    "AND (?7 = '' OR EXISTS (SELECT 1 FROM initiative_bodies b "
                    "  WHERE b.initiative_id = i.id AND (b.body = ?7 OR b.body = ?7 || '等'))) "
                    "ORDER BY key LIMIT ?8"));
    statement.BindInt(1, query.after_key)
        .BindText(2, query.project_id)
        .BindInt(3, query.fiscal_year)
        .BindInt(4, query.stage)
        .BindText(5, query.pillar_id)
        .BindText(6, query.region_id)
        .BindText(7, query.responsible_body)
        .BindInt(8, query.limit);
    return ReadKeyed<v1::Initiative>(statement, "initiatives");
  }

  absl::StatusOr<int64_t> CountInitiatives(absl::string_view project_id,
                                           absl::string_view pillar_id) override {
    ASSIGN_OR_RETURN(Statement statement, db_.Prepare("SELECT COUNT(*) FROM initiatives "
                                                      "WHERE project_id = ?1 AND pillar_id = ?2"));
    statement.BindText(1, project_id).BindText(2, pillar_id);
    ASSIGN_OR_RETURN(bool row, statement.Step());
    return row ? statement.ColumnInt(0) : 0;
  }

  absl::Status PutInitiative(const v1::Initiative& initiative) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(
        Statement upsert,
        db_.Prepare("INSERT INTO initiatives (id, project_id, pillar_id, fiscal_year, stage, data) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET "
                    "project_id = excluded.project_id, pillar_id = excluded.pillar_id, "
                    "fiscal_year = excluded.fiscal_year, stage = excluded.stage, "
                    "data = excluded.data"));
    upsert.BindText(1, initiative.id())
        .BindText(2, initiative.project_id())
        .BindText(3, initiative.pillar_id())
        .BindInt(4, initiative.fiscal_year().year())
        .BindInt(5, initiative.stage())
        .BindBlob(6, initiative.SerializeAsString());
    RETURN_IF_ERROR(upsert.Run());
    RETURN_IF_ERROR(DeleteTags(initiative.id()));
    ASSIGN_OR_RETURN(Statement region,
                     db_.Prepare("INSERT INTO initiative_regions VALUES (?1, ?2)"));
    for (const std::string& region_id : initiative.region_ids()) {
      region.Reset();
      region.BindText(1, initiative.id()).BindText(2, region_id);
      RETURN_IF_ERROR(region.Run());
    }
    ASSIGN_OR_RETURN(Statement body, db_.Prepare("INSERT INTO initiative_bodies VALUES (?1, ?2)"));
    for (const std::string& name : initiative.responsible_bodies()) {
      body.Reset();
      body.BindText(1, initiative.id()).BindText(2, name);
      RETURN_IF_ERROR(body.Run());
    }
    return absl::OkStatus();
  }

  absl::Status DeleteInitiative(absl::string_view id) override {
    RETURN_IF_ERROR(CheckWritable());
    RETURN_IF_ERROR(DeleteTags(id));
    ASSIGN_OR_RETURN(Statement statement, db_.Prepare("DELETE FROM initiatives WHERE id = ?"));
    statement.BindText(1, id);
    return statement.Run();
  }

 private:
  absl::Status CheckWritable() const {
    if (writable_) return absl::OkStatus();
    return absl::FailedPreconditionError("plan store: a write inside a read-only transaction");
  }

  absl::Status DeleteTags(absl::string_view id) {
    for (absl::string_view sql : {"DELETE FROM initiative_regions WHERE initiative_id = ?",
                                  "DELETE FROM initiative_bodies WHERE initiative_id = ?"}) {
      ASSIGN_OR_RETURN(Statement statement, db_.Prepare(sql));
      statement.BindText(1, id);
      RETURN_IF_ERROR(statement.Run());
    }
    return absl::OkStatus();
  }

  Database& db_;
  const bool writable_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqlitePlanStore>> SqlitePlanStore::Open(const std::string& path,
                                                                       int readers) {
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
  RETURN_IF_ERROR(db->Migrate(Schema()));
  ASSIGN_OR_RETURN(std::unique_ptr<ReaderPool> pool, ReaderPool::Open(path, readers));
  ASSIGN_OR_RETURN(std::unique_ptr<Checkpointer> checkpointer, Checkpointer::Start(db.get(), path));
  return std::unique_ptr<SqlitePlanStore>(
      new SqlitePlanStore(std::move(db), std::move(pool), std::move(checkpointer)));
}

absl::Status SqlitePlanStore::RunGroup(const std::vector<const Body*>& bodies,
                                       std::vector<absl::Status>* outcomes) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction transaction(*db_, /*writable=*/true);
  return RunBodiesInGroup<PlanTransaction>(*db_, transaction, bodies, outcomes);
}

absl::Status SqlitePlanStore::Read(const Body& body) {
  return readers_->Read([&](Database& db) {
    SqliteTransaction transaction(db, /*writable=*/false);
    return body(transaction);
  });
}

}  // namespace suishin::plan
