// plan-service over real gRPC on loopback, against a real SQLite file.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/proto_util.h"
#include "tests/services/plan/plan_fixture.h"

namespace suishin::plan {
namespace {

using v1::Initiative;

TEST_F(PlanServiceTest, ImportsTheSeedAndASecondImportChangesNothing) {
  v1::ImportPlanRequest request;
  *request.mutable_dataset() = seed_.plan();
  v1::ImportPlanResponse first;
  ASSERT_TRUE(stub_->ImportPlan(Context().get(), request, &first).ok());
  EXPECT_EQ(first.regions().created(), seed_.plan().regions_size());
  EXPECT_EQ(first.projects().created(), 1);
  EXPECT_EQ(first.initiatives().created(), seed_.plan().initiatives_size());

  v1::ImportPlanResponse second;
  ASSERT_TRUE(stub_->ImportPlan(Context().get(), request, &second).ok());
  EXPECT_EQ(second.regions().created() + second.regions().updated(), 0);
  EXPECT_EQ(second.projects().unchanged(), 1);
  EXPECT_EQ(second.initiatives().unchanged(), seed_.plan().initiatives_size());
  EXPECT_EQ(CountInitiatives(), seed_.plan().initiatives_size());

  v1::GetProjectRequest get;
  get.set_id(kProject);
  v1::GetProjectResponse project;
  ASSERT_TRUE(stub_->GetProject(Context().get(), get, &project).ok());
  EXPECT_EQ(project.project().title(), "安全・安心な地域づくりプロジェクト");
  EXPECT_EQ(project.project().version(), 1);
  ASSERT_EQ(project.project().pillars_size(), 2);
  EXPECT_EQ(project.project().pillars(0).title(), "全ての世代が安心して暮らせる環境づくり");
}

TEST_F(PlanServiceTest, FiltersFy2020InitiativesBySoyaTag) {
  ImportSeed();
  v1::ListInitiativesRequest request;
  request.set_project_id(kProject);
  request.mutable_fiscal_year()->set_year(2020);
  request.set_region_id("soya");
  const std::vector<Initiative> found = ListAll(request);
  const std::vector<std::string> expected = SeedTexts([](const Initiative& i) {
    return i.fiscal_year().year() == 2020 &&
           std::count(i.region_ids().begin(), i.region_ids().end(), "soya") > 0;
  });
  ASSERT_EQ(expected.size(), 1u);  // 都市部からの医療従事者の招へい… 【宗谷】
  EXPECT_EQ(Texts(found), expected);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].fiscal_year().label(), "R2 (2020)");
  EXPECT_EQ(found[0].stage(), v1::INITIATIVE_STAGE_NEXT);
}

TEST_F(PlanServiceTest, FiltersFy2020InitiativesByShinkoukyoku) {
  ImportSeed();
  v1::ListInitiativesRequest request;
  request.set_project_id(kProject);
  request.mutable_fiscal_year()->set_year(2020);
  request.set_responsible_body("振興局");
  const std::vector<std::string> expected = SeedTexts([](const Initiative& i) {
    return i.fiscal_year().year() == 2020 &&
           std::count(i.responsible_bodies().begin(), i.responsible_bodies().end(), "振興局") > 0;
  });
  EXPECT_EQ(expected.size(), 9u);  // every FY2020 line but the 【留萌】 and 【宗谷】 ones
  EXPECT_EQ(Texts(ListAll(request)), expected);
}

TEST_F(PlanServiceTest, BodyFilterAlsoMatchesTheToOthersForm) {
  ImportSeed();
  v1::ListInitiativesRequest request;
  request.set_project_id(kProject);
  request.set_stage(v1::INITIATIVE_STAGE_ACHIEVEMENT);
  request.set_responsible_body("振興局");
  const std::vector<std::string> expected = SeedTexts([](const Initiative& i) {
    if (i.stage() != v1::INITIATIVE_STAGE_ACHIEVEMENT) return false;
    for (const std::string& body : i.responsible_bodies()) {
      if (body == "振興局" || body == "振興局等") return true;
    }
    return false;
  });
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Texts(ListAll(request)), expected);
}

