// kpi-service refuses bad input over real gRPC with the exact code, a message
// naming the field and the value, and nothing stored; and computes what a
// prefectural office expects for a DECREASE KPI (待機児童数 → 0), a RATIO KPI
// (Σ numerators / Σ denominators), and a target revised twice.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "common/channel.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/services/kpi/kpi_fixture.h"

namespace suishin::kpi {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using testing::Context;
using testing::KpiTest;

constexpr char kProject[] = "dohoku-anzen-anshin";

// Every part of `parts` is in the status's message.
void ExpectRefused(const grpc::Status& status, grpc::StatusCode code,
                   const std::vector<std::string>& parts) {
  EXPECT_EQ(status.error_code(), code) << status.error_message();
  for (const std::string& part : parts) {
    EXPECT_NE(status.error_message().find(part), std::string::npos)
        << "the message should name " << part << ": " << status.error_message();
  }
}

class KpiValidationTest : public KpiTest {
 protected:
  void SetUp() override {
    KpiTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(LoadSeedKpis());
  }

  std::vector<v1::Change> History(const std::string& kpi, const std::string& region = "",
                                  int year = 0) {
    v1::GetHistoryRequest request;
    request.set_kpi_id(kpi);
    request.set_region_id(region);
    if (year != 0) request.mutable_fiscal_year()->set_year(year);
    v1::GetHistoryResponse response;
    grpc::Status status = stub_->GetHistory(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.changes().begin(), response.changes().end()};
  }

