// The seed's KPI table through the real API: every 進捗率 the document prints
// comes back digit for digit, the area totals are the sums of the
// subprefectures, and DESIGN.md's H30 table of rates and paces holds.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/services/kpi/kpi_fixture.h"

namespace suishin::kpi {
namespace {

using testing::Context;
using testing::KpiTest;

constexpr char kProject[] = "dohoku-anzen-anshin";

// 進捗率 as 別紙２ prints them, per KPI and region, from the first year after
// the baseline on (H27… for 認定こども園, H28… for 自主防災組織率).
const std::map<std::string, std::map<std::string, std::vector<std::string>>>& PrintedRates() {
  static const auto* rates =
      new std::map<std::string, std::map<std::string, std::vector<std::string>>>{
          {"kodomoen",
           {{"dohoku", {"25.6%", "51.2%", "93.0%", "111.6%"}},
            {"kamikawa", {"18.2%", "48.5%", "100.0%", "124.2%"}},
            {"rumoi", {"50.0%", "75.0%", "100.0%", "100.0%"}},
            {"soya", {"50.0%", "50.0%", "50.0%", "50.0%"}}}},
          {"jishu-bousai",
           {{"dohoku", {"58.3%", "59.1%", "60.9%"}},
            {"kamikawa", {"63.2%", "63.1%", "64.8%"}},
            {"rumoi", {"48.4%", "49.0%", "45.8%"}},
            {"soya", {"28.1%", "36.2%", "41.2%"}}}},
      };
  return *rates;
}

class SeedTableTest : public KpiTest {
 protected:
  void SetUp() override {
    KpiTest::SetUp();
    LoadSeedKpis();
  }