TEST_F(PlanServiceTest, PagesThroughEveryInitiativeOnceInOrder) {
  ImportSeed();
  v1::ListInitiativesRequest request;
  request.set_project_id(kProject);
  request.set_page_size(7);
  std::vector<std::string> ids;
  for (const Initiative& initiative : ListAll(request)) ids.push_back(initiative.id());
  std::vector<std::string> expected;
  for (const Initiative& initiative : seed_.plan().initiatives()) {
    expected.push_back(initiative.id());
  }
  EXPECT_EQ(ids, expected);
}

TEST_F(PlanServiceTest, ListsRegionsInTreeOrder) {
  ImportSeed();
  v1::ListRegionsRequest request;
  request.set_root_id("dohoku");
  v1::ListRegionsResponse response;
  ASSERT_TRUE(stub_->ListRegions(Context().get(), request, &response).ok());
  std::vector<std::string> ids;
  for (const v1::Region& region : response.regions()) ids.push_back(region.id());
  EXPECT_EQ(ids, (std::vector<std::string>{"dohoku", "kamikawa", "rumoi", "soya"}));
  EXPECT_EQ(CountRegions(), 5);
}

TEST_F(PlanServiceTest, RefusesBadRegionsAndStoresNothing) {
  ImportSeed();
  struct Case {
    std::string json_id, name, parent, code;
    common::v1::RegionKind kind;
    grpc::StatusCode code_expected;
    std::string field, value;
  };
  const std::vector<Case> cases = {
      {"Asahikawa", "旭川市", "kamikawa", "", common::v1::REGION_KIND_MUNICIPALITY,
       grpc::StatusCode::INVALID_ARGUMENT, "region.id", "Asahikawa"},
      {"asahikawa", "", "kamikawa", "", common::v1::REGION_KIND_MUNICIPALITY,
       grpc::StatusCode::INVALID_ARGUMENT, "region.name", "\"\""},
      {"asahikawa", "旭川市", "kamikawa", "", common::v1::REGION_KIND_UNSPECIFIED,
       grpc::StatusCode::INVALID_ARGUMENT, "region.kind", "0"},
      {"asahikawa", "旭川市", "ishikari", "", common::v1::REGION_KIND_MUNICIPALITY,
       grpc::StatusCode::NOT_FOUND, "region.parent_id", "ishikari"},
      {"asahikawa", "旭川市", "dohoku", "", common::v1::REGION_KIND_MUNICIPALITY,
       grpc::StatusCode::INVALID_ARGUMENT, "region.parent_id", "dohoku"},
      {"asahikawa", "旭川市", "kamikawa", "012042", common::v1::REGION_KIND_MUNICIPALITY,
       grpc::StatusCode::INVALID_ARGUMENT, "region.local_government_code", "012042"},
      {"soya", "宗谷", "dohoku", "", common::v1::REGION_KIND_SUBPREFECTURE,
       grpc::StatusCode::ALREADY_EXISTS, "region.id", "soya"},
  };
  for (const Case& c : cases) {
    v1::CreateRegionRequest request;
    request.mutable_region()->set_id(c.json_id);
    request.mutable_region()->set_name(c.name);
    request.mutable_region()->set_parent_id(c.parent);
    request.mutable_region()->set_local_government_code(c.code);
    request.mutable_region()->set_kind(c.kind);
    v1::CreateRegionResponse response;
    SCOPED_TRACE(c.field + " " + c.value);
    ExpectRefused(stub_->CreateRegion(Context().get(), request, &response), c.code_expected,
                  c.field, c.value);
  }
  EXPECT_EQ(CountRegions(), 5);

  v1::CreateRegionRequest good;
  good.mutable_region()->set_id("asahikawa");
  good.mutable_region()->set_name("旭川市");
  good.mutable_region()->set_parent_id("kamikawa");
  good.mutable_region()->set_local_government_code("012041");
  good.mutable_region()->set_kind(common::v1::REGION_KIND_MUNICIPALITY);
  v1::CreateRegionResponse created;
  ASSERT_TRUE(stub_->CreateRegion(Context().get(), good, &created).ok());
  EXPECT_TRUE(created.region().has_create_time());
  EXPECT_EQ(CountRegions(), 6);
}

