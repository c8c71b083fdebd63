// A KPI tracked at several levels of the region tree (市町村, 振興局, 連携地域)
// through the real API: every region above a tracked one has a figure from
// its direct children, level by level, nothing counted twice; a missing
// actual is named where it is missing; GetAggregate, GetProgress,
// GetKpiTable and the change stream answer for every level.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "services/kpi/region_tree.h"
#include "tests/services/kpi/kpi_fixture.h"

namespace suishin::kpi {
namespace {

using testing::ActualRequest;
using testing::Context;
using testing::KpiTest;

constexpr char kProject[] = "dohoku-anzen-anshin";

// The seed's tree and, below 上川 and 宗谷, three of their 市町村.
class RegionLevelsTest : public KpiTest {
 protected:
  void SetUp() override {
    KpiTest::SetUp();
    auto plan = plan_->NewStub();
    for (const auto& [id, name, parent] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"asahikawa", "旭川市", "kamikawa"},
             {"shibetsu", "士別市", "kamikawa"},
             {"wakkanai", "稚内市", "soya"}}) {
      plan::v1::CreateRegionRequest request;
      request.mutable_region()->set_id(id);
      request.mutable_region()->set_name(name);
      request.mutable_region()->set_kind(common::v1::REGION_KIND_MUNICIPALITY);
      request.mutable_region()->set_parent_id(parent);
      plan::v1::CreateRegionResponse response;
      grpc::Status status = plan->CreateRegion(Context().get(), request, &response);
      ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
    }
  }

