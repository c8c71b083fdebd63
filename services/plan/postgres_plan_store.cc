// PostgresPlanStore: the schema, the statements of each PlanTransaction
// method, and the group and read plumbing over common/postgres.h.
#include "services/plan/postgres_plan_store.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/repeated_ptr_field.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "suishin/common/v1/common.pb.h"

namespace suishin::plan {
namespace {

// The first key of the advisory lock a write group takes (the second is its
// schema's name hashed): "Plan", so the plan store's turns never collide
// with another store's lock in the same database.
constexpr int32_t kWriterLockClass = 0x506c616e;

// The typed columns are for people reading the tables with SQL: an enum is
// kept by its name, an empty optional id or an unset time as NULL. `key`
// orders rows by insertion, as SQLite's AUTOINCREMENT does.
const std::vector<PgMigration>& Schema() {
  static const auto* migrations = new std::vector<PgMigration>{
      {1, R"sql(
CREATE TABLE regions (
  key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  name text NOT NULL,
  kind text NOT NULL,
  parent_id text,
  local_government_code text,
  create_time timestamptz,
  data bytea NOT NULL
);
COMMENT ON TABLE regions IS
  'The region tree (北海道 → 連携地域 → 振興局 → 市町村). data holds the serialized suishin.plan.v1.Region; the other columns repeat its fields for reporting.';
COMMENT ON COLUMN regions.kind IS 'suishin.common.v1.RegionKind name, e.g. REGION_KIND_SUBPREFECTURE';
COMMENT ON COLUMN regions.parent_id IS 'NULL for the prefecture';
CREATE TABLE projects (
  key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  area_id text NOT NULL,
  title text NOT NULL,
  overview text NOT NULL,
  status text NOT NULL,
  version bigint NOT NULL,
  create_time timestamptz,
  update_time timestamptz,
  data bytea NOT NULL
);
CREATE INDEX projects_by_area ON projects (area_id, key);
COMMENT ON TABLE projects IS
  'Projects of cooperation areas. data holds the serialized suishin.plan.v1.Project; the other columns repeat its fields for reporting.';
COMMENT ON COLUMN projects.status IS 'suishin.plan.v1.ProjectStatus name, e.g. PROJECT_STATUS_ACTIVE';
CREATE TABLE project_pillars (
  project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  ordinal integer NOT NULL,
  pillar_id text NOT NULL,
  title text NOT NULL,
  PRIMARY KEY (project_id, ordinal)
);
COMMENT ON TABLE project_pillars IS
  'The policy pillars (施策展開) of each project, in display order from ordinal 1; for reporting only.';
CREATE TABLE initiatives (
  key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  project_id text NOT NULL,
  pillar_id text NOT NULL,
  fiscal_year integer NOT NULL,
  stage text NOT NULL,
  text text NOT NULL,
  version bigint NOT NULL,
  create_time timestamptz,
  update_time timestamptz,
  data bytea NOT NULL
);
CREATE INDEX initiatives_by_project ON initiatives (project_id, key);
COMMENT ON TABLE initiatives IS
  'Initiatives (取組) of the project promotion management tables. data holds the serialized suishin.plan.v1.Initiative; the other columns repeat its fields for reporting.';
COMMENT ON COLUMN initiatives.fiscal_year IS 'The Gregorian year the fiscal year starts in (令和2年度 → 2020)';
COMMENT ON COLUMN initiatives.stage IS
  'suishin.plan.v1.InitiativeStage name: INITIATIVE_STAGE_ACHIEVEMENT (これまでの主な取組実績), _CURRENT (今年度の主な取組), _NEXT (次年度の取組), _CHALLENGE (課題)';
CREATE TABLE initiative_regions (
  initiative_id text NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
  region_id text NOT NULL,
  PRIMARY KEY (initiative_id, region_id)
);
CREATE INDEX initiative_regions_by_region ON initiative_regions (region_id);
CREATE TABLE initiative_bodies (
  initiative_id text NOT NULL REFERENCES initiatives (id) ON DELETE CASCADE,
  body text NOT NULL,
  PRIMARY KEY (initiative_id, body)
);
)sql"},
  };
  return *migrations;
}

// The name of enum value `number`, or the number itself for a value this
// build does not know (proto3 keeps those), so the column is never empty.
std::string EnumName(const google::protobuf::EnumDescriptor* descriptor, int number) {
  const google::protobuf::EnumValueDescriptor* value = descriptor->FindValueByNumber(number);
  return value != nullptr ? std::string(value->name()) : absl::StrCat(number);
}

// A time column's parameter: NULL when the message leaves it unset.
void AddTime(PgParams& params, bool has, const google::protobuf::Timestamp& time) {
  if (has) {
    params.Micros(FromProtoTimestamp(time));
  } else {
    params.Null();
  }
}

// A text[] literal ({"a","b"}) of `values`, so one statement stores a whole
// list instead of one round trip per item.
template <typename Strings>
std::string TextArray(const Strings& values) {
  std::string out = "{";
  for (const std::string& value : values) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    for (char c : value) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

// The message kept in `column` of `row`. DATA_LOSS names `table` when it
// does not parse, as the SQLite store says it.
template <typename T>
absl::StatusOr<T> ParseData(const PgResult& result, int row, int column, absl::string_view table) {
  T message;
  if (!message.ParseFromString(result.Bytes(row, column))) {
    return absl::DataLossError(absl::StrCat("a row of ", table, " does not parse"));
  }
  return message;
}

// Rows of (key, data), in the order the statement gave them.
template <typename T>
absl::StatusOr<std::vector<Keyed<T>>> ReadKeyed(const PgResult& result, absl::string_view table) {
  std::vector<Keyed<T>> out;
  out.reserve(result.rows());
  for (int row = 0; row < result.rows(); ++row) {
    ASSIGN_OR_RETURN(T message, ParseData<T>(result, row, 1, table));
    out.push_back({result.Int(row, 0), std::move(message)});
  }
  return out;
}

// The message of a lookup by id ($1), if there is a row.
template <typename T>
absl::StatusOr<std::optional<T>> FindOne(PgConnection& db, absl::string_view sql,
                                         absl::string_view id, absl::string_view table) {
  ASSIGN_OR_RETURN(PgResult result, db.Exec(sql, PgParams().Text(id)));
  if (result.rows() == 0) return std::optional<T>();
  ASSIGN_OR_RETURN(T message, ParseData<T>(result, 0, 0, table));
  return std::optional<T>(std::move(message));
}

// An upsert touches exactly its one row; anything else is a schema the
// store does not understand.
absl::Status ExpectOneRow(int64_t affected, absl::string_view table, absl::string_view id) {
  if (affected == 1) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("plan store: writing ", id, " touched ", affected, " rows of ", table));
}

// Every statement fails before it runs rather than aborting the
// transaction: PostgreSQL would refuse the rest of the group after a failed
// statement, so conflicts are settled with ON CONFLICT and counted rows.
class PostgresTransaction : public PlanTransaction {
 public:
  // `writable` is false inside a Read: then every Put and Delete fails.
  PostgresTransaction(PgConnection& db, bool writable) : db_(db), writable_(writable) {}

