// PostgresPlanStore on a schema of the test cluster in both passes of the
// suite (the other plan tests meet it only in the PostgreSQL pass): what it
// writes can be read back with plain SQL from the typed reporting columns,
// as a BI tool would, and a Read refuses writes as the SQLite store does.
#include "services/plan/postgres_plan_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/postgres.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "tests/support/test_store.h"

namespace suishin::plan {
namespace {

using common::v1::REGION_KIND_COOPERATION_AREA;
using common::v1::REGION_KIND_PREFECTURE;
using common::v1::REGION_KIND_SUBPREFECTURE;

// 2020-04-01T00:00:00Z, the first day of 令和2年度.
const absl::Time kCreated = absl::FromUnixSeconds(1585699200);

v1::Region MakeRegion(const std::string& id, const std::string& name, common::v1::RegionKind kind,
                      const std::string& parent_id) {
  v1::Region region;
  region.set_id(id);
  region.set_name(name);
  region.set_kind(kind);
  region.set_parent_id(parent_id);
  *region.mutable_create_time() = ToProtoTimestamp(kCreated);
  return region;
}

v1::Project MakeProject() {
  v1::Project project;
  project.set_id("anzen");
  project.set_area_id("dohoku");
  project.set_title("安全・安心な地域づくりプロジェクト");
  project.set_overview("誰もが安心して暮らせる地域");
  v1::Pillar* kurashi = project.add_pillars();
  kurashi->set_id("kurashi");
  kurashi->set_title("全ての世代が安心して暮らせる環境づくり");
  v1::Pillar* bousai = project.add_pillars();
  bousai->set_id("bousai");
  bousai->set_title("災害に強い地域づくり");
  project.set_status(v1::PROJECT_STATUS_ACTIVE);
  project.set_version(1);
  *project.mutable_create_time() = ToProtoTimestamp(kCreated);
  *project.mutable_update_time() = ToProtoTimestamp(kCreated);
  return project;
}

v1::Initiative MakeInitiative() {
  v1::Initiative initiative;
  initiative.set_id("bousai-1");
  initiative.set_project_id("anzen");
  initiative.set_pillar_id("bousai");
  initiative.mutable_fiscal_year()->set_year(2020);
  initiative.set_stage(v1::INITIATIVE_STAGE_CURRENT);
  initiative.set_text("防災訓練の実施");
  initiative.add_responsible_bodies("振興局等");
  initiative.add_region_ids("kamikawa");
  initiative.set_version(1);
  *initiative.mutable_create_time() = ToProtoTimestamp(kCreated);
  *initiative.mutable_update_time() = ToProtoTimestamp(kCreated + absl::Hours(1));
  return initiative;
}

class PostgresPlanStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> url = testing::NewPostgresStore();
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    absl::StatusOr<std::unique_ptr<PostgresPlanStore>> store = PostgresPlanStore::Open(url_, 2);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // Stores the 北海道 → 道北 → 上川 tree, one project and one initiative.
  absl::Status WritePlan() {
    return store_->Run([](PlanTransaction& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.PutRegion(MakeRegion("hokkaido", "北海道", REGION_KIND_PREFECTURE, "")));
      RETURN_IF_ERROR(
          tx.PutRegion(MakeRegion("dohoku", "道北", REGION_KIND_COOPERATION_AREA, "hokkaido")));
      RETURN_IF_ERROR(
          tx.PutRegion(MakeRegion("kamikawa", "上川", REGION_KIND_SUBPREFECTURE, "dohoku")));
      RETURN_IF_ERROR(tx.PutProject(MakeProject()));
      return tx.PutInitiative(MakeInitiative());
    });
  }

  // A connection of its own, as a reporting tool would open one.
  std::unique_ptr<PgConnection> Sql() {
    absl::StatusOr<std::unique_ptr<PgConnection>> connection = PgConnection::Connect(url_);
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? *std::move(connection) : nullptr;
  }

  std::string url_;
  std::unique_ptr<PostgresPlanStore> store_;
};

