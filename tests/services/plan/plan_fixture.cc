#include "tests/services/plan/plan_fixture.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace suishin::plan {

using ::suishin::testing::LoadSeedDataset;
using ::suishin::testing::PlanServer;
using ::suishin::testing::TempDir;

void PlanServiceTest::SetUp() {
  auto dir = TempDir::Create("plan-test");
  ASSERT_TRUE(dir.ok()) << dir.status();
  dir_ = std::make_unique<TempDir>(*std::move(dir));
  StartServer();
  auto seed = LoadSeedDataset();
  ASSERT_TRUE(seed.ok()) << seed.status();
  seed_ = *std::move(seed);
}

void PlanServiceTest::StartServer(testing::PlanServerOptions options) {
  stub_.reset();
  server_.reset();
  auto server = PlanServer::Start(dir_->File("plan.db"), std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  stub_ = server_->NewStub();
}

std::unique_ptr<grpc::ClientContext> PlanServiceTest::Context(std::chrono::milliseconds deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + deadline);
  return context;
}

void PlanServiceTest::ImportSeed() {
  v1::ImportPlanRequest request;
  *request.mutable_dataset() = seed_.plan();
  v1::ImportPlanResponse response;
  grpc::Status status = stub_->ImportPlan(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
}

std::vector<v1::Initiative> PlanServiceTest::ListAll(v1::ListInitiativesRequest request) {
  std::vector<v1::Initiative> all;
  while (true) {
    v1::ListInitiativesResponse response;
    grpc::Status status = stub_->ListInitiatives(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) return all;
    all.insert(all.end(), response.initiatives().begin(), response.initiatives().end());
    if (response.next_page_token().empty()) return all;
    request.set_page_token(response.next_page_token());
  }
}

int PlanServiceTest::CountRegions() {
  v1::ListRegionsResponse response;
  EXPECT_TRUE(stub_->ListRegions(Context().get(), {}, &response).ok());
  return response.regions_size();
}

std::vector<std::string> PlanServiceTest::TreeWithin1s(const std::string& root_id) {
  v1::ListRegionsRequest request;
  request.set_root_id(root_id);
  request.set_page_size(1000);
  v1::ListRegionsResponse response;
  const grpc::Status status =
      stub_->ListRegions(Context(std::chrono::seconds(1)).get(), request, &response);
  EXPECT_TRUE(status.ok()) << "ListRegions under \"" << root_id << "\": " << status.error_code()
                           << " " << status.error_message();
  std::vector<std::string> tree;
  for (const v1::Region& region : response.regions()) {
    tree.push_back(absl::StrCat(region.id(), "<", region.parent_id(), ":", region.kind()));
  }
  return tree;
}

std::vector<std::string> PlanServiceTest::Texts(const std::vector<v1::Initiative>& initiatives) {
  std::vector<std::string> texts;
  for (const v1::Initiative& initiative : initiatives) texts.push_back(initiative.text());
  return texts;
}

void ExpectRefused(const grpc::Status& status, grpc::StatusCode code, const std::string& field,
                   const std::string& value) {
  EXPECT_EQ(status.error_code(), code) << status.error_message();
  EXPECT_NE(status.error_message().find(field), std::string::npos) << status.error_message();
  EXPECT_NE(status.error_message().find(value), std::string::npos) << status.error_message();
}

v1::Region MakeRegion(const std::string& id, common::v1::RegionKind kind,
                      const std::string& parent_id) {
  v1::Region region;
  region.set_id(id);
  region.set_name(absl::StrCat("地域 ", id));
  region.set_kind(kind);
  region.set_parent_id(parent_id);
  return region;
}

}  // namespace suishin::plan