  absl::StatusOr<std::optional<v1::Region>> FindRegion(absl::string_view id) override {
    return FindOne<v1::Region>(db_, "SELECT data FROM regions WHERE id = $1", id, "regions");
  }

  absl::StatusOr<std::vector<v1::Region>> AllRegions() override {
    ASSIGN_OR_RETURN(PgResult result, db_.Exec("SELECT key, data FROM regions ORDER BY key"));
    ASSIGN_OR_RETURN(auto keyed, ReadKeyed<v1::Region>(result, "regions"));
    std::vector<v1::Region> regions;
    regions.reserve(keyed.size());
    for (auto& item : keyed) regions.push_back(std::move(item.value));
    return regions;
  }

  absl::Status PutRegion(const v1::Region& region) override {
    RETURN_IF_ERROR(CheckWritable());
    PgParams params;
    params.Text(region.id())
        .Text(region.name())
        .Text(EnumName(common::v1::RegionKind_descriptor(), region.kind()))
        .Text(region.parent_id())
        .Text(region.local_government_code());
    AddTime(params, region.has_create_time(), region.create_time());
    params.Bytes(region.SerializeAsString());
    ASSIGN_OR_RETURN(
        int64_t affected,
        db_.Run("INSERT INTO regions (id, name, kind, parent_id, local_government_code, "
                "create_time, data) VALUES ($1, $2, $3, NULLIF($4::text, ''), "
                "NULLIF($5::text, ''), suishin_time($6::bigint), $7) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
                "parent_id = excluded.parent_id, "
                "local_government_code = excluded.local_government_code, "
                "create_time = excluded.create_time, data = excluded.data",
                params));
    return ExpectOneRow(affected, "regions", region.id());
  }

  absl::StatusOr<std::optional<v1::Project>> FindProject(absl::string_view id) override {
    return FindOne<v1::Project>(db_, "SELECT data FROM projects WHERE id = $1", id, "projects");
  }

  absl::StatusOr<std::vector<Keyed<v1::Project>>> ListProjects(absl::string_view area_id,
                                                               int64_t after_key,
                                                               int limit) override {
    ASSIGN_OR_RETURN(PgResult result,
                     db_.Exec("SELECT key, data FROM projects WHERE key > $1::bigint "
                              "AND ($2::text = '' OR area_id = $2::text) "
                              "ORDER BY key LIMIT $3::integer",
                              PgParams().Int(after_key).Text(area_id).Int(limit)));
    return ReadKeyed<v1::Project>(result, "projects");
  }