  v1::GetKpiTableResponse Table(int as_of) {
    v1::GetKpiTableRequest request;
    request.set_project_id(kProject);
    request.mutable_as_of()->set_year(as_of);
    v1::GetKpiTableResponse response;
    grpc::Status status = stub_->GetKpiTable(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
};

TEST_F(SeedTableTest, EveryPrintedRateComesBackToTheDigit) {
  const v1::GetKpiTableResponse table = Table(2019);  // the table as of R元
  ASSERT_EQ(table.tables_size(), 2);
  int compared = 0;
  for (const v1::KpiTable& kpi : table.tables()) {
    const auto& printed = PrintedRates().at(kpi.kpi().id());
    ASSERT_EQ(kpi.rows_size(), 4) << kpi.kpi().id();
    for (const v1::KpiTableRow& row : kpi.rows()) {
      const std::vector<std::string>& expected = printed.at(row.region_id());
      std::vector<std::string> rates;
      for (const v1::ProgressPoint& point : row.points()) {
        if (point.has_value()) rates.push_back(point.rate_display());
      }
      EXPECT_EQ(rates, expected) << kpi.kpi().id() << " " << row.region_id();
      compared += static_cast<int>(rates.size());
    }
  }
  EXPECT_EQ(compared, 28);
}

TEST_F(SeedTableTest, AreaCountsAreTheSumsOfTheSubprefectures) {
  const v1::GetKpiTableResponse table = Table(2019);
  const v1::KpiTableRow& area = table.tables(0).rows(0);
  ASSERT_EQ(area.region_id(), "dohoku");
  EXPECT_EQ(area.region_name(), "道北");
  EXPECT_EQ(area.baseline().value(), 10);  // 6 + 2 + 2
  EXPECT_EQ(area.baseline().fiscal_year().label(), "H26 (2014)");
  EXPECT_EQ(area.target().value(), 43);  // 33 + 4 + 6
  ASSERT_EQ(area.target().revisions_size(), 1);
  EXPECT_EQ(area.target().revisions(0).value(), 38);  // 見直し前38カ所 = 28 + 4 + 6
  std::vector<double> values;
  for (const v1::ProgressPoint& point : area.points()) {
    if (point.has_value()) values.push_back(point.value());
  }
  EXPECT_EQ(values, (std::vector<double>{11, 22, 40, 48}));  // 48 = 41 + 4 + 3
  // R元 has no actuals yet: the area's figure is incomplete, not summed.
  EXPECT_FALSE(area.aggregate().complete());
  EXPECT_EQ(area.aggregate().missing_region_ids_size(), 3);

  const v1::KpiTableRow& kamikawa = table.tables(0).rows(1);
  ASSERT_EQ(kamikawa.target().revisions_size(), 1);
  EXPECT_EQ(kamikawa.target().revisions(0).value(), 28);
  EXPECT_EQ(kamikawa.target().revisions(0).reason(), "見直し前28カ所");
}

TEST_F(SeedTableTest, ReproducesDesignsTableAsOfH30) {
  struct Row {
    std::string kpi, region, rate, pace;
    v1::ProgressStatus status;
  };
  const std::vector<Row> rows = {
      {"jishu-bousai", "dohoku", "60.9%", "81.4%", v1::PROGRESS_STATUS_LAGGING},
      {"jishu-bousai", "kamikawa", "64.8%", "83.1%", v1::PROGRESS_STATUS_LAGGING},
      {"jishu-bousai", "rumoi", "45.8%", "78.7%", v1::PROGRESS_STATUS_LAGGING},
      {"jishu-bousai", "soya", "41.2%", "71.3%", v1::PROGRESS_STATUS_LAGGING},
      {"kodomoen", "dohoku", "111.6%", "84.7%", v1::PROGRESS_STATUS_ACHIEVED},
      {"kodomoen", "kamikawa", "124.2%", "83.6%", v1::PROGRESS_STATUS_ACHIEVED},
      {"kodomoen", "rumoi", "100.0%", "90.0%", v1::PROGRESS_STATUS_ACHIEVED},
      {"kodomoen", "soya", "50.0%", "86.7%", v1::PROGRESS_STATUS_LAGGING},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.kpi + " " + row.region);
    v1::GetProgressRequest request;
    request.set_kpi_id(row.kpi);
    request.set_region_id(row.region);
    request.mutable_as_of()->set_year(2018);
    v1::GetProgressResponse response;
    grpc::Status status = stub_->GetProgress(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_FALSE(response.points().empty());
    const v1::ProgressPoint& h30 = *response.points().rbegin();
    EXPECT_EQ(h30.fiscal_year().year(), 2018);
    EXPECT_EQ(h30.rate_display(), row.rate);
    EXPECT_EQ(h30.expected_rate_display(), row.pace);
    EXPECT_EQ(h30.status(), row.status);
  }
}

TEST_F(SeedTableTest, AggregateSaysHowItWasComputed) {
  v1::GetAggregateRequest request;
  request.set_kpi_id("kodomoen");
  request.set_area_id("dohoku");
  request.mutable_fiscal_year()->set_year(2018);
  v1::GetAggregateResponse response;
  ASSERT_TRUE(stub_->GetAggregate(Context().get(), request, &response).ok());
  const v1::Aggregate& aggregate = response.aggregate();
  EXPECT_TRUE(aggregate.complete());
  EXPECT_EQ(aggregate.rule(), v1::AGGREGATION_RULE_SUM);
  EXPECT_EQ(aggregate.value(), 48);
  ASSERT_EQ(aggregate.components_size(), 3);
  EXPECT_EQ(aggregate.components(0).region_id(), "kamikawa");
  EXPECT_EQ(aggregate.components(0).value(), 41);
  EXPECT_EQ(aggregate.progress().rate_display(), "111.6%");

  request.mutable_fiscal_year()->set_year(2019);
  ASSERT_TRUE(stub_->GetAggregate(Context().get(), request, &response).ok());
  EXPECT_FALSE(response.aggregate().complete());
  EXPECT_FALSE(response.aggregate().has_value());
  EXPECT_EQ(response.aggregate().missing_region_ids_size(), 3);

  request.set_area_id("kamikawa");
  grpc::Status status = stub_->GetAggregate(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("area_id"), std::string::npos);
}

// kpi-service decides which rows are computed from their children and says
// so: in the seed 認定こども園 (SUM) has a computed 道北 row, 自主防災組織率
// (REPORTED) a 道北 row of its own figures; a subprefecture never is.
TEST_F(SeedTableTest, SaysWhichRowsAreComputedFromTheirChildren) {
  const std::map<std::string, bool> area_computed = {{"kodomoen", true}, {"jishu-bousai", false}};
  const v1::GetKpiTableResponse table = Table(2019);
  ASSERT_EQ(table.tables_size(), 2);
  for (const v1::KpiTable& kpi_table : table.tables()) {
    const std::string& kpi_id = kpi_table.kpi().id();
    ASSERT_EQ(area_computed.count(kpi_id), 1u) << kpi_id;
    ASSERT_EQ(kpi_table.rows_size(), 4) << kpi_id;
    for (const v1::KpiTableRow& row : kpi_table.rows()) {
      const bool expected = row.region_id() == "dohoku" && area_computed.at(kpi_id);
      EXPECT_EQ(row.computed_from_children(), expected) << kpi_id << " " << row.region_id();

      v1::GetProgressRequest request;
      request.set_kpi_id(kpi_id);
      request.set_region_id(row.region_id());
      v1::GetProgressResponse progress;
      grpc::Status status = stub_->GetProgress(Context().get(), request, &progress);
      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(progress.computed_from_children(), expected) << kpi_id << " " << row.region_id();
    }
  }
}

TEST_F(SeedTableTest, ACorrectionKeepsTheEarlierValueInTheHistory) {
  v1::RecordActualRequest request;
  request.mutable_actual()->set_kpi_id("kodomoen");
  request.mutable_actual()->set_region_id("soya");
  request.mutable_actual()->mutable_fiscal_year()->set_year(2018);
  request.mutable_actual()->set_value(4);
  request.mutable_actual()->set_reported_by("宗谷総合振興局");
  request.set_reason("集計漏れの訂正");
  v1::RecordActualResponse response;
  ASSERT_TRUE(stub_->RecordActual(Context().get(), request, &response).ok());
  EXPECT_TRUE(response.corrected());
  EXPECT_GT(response.sequence(), 0);

  v1::GetHistoryRequest history;
  history.set_kpi_id("kodomoen");
  history.set_region_id("soya");
  history.mutable_fiscal_year()->set_year(2018);
  v1::GetHistoryResponse changes;
  ASSERT_TRUE(stub_->GetHistory(Context().get(), history, &changes).ok());
  ASSERT_EQ(changes.changes_size(), 2);
  EXPECT_EQ(changes.changes(0).kind(), v1::CHANGE_KIND_ACTUAL_RECORDED);
  EXPECT_EQ(changes.changes(0).new_value(), 3);
  EXPECT_EQ(changes.changes(1).kind(), v1::CHANGE_KIND_ACTUAL_CORRECTED);
  EXPECT_EQ(changes.changes(1).old_value(), 3);
  EXPECT_EQ(changes.changes(1).new_value(), 4);
  EXPECT_EQ(changes.changes(1).author(), "宗谷総合振興局");
  EXPECT_EQ(changes.changes(1).reason(), "集計漏れの訂正");

  // The area follows at once: 49 / 43.
  v1::GetAggregateRequest aggregate;
  aggregate.set_kpi_id("kodomoen");
  aggregate.set_area_id("dohoku");
  aggregate.mutable_fiscal_year()->set_year(2018);
  v1::GetAggregateResponse figure;
  ASSERT_TRUE(stub_->GetAggregate(Context().get(), aggregate, &figure).ok());
  EXPECT_EQ(figure.aggregate().value(), 49);
  EXPECT_EQ(figure.aggregate().progress().rate_display(), "114.0%");

  // Recording the same figure again changes nothing.
  ASSERT_TRUE(stub_->RecordActual(Context().get(), request, &response).ok());
  EXPECT_FALSE(response.corrected());
  EXPECT_EQ(response.sequence(), 0);
}

}  // namespace
}  // namespace suishin::kpi
