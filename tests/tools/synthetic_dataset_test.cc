// loadgen's synthetic dataset loaded into a real plan-service and
// kpi-service: its municipal KPIs are tracked in all 179 市町村, and 北海道,
// each 連携地域 and each 振興局 add up from them level by level.
#include "tools/loadgen/synthetic_dataset.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/services/kpi/kpi_fixture.h"
#include "tests/support/plan_server.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"

namespace suishin::loadgen {
namespace {

using kpi::testing::Context;
using kpi::testing::KpiServer;

class SyntheticDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = suishin::testing::TempDir::Create("synthetic");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<suishin::testing::TempDir>(*std::move(dir));
    auto redis = suishin::testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    auto plan = suishin::testing::PlanServer::Start(dir_->File("plan.db"));
    ASSERT_TRUE(plan.ok()) << plan.status();
    plan_ = *std::move(plan);
    auto kpi = KpiServer::Start(dir_->File("kpi.db"), plan_->address(), redis_->url());
    ASSERT_TRUE(kpi.ok()) << kpi.status();
    kpi_ = *std::move(kpi);
    stub_ = kpi_->NewStub();

    SeedOptions options;
    options.kpis = 1;
    options.municipal_kpis = 2;  // a count and a rate
    options.years = 3;
    seed_ = MakeSeedDataset(options);
    plan::v1::ImportPlanRequest import;
    *import.mutable_dataset() = seed_.plan;
    plan::v1::ImportPlanResponse imported;
    grpc::Status status = plan_->NewStub()->ImportPlan(Context().get(), import, &imported);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    for (const kpi::v1::Kpi& kpi : seed_.kpis) {
      kpi::v1::CreateKpiRequest create;
      *create.mutable_kpi() = kpi;
      kpi::v1::CreateKpiResponse created;
      status = stub_->CreateKpi(Context().get(), create, &created);
      ASSERT_TRUE(status.ok()) << kpi.id() << ": " << status.error_message();
      kpis_[kpi.id()] = created.kpi();
    }
    auto context = Context();
    kpi::v1::ImportActualsResponse applied;
    auto writer = stub_->ImportActuals(context.get(), &applied);
    kpi::v1::ImportActualsRequest batch;
    for (const kpi::v1::ImportRow& row : seed_.rows) *batch.add_rows() = row;
    ASSERT_TRUE(writer->Write(batch));
    ASSERT_TRUE(writer->WritesDone());
    status = writer->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  kpi::v1::Aggregate Aggregate(const std::string& kpi, const std::string& area, int year) {
    kpi::v1::GetAggregateRequest request;
    request.set_kpi_id(kpi);
    request.set_area_id(area);
    request.mutable_fiscal_year()->set_year(year);
    kpi::v1::GetAggregateResponse response;
    grpc::Status status = stub_->GetAggregate(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << area << ": " << status.error_message();
    return response.aggregate();
  }

  // The parent of each region of the synthetic plan.
  std::map<std::string, std::string> Parents() const {
    std::map<std::string, std::string> parents;
    for (const plan::v1::Region& region : seed_.plan.regions()) {
      parents[region.id()] = region.parent_id();
    }
    return parents;
  }

  // Σ of `kpi`'s actual rows in `year` over the 市町村 below `area`:
  // values, numerators and denominators.
  struct Sums {
    double value = 0, numerator = 0, denominator = 0;
    int regions = 0;
  };
  Sums SumBelow(const std::string& kpi, const std::string& area, int year) const {
    const std::map<std::string, std::string> parents = Parents();
    Sums sums;
    for (const kpi::v1::ImportRow& row : seed_.rows) {
      if (row.kpi_id() != kpi || row.kind() != kpi::v1::ROW_KIND_ACTUAL ||
          row.fiscal_year().year() != year) {
        continue;
      }
      std::string at = row.region_id();
      while (!at.empty() && at != area) at = parents.at(at);
      if (at.empty()) continue;
      sums.value += row.value();
      sums.numerator += row.numerator();
      sums.denominator += row.denominator();
      ++sums.regions;
    }
    return sums;
  }

  std::unique_ptr<suishin::testing::TempDir> dir_;
  std::unique_ptr<suishin::testing::RedisServer> redis_;
  std::unique_ptr<suishin::testing::PlanServer> plan_;
  std::unique_ptr<KpiServer> kpi_;
  std::unique_ptr<kpi::v1::KpiService::Stub> stub_;
  SeedDataset seed_;
  std::map<std::string, kpi::v1::Kpi> kpis_;
};

TEST_F(SyntheticDatasetTest, MunicipalKpisAreTrackedInEveryMunicipalityAndEveryLevelAbove) {
  const kpi::v1::Kpi& kpi = kpis_.at("muni-001");
  EXPECT_EQ(kpi.area_id(), "hokkaido");
  // 北海道, 6 連携地域, 14 振興局 (added by kpi-service), 179 市町村.
  EXPECT_EQ(kpi.region_ids_size(), 1 + 6 + 14 + 179);
  int municipalities = 0;
  for (const auto& [region, kind] : kpi.region_kinds()) {
    municipalities += kind == common::v1::REGION_KIND_MUNICIPALITY;
  }
  EXPECT_EQ(municipalities, 179);
}

TEST_F(SyntheticDatasetTest, ACountAddsUpFromTheMunicipalitiesAtEveryLevel) {
  const int year = 2006;
  const Sums all = SumBelow("muni-001", "hokkaido", year);
  ASSERT_EQ(all.regions, 179);
  const kpi::v1::Aggregate hokkaido = Aggregate("muni-001", "hokkaido", year);
  ASSERT_TRUE(hokkaido.complete());
  EXPECT_EQ(hokkaido.value(), all.value);
  EXPECT_EQ(hokkaido.components_size(), 6);  // the 連携地域, not the 市町村
  // And each 連携地域 and 振興局 from its own 市町村.
  int checked = 0;
  for (const plan::v1::Region& region : seed_.plan.regions()) {
    if (region.kind() != common::v1::REGION_KIND_COOPERATION_AREA &&
        region.kind() != common::v1::REGION_KIND_SUBPREFECTURE) {
      continue;
    }
    EXPECT_EQ(Aggregate("muni-001", region.id(), year).value(),
              SumBelow("muni-001", region.id(), year).value)
        << region.id();
    ++checked;
  }
  EXPECT_EQ(checked, 6 + 14);
}

TEST_F(SyntheticDatasetTest, ARateIsWeightedByTheMunicipalitiesHouseholds) {
  const int year = 2007;
  const Sums all = SumBelow("muni-002", "hokkaido", year);
  const kpi::v1::Aggregate hokkaido = Aggregate("muni-002", "hokkaido", year);
  ASSERT_TRUE(hokkaido.has_value());
  EXPECT_NEAR(hokkaido.value(), all.numerator / all.denominator * 100, 1e-9);
}

TEST_F(SyntheticDatasetTest, TheTableShowsTheMunicipalitiesOnlyWhenAskedFor) {
  kpi::v1::GetKpiTableRequest request;
  request.set_project_id("project-hokkaido");
  request.mutable_as_of()->set_year(2007);
  kpi::v1::GetKpiTableResponse response;
  ASSERT_TRUE(stub_->GetKpiTable(Context().get(), request, &response).ok());
  ASSERT_EQ(response.tables_size(), 2);
  EXPECT_EQ(response.tables(0).rows_size(), 1 + 6 + 14);
  request.set_with_municipalities(true);
  ASSERT_TRUE(stub_->GetKpiTable(Context().get(), request, &response).ok());
  EXPECT_EQ(response.tables(0).rows_size(), 200);
  int deepest = 0;
  for (const kpi::v1::KpiTableRow& row : response.tables(0).rows()) {
    deepest = std::max(deepest, row.depth());
  }
  EXPECT_EQ(deepest, 3);  // 北海道 → 連携地域 → 振興局 → 市町村
}

}  // namespace
}  // namespace suishin::loadgen