  absl::Status PutProject(const v1::Project& project) override {
    RETURN_IF_ERROR(CheckWritable());
    PgParams params;
    params.Text(project.id())
        .Text(project.area_id())
        .Text(project.title())
        .Text(project.overview())
        .Text(EnumName(v1::ProjectStatus_descriptor(), project.status()))
        .Int(project.version());
    AddTime(params, project.has_create_time(), project.create_time());
    AddTime(params, project.has_update_time(), project.update_time());
    params.Bytes(project.SerializeAsString());
    ASSIGN_OR_RETURN(
        int64_t affected,
        db_.Run("INSERT INTO projects (id, area_id, title, overview, status, version, "
                "create_time, update_time, data) VALUES ($1, $2, $3, $4, $5, $6::bigint, "
                "suishin_time($7::bigint), suishin_time($8::bigint), $9) "
                "ON CONFLICT (id) DO UPDATE SET area_id = excluded.area_id, "
                "title = excluded.title, overview = excluded.overview, status = excluded.status, "
                "version = excluded.version, create_time = excluded.create_time, "
                "update_time = excluded.update_time, data = excluded.data",
                params));
    RETURN_IF_ERROR(ExpectOneRow(affected, "projects", project.id()));

    RETURN_IF_ERROR(
        db_.Run("DELETE FROM project_pillars WHERE project_id = $1", PgParams().Text(project.id()))
            .status());
    if (project.pillars().empty()) return absl::OkStatus();
    std::vector<std::string> ids;
    std::vector<std::string> titles;
    for (const v1::Pillar& pillar : project.pillars()) {
      ids.push_back(pillar.id());
      titles.push_back(pillar.title());
    }
    return db_
        .Run(
            "INSERT INTO project_pillars (project_id, ordinal, pillar_id, title) "
            "SELECT $1::text, p.ordinal, p.id, p.title "
            "FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS p (id, title, ordinal)",
            PgParams().Text(project.id()).Text(TextArray(ids)).Text(TextArray(titles)))
        .status();
  }

  absl::StatusOr<std::optional<v1::Initiative>> FindInitiative(absl::string_view id) override {
    return FindOne<v1::Initiative>(db_, "SELECT data FROM initiatives WHERE id = $1", id,
                                   "initiatives");
  }

  absl::StatusOr<std::vector<Keyed<v1::Initiative>>> ListInitiatives(
      const InitiativeQuery& query) override {
    const std::string stage = query.stage == v1::INITIATIVE_STAGE_UNSPECIFIED
                                  ? std::string()
                                  : EnumName(v1::InitiativeStage_descriptor(), query.stage);
    ASSIGN_OR_RETURN(PgResult result,
                     db_.Exec("SELECT key, data FROM initiatives i WHERE key > $1::bigint "
                              "AND ($2::text = '' OR project_id = $2::text) "
                              "AND ($3::integer = 0 OR fiscal_year = $3::integer) "
                              "AND ($4::text = '' OR stage = $4::text) "
                              "AND ($5::text = '' OR pillar_id = $5::text) "
                              "AND ($6::text = '' OR EXISTS (SELECT 1 FROM initiative_regions r "
                              "  WHERE r.initiative_id = i.id AND r.region_id = $6::text)) "
                              "AND ($7::text = '' OR EXISTS (SELECT 1 FROM initiative_bodies b "
                              "  WHERE b.initiative_id = i.id "
                              "  AND (b.body = $7::text OR b.body = $7::text || '等'))) "
                              "ORDER BY key LIMIT $8::integer",
                              PgParams()
                                  .Int(query.after_key)
                                  .Text(query.project_id)
                                  .Int(query.fiscal_year)
                                  .Text(stage)
                                  .Text(query.pillar_id)
                                  .Text(query.region_id)
                                  .Text(query.responsible_body)
                                  .Int(query.limit)));
    return ReadKeyed<v1::Initiative>(result, "initiatives");
  }

  absl::StatusOr<int64_t> CountInitiatives(absl::string_view project_id,
                                           absl::string_view pillar_id) override {
    ASSIGN_OR_RETURN(PgResult result, db_.Exec("SELECT COUNT(*) FROM initiatives "
                                               "WHERE project_id = $1 AND pillar_id = $2",
                                               PgParams().Text(project_id).Text(pillar_id)));
    return result.rows() > 0 ? result.Int(0, 0) : 0;
  }