TEST_F(PostgresPlanStoreTest, ReportingColumnsCanBeReadWithPlainSql) {
  ASSERT_TRUE(WritePlan().ok());
  std::unique_ptr<PgConnection> sql = Sql();
  ASSERT_NE(sql, nullptr);

  absl::StatusOr<PgResult> regions = sql->Exec(
      "SELECT id, name, kind, parent_id, create_time = '2020-04-01 00:00:00+00' "
      "FROM regions ORDER BY key");
  ASSERT_TRUE(regions.ok()) << regions.status();
  ASSERT_EQ(regions->rows(), 3);
  EXPECT_EQ(regions->Text(0, 0), "hokkaido");
  EXPECT_EQ(regions->Text(0, 1), "北海道");
  EXPECT_EQ(regions->Text(0, 2), "REGION_KIND_PREFECTURE");
  EXPECT_TRUE(regions->IsNull(0, 3));  // a prefecture has no parent
  EXPECT_EQ(regions->Text(0, 4), "t");
  EXPECT_EQ(regions->Text(2, 0), "kamikawa");
  EXPECT_EQ(regions->Text(2, 2), "REGION_KIND_SUBPREFECTURE");
  EXPECT_EQ(regions->Text(2, 3), "dohoku");

  absl::StatusOr<PgResult> projects = sql->Exec(
      "SELECT p.id, p.area_id, p.title, p.status, p.version, pp.ordinal, pp.pillar_id, pp.title "
      "FROM projects p JOIN project_pillars pp ON pp.project_id = p.id ORDER BY pp.ordinal");
  ASSERT_TRUE(projects.ok()) << projects.status();
  ASSERT_EQ(projects->rows(), 2);
  EXPECT_EQ(projects->Text(0, 0), "anzen");
  EXPECT_EQ(projects->Text(0, 1), "dohoku");
  EXPECT_EQ(projects->Text(0, 2), "安全・安心な地域づくりプロジェクト");
  EXPECT_EQ(projects->Text(0, 3), "PROJECT_STATUS_ACTIVE");
  EXPECT_EQ(projects->Int(0, 4), 1);
  EXPECT_EQ(projects->Int(0, 5), 1);
  EXPECT_EQ(projects->Text(0, 6), "kurashi");
  EXPECT_EQ(projects->Text(1, 6), "bousai");
  EXPECT_EQ(projects->Text(1, 7), "災害に強い地域づくり");

  // What a report asks: this fiscal year's initiatives of 上川, with who
  // carries them out and when they last changed.
  absl::StatusOr<PgResult> initiatives = sql->Exec(
      "SELECT i.id, i.project_id, i.pillar_id, i.fiscal_year, i.stage, i.text, b.body, "
      "  to_char(i.update_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
      "FROM initiatives i "
      "JOIN initiative_regions r ON r.initiative_id = i.id "
      "JOIN initiative_bodies b ON b.initiative_id = i.id "
      "WHERE r.region_id = 'kamikawa' AND i.fiscal_year = 2020 "
      "AND i.stage = 'INITIATIVE_STAGE_CURRENT'");
  ASSERT_TRUE(initiatives.ok()) << initiatives.status();
  ASSERT_EQ(initiatives->rows(), 1);
  EXPECT_EQ(initiatives->Text(0, 0), "bousai-1");
  EXPECT_EQ(initiatives->Text(0, 1), "anzen");
  EXPECT_EQ(initiatives->Text(0, 2), "bousai");
  EXPECT_EQ(initiatives->Int(0, 3), 2020);
  EXPECT_EQ(initiatives->Text(0, 4), "INITIATIVE_STAGE_CURRENT");
  EXPECT_EQ(initiatives->Text(0, 5), "防災訓練の実施");
  EXPECT_EQ(initiatives->Text(0, 6), "振興局等");
  EXPECT_EQ(initiatives->Text(0, 7), "2020-04-01 01:00");

  // The columns are typed, not text a tool would have to cast.
  absl::StatusOr<PgResult> types = sql->Exec(
      "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
      "WHERE table_schema = current_schema() AND column_name IN ('fiscal_year', 'create_time', "
      "'version', 'key') AND table_name IN ('initiatives', 'regions') "
      "ORDER BY 1");
  ASSERT_TRUE(types.ok()) << types.status();
  std::vector<std::string> typed;
  for (int row = 0; row < types->rows(); ++row) {
    typed.push_back(std::string(types->Text(row, 0)) + " " + std::string(types->Text(row, 1)));
  }
  EXPECT_EQ(typed, (std::vector<std::string>{
                       "initiatives.create_time timestamp with time zone",
                       "initiatives.fiscal_year integer",
                       "initiatives.key bigint",
                       "initiatives.version bigint",
                       "regions.create_time timestamp with time zone",
                       "regions.key bigint",
                   }));
}

