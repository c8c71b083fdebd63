// What a client sends is bounded and stored only as far as the service
// means to store it: unknown fields and output-only fields are dropped
// before anything is written, and every bound is refused with its flag named,
// storing nothing.
#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/fiscal_year.h"
#include "tests/services/plan/plan_fixture.h"
#include "tests/support/unknown_fields.h"

namespace suishin::plan {
namespace {

using google::protobuf::Message;
using google::protobuf::util::TimeUtil;
using ::suishin::testing::HasUnknownFields;
using ::suishin::testing::WithUnknownField;

// A time no service would stamp: 2000-01-01.
google::protobuf::Timestamp LongAgo() { return TimeUtil::SecondsToTimestamp(946684800); }

v1::Initiative GoodInitiative() {
  v1::Initiative initiative;
  initiative.set_project_id(kProject);
  initiative.set_pillar_id("bousai");
  initiative.mutable_fiscal_year()->set_year(2020);
  initiative.set_stage(v1::INITIATIVE_STAGE_NEXT);
  initiative.set_text("防災訓練の実施");
  initiative.add_responsible_bodies("振興局");
  initiative.add_region_ids("soya");
  return initiative;
}

using PlanInputTest = PlanServiceTest;

TEST_F(PlanInputTest, CreateRegionStoresNeitherUnknownFieldsNorTheClientsCreateTime) {
  ImportSeed();
  v1::Region region = MakeRegion("asahikawa", common::v1::REGION_KIND_MUNICIPALITY, "kamikawa");
  *region.mutable_create_time() = LongAgo();
  v1::CreateRegionRequest request;
  *request.mutable_region() = WithUnknownField(region);
  request = WithUnknownField(request);
  v1::CreateRegionResponse created;
  ASSERT_TRUE(stub_->CreateRegion(Context().get(), request, &created).ok());
  EXPECT_FALSE(HasUnknownFields(created));

  v1::GetRegionRequest get;
  get.set_id("asahikawa");
  v1::GetRegionResponse stored;
  ASSERT_TRUE(stub_->GetRegion(Context().get(), get, &stored).ok());
  EXPECT_FALSE(HasUnknownFields(stored));
  EXPECT_GT(stored.region().create_time().seconds(), LongAgo().seconds());
  EXPECT_EQ(stored.region().name(), region.name());
}

TEST_F(PlanInputTest, CreateProjectStoresNoUnknownFieldsAndSetsItsOwnVersionAndTimes) {
  ImportSeed();
  v1::Project project;
  project.set_id("sangyo");
  project.set_area_id("dohoku");
  project.set_title("産業振興プロジェクト");
  *project.add_pillars() = WithUnknownField([] {
    v1::Pillar pillar;
    pillar.set_id("a");
    pillar.set_title("■ものづくり");
    return pillar;
  }());
  project.set_version(42);
  *project.mutable_create_time() = LongAgo();
  *project.mutable_update_time() = LongAgo();
  v1::CreateProjectRequest request;
  *request.mutable_project() = WithUnknownField(project);
  v1::CreateProjectResponse created;
  ASSERT_TRUE(stub_->CreateProject(Context().get(), request, &created).ok());

  v1::GetProjectRequest get;
  get.set_id("sangyo");
  v1::GetProjectResponse stored;
  ASSERT_TRUE(stub_->GetProject(Context().get(), get, &stored).ok());
  EXPECT_FALSE(HasUnknownFields(stored));
  EXPECT_EQ(stored.project().version(), 1);
  EXPECT_GT(stored.project().create_time().seconds(), LongAgo().seconds());
  EXPECT_GT(stored.project().update_time().seconds(), LongAgo().seconds());
  ASSERT_EQ(stored.project().pillars_size(), 1);
  EXPECT_EQ(stored.project().pillars(0).title(), "■ものづくり");
}

TEST_F(PlanInputTest, ImportAndUpdatesStoreNoUnknownFieldsAndRelabelTheYear) {
  v1::ImportPlanRequest request;
  *request.mutable_dataset() = seed_.plan();
  v1::PlanDataset* dataset = request.mutable_dataset();
  *dataset->mutable_regions(1) = WithUnknownField(dataset->regions(1));
  *dataset->mutable_regions(1)->mutable_create_time() = LongAgo();
  *dataset->mutable_projects(0) = WithUnknownField(dataset->projects(0));
  dataset->mutable_projects(0)->set_version(42);
  v1::Initiative* first = dataset->mutable_initiatives(0);
  *first->mutable_fiscal_year() = WithUnknownField(first->fiscal_year());
  first->mutable_fiscal_year()->set_label("bogus");
  *first->mutable_update_time() = LongAgo();
  *first = WithUnknownField(*first);
  *dataset = WithUnknownField(*dataset);
  v1::ImportPlanResponse imported;
  ASSERT_TRUE(stub_->ImportPlan(Context().get(), request, &imported).ok());

  v1::ListRegionsResponse regions;
  ASSERT_TRUE(stub_->ListRegions(Context().get(), {}, &regions).ok());
  EXPECT_FALSE(HasUnknownFields(regions));
  for (const v1::Region& region : regions.regions()) {
    EXPECT_GT(region.create_time().seconds(), LongAgo().seconds()) << region.id();
  }
  v1::GetProjectRequest get;
  get.set_id(kProject);
  v1::GetProjectResponse project;
  ASSERT_TRUE(stub_->GetProject(Context().get(), get, &project).ok());
  EXPECT_FALSE(HasUnknownFields(project));
  EXPECT_EQ(project.project().version(), 1);
  const std::vector<v1::Initiative> initiatives = ListAll({});
  ASSERT_FALSE(initiatives.empty());
  for (const v1::Initiative& initiative : initiatives) {
    EXPECT_FALSE(HasUnknownFields(initiative)) << initiative.id();
  }
  EXPECT_EQ(initiatives[0].fiscal_year().label(),
            FormatFiscalYear(seed_.plan().initiatives(0).fiscal_year().year()));
  EXPECT_GT(initiatives[0].update_time().seconds(), LongAgo().seconds());

  // An update's patch carries an unknown field too, at the top and in a
  // field it changes.
  v1::UpdateInitiativeRequest update;
  v1::Initiative patch;
  patch.set_id(initiatives[0].id());
  patch.set_version(1);
  *patch.mutable_fiscal_year() = WithUnknownField(initiatives[0].fiscal_year());
  patch.set_text("医療従事者の確保");
  *update.mutable_initiative() = WithUnknownField(patch);
  update.mutable_update_mask()->add_paths("text");
  update.mutable_update_mask()->add_paths("fiscal_year");
  v1::UpdateInitiativeResponse updated;
  ASSERT_TRUE(stub_->UpdateInitiative(Context().get(), update, &updated).ok());
  EXPECT_FALSE(HasUnknownFields(updated));
  v1::ListInitiativesRequest list;
  list.set_page_size(1);
  EXPECT_FALSE(HasUnknownFields(ListAll(list)[0]));
}

TEST_F(PlanInputTest, RefusesTextsAndListsOverTheirLimitsNamingTheFlag) {
  ImportSeed();
  const std::string long_name(201, 'a');   // --max_name_chars=200
  const std::string long_text(4001, 'x');  // --max_text_chars=4000
  v1::CreateRegionRequest region;
  *region.mutable_region() =
      MakeRegion("asahikawa", common::v1::REGION_KIND_MUNICIPALITY, "kamikawa");
  region.mutable_region()->set_name(long_name);
  v1::CreateRegionResponse region_response;
  ExpectRefused(stub_->CreateRegion(Context().get(), region, &region_response),
                grpc::StatusCode::INVALID_ARGUMENT, "region.name", "--max_name_chars");

  v1::CreateProjectRequest project;
  project.mutable_project()->set_id("sangyo");
  project.mutable_project()->set_area_id("dohoku");
  project.mutable_project()->set_title(long_text);
  v1::CreateProjectResponse project_response;
  ExpectRefused(stub_->CreateProject(Context().get(), project, &project_response),
                grpc::StatusCode::INVALID_ARGUMENT, "project.title", "--max_text_chars");
  project.mutable_project()->set_title("産業振興プロジェクト");
  for (int i = 0; i < 1001; ++i) {  // --max_list_items=1000
    v1::Pillar* pillar = project.mutable_project()->add_pillars();
    pillar->set_id(absl::StrCat("p", i));
    pillar->set_title("■");
  }
  ExpectRefused(stub_->CreateProject(Context().get(), project, &project_response),
                grpc::StatusCode::INVALID_ARGUMENT, "project.pillars", "--max_list_items");

  struct Case {
    std::function<void(v1::Initiative&)> spoil;
    std::string field, flag;
  };
  const std::vector<Case> cases = {
      {[&](v1::Initiative& i) { i.set_text(long_text); }, "initiative.text", "--max_text_chars"},
      {[&](v1::Initiative& i) { i.set_responsible_bodies(0, long_name); },
       "initiative.responsible_bodies[0]", "--max_name_chars"},
      {[](v1::Initiative& i) {
         for (int k = 0; k < 1001; ++k) i.add_responsible_bodies(absl::StrCat("機関", k));
       },
       "initiative.responsible_bodies", "--max_list_items"},
      {[](v1::Initiative& i) {
         for (int k = 0; k < 1001; ++k) i.add_region_ids(absl::StrCat("r", k));
       },
       "initiative.region_ids", "--max_list_items"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    v1::CreateInitiativeRequest request;
    *request.mutable_initiative() = GoodInitiative();
    c.spoil(*request.mutable_initiative());
    v1::CreateInitiativeResponse response;
    ExpectRefused(stub_->CreateInitiative(Context().get(), request, &response),
                  grpc::StatusCode::INVALID_ARGUMENT, c.field, c.flag);
  }
  EXPECT_EQ(CountRegions(), 5);
  EXPECT_EQ(CountInitiatives(), seed_.plan().initiatives_size());
  v1::ListProjectsResponse projects;
  ASSERT_TRUE(stub_->ListProjects(Context().get(), {}, &projects).ok());
  EXPECT_EQ(projects.projects_size(), 1);
}

TEST_F(PlanInputTest, RefusesAnImportOverItsItemLimitNamingTheFlag) {
  // The default, 10000 regions + projects + initiatives.
  v1::ImportPlanRequest request;
  for (int i = 0; i < 10001; ++i) {
    *request.mutable_dataset()->add_regions() =
        MakeRegion(absl::StrCat("r", i), common::v1::REGION_KIND_SUBPREFECTURE, "dohoku");
  }
  v1::ImportPlanResponse response;
  ExpectRefused(stub_->ImportPlan(Context().get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "dataset", "--import_plan_max_items");
  ExpectRefused(stub_->ImportPlan(Context().get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "10001", "10000");

  // A lower bound set for the service: the seed is over it.
  testing::PlanServerOptions options;
  options.catalog.import_max_items = 10;
  StartServer(options);
  request.Clear();
  *request.mutable_dataset() = seed_.plan();
  ExpectRefused(stub_->ImportPlan(Context().get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "dataset", "--import_plan_max_items");
  EXPECT_EQ(CountRegions(), 0);
  EXPECT_EQ(CountInitiatives(), 0);
}

}  // namespace
}  // namespace suishin::plan
