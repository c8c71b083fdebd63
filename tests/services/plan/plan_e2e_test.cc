// The real plan-service binary, as the review found it: the seed loaded by
// ImportPlan, then one ImportPlan that makes the existing 道北 area
// (`dohoku`) its own parent. It must be refused, naming the field and the
// value, and ListRegions under 道北 must still answer within 1 s (before the
// fix it never answered while the process grew by hundreds of MB/s).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/channel.h"
#include "suishin/plan/v1/plan.grpc.pb.h"
#include "tests/support/plan_server.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"

namespace suishin::plan {
namespace {

using ::suishin::testing::ServiceProcess;
using ::suishin::testing::TempDir;

std::unique_ptr<grpc::ClientContext> Within(std::chrono::milliseconds deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + deadline);
  return context;
}

TEST(PlanServiceBinaryTest, RefusesMakingDohokuItsOwnParentAndStillListsItsRegions) {
  absl::StatusOr<TempDir> dir = TempDir::Create("plan-e2e");
  ASSERT_TRUE(dir.ok()) << dir.status();
  std::optional<ServiceProcess> plan;
  ASSERT_NO_FATAL_FAILURE(testing::StartPlanService(*dir, "plan", &plan));
  auto stub = v1::PlanService::NewStub(MakeChannel(plan->address()));

  absl::StatusOr<dataset::v1::Dataset> seed = testing::LoadSeedDataset();
  ASSERT_TRUE(seed.ok()) << seed.status();
  v1::ImportPlanRequest load;
  *load.mutable_dataset() = seed->plan();
  v1::ImportPlanResponse loaded;
  const grpc::Status load_status =
      stub->ImportPlan(Within(std::chrono::seconds(10)).get(), load, &loaded);
  ASSERT_TRUE(load_status.ok()) << load_status.error_message() << plan->Log();

  // 道北 its own parent: as the cooperation area it is, and as a
  // subprefecture (for which the stored 道北 would be a parent of the right
  // level).
  for (const common::v1::RegionKind kind :
       {common::v1::REGION_KIND_COOPERATION_AREA, common::v1::REGION_KIND_SUBPREFECTURE}) {
    SCOPED_TRACE(common::v1::RegionKind_Name(kind));
    v1::ImportPlanRequest request;
    v1::Region* dohoku = request.mutable_dataset()->add_regions();
    dohoku->set_id("dohoku");
    dohoku->set_name("道北");
    dohoku->set_kind(kind);
    dohoku->set_parent_id("dohoku");
    v1::ImportPlanResponse response;
    const grpc::Status status =
        stub->ImportPlan(Within(std::chrono::seconds(10)).get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_NE(status.error_message().find("dataset.regions[0].parent_id"), std::string::npos)
        << status.error_message();
    EXPECT_NE(status.error_message().find("\"dohoku\""), std::string::npos)
        << status.error_message();

    v1::ListRegionsRequest list;
    list.set_root_id("dohoku");
    v1::ListRegionsResponse regions;
    const grpc::Status listed =
        stub->ListRegions(Within(std::chrono::seconds(1)).get(), list, &regions);
    ASSERT_TRUE(listed.ok()) << listed.error_code() << " " << listed.error_message();
    std::vector<std::string> ids;
    for (const v1::Region& region : regions.regions()) ids.push_back(region.id());
    EXPECT_EQ(ids, (std::vector<std::string>{"dohoku", "kamikawa", "rumoi", "soya"}));
    ASSERT_GE(regions.regions_size(), 1);
    EXPECT_EQ(regions.regions(0).parent_id(), "hokkaido");
    EXPECT_EQ(regions.regions(0).kind(), common::v1::REGION_KIND_COOPERATION_AREA);
  }
  stub.reset();  // the channel closed: nothing left for the shutdown to wait for
  testing::StopService(&plan);
}

}  // namespace
}  // namespace suishin::plan