TEST_F(PostgresPlanStoreTest, ReplacingAnInitiativeKeepsItsKeyAndReplacesItsTags) {
  ASSERT_TRUE(WritePlan().ok());
  v1::Initiative changed = MakeInitiative();
  changed.set_stage(v1::INITIATIVE_STAGE_NEXT);
  changed.mutable_fiscal_year()->set_year(2021);
  changed.clear_region_ids();
  changed.add_region_ids("dohoku");
  changed.clear_responsible_bodies();
  changed.add_responsible_bodies("本庁");
  ASSERT_TRUE(store_->Run([&](PlanTransaction& tx) { return tx.PutInitiative(changed); }).ok());

  ASSERT_TRUE(store_
                  ->Read([&](PlanTransaction& tx) -> absl::Status {
                    InitiativeQuery next;
                    next.stage = v1::INITIATIVE_STAGE_NEXT;
                    next.region_id = "dohoku";
                    next.responsible_body = "本庁";
                    next.fiscal_year = 2021;
                    ASSIGN_OR_RETURN(auto found, tx.ListInitiatives(next));
                    EXPECT_EQ(found.size(), 1u);
                    InitiativeQuery old_region;
                    old_region.region_id = "kamikawa";
                    ASSIGN_OR_RETURN(auto gone, tx.ListInitiatives(old_region));
                    EXPECT_TRUE(gone.empty());
                    return absl::OkStatus();
                  })
                  .ok());

  std::unique_ptr<PgConnection> sql = Sql();
  ASSERT_NE(sql, nullptr);
  absl::StatusOr<PgResult> rows =
      sql->Exec("SELECT count(*), min(key), min(stage) FROM initiatives");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->Int(0, 0), 1);
  EXPECT_EQ(rows->Int(0, 1), 1);  // the first initiative's key, kept
  EXPECT_EQ(rows->Text(0, 2), "INITIATIVE_STAGE_NEXT");
}

TEST_F(PostgresPlanStoreTest, AWriteThroughAReadFailsWithFailedPrecondition) {
  ASSERT_TRUE(WritePlan().ok());
  const absl::Status read = store_->Read([](PlanTransaction& tx) -> absl::Status {
    for (const absl::Status& write :
         {tx.PutRegion(MakeRegion("soya", "宗谷", REGION_KIND_SUBPREFECTURE, "dohoku")),
          tx.PutProject(MakeProject()), tx.PutInitiative(MakeInitiative()),
          tx.DeleteInitiative("bousai-1")}) {
      EXPECT_EQ(write.code(), absl::StatusCode::kFailedPrecondition) << write;
    }
    // The transaction is still usable: nothing was sent to the server.
    ASSIGN_OR_RETURN(std::optional<v1::Initiative> initiative, tx.FindInitiative("bousai-1"));
    EXPECT_TRUE(initiative.has_value());
    return absl::OkStatus();
  });
  EXPECT_TRUE(read.ok()) << read;

  ASSERT_TRUE(store_
                  ->Read([](PlanTransaction& tx) -> absl::Status {
                    ASSIGN_OR_RETURN(std::optional<v1::Region> soya, tx.FindRegion("soya"));
                    EXPECT_FALSE(soya.has_value());
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_F(PostgresPlanStoreTest, AFailedBodyLeavesTheRestOfItsGroupStored) {
  const PlanStore::Body first = [](PlanTransaction& tx) {
    return tx.PutRegion(MakeRegion("hokkaido", "北海道", REGION_KIND_PREFECTURE, ""));
  };
  const PlanStore::Body failing = [](PlanTransaction& tx) -> absl::Status {
    RETURN_IF_ERROR(
        tx.PutRegion(MakeRegion("dohoku", "道北", REGION_KIND_COOPERATION_AREA, "hokkaido")));
    return absl::InvalidArgumentError("refused after writing");
  };
  const PlanStore::Body last = [](PlanTransaction& tx) {
    return tx.PutRegion(MakeRegion("kamikawa", "上川", REGION_KIND_SUBPREFECTURE, "dohoku"));
  };
  std::vector<absl::Status> outcomes;
  ASSERT_TRUE(store_->RunGroup({&first, &failing, &last}, &outcomes).ok());
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0];
  EXPECT_EQ(outcomes[1].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(outcomes[2].ok()) << outcomes[2];

  std::vector<std::string> ids;
  ASSERT_TRUE(store_
                  ->Read([&](PlanTransaction& tx) -> absl::Status {
                    ASSIGN_OR_RETURN(std::vector<v1::Region> regions, tx.AllRegions());
                    for (const v1::Region& region : regions) ids.push_back(region.id());
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"hokkaido", "kamikawa"}));
}

}  // namespace
}  // namespace suishin::plan