  // The length of the whole change log: every KPI's history.
  size_t LogLength() {
    v1::ListKpisRequest request;
    v1::ListKpisResponse response;
    grpc::Status status = stub_->ListKpis(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    size_t length = 0;
    for (const v1::Kpi& kpi : response.kpis()) length += History(kpi.id()).size();
    return length;
  }

  v1::GetProgressResponse Progress(const std::string& kpi, const std::string& region, int as_of) {
    v1::GetProgressRequest request;
    request.set_kpi_id(kpi);
    request.set_region_id(region);
    request.mutable_as_of()->set_year(as_of);
    v1::GetProgressResponse response;
    grpc::Status status = stub_->GetProgress(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  v1::Aggregate AggregateOf(const std::string& kpi, int year) {
    v1::GetAggregateRequest request;
    request.set_kpi_id(kpi);
    request.set_area_id("dohoku");
    request.mutable_fiscal_year()->set_year(year);
    v1::GetAggregateResponse response;
    grpc::Status status = stub_->GetAggregate(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.aggregate();
  }

  grpc::Status CreateKpi(v1::Kpi kpi, v1::CreateKpiResponse* response) {
    v1::CreateKpiRequest request;
    *request.mutable_kpi() = std::move(kpi);
    return stub_->CreateKpi(Context().get(), request, response);
  }

  grpc::Status SetBaseline(const std::string& kpi, const std::string& region, int year,
                           double value, std::optional<double> numerator = std::nullopt,
                           std::optional<double> denominator = std::nullopt) {
    v1::SetBaselineRequest request;
    request.set_kpi_id(kpi);
    v1::Baseline* baseline = request.mutable_baseline();
    baseline->set_region_id(region);
    baseline->mutable_fiscal_year()->set_year(year);
    baseline->set_value(value);
    if (numerator) baseline->set_numerator(*numerator);
    if (denominator) baseline->set_denominator(*denominator);
    request.set_author("本庁 地域政策課");
    v1::SetBaselineResponse response;
    return stub_->SetBaseline(Context().get(), request, &response);
  }

  grpc::Status ReviseTarget(const std::string& kpi, const std::string& region, int year,
                            double value, const std::string& author = "本庁 地域政策課",
                            const std::string& reason = "") {
    v1::ReviseTargetRequest request;
    request.set_kpi_id(kpi);
    request.set_region_id(region);
    request.mutable_fiscal_year()->set_year(year);
    request.set_value(value);
    request.set_author(author);
    request.set_reason(reason);
    v1::ReviseTargetResponse response;
    return stub_->ReviseTarget(Context().get(), request, &response);
  }

  grpc::Status RecordActual(const std::string& kpi, const std::string& region, int year,
                            double value, std::optional<double> numerator = std::nullopt,
                            std::optional<double> denominator = std::nullopt) {
    v1::RecordActualRequest request;
    v1::Actual* actual = request.mutable_actual();
    actual->set_kpi_id(kpi);
    actual->set_region_id(region);
    actual->mutable_fiscal_year()->set_year(year);
    actual->set_value(value);
    if (numerator) actual->set_numerator(*numerator);
    if (denominator) actual->set_denominator(*denominator);
    actual->set_reported_by("テスト振興局");
    v1::RecordActualResponse response;
    return stub_->RecordActual(Context().get(), request, &response);
  }
};

// ---- RecordActual ----

TEST_F(KpiValidationTest, RecordActualRefusesBadFiguresAndStoresNothing) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    std::string name;
    std::string kpi;
    std::string region;
    int year;
    double value;
    std::optional<double> numerator;
    std::optional<double> denominator;
    grpc::StatusCode code;
    std::vector<std::string> mentions;
  };
  const grpc::StatusCode kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  const std::vector<Case> cases = {
      {"negative count",
       "kodomoen",
       "kamikawa",
       2019,
       -1,
       {},
       {},
       kInvalid,
       {"actual.value", "\"-1\"", "negative"}},
      {"fraction of a count",
       "kodomoen",
       "kamikawa",
       2019,
       4.5,
       {},
       {},
       kInvalid,
       {"actual.value", "\"4.5\"", "whole"}},
      {"percentage over 100",
       "jishu-bousai",
       "kamikawa",
       2019,
       120,
       {},
       {},
       kInvalid,
       {"actual.value", "\"120\"", "100"}},
      {"NaN",
       "jishu-bousai",
       "kamikawa",
       2019,
       kNaN,
       {},
       {},
       kInvalid,
       {"actual.value", "\"nan\""}},
      {"numerator over denominator",
       "jishu-bousai",
       "kamikawa",
       2019,
       50,
       600,
       500,
       kInvalid,
       {"actual.numerator", "\"600\"", "500"}},
      {"numerator without denominator",
       "jishu-bousai",
       "kamikawa",
       2019,
       46.7,
       4670,
       {},
       kInvalid,
       {"actual.denominator", "numerator"}},
      {"value not numerator / denominator",
       "jishu-bousai",
       "kamikawa",
       2019,
       50,
       4670,
       10000,
       kInvalid,
       {"actual.value", "\"50\"", "46.7"}},
      {"unknown KPI",
       "no-such-kpi",
       "kamikawa",
       2019,
       1,
       {},
       {},
       grpc::StatusCode::NOT_FOUND,
       {"actual.kpi_id", "no-such-kpi"}},
      {"the prefecture is not tracked",
       "kodomoen",
       "hokkaido",
       2019,
       1,
       {},
       {},
       kInvalid,
       {"actual.region_id", "\"hokkaido\""}},
      {"another area's subprefecture",
       "kodomoen",
       "nemuro",
       2019,
       1,
       {},
       {},
       kInvalid,
       {"actual.region_id", "\"nemuro\""}},
      {"before Heisei",
       "kodomoen",
       "kamikawa",
       1988,
       1,
       {},
       {},
       kInvalid,
       {"actual.fiscal_year", "1988"}},
      {"after 2100",
       "kodomoen",
       "kamikawa",
       2101,
       1,
       {},
       {},
       kInvalid,
       {"actual.fiscal_year", "2101"}},
      {"no year", "kodomoen", "kamikawa", 0, 1, {}, {}, kInvalid, {"actual.fiscal_year", "\"0\""}},
      {"before the baseline year H26",
       "kodomoen",
       "kamikawa",
       2013,
       6,
       {},
       {},
       kInvalid,
       {"actual.fiscal_year", "2013", "baseline"}},
  };
  const size_t length = LogLength();
  ASSERT_GT(length, 0u);
  const v1::GetProgressResponse before = Progress("kodomoen", "kamikawa", 2019);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectRefused(RecordActual(c.kpi, c.region, c.year, c.value, c.numerator, c.denominator),
                  c.code, c.mentions);
    EXPECT_EQ(LogLength(), length);
  }
  const v1::GetProgressResponse after = Progress("kodomoen", "kamikawa", 2019);
  EXPECT_TRUE(MessageDifferencer::Equals(after, before)) << after.ShortDebugString();

  // The same calls with the fault fixed go through: each case failed for its
  // own reason.
  ASSERT_TRUE(RecordActual("kodomoen", "kamikawa", 2019, 45).ok());
  ASSERT_TRUE(RecordActual("jishu-bousai", "kamikawa", 2019, 46.7, 4670, 10000).ok());
  EXPECT_EQ(LogLength(), length + 2);
}

// ---- ReviseTarget and SetBaseline ----

TEST_F(KpiValidationTest, ReviseTargetRefusesATargetYearNotAfterTheBaseline) {
  const size_t length = LogLength();
  // 上川 認定こども園: baseline H26 (2014).
  ExpectRefused(ReviseTarget("kodomoen", "kamikawa", 2013, 40), grpc::StatusCode::INVALID_ARGUMENT,
                {"fiscal_year.year", "2013", "baseline"});
  EXPECT_EQ(LogLength(), length);
  ExpectRefused(ReviseTarget("kodomoen", "kamikawa", 2014, 40), grpc::StatusCode::INVALID_ARGUMENT,
                {"fiscal_year.year", "2014", "baseline"});
  EXPECT_EQ(LogLength(), length);
}

TEST_F(KpiValidationTest, ReviseTargetRefusesANegativeTarget) {
  const size_t length = LogLength();
  ExpectRefused(ReviseTarget("kodomoen", "kamikawa", 2019, -5), grpc::StatusCode::INVALID_ARGUMENT,
                {"value", "\"-5\"", "negative"});
  EXPECT_EQ(LogLength(), length);
  ASSERT_EQ(Progress("kodomoen", "kamikawa", 2018).target().value(), 33);
}

TEST_F(KpiValidationTest, SetBaselineRefusesAYearNotBeforeTheTarget) {
  const size_t length = LogLength();
  // 上川 認定こども園: target R元 (2019).
  ExpectRefused(SetBaseline("kodomoen", "kamikawa", 2020, 6), grpc::StatusCode::INVALID_ARGUMENT,
                {"baseline.fiscal_year.year", "2020", "target"});
  EXPECT_EQ(LogLength(), length);
  ExpectRefused(SetBaseline("kodomoen", "kamikawa", 2019, 6), grpc::StatusCode::INVALID_ARGUMENT,
                {"baseline.fiscal_year.year", "2019", "target"});
  EXPECT_EQ(LogLength(), length);
  EXPECT_EQ(Progress("kodomoen", "kamikawa", 2018).baseline().fiscal_year().year(), 2014);
}

TEST_F(KpiValidationTest, ReviseTargetKeepsEveryEarlierTarget) {
  ASSERT_TRUE(
      ReviseTarget("kodomoen", "kamikawa", 2019, 36, "本庁 子ども政策課", "新設計画の追加").ok());
  ASSERT_TRUE(
      ReviseTarget("kodomoen", "kamikawa", 2019, 40, "上川総合振興局", "市町村計画の見直し").ok());

  v1::GetKpiRequest request;
  request.set_id("kodomoen");
  v1::GetKpiResponse kpi;
  ASSERT_TRUE(stub_->GetKpi(Context().get(), request, &kpi).ok());
  const v1::Target* kamikawa = nullptr;
  for (const v1::Target& target : kpi.targets()) {
    if (target.region_id() == "kamikawa") kamikawa = &target;
  }
  ASSERT_NE(kamikawa, nullptr);
  EXPECT_EQ(kamikawa->value(), 40);
  EXPECT_EQ(kamikawa->fiscal_year().year(), 2019);
  ASSERT_EQ(kamikawa->revisions_size(), 3) << kamikawa->ShortDebugString();
  // Oldest first; each with who replaced it and why.
  EXPECT_EQ(kamikawa->revisions(0).value(), 28);
  EXPECT_EQ(kamikawa->revisions(0).reason(), "見直し前28カ所");
  EXPECT_EQ(kamikawa->revisions(1).value(), 33);
  EXPECT_EQ(kamikawa->revisions(1).author(), "本庁 子ども政策課");
  EXPECT_EQ(kamikawa->revisions(1).reason(), "新設計画の追加");
  EXPECT_TRUE(kamikawa->revisions(1).has_revise_time());
  EXPECT_EQ(kamikawa->revisions(2).value(), 36);
  EXPECT_EQ(kamikawa->revisions(2).author(), "上川総合振興局");
  EXPECT_EQ(kamikawa->revisions(2).reason(), "市町村計画の見直し");

  std::vector<v1::Change> revised;
  for (const v1::Change& change : History("kodomoen", "kamikawa", 2019)) {
    if (change.kind() == v1::CHANGE_KIND_TARGET_REVISED) revised.push_back(change);
  }
  ASSERT_EQ(revised.size(), 4u);  // 28, 33 from the seed; 36, 40 here
  EXPECT_FALSE(revised[0].has_old_value());
  EXPECT_EQ(revised[0].new_value(), 28);
  EXPECT_EQ(revised[1].old_value(), 28);
  EXPECT_EQ(revised[1].new_value(), 33);
  EXPECT_EQ(revised[2].old_value(), 33);
  EXPECT_EQ(revised[2].new_value(), 36);
  EXPECT_EQ(revised[2].author(), "本庁 子ども政策課");
  EXPECT_EQ(revised[2].reason(), "新設計画の追加");
  EXPECT_EQ(revised[3].old_value(), 36);
  EXPECT_EQ(revised[3].new_value(), 40);
  EXPECT_EQ(revised[3].author(), "上川総合振興局");
  EXPECT_EQ(revised[3].reason(), "市町村計画の見直し");

  // Every year's rate uses the current target: H30 41 / 40.
  const v1::GetProgressResponse progress = Progress("kodomoen", "kamikawa", 2018);
  EXPECT_EQ(progress.points().rbegin()->rate_display(), "102.5%");
}

// ---- What a prefectural office expects ----

TEST_F(KpiValidationTest, DecreaseKpiWithTargetZeroUsesGapClosure) {
  v1::Kpi kpi;
  kpi.set_id("taiki-jido");
  kpi.set_project_id(kProject);
  kpi.set_name("待機児童数");
  kpi.set_unit("人");
  kpi.set_value_kind(v1::VALUE_KIND_COUNT);
  kpi.set_direction(v1::DIRECTION_DECREASE);
  kpi.add_region_ids("dohoku");
  kpi.add_region_ids("kamikawa");
  v1::CreateKpiResponse created;
  grpc::Status status = CreateKpi(kpi, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.kpi().progress_method(), v1::PROGRESS_METHOD_GAP_CLOSURE);

  ASSERT_TRUE(SetBaseline("taiki-jido", "kamikawa", 2018, 50).ok());
  status = ReviseTarget("taiki-jido", "kamikawa", 2022, 0);
  ASSERT_TRUE(status.ok()) << status.error_message();
  status = RecordActual("taiki-jido", "kamikawa", 2020, 20);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const v1::GetProgressResponse progress = Progress("taiki-jido", "kamikawa", 2020);
  ASSERT_EQ(progress.points_size(), 2);  // R元, R2
  EXPECT_FALSE(progress.points(0).has_value());
  const v1::ProgressPoint& r2 = progress.points(1);
  EXPECT_EQ(r2.fiscal_year().year(), 2020);
  EXPECT_EQ(r2.value(), 20);
  // (20 − 50) / (0 − 50) × 100; actual / target would divide by zero.
  EXPECT_EQ(r2.rate_display(), "60.0%");
  EXPECT_TRUE(r2.undefined_reason().empty()) << r2.undefined_reason();
  // The straight line is at 25 in R2: half the gap closed.
  EXPECT_EQ(r2.expected_value(), 25);
  EXPECT_EQ(r2.expected_rate_display(), "50.0%");
  EXPECT_EQ(r2.status(), v1::PROGRESS_STATUS_ON_TRACK);
}

TEST_F(KpiValidationTest, RatioKpiWeighsByDenominatorsAndFlagsADifferentReportedFigure) {
  v1::Kpi kpi;
  kpi.set_id("kenshin-ritsu");
  kpi.set_project_id(kProject);
  kpi.set_name("特定健診受診率");
  kpi.set_unit("%");
  kpi.set_value_kind(v1::VALUE_KIND_PERCENT);
  kpi.set_aggregation(v1::AGGREGATION_RULE_RATIO);
  for (const char* region : {"dohoku", "kamikawa", "rumoi", "soya"}) kpi.add_region_ids(region);
  v1::CreateKpiResponse created;
  grpc::Status status = CreateKpi(kpi, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // H27 baselines (the area's own too) and R2 targets.
  ASSERT_TRUE(SetBaseline("kenshin-ritsu", "dohoku", 2015, 34.7).ok());
  ASSERT_TRUE(SetBaseline("kenshin-ritsu", "kamikawa", 2015, 40, 4000, 10000).ok());
  ASSERT_TRUE(SetBaseline("kenshin-ritsu", "rumoi", 2015, 30, 600, 2000).ok());
  ASSERT_TRUE(SetBaseline("kenshin-ritsu", "soya", 2015, 20, 600, 3000).ok());
  for (const char* region : {"dohoku", "kamikawa", "rumoi", "soya"}) {
    ASSERT_TRUE(ReviseTarget("kenshin-ritsu", region, 2020, 60).ok()) << region;
  }
  status = RecordActual("kenshin-ritsu", "kamikawa", 2019, 46.7, 4670, 10000);
  ASSERT_TRUE(status.ok()) << status.error_message();
  status = RecordActual("kenshin-ritsu", "rumoi", 2019, 37.9, 758, 2000);
  ASSERT_TRUE(status.ok()) << status.error_message();
  status = RecordActual("kenshin-ritsu", "soya", 2019, 22.8, 684, 3000);
  ASSERT_TRUE(status.ok()) << status.error_message();

  v1::Aggregate aggregate = AggregateOf("kenshin-ritsu", 2019);
  EXPECT_EQ(aggregate.rule(), v1::AGGREGATION_RULE_RATIO);
  EXPECT_TRUE(aggregate.complete());
  const double weighted = 6112.0 / 15000.0 * 100;  // 40.7466…
  EXPECT_DOUBLE_EQ(aggregate.value(), weighted);
  EXPECT_DOUBLE_EQ(aggregate.computed_value(), weighted);
  EXPECT_GT(aggregate.value() - (46.7 + 37.9 + 22.8) / 3, 4) << "not the plain mean 35.8";
  ASSERT_EQ(aggregate.components_size(), 3);
  const std::vector<std::pair<std::string, double>> weights = {
      {"kamikawa", 10000.0 / 15000}, {"rumoi", 2000.0 / 15000}, {"soya", 3000.0 / 15000}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(aggregate.components(i).region_id(), weights[i].first);
    EXPECT_DOUBLE_EQ(aggregate.components(i).weight(), weights[i].second) << weights[i].first;
  }
  EXPECT_EQ(aggregate.components(0).numerator(), 4670);
  EXPECT_EQ(aggregate.components(0).denominator(), 10000);
  EXPECT_FALSE(aggregate.has_reported_value());
  EXPECT_TRUE(aggregate.warnings().empty()) << absl::StrJoin(aggregate.warnings(), "; ");
  EXPECT_EQ(aggregate.target(), 60);
  EXPECT_EQ(aggregate.progress().rate_display(), "67.9%");  // 40.75 / 60

  // The area reports 43.4 of its own: both figures, and a warning.
  status = RecordActual("kenshin-ritsu", "dohoku", 2019, 43.4);
  ASSERT_TRUE(status.ok()) << status.error_message();
  aggregate = AggregateOf("kenshin-ritsu", 2019);
  EXPECT_DOUBLE_EQ(aggregate.value(), weighted) << "RATIO: the computed figure is authoritative";
  EXPECT_DOUBLE_EQ(aggregate.computed_value(), weighted);
  EXPECT_EQ(aggregate.reported_value(), 43.4);
  ASSERT_EQ(aggregate.warnings_size(), 1);
  EXPECT_NE(aggregate.warnings(0).find("43.4"), std::string::npos) << aggregate.warnings(0);
  EXPECT_NE(aggregate.warnings(0).find("40.7"), std::string::npos) << aggregate.warnings(0);
}

}  // namespace
}  // namespace suishin::kpi

namespace suishin::kpi {
namespace {

// GetProgress and GetAggregate read their requests themselves (they answer
// with kept bytes): bytes that are no request are refused, naming the
// message, and a well-formed one is answered like any other.
TEST_F(KpiValidationTest, ReadsRefuseBytesThatAreNoRequest) {
  grpc::GenericStub generic(MakeChannel(kpi_->address()));
  for (const char* method :
       {"/suishin.kpi.v1.KpiService/GetProgress", "/suishin.kpi.v1.KpiService/GetAggregate"}) {
    SCOPED_TRACE(method);
    const std::string garbage = "\xff\xff\xff\xff";
    grpc::Slice slice(garbage);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    absl::Notification done;
    grpc::Status status;
    auto context = testing::Context();
    generic.UnaryCall(context.get(), method, grpc::StubOptions(), &request, &response,
                      [&](grpc::Status finished) {
                        status = std::move(finished);
                        done.Notify();
                      });
    done.WaitForNotification();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("Request"), std::string::npos) << status.error_message();
  }
  // The same kept bytes twice: the same answer, and the one a typed client parses.
  v1::GetProgressRequest request;
  request.set_kpi_id("kodomoen");
  request.set_region_id("soya");
  v1::GetProgressResponse first;
  v1::GetProgressResponse second;
  ASSERT_TRUE(stub_->GetProgress(testing::Context().get(), request, &first).ok());
  ASSERT_TRUE(stub_->GetProgress(testing::Context().get(), request, &second).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(first, second));
  EXPECT_EQ(first.region_id(), "soya");
  EXPECT_FALSE(first.points().empty());
}

}  // namespace
}  // namespace suishin::kpi
