// The region tree stays a tree (DESIGN.md §8), by every path that writes
// regions: CreateRegion and ImportPlan refuse a self-parent, a cycle of any
// length (within one import, or with stored regions), a kind change and a
// parent not one level up, naming the field and the value, storing nothing;
// and ListRegions answers within 1 s afterwards, and even over a store
// damaged behind the service's back.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/services/plan/plan_fixture.h"

namespace suishin::plan {
namespace {

using common::v1::REGION_KIND_COOPERATION_AREA;
using common::v1::REGION_KIND_MUNICIPALITY;
using common::v1::REGION_KIND_PREFECTURE;
using common::v1::REGION_KIND_SUBPREFECTURE;

class PlanTreeTest : public PlanServiceTest {
 protected:
  // CreateRegion of `region`.
  grpc::Status Create(const v1::Region& region) {
    v1::CreateRegionRequest request;
    *request.mutable_region() = region;
    v1::CreateRegionResponse response;
    return stub_->CreateRegion(Context().get(), request, &response);
  }

  // ImportPlan of a dataset holding only `regions`.
  grpc::Status Import(const std::vector<v1::Region>& regions) {
    v1::ImportPlanRequest request;
    for (const v1::Region& region : regions) *request.mutable_dataset()->add_regions() = region;
    v1::ImportPlanResponse response;
    return stub_->ImportPlan(Context().get(), request, &response);
  }