  // A KPI of the seed's project tracked in `regions` (the area first).
  v1::Kpi CreateKpi(const std::string& id, v1::AggregationRule rule,
                    const std::vector<std::string>& regions) {
    v1::CreateKpiRequest request;
    v1::Kpi& kpi = *request.mutable_kpi();
    kpi.set_id(id);
    kpi.set_project_id(kProject);
    kpi.set_name(id);
    const bool rate = rule != v1::AGGREGATION_RULE_SUM;
    kpi.set_unit(rate ? "%" : "カ所");
    kpi.set_value_kind(rate ? v1::VALUE_KIND_PERCENT : v1::VALUE_KIND_COUNT);
    kpi.set_aggregation(rule);
    for (const std::string& region : regions) kpi.add_region_ids(region);
    v1::CreateKpiResponse response;
    grpc::Status status = stub_->CreateKpi(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.kpi();
  }

  void Record(const std::string& kpi, const std::string& region, int year, double value,
              std::optional<double> numerator = std::nullopt,
              std::optional<double> denominator = std::nullopt) {
    v1::RecordActualRequest request = ActualRequest(kpi, region, year, value);
    if (numerator) request.mutable_actual()->set_numerator(*numerator);
    if (denominator) request.mutable_actual()->set_denominator(*denominator);
    v1::RecordActualResponse response;
    grpc::Status status = stub_->RecordActual(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << region << ": " << status.error_message();
  }

  // A baseline (H26) and a target (R2) for a region that reports.
  void Plan(const std::string& kpi, const std::string& region, double baseline, double target) {
    v1::SetBaselineRequest set;
    set.set_kpi_id(kpi);
    set.mutable_baseline()->set_region_id(region);
    set.mutable_baseline()->mutable_fiscal_year()->set_year(2014);
    set.mutable_baseline()->set_value(baseline);
    v1::SetBaselineResponse set_response;
    grpc::Status status = stub_->SetBaseline(Context().get(), set, &set_response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    v1::ReviseTargetRequest revise;
    revise.set_kpi_id(kpi);
    revise.set_region_id(region);
    revise.mutable_fiscal_year()->set_year(2020);
    revise.set_value(target);
    v1::ReviseTargetResponse revise_response;
    status = stub_->ReviseTarget(Context().get(), revise, &revise_response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  grpc::Status Aggregate(const std::string& kpi, const std::string& area, int year,
                         v1::Aggregate* aggregate) {
    v1::GetAggregateRequest request;
    request.set_kpi_id(kpi);
    request.set_area_id(area);
    request.mutable_fiscal_year()->set_year(year);
    v1::GetAggregateResponse response;
    grpc::Status status = stub_->GetAggregate(Context().get(), request, &response);
    *aggregate = response.aggregate();
    return status;
  }

  v1::Aggregate AggregateOk(const std::string& kpi, const std::string& area, int year) {
    v1::Aggregate aggregate;
    grpc::Status status = Aggregate(kpi, area, year, &aggregate);
    EXPECT_TRUE(status.ok()) << area << ": " << status.error_message();
    return aggregate;
  }

  v1::GetKpiTableResponse Tables(bool with_municipalities) {
    v1::GetKpiTableRequest request;
    request.set_project_id(kProject);
    request.mutable_as_of()->set_year(2019);
    request.set_with_municipalities(with_municipalities);
    v1::GetKpiTableResponse response;
    grpc::Status status = stub_->GetKpiTable(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  v1::KpiTable Table(bool with_municipalities) {
    v1::GetKpiTableResponse response = Tables(with_municipalities);
    return response.tables_size() == 1 ? response.tables(0) : v1::KpiTable();
  }
};

std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  return {ids.begin(), ids.end()};
}

std::vector<std::string> ComponentIds(const v1::Aggregate& aggregate) {
  std::vector<std::string> ids;
  for (const v1::AggregateComponent& component : aggregate.components()) {
    ids.push_back(component.region_id());
  }
  return ids;
}

// The report: 上川 reports 7 and its two 市町村 3 and 4; 道北 used to
// come out 14.
TEST_F(RegionLevelsTest, ASubprefectureAndItsMunicipalitiesAreNotCountedTwice) {
  CreateKpi("shisetsu", v1::AGGREGATION_RULE_SUM, {"dohoku", "kamikawa", "asahikawa", "shibetsu"});
  Record("shisetsu", "asahikawa", 2019, 3);
  Record("shisetsu", "shibetsu", 2019, 4);
  Record("shisetsu", "kamikawa", 2019, 7);

  const v1::Aggregate area = AggregateOk("shisetsu", "dohoku", 2019);
  ASSERT_TRUE(area.has_value());
  EXPECT_EQ(area.value(), 7);
  EXPECT_TRUE(area.complete());
  EXPECT_EQ(ComponentIds(area), std::vector<std::string>({"kamikawa"}));

  const v1::Aggregate kamikawa = AggregateOk("shisetsu", "kamikawa", 2019);
  EXPECT_EQ(kamikawa.area_id(), "kamikawa");
  EXPECT_EQ(kamikawa.value(), 7);
  EXPECT_EQ(kamikawa.computed_value(), 7);
  EXPECT_EQ(kamikawa.reported_value(), 7);
  EXPECT_TRUE(kamikawa.warnings().empty());
  EXPECT_EQ(ComponentIds(kamikawa), std::vector<std::string>({"asahikawa", "shibetsu"}));

  // 上川's own report no longer agrees: its computed figure stays, both shown.
  Record("shisetsu", "kamikawa", 2019, 8);
  const v1::Aggregate differs = AggregateOk("shisetsu", "kamikawa", 2019);
  EXPECT_EQ(differs.value(), 7);
  EXPECT_EQ(differs.reported_value(), 8);
  ASSERT_EQ(differs.warnings_size(), 1);
  EXPECT_NE(differs.warnings(0).find("8"), std::string::npos) << differs.warnings(0);
  EXPECT_EQ(AggregateOk("shisetsu", "dohoku", 2019).value(), 7);
}

TEST_F(RegionLevelsTest, TheRegionsBetweenAreAddedWithTheirParentsAndKinds) {
  const v1::Kpi kpi =
      CreateKpi("shisetsu", v1::AGGREGATION_RULE_SUM, {"dohoku", "asahikawa", "wakkanai"});
  EXPECT_EQ(Ids(kpi.region_ids()),
            std::vector<std::string>({"dohoku", "kamikawa", "asahikawa", "soya", "wakkanai"}));
  EXPECT_EQ(kpi.region_parents().at("asahikawa"), "kamikawa");
  EXPECT_EQ(kpi.region_parents().at("kamikawa"), "dohoku");
  EXPECT_EQ(kpi.region_parents().count("dohoku"), 0u);
  EXPECT_EQ(kpi.region_kinds().at("wakkanai"), common::v1::REGION_KIND_MUNICIPALITY);
  EXPECT_EQ(kpi.region_kinds().at("soya"), common::v1::REGION_KIND_SUBPREFECTURE);
  EXPECT_EQ(kpi.region_names().at("wakkanai"), "稚内市");

  Record("shisetsu", "asahikawa", 2019, 5);
  Record("shisetsu", "wakkanai", 2019, 2);
  const v1::Aggregate area = AggregateOk("shisetsu", "dohoku", 2019);
  EXPECT_EQ(area.value(), 7);
  EXPECT_EQ(ComponentIds(area), std::vector<std::string>({"kamikawa", "soya"}));
  EXPECT_EQ(AggregateOk("shisetsu", "soya", 2019).value(), 2);
}

TEST_F(RegionLevelsTest, AMissingActualIsNamedWhereItIsMissing) {
  CreateKpi("shisetsu", v1::AGGREGATION_RULE_SUM,
            {"dohoku", "kamikawa", "asahikawa", "shibetsu", "rumoi"});
  Record("shisetsu", "asahikawa", 2019, 3);
  Record("shisetsu", "rumoi", 2019, 2);

  const v1::Aggregate kamikawa = AggregateOk("shisetsu", "kamikawa", 2019);
  EXPECT_FALSE(kamikawa.complete());
  EXPECT_FALSE(kamikawa.has_value());
  EXPECT_EQ(Ids(kamikawa.missing_region_ids()), std::vector<std::string>({"shibetsu"}));

  // 道北 is incomplete for 士別市, not for 上川 (which reports nothing itself).
  const v1::Aggregate area = AggregateOk("shisetsu", "dohoku", 2019);
  EXPECT_FALSE(area.complete());
  EXPECT_FALSE(area.has_value());
  EXPECT_EQ(Ids(area.missing_region_ids()), std::vector<std::string>({"shibetsu"}));
  EXPECT_NE(area.progress().undefined_reason().find("shibetsu"), std::string::npos);

  // The series says so too, year by year, naming the 市町村.
  v1::GetProgressRequest progress;
  progress.set_kpi_id("shisetsu");
  progress.set_region_id("dohoku");
  v1::GetProgressResponse series;
  ASSERT_TRUE(stub_->GetProgress(Context().get(), progress, &series).ok());
  ASSERT_FALSE(series.points().empty());
  const v1::ProgressPoint& r1 = *series.points().rbegin();
  EXPECT_EQ(r1.fiscal_year().year(), 2019);
  EXPECT_FALSE(r1.has_value());
  EXPECT_EQ(Ids(r1.missing_region_ids()), std::vector<std::string>({"shibetsu"}));

  Record("shisetsu", "shibetsu", 2019, 4);
  EXPECT_EQ(AggregateOk("shisetsu", "dohoku", 2019).value(), 9);
}

// Σ numerators / Σ denominators at every level, not a mean of means: 上川
// 40/150, 道北 60/230.
TEST_F(RegionLevelsTest, ARatioIsWeightedByItsDenominatorsAtEveryLevel) {
  CreateKpi("kanyu", v1::AGGREGATION_RULE_RATIO,
            {"dohoku", "kamikawa", "asahikawa", "shibetsu", "rumoi"});
  Record("kanyu", "asahikawa", 2019, 30, 30, 100);
  Record("kanyu", "shibetsu", 2019, 20, 10, 50);
  Record("kanyu", "rumoi", 2019, 25, 20, 80);

  const v1::Aggregate kamikawa = AggregateOk("kanyu", "kamikawa", 2019);
  EXPECT_NEAR(kamikawa.value(), 40.0 / 150 * 100, 1e-9);
  const v1::Aggregate area = AggregateOk("kanyu", "dohoku", 2019);
  EXPECT_NEAR(area.value(), 60.0 / 230 * 100, 1e-9);
  ASSERT_EQ(area.components_size(), 2);
  EXPECT_EQ(area.components(0).region_id(), "kamikawa");
  EXPECT_EQ(area.components(0).numerator(), 40);
  EXPECT_EQ(area.components(0).denominator(), 150);
  EXPECT_NEAR(area.components(0).weight(), 150.0 / 230, 1e-9);
}

// REPORTED: each level's own figure is authoritative; what its children add
// up to stands beside it.
TEST_F(RegionLevelsTest, AReportedFigureKeepsTheComputedOneBeside) {
  CreateKpi("soshiki", v1::AGGREGATION_RULE_REPORTED,
            {"dohoku", "kamikawa", "asahikawa", "shibetsu"});
  Record("soshiki", "asahikawa", 2019, 30, 30, 100);
  Record("soshiki", "shibetsu", 2019, 20, 10, 50);
  Record("soshiki", "kamikawa", 2019, 30, 45, 150);

  const v1::Aggregate kamikawa = AggregateOk("soshiki", "kamikawa", 2019);
  EXPECT_EQ(kamikawa.value(), 30);
  EXPECT_NEAR(kamikawa.computed_value(), 40.0 / 150 * 100, 1e-9);
  EXPECT_EQ(kamikawa.warnings_size(), 1);
  // 道北 reported nothing of its own.
  const v1::Aggregate area = AggregateOk("soshiki", "dohoku", 2019);
  EXPECT_FALSE(area.complete());
  EXPECT_EQ(Ids(area.missing_region_ids()), std::vector<std::string>({"dohoku"}));
}

TEST_F(RegionLevelsTest, GetAggregateRefusesARegionWithNoneBelowIt) {
  CreateKpi("shisetsu", v1::AGGREGATION_RULE_SUM, {"dohoku", "kamikawa", "asahikawa"});
  v1::Aggregate aggregate;
  grpc::Status status = Aggregate("shisetsu", "asahikawa", 2019, &aggregate);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("area_id"), std::string::npos) << status.error_message();
  EXPECT_NE(status.error_message().find("asahikawa"), std::string::npos);
  EXPECT_NE(status.error_message().find("dohoku, kamikawa"), std::string::npos)
      << status.error_message();
  status = Aggregate("shisetsu", "rumoi", 2019, &aggregate);  // not tracked
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("rumoi"), std::string::npos);
}

TEST_F(RegionLevelsTest, TheTableIndentsItsLevelsAndShowsMunicipalitiesWhenAsked) {
  CreateKpi("shisetsu", v1::AGGREGATION_RULE_SUM,
            {"dohoku", "kamikawa", "asahikawa", "shibetsu", "rumoi"});
  for (const char* region : {"asahikawa", "shibetsu", "rumoi"}) Plan("shisetsu", region, 1, 10);
  Record("shisetsu", "asahikawa", 2019, 3);
  Record("shisetsu", "shibetsu", 2019, 4);
  Record("shisetsu", "rumoi", 2019, 2);
  auto rows = [](const v1::KpiTable& table) {
    std::vector<std::string> lines;
    for (const v1::KpiTableRow& row : table.rows()) {
      std::string value = row.points().empty() || !row.points().rbegin()->has_value()
                              ? "-"
                              : std::to_string(static_cast<int>(row.points().rbegin()->value()));
      lines.push_back(std::string(2 * row.depth(), ' ') + row.region_name() + " " + value + " " +
                      (row.computed_from_children() ? "Σ" : "") + row.parent_region_id());
    }
    return lines;
  };
  EXPECT_EQ(rows(Table(false)), std::vector<std::string>({
                                    "道北 9 Σ",
                                    "  上川 7 Σdohoku",
                                    "  留萌 2 dohoku",
                                }));
  EXPECT_EQ(rows(Table(true)), std::vector<std::string>({
                                   "道北 9 Σ",
                                   "  上川 7 Σdohoku",
                                   "    旭川市 3 kamikawa",
                                   "    士別市 4 kamikawa",
                                   "  留萌 2 dohoku",
                               }));
}

// kpi-service keeps a table it has sent until one of its KPIs moves or a
// KPI is added: each read after a write, or after a new KPI, sees it.
TEST_F(RegionLevelsTest, AKeptTableFollowsEveryWriteAndEveryNewKpi) {
  CreateKpi("shisetsu", v1::AGGREGATION_RULE_SUM, {"dohoku", "kamikawa", "asahikawa", "shibetsu"});
  Plan("shisetsu", "asahikawa", 1, 10);
  Plan("shisetsu", "shibetsu", 1, 10);
  Record("shisetsu", "asahikawa", 2019, 3);
  Record("shisetsu", "shibetsu", 2019, 4);
  auto area_value = [&] {
    const v1::KpiTable table = Table(false);
    if (table.rows().empty() || table.rows(0).points().empty()) return -1.0;
    return table.rows(0).points().rbegin()->value();
  };
  EXPECT_EQ(area_value(), 7);
  EXPECT_EQ(area_value(), 7);  // the kept one
  for (int value = 5; value < 9; ++value) {
    Record("shisetsu", "asahikawa", 2019, value);
    EXPECT_EQ(area_value(), value + 4);
  }
  CreateKpi("kanyu", v1::AGGREGATION_RULE_RATIO, {"dohoku", "kamikawa"});
  EXPECT_EQ(Tables(false).tables_size(), 2);
}

TEST_F(RegionLevelsTest, AMiddleLevelsProgressIsComputedFromBelow) {
  CreateKpi("shisetsu", v1::AGGREGATION_RULE_SUM, {"dohoku", "kamikawa", "asahikawa", "shibetsu"});
  Plan("shisetsu", "asahikawa", 1, 10);
  Plan("shisetsu", "shibetsu", 1, 10);
  Record("shisetsu", "asahikawa", 2018, 1);
  Record("shisetsu", "shibetsu", 2018, 2);
  Record("shisetsu", "asahikawa", 2019, 3);
  Record("shisetsu", "shibetsu", 2019, 4);
  v1::GetProgressRequest request;
  request.set_kpi_id("shisetsu");
  request.set_region_id("kamikawa");
  v1::GetProgressResponse response;
  ASSERT_TRUE(stub_->GetProgress(Context().get(), request, &response).ok());
  EXPECT_TRUE(response.computed_from_children());
  std::vector<double> values;
  std::string rate;  // the latest year's
  for (const v1::ProgressPoint& point : response.points()) {
    if (!point.has_value()) continue;
    values.push_back(point.value());
    rate = point.rate_display();
  }
  EXPECT_EQ(values, std::vector<double>({3, 7}));
  // Its baseline and target are its 市町村's sums; its rate follows.
  EXPECT_EQ(response.baseline().value(), 2);
  EXPECT_EQ(response.target().value(), 20);
  EXPECT_EQ(rate, "35.0%");
}

// Trust the stream: an actual of a 市町村 brings the new figures of every
// level above it.
TEST_F(RegionLevelsTest, AChangeCarriesTheFiguresOfEveryLevelAbove) {
  CreateKpi("shisetsu", v1::AGGREGATION_RULE_SUM, {"dohoku", "kamikawa", "asahikawa", "shibetsu"});
  Record("shisetsu", "shibetsu", 2019, 4);
  Record("shisetsu", "asahikawa", 2019, 3);
  v1::WatchChangesRequest request;
  request.set_kpi_id("shisetsu");
  request.set_with_figures(true);
  auto context = Context();
  auto stream = stub_->WatchChanges(context.get(), request);
  v1::WatchChangesResponse response;
  std::vector<std::string> figures;
  while (stream->Read(&response)) {
    if (response.change().region_id() != "asahikawa") continue;
    for (const v1::RegionPoint& figure : response.change().figures()) {
      figures.push_back(figure.region_id() + " " +
                        std::to_string(static_cast<int>(figure.point().value())));
    }
    break;
  }
  context->TryCancel();
  EXPECT_EQ(figures, std::vector<std::string>({"asahikawa 3", "kamikawa 7", "dohoku 7"}));
}

// A KPI stored before parents were kept: its area is every region's parent.
TEST(RegionTreeTest, WithoutParentsTheAreaIsEveryRegionsParent) {
  v1::Kpi kpi;
  kpi.set_area_id("dohoku");
  kpi.set_aggregation(v1::AGGREGATION_RULE_SUM);
  for (const char* id : {"dohoku", "kamikawa", "rumoi", "soya"}) kpi.add_region_ids(id);
  const RegionTree tree(kpi);
  EXPECT_EQ(tree.ChildrenOf("dohoku"), std::vector<std::string>({"kamikawa", "rumoi", "soya"}));
  EXPECT_EQ(tree.ParentOf("soya"), "dohoku");
  EXPECT_EQ(tree.DepthOf("soya"), 1);
  EXPECT_TRUE(tree.ComputedFromChildren("dohoku"));
  EXPECT_FALSE(tree.ComputedFromChildren("soya"));
  kpi.set_aggregation(v1::AGGREGATION_RULE_REPORTED);
  EXPECT_FALSE(RegionTree(kpi).ComputedFromChildren("dohoku"));
}

TEST(RegionTreeTest, TreeOrderPutsEachRegionBeforeTheOnesBelowIt) {
  v1::Kpi kpi;
  kpi.set_area_id("dohoku");
  for (const char* id : {"dohoku", "asahikawa", "rumoi", "kamikawa"}) kpi.add_region_ids(id);
  (*kpi.mutable_region_parents())["asahikawa"] = "kamikawa";
  (*kpi.mutable_region_parents())["kamikawa"] = "dohoku";
  (*kpi.mutable_region_parents())["rumoi"] = "dohoku";
  const RegionTree tree(kpi);
  EXPECT_EQ(tree.TreeOrder(),
            std::vector<std::string>({"dohoku", "rumoi", "kamikawa", "asahikawa"}));
  EXPECT_EQ(tree.DepthOf("asahikawa"), 2);
}

}  // namespace
}  // namespace suishin::kpi