  absl::Status PutInitiative(const v1::Initiative& initiative) override {
    RETURN_IF_ERROR(CheckWritable());
    PgParams params;
    params.Text(initiative.id())
        .Text(initiative.project_id())
        .Text(initiative.pillar_id())
        .Int(initiative.fiscal_year().year())
        .Text(EnumName(v1::InitiativeStage_descriptor(), initiative.stage()))
        .Text(initiative.text())
        .Int(initiative.version());
    AddTime(params, initiative.has_create_time(), initiative.create_time());
    AddTime(params, initiative.has_update_time(), initiative.update_time());
    params.Bytes(initiative.SerializeAsString());
    ASSIGN_OR_RETURN(
        int64_t affected,
        db_.Run("INSERT INTO initiatives (id, project_id, pillar_id, fiscal_year, stage, text, "
                "version, create_time, update_time, data) VALUES ($1, $2, $3, $4::integer, $5, "
                "$6, $7::bigint, suishin_time($8::bigint), suishin_time($9::bigint), $10) "
                "ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id, "
                "pillar_id = excluded.pillar_id, fiscal_year = excluded.fiscal_year, "
                "stage = excluded.stage, text = excluded.text, version = excluded.version, "
                "create_time = excluded.create_time, update_time = excluded.update_time, "
                "data = excluded.data",
                params));
    RETURN_IF_ERROR(ExpectOneRow(affected, "initiatives", initiative.id()));
    RETURN_IF_ERROR(PutTags("DELETE FROM initiative_regions WHERE initiative_id = $1",
                            "INSERT INTO initiative_regions (initiative_id, region_id) "
                            "SELECT $1::text, unnest($2::text[]) ON CONFLICT DO NOTHING",
                            initiative.id(), initiative.region_ids(), "region"));
    return PutTags("DELETE FROM initiative_bodies WHERE initiative_id = $1",
                   "INSERT INTO initiative_bodies (initiative_id, body) "
                   "SELECT $1::text, unnest($2::text[]) ON CONFLICT DO NOTHING",
                   initiative.id(), initiative.responsible_bodies(), "responsible body");
  }

  absl::Status DeleteInitiative(absl::string_view id) override {
    RETURN_IF_ERROR(CheckWritable());
    // Its tags go with it (ON DELETE CASCADE).
    return db_.Run("DELETE FROM initiatives WHERE id = $1", PgParams().Text(id)).status();
  }

 private:
  absl::Status CheckWritable() const {
    if (writable_) return absl::OkStatus();
    return absl::FailedPreconditionError("plan store: a write inside a read-only transaction");
  }

  // Replaces the tags of initiative `id` with `values`. A value listed twice
  // fails the body with ALREADY_EXISTS, as SQLite's primary key does
  // (PlanCatalog refuses such lists before they get here).
  absl::Status PutTags(absl::string_view delete_sql, absl::string_view insert_sql,
                       absl::string_view id,
                       const google::protobuf::RepeatedPtrField<std::string>& values,
                       absl::string_view what) {
    RETURN_IF_ERROR(db_.Run(delete_sql, PgParams().Text(id)).status());
    if (values.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(int64_t inserted,
                     db_.Run(insert_sql, PgParams().Text(id).Text(TextArray(values))));
    if (inserted == values.size()) return absl::OkStatus();
    return absl::AlreadyExistsError(
        absl::StrCat("plan store: initiative ", id, " lists a ", what, " twice"));
  }

  PgConnection& db_;
  const bool writable_;
};

// The prologue of every write group: waits for the other replicas' writers
// sharing this schema to commit, and holds them off until this group
// commits.
absl::Status TakeWriterTurn(PgConnection& db) {
  return db
      .Exec("SELECT pg_advisory_xact_lock($1::integer, hashtext(COALESCE(current_schema(), '')))",
            PgParams().Int(kWriterLockClass))
      .status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresPlanStore>> PostgresPlanStore::Open(const std::string& url,
                                                                           int readers) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> db, PgConnection::Connect(url));
  RETURN_IF_ERROR(db->Migrate(Schema()));
  ASSIGN_OR_RETURN(std::unique_ptr<PgPool> pool, PgPool::Open(url, readers));
  return std::unique_ptr<PostgresPlanStore>(new PostgresPlanStore(std::move(db), std::move(pool)));
}

absl::Status PostgresPlanStore::RunGroup(const std::vector<const Body*>& bodies,
                                         std::vector<absl::Status>* outcomes) {
  absl::MutexLock lock(&mu_);
  PgConnection& db = *db_;
  PostgresTransaction transaction(db, /*writable=*/true);
  std::vector<std::function<absl::Status()>> steps;
  steps.reserve(bodies.size());
  for (const Body* body : bodies) {
    steps.push_back([&transaction, body] { return (*body)(transaction); });
  }
  return db.InGroupTransaction([&db] { return TakeWriterTurn(db); }, steps, outcomes);
}

absl::Status PostgresPlanStore::Read(const Body& body) {
  return readers_->Read([&](PgConnection& db) {
    PostgresTransaction transaction(db, /*writable=*/false);
    return body(transaction);
  });
}

}  // namespace suishin::plan