  // Puts `regions` straight into the SQLite store, unchecked.
  void Damage(const std::vector<v1::Region>& regions) {
    const absl::Status status = server_->store().Run([&](PlanTransaction& tx) {
      for (const v1::Region& region : regions) {
        absl::Status put = tx.PutRegion(region);
        if (!put.ok()) return put;
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(status.ok()) << status;
  }
};

struct TreeCase {
  std::string name;
  // CreateRegion of regions[0] when false; ImportPlan of all of them when true.
  bool import;
  std::vector<v1::Region> regions;
  grpc::StatusCode code;
  std::string field;
  std::string value;
};

TEST_F(PlanTreeTest, RefusesEveryWriteThatWouldBreakTheTreeAndStoresNothing) {
  ImportSeed();
  const std::vector<std::string> tree = TreeWithin1s();
  ASSERT_EQ(tree.size(), 5u);
  const std::vector<std::string> dohoku = TreeWithin1s("dohoku");
  ASSERT_EQ(dohoku.size(), 4u);
  const grpc::StatusCode kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  const std::vector<TreeCase> cases = {
      {"self-parent by CreateRegion",
       false,
       {MakeRegion("asahikawa", REGION_KIND_MUNICIPALITY, "asahikawa")},
       kInvalid,
       "region.parent_id",
       "asahikawa"},
      {"道北 its own parent by ImportPlan",
       true,
       {MakeRegion("dohoku", REGION_KIND_COOPERATION_AREA, "dohoku")},
       kInvalid,
       "dataset.regions[0].parent_id",
       "dohoku"},
      {"道北 its own parent as a subprefecture (the review's case: the stored 道北 is the level "
       "above a subprefecture)",
       true,
       {MakeRegion("dohoku", REGION_KIND_SUBPREFECTURE, "dohoku")},
       kInvalid,
       "dataset.regions[0].parent_id",
       "dohoku"},
      {"two-region cycle with a stored region",
       true,
       {MakeRegion("dohoku", REGION_KIND_COOPERATION_AREA, "kamikawa")},
       kInvalid,
       "dataset.regions[0].parent_id",
       "dohoku → kamikawa → dohoku"},
      {"two-region cycle of new regions within one import",
       true,
       {MakeRegion("donan", REGION_KIND_COOPERATION_AREA, "oshima"),
        MakeRegion("oshima", REGION_KIND_SUBPREFECTURE, "donan")},
       kInvalid,
       "dataset.regions[0].parent_id",
       "donan → oshima → donan"},
      {"two-region cycle of stored regions within one import",
       true,
       {MakeRegion("kamikawa", REGION_KIND_SUBPREFECTURE, "soya"),
        MakeRegion("soya", REGION_KIND_SUBPREFECTURE, "kamikawa")},
       kInvalid,
       "dataset.regions[0].parent_id",
       "kamikawa → soya → kamikawa"},
      {"three-region cycle within one import",
       true,
       {MakeRegion("dohoku", REGION_KIND_COOPERATION_AREA, "soya"),
        MakeRegion("soya", REGION_KIND_SUBPREFECTURE, "kamikawa"),
        MakeRegion("kamikawa", REGION_KIND_SUBPREFECTURE, "dohoku")},
       kInvalid,
       "dataset.regions[0].parent_id",
       "dohoku → soya → kamikawa → dohoku"},
      {"three-region cycle through a stored region",
       true,
       {MakeRegion("asahikawa", REGION_KIND_MUNICIPALITY, "kamikawa"),
        MakeRegion("dohoku", REGION_KIND_COOPERATION_AREA, "asahikawa")},
       kInvalid,
       "dataset.regions[0].parent_id",
       "asahikawa → kamikawa → dohoku → asahikawa"},
      {"a subprefecture re-imported as a municipality",
       true,
       {MakeRegion("soya", REGION_KIND_MUNICIPALITY, "kamikawa")},
       kInvalid,
       "dataset.regions[0].kind",
       "REGION_KIND_MUNICIPALITY"},
      {"a cooperation area re-imported as a prefecture",
       true,
       {MakeRegion("rumoi", REGION_KIND_SUBPREFECTURE, "dohoku"),
        MakeRegion("dohoku", REGION_KIND_PREFECTURE, "")},
       kInvalid,
       "dataset.regions[1].kind",
       "REGION_KIND_PREFECTURE"},
      {"wrong-level parent by CreateRegion",
       false,
       {MakeRegion("asahikawa", REGION_KIND_MUNICIPALITY, "dohoku")},
       kInvalid,
       "region.parent_id",
       "dohoku"},
      {"wrong-level parent coming later in the same import",
       true,
       {MakeRegion("asahikawa", REGION_KIND_MUNICIPALITY, "donan"),
        MakeRegion("donan", REGION_KIND_COOPERATION_AREA, "hokkaido")},
       kInvalid,
       "dataset.regions[0].parent_id",
       "donan"},
      {"a subprefecture moved under the prefecture",
       true,
       {MakeRegion("kamikawa", REGION_KIND_SUBPREFECTURE, "hokkaido")},
       kInvalid,
       "dataset.regions[0].parent_id",
       "hokkaido"},
      {"a parent nowhere",
       true,
       {MakeRegion("asahikawa", REGION_KIND_MUNICIPALITY, "ishikari")},
       grpc::StatusCode::NOT_FOUND,
       "dataset.regions[0].parent_id",
       "ishikari"},
  };
  for (const TreeCase& c : cases) {
    SCOPED_TRACE(c.name);
    const grpc::Status status = c.import ? Import(c.regions) : Create(c.regions[0]);
    ExpectRefused(status, c.code, c.field, c.value);
    // Nothing stored, and the tree still answers at once.
    EXPECT_EQ(TreeWithin1s(), tree);
    EXPECT_EQ(TreeWithin1s("dohoku"), dohoku);
  }
}

TEST_F(PlanTreeTest, AcceptsAParentThatComesLaterInTheSameImport) {
  ImportSeed();
  ASSERT_TRUE(Import({MakeRegion("asahikawa", REGION_KIND_MUNICIPALITY, "kamikawa-hoku"),
                      MakeRegion("kamikawa-hoku", REGION_KIND_SUBPREFECTURE, "dohoku")})
                  .ok());
  EXPECT_EQ(TreeWithin1s("dohoku"),
            (std::vector<std::string>{"dohoku<hokkaido:2", "kamikawa<dohoku:3", "rumoi<dohoku:3",
                                      "soya<dohoku:3", "kamikawa-hoku<dohoku:3",
                                      "asahikawa<kamikawa-hoku:4"}));
  // Moving a region under another parent of the same level is allowed.
  ASSERT_TRUE(Import({MakeRegion("asahikawa", REGION_KIND_MUNICIPALITY, "kamikawa")}).ok());
  EXPECT_EQ(TreeWithin1s("kamikawa"),
            (std::vector<std::string>{"kamikawa<dohoku:3", "asahikawa<kamikawa:4"}));
}

TEST_F(PlanTreeTest, ADamagedStoreStillAnswersAndIsNotBuiltOn) {
  ImportSeed();
  // What the service would refuse, put in behind its back: a two-region
  // cycle, a self-parent and a region under a parent that does not exist.
  Damage({MakeRegion("loop-a", REGION_KIND_COOPERATION_AREA, "loop-b"),
          MakeRegion("loop-b", REGION_KIND_SUBPREFECTURE, "loop-a"),
          MakeRegion("selfie", REGION_KIND_SUBPREFECTURE, "selfie"),
          MakeRegion("dangling", REGION_KIND_SUBPREFECTURE, "ghost")});

  EXPECT_EQ(TreeWithin1s("loop-a"),
            (std::vector<std::string>{"loop-a<loop-b:2", "loop-b<loop-a:3"}));
  EXPECT_EQ(TreeWithin1s("selfie"), (std::vector<std::string>{"selfie<selfie:3"}));
  EXPECT_EQ(TreeWithin1s().size(), 5u);  // the seed's tree; the damage hangs off no root

  // A new region that would close a cycle with a stored one.
  ExpectRefused(Create(MakeRegion("ghost", REGION_KIND_COOPERATION_AREA, "dangling")),
                grpc::StatusCode::INVALID_ARGUMENT, "region.parent_id", "ghost → dangling → ghost");
  // A new region under a stored cycle: the damage is named, not built on.
  ExpectRefused(Create(MakeRegion("under-loop", REGION_KIND_MUNICIPALITY, "loop-b")),
                grpc::StatusCode::FAILED_PRECONDITION, "region.parent_id",
                "loop-b → loop-a → loop-b");
  // A region tag on a cycle is outside every area, found out at once.
  v1::CreateInitiativeRequest request;
  v1::Initiative* initiative = request.mutable_initiative();
  initiative->set_project_id(kProject);
  initiative->set_pillar_id("bousai");
  initiative->mutable_fiscal_year()->set_year(2021);
  initiative->set_stage(v1::INITIATIVE_STAGE_NEXT);
  initiative->set_text("防災訓練の実施");
  initiative->add_region_ids("loop-b");
  v1::CreateInitiativeResponse response;
  ExpectRefused(stub_->CreateInitiative(Context(std::chrono::seconds(1)).get(), request, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "initiative.region_ids[0]", "loop-b");
  EXPECT_EQ(TreeWithin1s("loop-a").size(), 2u);
}

}  // namespace
}  // namespace suishin::plan
