// Alerts at every level of a KPI's region tree, with the real binaries: a
// KPI tracked in two 市町村 of 上川 lags in them, in 上川 (computed from
// them) and in 道北 (computed from 上川); only the 市町村 report, so only
// they can miss a report.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "tests/services/notification/suite_fixture.h"

namespace suishin::notification {
namespace {

using testing::Context;
using testing::Eventually;
using testing::SuiteTest;

class RegionLevelsAlertsTest : public SuiteTest {
 protected:
  void AddMunicipality(const std::string& id, const std::string& name) {
    plan::v1::CreateRegionRequest request;
    request.mutable_region()->set_id(id);
    request.mutable_region()->set_name(name);
    request.mutable_region()->set_kind(common::v1::REGION_KIND_MUNICIPALITY);
    request.mutable_region()->set_parent_id("kamikawa");
    plan::v1::CreateRegionResponse response;
    grpc::Status status = plan_stub_->CreateRegion(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Baseline H26 0, target R2 10: H30 expects 6.7 (66.7%).
  void Plan(const std::string& region) {
    kpi::v1::SetBaselineRequest baseline;
    baseline.set_kpi_id("hoikusho");
    baseline.mutable_baseline()->set_region_id(region);
    baseline.mutable_baseline()->mutable_fiscal_year()->set_year(2014);
    baseline.mutable_baseline()->set_value(0);
    kpi::v1::SetBaselineResponse set;
    grpc::Status status = kpi_stub_->SetBaseline(Context().get(), baseline, &set);
    ASSERT_TRUE(status.ok()) << status.error_message();
    kpi::v1::ReviseTargetRequest target;
    target.set_kpi_id("hoikusho");
    target.set_region_id(region);
    target.mutable_fiscal_year()->set_year(2020);
    target.set_value(10);
    kpi::v1::ReviseTargetResponse revised;
    status = kpi_stub_->ReviseTarget(Context().get(), target, &revised);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
};

TEST_F(RegionLevelsAlertsTest, EveryLevelIsEvaluatedAndOnlyReportersMissReports) {
  LoadSeed();
  ASSERT_NO_FATAL_FAILURE(AddMunicipality("asahikawa", "旭川市"));
  ASSERT_NO_FATAL_FAILURE(AddMunicipality("shibetsu", "士別市"));
  kpi::v1::CreateKpiRequest create;
  kpi::v1::Kpi& kpi = *create.mutable_kpi();
  kpi.set_id("hoikusho");
  kpi.set_project_id(seed_.plan().projects(0).id());
  kpi.set_name("保育所数");
  kpi.set_unit("カ所");
  kpi.set_value_kind(kpi::v1::VALUE_KIND_COUNT);
  for (const char* region : {"dohoku", "asahikawa", "shibetsu"}) kpi.add_region_ids(region);
  kpi::v1::CreateKpiResponse created;
  grpc::Status status = kpi_stub_->CreateKpi(Context().get(), create, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_NO_FATAL_FAILURE(Plan("asahikawa"));
  ASSERT_NO_FATAL_FAILURE(Plan("shibetsu"));
  ASSERT_TRUE(testing::RecordActual(kpi_stub_.get(), "hoikusho", "asahikawa", 2018, 1).ok());
  ASSERT_TRUE(testing::RecordActual(kpi_stub_.get(), "hoikusho", "shibetsu", 2018, 1).ok());
  StartNotification();

  using Pair = std::pair<std::string, std::string>;  // rule, region
  const std::set<Pair> expected = {
      {"LAGGING", "dohoku"},   {"LAGGING", "kamikawa"},  {"LAGGING", "asahikawa"},
      {"LAGGING", "shibetsu"}, {"MISSING", "asahikawa"}, {"MISSING", "shibetsu"},
  };
  std::set<Pair> firing;
  const bool settled = Eventually([&] {
    firing.clear();
    for (const v1::Alert& alert : Alerts()) {
      if (alert.kpi_id() != "hoikusho") continue;
      firing.emplace(v1::RuleKind_Name(alert.rule()).substr(sizeof("RULE_KIND_") - 1),
                     alert.region_id());
    }
    return firing == expected;
  });
  EXPECT_TRUE(settled);
  EXPECT_EQ(firing, expected);
}

}  // namespace
}  // namespace suishin::notification