TEST_F(PlanServiceTest, RefusesBadProjects) {
  ImportSeed();
  v1::CreateProjectRequest request;
  request.mutable_project()->set_id("sangyo");
  request.mutable_project()->set_title("産業振興プロジェクト");
  request.mutable_project()->set_area_id("kamikawa");
  v1::CreateProjectResponse response;
  ExpectRefused(stub_->CreateProject(Context().get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "project.area_id", "kamikawa");

  request.mutable_project()->set_area_id("dohoku");
  request.mutable_project()->add_pillars()->set_id("a");
  request.mutable_project()->mutable_pillars(0)->set_title("■一");
  *request.mutable_project()->add_pillars() = request.project().pillars(0);
  ExpectRefused(stub_->CreateProject(Context().get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "project.pillars[1].id", "a");

  request.mutable_project()->mutable_pillars()->RemoveLast();
  request.mutable_project()->set_status(static_cast<v1::ProjectStatus>(42));
  ExpectRefused(stub_->CreateProject(Context().get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "project.status", "42");

  request.mutable_project()->clear_status();
  ASSERT_TRUE(stub_->CreateProject(Context().get(), request, &response).ok());
  EXPECT_EQ(response.project().status(), v1::PROJECT_STATUS_ACTIVE);
  EXPECT_EQ(response.project().version(), 1);
  ExpectRefused(stub_->CreateProject(Context().get(), request, &response),
                grpc::StatusCode::ALREADY_EXISTS, "project.id", "sangyo");
}

TEST_F(PlanServiceTest, RefusesBadInitiativesAndStoresNothing) {
  ImportSeed();
  // Another area with a subprefecture, to tag outside the project's area.
  v1::ImportPlanRequest more;
  auto* area = more.mutable_dataset()->add_regions();
  area->set_id("donan");
  area->set_name("道南");
  area->set_kind(common::v1::REGION_KIND_COOPERATION_AREA);
  area->set_parent_id("hokkaido");
  v1::ImportPlanResponse imported;
  ASSERT_TRUE(stub_->ImportPlan(Context().get(), more, &imported).ok());

  Initiative good;
  good.set_project_id(kProject);
  good.set_pillar_id("bousai");
  good.mutable_fiscal_year()->set_year(2021);
  good.set_stage(v1::INITIATIVE_STAGE_NEXT);
  good.set_text("防災訓練の実施");
  good.add_responsible_bodies("振興局");
  good.add_region_ids("soya");

  struct Case {
    std::function<void(Initiative&)> spoil;
    grpc::StatusCode code;
    std::string field, value;
  };
  const std::vector<Case> cases = {
      {[](Initiative& i) { i.mutable_fiscal_year()->set_year(1988); },
       grpc::StatusCode::INVALID_ARGUMENT, "initiative.fiscal_year.year", "1988"},
      {[](Initiative& i) { i.mutable_fiscal_year()->set_year(2101); },
       grpc::StatusCode::INVALID_ARGUMENT, "initiative.fiscal_year.year", "2101"},
      {[](Initiative& i) { i.clear_fiscal_year(); }, grpc::StatusCode::INVALID_ARGUMENT,
       "initiative.fiscal_year.year", "is required"},
      {[](Initiative& i) { i.clear_stage(); }, grpc::StatusCode::INVALID_ARGUMENT,
       "initiative.stage", "0"},
      {[](Initiative& i) { i.set_text("　 "); }, grpc::StatusCode::INVALID_ARGUMENT,
       "initiative.text", "must not be empty"},
      {[](Initiative& i) { i.set_pillar_id("sangyo"); }, grpc::StatusCode::INVALID_ARGUMENT,
       "initiative.pillar_id", "sangyo"},
      {[](Initiative& i) { i.set_project_id("nothing-here"); }, grpc::StatusCode::NOT_FOUND,
       "initiative.project_id", "nothing-here"},
      {[](Initiative& i) { i.set_region_ids(0, "nemuro"); }, grpc::StatusCode::NOT_FOUND,
       "initiative.region_ids[0]", "nemuro"},
      {[](Initiative& i) { i.set_region_ids(0, "donan"); }, grpc::StatusCode::INVALID_ARGUMENT,
       "initiative.region_ids[0]", "donan"},
      {[](Initiative& i) { i.add_responsible_bodies("振興局"); },
       grpc::StatusCode::INVALID_ARGUMENT, "initiative.responsible_bodies[1]", "振興局"},
      {[](Initiative& i) { i.set_id("dohoku-anzen-anshin-n01"); }, grpc::StatusCode::ALREADY_EXISTS,
       "initiative.id", "dohoku-anzen-anshin-n01"},
  };
  for (const Case& c : cases) {
    v1::CreateInitiativeRequest request;
    *request.mutable_initiative() = good;
    c.spoil(*request.mutable_initiative());
    v1::CreateInitiativeResponse response;
    SCOPED_TRACE(c.field + " " + c.value);
    ExpectRefused(stub_->CreateInitiative(Context().get(), request, &response), c.code, c.field,
                  c.value);
  }
  EXPECT_EQ(CountInitiatives(), seed_.plan().initiatives_size());

  v1::CreateInitiativeRequest request;
  *request.mutable_initiative() = good;
  v1::CreateInitiativeResponse response;
  ASSERT_TRUE(stub_->CreateInitiative(Context().get(), request, &response).ok());
  EXPECT_FALSE(response.initiative().id().empty());
  EXPECT_EQ(response.initiative().fiscal_year().label(), "R3 (2021)");
  EXPECT_EQ(CountInitiatives(), seed_.plan().initiatives_size() + 1);
}

TEST_F(PlanServiceTest, UpdateProjectRefusesAStaleVersion) {
  ImportSeed();
  v1::UpdateProjectRequest request;
  request.mutable_project()->set_id(kProject);
  request.mutable_project()->set_version(1);
  request.mutable_project()->set_title("安全・安心な地域づくりプロジェクト（改訂）");
  request.mutable_update_mask()->add_paths("title");
  v1::UpdateProjectResponse response;
  ASSERT_TRUE(stub_->UpdateProject(Context().get(), request, &response).ok());
  EXPECT_EQ(response.project().version(), 2);
  EXPECT_EQ(response.project().pillars_size(), 2);  // untouched by the mask
  EXPECT_EQ(response.project().overview(), seed_.plan().projects(0).overview());

  request.mutable_project()->set_title("古い版からの変更");
  ExpectRefused(stub_->UpdateProject(Context().get(), request, &response),
                grpc::StatusCode::FAILED_PRECONDITION, "project.version", "1");

  v1::GetProjectRequest get;
  get.set_id(kProject);
  v1::GetProjectResponse stored;
  ASSERT_TRUE(stub_->GetProject(Context().get(), get, &stored).ok());
  EXPECT_EQ(stored.project().title(), "安全・安心な地域づくりプロジェクト（改訂）");
}

TEST_F(PlanServiceTest, UpdateProjectRefusesDroppingAPillarInUse) {
  ImportSeed();
  v1::UpdateProjectRequest request;
  request.mutable_project()->set_id(kProject);
  request.mutable_project()->set_version(1);
  *request.mutable_project()->add_pillars() = seed_.plan().projects(0).pillars(0);
  request.mutable_update_mask()->add_paths("pillars");
  v1::UpdateProjectResponse response;
  ExpectRefused(stub_->UpdateProject(Context().get(), request, &response),
                grpc::StatusCode::FAILED_PRECONDITION, "project.pillars", "bousai");

  request.mutable_update_mask()->set_paths(0, "version");
  ExpectRefused(stub_->UpdateProject(Context().get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "update_mask.paths[0]", "version");
}

TEST_F(PlanServiceTest, UpdatesAndDeletesInitiativesWithVersions) {
  ImportSeed();
  v1::UpdateInitiativeRequest update;
  update.mutable_initiative()->set_id("dohoku-anzen-anshin-n04");
  update.mutable_initiative()->set_version(1);
  update.mutable_initiative()->set_text("医療従事者の移住定住を促進");
  update.mutable_update_mask()->add_paths("text");
  v1::UpdateInitiativeResponse updated;
  ASSERT_TRUE(stub_->UpdateInitiative(Context().get(), update, &updated).ok());
  EXPECT_EQ(updated.initiative().version(), 2);
  EXPECT_EQ(updated.initiative().region_ids_size(), 1);  // kept: not in the mask
  ExpectRefused(stub_->UpdateInitiative(Context().get(), update, &updated),
                grpc::StatusCode::FAILED_PRECONDITION, "initiative.version", "1");

  v1::DeleteInitiativeRequest remove;
  remove.set_id("dohoku-anzen-anshin-n04");
  remove.set_version(1);
  v1::DeleteInitiativeResponse removed;
  ExpectRefused(stub_->DeleteInitiative(Context().get(), remove, &removed),
                grpc::StatusCode::FAILED_PRECONDITION, "version", "1");
  remove.set_version(2);
  ASSERT_TRUE(stub_->DeleteInitiative(Context().get(), remove, &removed).ok());
  ExpectRefused(stub_->DeleteInitiative(Context().get(), remove, &removed),
                grpc::StatusCode::NOT_FOUND, "id", "dohoku-anzen-anshin-n04");
  EXPECT_EQ(CountInitiatives(), seed_.plan().initiatives_size() - 1);
}

TEST_F(PlanServiceTest, ImportIsAllOrNothing) {
  v1::ImportPlanRequest request;
  *request.mutable_dataset() = seed_.plan();
  // The last initiative names a pillar the project does not have.
  request.mutable_dataset()->mutable_initiatives()->rbegin()->set_pillar_id("sangyo");
  v1::ImportPlanResponse response;
  const int last = seed_.plan().initiatives_size() - 1;
  ExpectRefused(stub_->ImportPlan(Context().get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT,
                "dataset.initiatives[" + std::to_string(last) + "].pillar_id", "sangyo");
  EXPECT_EQ(CountRegions(), 0);
  EXPECT_EQ(CountInitiatives(), 0);
}

TEST_F(PlanServiceTest, KeepsEverythingAcrossARestart) {
  ImportSeed();
  server_->Stop();
  server_.reset();
  StartServer();
  EXPECT_EQ(CountRegions(), 5);
  EXPECT_EQ(CountInitiatives(), seed_.plan().initiatives_size());
}

TEST_F(PlanServiceTest, RefusesBadListArguments) {
  ImportSeed();
  v1::ListInitiativesRequest request;
  v1::ListInitiativesResponse response;
  request.set_page_token("not-a-token");
  ExpectRefused(stub_->ListInitiatives(Context().get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "page_token", "not-a-token");
  request.clear_page_token();
  request.set_page_size(5000);
  ExpectRefused(stub_->ListInitiatives(Context().get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "page_size", "5000");
  request.clear_page_size();
  request.set_project_id("unknown");
  ExpectRefused(stub_->ListInitiatives(Context().get(), request, &response),
                grpc::StatusCode::NOT_FOUND, "project_id", "unknown");
  request.clear_project_id();
  request.mutable_fiscal_year()->set_year(3000);
  ExpectRefused(stub_->ListInitiatives(Context().get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "fiscal_year.year", "3000");
}

}  // namespace
}  // namespace suishin::plan

namespace suishin::plan {
namespace {

// Writes are stamped by the Clock plan-service is given (common/clock.h, the
// one time seam of every service), not by the system clock.
TEST_F(PlanServiceTest, StampsWritesWithTheClockItIsGiven) {
  FixedClock clock(absl::FromCivil(absl::CivilSecond(2019, 4, 1, 9, 0, 0), absl::UTCTimeZone()));
  testing::PlanServerOptions options;
  options.seams.clock = &clock;
  StartServer(options);
  v1::CreateRegionRequest request;
  request.mutable_region()->set_id("hokkaido");
  request.mutable_region()->set_name("北海道");
  request.mutable_region()->set_kind(common::v1::REGION_KIND_PREFECTURE);
  v1::CreateRegionResponse created;
  grpc::Status status = stub_->CreateRegion(Context().get(), request, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(FromProtoTimestamp(created.region().create_time()), clock.Now());
  StartServer();  // before `clock` goes
}

}  // namespace
}  // namespace suishin::plan
