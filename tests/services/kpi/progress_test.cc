// kpi-service's arithmetic against the seed document: every 進捗率 the
// management table prints, computed from the seed dataset's values, must come
// out to the printed digit; so must the DESIGN.md H30 alert table's rates and
// paces. The printed strings below are the oracle (the PDF text writes some
// percent signs full-width, "111.6％"; they are written ASCII here).
#include "services/kpi/progress.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "suishin/dataset/v1/dataset.pb.h"

namespace suishin::kpi {
namespace {

// The seed dataset, read once.
const dataset::v1::Dataset& Seed() {
  static const dataset::v1::Dataset* const seed = [] {
    auto* dataset = new dataset::v1::Dataset;
    const std::string path = std::string(SUISHIN_SOURCE_DIR) + "/data/seed/dohoku-2019.json";
    std::ifstream in(path);
    std::stringstream json;
    json << in.rdbuf();
    const auto status = google::protobuf::util::JsonStringToMessage(json.str(), dataset);
    EXPECT_TRUE(in.is_open() && status.ok()) << path << ": " << status.ToString();
    return dataset;
  }();
  return *seed;
}

const v1::KpiRecord& SeedKpi(const std::string& id) {
  for (const v1::KpiRecord& record : Seed().kpi().kpis()) {
    if (record.kpi().id() == id) return record;
  }
  ADD_FAILURE() << "no KPI " << id << " in the seed";
  static const v1::KpiRecord* const empty = new v1::KpiRecord;
  return *empty;
}

// The KPI's subprefectures: its regions other than the area, in display order.
std::vector<std::string> Children(const v1::Kpi& kpi) {
  std::vector<std::string> children;
  for (const std::string& id : kpi.region_ids()) {
    if (id != kpi.area_id()) children.push_back(id);
  }
  return children;
}

std::optional<double> BaselineOf(const v1::KpiRecord& record, const std::string& region) {
  for (const v1::Baseline& b : record.baselines()) {
    if (b.region_id() == region) return b.value();
  }
  return std::nullopt;
}

std::optional<double> TargetOf(const v1::KpiRecord& record, const std::string& region) {
  for (const v1::Target& t : record.targets()) {
    if (t.region_id() == region) return t.value();
  }
  return std::nullopt;
}

// The target before its first revision (見直し前), or the current one when it
// was never revised.
std::optional<double> OriginalTargetOf(const v1::KpiRecord& record, const std::string& region) {
  for (const v1::Target& t : record.targets()) {
    if (t.region_id() != region) continue;
    return t.revisions().empty() ? t.value() : t.revisions(0).value();
  }
  return std::nullopt;
}

std::optional<double> ActualOf(const v1::KpiRecord& record, const std::string& region, int year) {
  for (const v1::Actual& a : record.actuals()) {
    if (a.region_id() == region && a.fiscal_year().year() == year) return a.value();
  }
  return std::nullopt;
}

int BaselineYear(const v1::KpiRecord& record) {
  return record.baselines().empty() ? 0 : record.baselines(0).fiscal_year().year();
}
int TargetYear(const v1::KpiRecord& record) {
  return record.targets().empty() ? 0 : record.targets(0).fiscal_year().year();
}

// One figure per child, from `figure_of(child)`.
template <typename FigureOf>
std::vector<Figure> ChildFigures(const v1::KpiRecord& record, FigureOf figure_of) {
  std::vector<Figure> figures;
  for (const std::string& child : Children(record.kpi())) {
    figures.push_back(Figure{child, figure_of(child), std::nullopt, std::nullopt});
  }
  return figures;
}

// The area's figure of a SUM KPI: AggregateFigures over its children.
template <typename FigureOf>
std::optional<double> AreaSum(const v1::KpiRecord& record, FigureOf figure_of) {
  const v1::Aggregate area =
      AggregateFigures(v1::AGGREGATION_RULE_SUM, ChildFigures(record, figure_of), std::nullopt);
  if (!area.has_value()) return std::nullopt;
  return area.value();
}

// A KPI in one region as kpi-service assembles it: the region's own figures,
// or, for the area of a SUM KPI, the sums of its subprefectures' figures.
struct Series {
  ProgressInputs inputs;
  // The actual in a fiscal year, if any.
  std::function<std::optional<double>(int)> value_in;
};

Series SeriesOf(const v1::KpiRecord& record, const std::string& region) {
  const v1::Kpi& kpi = record.kpi();
  const bool summed = region == kpi.area_id() && kpi.aggregation() == v1::AGGREGATION_RULE_SUM;
  Series series;
  series.inputs.method = kpi.progress_method();
  series.inputs.direction = kpi.direction();
  series.inputs.baseline_year = BaselineYear(record);
  series.inputs.target_year = TargetYear(record);
  if (summed) {
    series.inputs.baseline =
        AreaSum(record, [&](const std::string& c) { return BaselineOf(record, c); }).value_or(NAN);
    series.inputs.target =
        AreaSum(record, [&](const std::string& c) { return TargetOf(record, c); }).value_or(NAN);
    series.value_in = [&record](int year) {
      return AreaSum(record, [&](const std::string& c) { return ActualOf(record, c, year); });
    };
  } else {
    series.inputs.baseline = BaselineOf(record, region).value_or(NAN);
    series.inputs.target = TargetOf(record, region).value_or(NAN);
    series.value_in = [&record, region](int year) { return ActualOf(record, region, year); };
  }
  return series;
}

TEST(ProgressTest, ReproducesEverySeedRate) {
  // 別紙２ プロジェクト推進管理表: the 進捗率 row under each region, from the
  // first year after the baseline.
  struct Row {
    std::string kpi_id;
    std::string region_id;
    int first_year;
    std::vector<std::string> printed;
  };
  const std::vector<Row> rows = {
      {"kodomoen", "dohoku", 2015, {"25.6%", "51.2%", "93.0%", "111.6%"}},
      {"kodomoen", "kamikawa", 2015, {"18.2%", "48.5%", "100.0%", "124.2%"}},
      {"kodomoen", "rumoi", 2015, {"50.0%", "75.0%", "100.0%", "100.0%"}},
      {"kodomoen", "soya", 2015, {"50.0%", "50.0%", "50.0%", "50.0%"}},
      {"jishu-bousai", "dohoku", 2016, {"58.3%", "59.1%", "60.9%"}},
      {"jishu-bousai", "kamikawa", 2016, {"63.2%", "63.1%", "64.8%"}},
      {"jishu-bousai", "rumoi", 2016, {"48.4%", "49.0%", "45.8%"}},
      {"jishu-bousai", "soya", 2016, {"28.1%", "36.2%", "41.2%"}},
  };
  int checked = 0;
  for (const Row& row : rows) {
    const Series series = SeriesOf(SeedKpi(row.kpi_id), row.region_id);
    for (size_t i = 0; i < row.printed.size(); ++i) {
      const int year = row.first_year + static_cast<int>(i);
      SCOPED_TRACE(absl::StrFormat("%s %s %d", row.kpi_id, row.region_id, year));
      const std::optional<double> value = series.value_in(year);
      ASSERT_TRUE(value.has_value());
      const RateResult rate =
          ComputeRate(series.inputs.method, *value, series.inputs.baseline, series.inputs.target);
      ASSERT_TRUE(rate.rate.has_value()) << rate.undefined_reason;
      EXPECT_EQ(rate.rate->Display(), row.printed[i]);
      EXPECT_EQ(ComputePoint(series.inputs, year, value).rate_display(), row.printed[i]);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 28);
}

TEST(ProgressTest, SumsTheSeedAreaFromItsSubprefectures) {
  const v1::KpiRecord& kodomoen = SeedKpi("kodomoen");
  struct Case {
    std::string what;
    std::function<std::optional<double>(const std::string&)> figure_of;
    std::string printed;
  };
  const auto actual_in = [&](int year) {
    return [&kodomoen, year](const std::string& c) { return ActualOf(kodomoen, c, year); };
  };
  const std::vector<Case> cases = {
      {"baseline H26: 6+2+2", [&](const std::string& c) { return BaselineOf(kodomoen, c); }, "10"},
      {"target R元: 33+4+6", [&](const std::string& c) { return TargetOf(kodomoen, c); }, "43"},
      {"見直し前 target: 28+4+6",
       [&](const std::string& c) { return OriginalTargetOf(kodomoen, c); }, "38"},
      {"H27: 6+2+3", actual_in(2015), "11"},
      {"H28: 16+3+3", actual_in(2016), "22"},
      {"H29: 33+4+3", actual_in(2017), "40"},
      {"H30: 41+4+3", actual_in(2018), "48"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const v1::Aggregate area = AggregateFigures(v1::AGGREGATION_RULE_SUM,
                                                ChildFigures(kodomoen, c.figure_of), std::nullopt);
    EXPECT_TRUE(area.complete());
    ASSERT_TRUE(area.has_value());
    EXPECT_EQ(FormatValue(area.value(), v1::VALUE_KIND_COUNT), c.printed);
    EXPECT_EQ(area.computed_value(), area.value());
    EXPECT_EQ(area.rule(), v1::AGGREGATION_RULE_SUM);
    ASSERT_EQ(area.components_size(), 3);
    for (const v1::AggregateComponent& component : area.components()) {
      EXPECT_EQ(component.weight(), 1.0);
    }
    EXPECT_TRUE(area.warnings().empty());
  }
}

TEST(ProgressTest, ReproducesTheDesignH30Table) {
  // DESIGN.md §2 "Alert rules": as of H30 (FY2018).
  struct Row {
    std::string kpi_id;
    std::string region_id;
    std::string rate;
    std::string pace;
    // Not in the table: rate − pace, rounded exactly (so 道北 自主防災組織率's
    // −20.568 is "-20.6", though 60.9 − 81.4 would be −20.5).
    std::string gap;
    v1::ProgressStatus status;
  };
  const std::vector<Row> rows = {
      {"jishu-bousai", "dohoku", "60.9%", "81.4%", "-20.6", v1::PROGRESS_STATUS_LAGGING},
      {"jishu-bousai", "kamikawa", "64.8%", "83.1%", "-18.2", v1::PROGRESS_STATUS_LAGGING},
      {"jishu-bousai", "rumoi", "45.8%", "78.7%", "-32.9", v1::PROGRESS_STATUS_LAGGING},
      {"jishu-bousai", "soya", "41.2%", "71.3%", "-30.0", v1::PROGRESS_STATUS_LAGGING},
      {"kodomoen", "dohoku", "111.6%", "84.7%", "+27.0", v1::PROGRESS_STATUS_ACHIEVED},
      {"kodomoen", "kamikawa", "124.2%", "83.6%", "+40.6", v1::PROGRESS_STATUS_ACHIEVED},
      {"kodomoen", "rumoi", "100.0%", "90.0%", "+10.0", v1::PROGRESS_STATUS_ACHIEVED},
      {"kodomoen", "soya", "50.0%", "86.7%", "-36.7", v1::PROGRESS_STATUS_LAGGING},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.kpi_id + " " + row.region_id);
    const Series series = SeriesOf(SeedKpi(row.kpi_id), row.region_id);
    const v1::ProgressPoint point = ComputePoint(series.inputs, 2018, series.value_in(2018));
    EXPECT_EQ(point.fiscal_year().year(), 2018);
    EXPECT_EQ(point.fiscal_year().label(), "H30 (2018)");
    EXPECT_EQ(point.rate_display(), row.rate);
    EXPECT_EQ(point.expected_rate_display(), row.pace);
    EXPECT_EQ(point.pace_gap_display(), row.gap);
    EXPECT_EQ(point.status(), row.status);
    ASSERT_TRUE(point.has_pace_gap());
    EXPECT_DOUBLE_EQ(point.pace_gap(), point.rate() - point.expected_rate());
    EXPECT_TRUE(point.undefined_reason().empty());
  }
}

TEST(ProgressTest, FillsEveryFieldOfAPoint) {
  // 道北 自主防災組織率 H30: 49.3 of 81.0; the line from 43.4 (H27) to 81.0 (R2)
  // is at 43.4 + 37.6 × 3/5 = 65.96.
  const Series series = SeriesOf(SeedKpi("jishu-bousai"), "dohoku");
  const v1::ProgressPoint point = ComputePoint(series.inputs, 2018, 49.3);
  EXPECT_DOUBLE_EQ(point.value(), 49.3);
  EXPECT_DOUBLE_EQ(point.rate(), 49.3 / 81.0 * 100);
  EXPECT_EQ(point.rate_display(), "60.9%");
  EXPECT_DOUBLE_EQ(point.expected_value(), 65.96);
  EXPECT_DOUBLE_EQ(point.expected_rate(), 65.96 / 81.0 * 100);
  EXPECT_EQ(point.expected_rate_display(), "81.4%");
  EXPECT_NEAR(point.pace_gap(), -20.5679, 1e-4);
  // The rounding of the true gap, not 60.9 − 81.4.
  EXPECT_EQ(point.pace_gap_display(), "-20.6");
  EXPECT_EQ(point.status(), v1::PROGRESS_STATUS_LAGGING);

  // 道北 認定こども園 H30: 111.63 − 84.65 = +26.98 points, shown with its sign.
  const v1::ProgressPoint ahead =
      ComputePoint(SeriesOf(SeedKpi("kodomoen"), "dohoku").inputs, 2018, 48.0);
  EXPECT_EQ(ahead.pace_gap_display(), "+27.0");
}

TEST(ProgressTest, ClampsTheExpectedValueToTheLine) {
  struct Case {
    int year;
    double expected;
  };
  // 認定こども園 上川: 6 in H26 → 33 in R元.
  const std::vector<Case> cases = {
      {2012, 6}, {2014, 6}, {2015, 11.4}, {2018, 27.6}, {2019, 33}, {2022, 33},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.year);
    EXPECT_DOUBLE_EQ(ExpectedValue(2014, 6, 2019, 33, c.year), c.expected);
  }
  // A target year not after the baseline year is a step at the baseline year.
  EXPECT_EQ(ExpectedValue(2019, 6, 2019, 33, 2018), 6);
  EXPECT_EQ(ExpectedValue(2019, 6, 2019, 33, 2019), 33);
}

TEST(ProgressTest, ComputesOrRefusesEachMethod) {
  struct Case {
    std::string what;
    v1::ProgressMethod method;
    double value, baseline, target;
    std::string display;  // Empty when undefined.
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"achievement", v1::PROGRESS_METHOD_ACHIEVEMENT, 11, 10, 43, "25.6%", ""},
      {"unspecified is achievement", v1::PROGRESS_METHOD_UNSPECIFIED, 11, 10, 43, "25.6%", ""},
      {"achievement, target 0", v1::PROGRESS_METHOD_ACHIEVEMENT, 5, 50, 0, "",
       "target is 0: use GAP_CLOSURE"},
      {"待機児童数 50 → 0, now 20", v1::PROGRESS_METHOD_GAP_CLOSURE, 20, 50, 0, "60.0%", ""},
      {"待機児童数 reached", v1::PROGRESS_METHOD_GAP_CLOSURE, 0, 50, 0, "100.0%", ""},
      {"待機児童数 went up", v1::PROGRESS_METHOD_GAP_CLOSURE, 51.5, 50, 0, "-3.0%", ""},
      {"gap closure, increase", v1::PROGRESS_METHOD_GAP_CLOSURE, 47.2, 43.4, 81, "10.1%", ""},
      {"gap closure, target equals baseline", v1::PROGRESS_METHOD_GAP_CLOSURE, 12, 10, 10, "",
       "target equals baseline"},
      {"achievement, NaN", v1::PROGRESS_METHOD_ACHIEVEMENT, NAN, 0, 10, "",
       "value nan is not a finite number within ±1e14"},
      {"achievement, huge target", v1::PROGRESS_METHOD_ACHIEVEMENT, 1, 0, 1e20, "",
       "target 1e+20 is not a finite number within ±1e14"},
      {"achievement, absurd rate", v1::PROGRESS_METHOD_ACHIEVEMENT, 1e14, 0, 0.0001, "",
       "rate 1e+20% is beyond ±9.2e17%"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const RateResult result = ComputeRate(c.method, c.value, c.baseline, c.target);
    if (c.display.empty()) {
      EXPECT_FALSE(result.rate.has_value());
      EXPECT_EQ(result.undefined_reason, c.reason);
    } else {
      ASSERT_TRUE(result.rate.has_value()) << result.undefined_reason;
      EXPECT_EQ(result.rate->Display(), c.display);
      EXPECT_TRUE(result.undefined_reason.empty());
    }
  }
}

TEST(ProgressTest, FollowsADecreaseKpiWithGapClosure) {
  // 待機児童数: 50 in H27, 0 by R2 (2020); the line is at 20 in H30.
  const ProgressInputs in{
      v1::PROGRESS_METHOD_GAP_CLOSURE, v1::DIRECTION_DECREASE, 2015, 50, 2020, 0};
  struct Case {
    std::optional<double> value;
    std::string rate;
    std::string gap;
    v1::ProgressStatus status;
  };
  const std::vector<Case> cases = {
      {20, "60.0%", "0.0", v1::PROGRESS_STATUS_ON_TRACK},
      {14, "72.0%", "+12.0", v1::PROGRESS_STATUS_ON_TRACK},
      {35, "30.0%", "-30.0", v1::PROGRESS_STATUS_LAGGING},
      {0, "100.0%", "+40.0", v1::PROGRESS_STATUS_ACHIEVED},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(*c.value);
    const v1::ProgressPoint point = ComputePoint(in, 2018, c.value);
    EXPECT_EQ(point.rate_display(), c.rate);
    EXPECT_EQ(point.expected_rate_display(), "60.0%");
    EXPECT_DOUBLE_EQ(point.expected_value(), 20);
    EXPECT_EQ(point.pace_gap_display(), c.gap);
    EXPECT_EQ(point.status(), c.status);
  }
}

TEST(ProgressTest, SaysWhyAPointHasNoRate) {
  const ProgressInputs flat{
      v1::PROGRESS_METHOD_GAP_CLOSURE, v1::DIRECTION_INCREASE, 2015, 10, 2020, 10};
  const v1::ProgressPoint undefined = ComputePoint(flat, 2018, 12.0);
  EXPECT_EQ(undefined.status(), v1::PROGRESS_STATUS_UNKNOWN);
  EXPECT_EQ(undefined.undefined_reason(), "target equals baseline");
  EXPECT_DOUBLE_EQ(undefined.value(), 12);
  EXPECT_FALSE(undefined.has_rate());
  EXPECT_FALSE(undefined.has_expected_rate());
  EXPECT_FALSE(undefined.has_pace_gap());
  EXPECT_EQ(undefined.rate_display(), "");
  EXPECT_EQ(undefined.pace_gap_display(), "");

  // 認定こども園 上川 R元: no actual yet; the pace is still known.
  const Series kamikawa = SeriesOf(SeedKpi("kodomoen"), "kamikawa");
  const v1::ProgressPoint missing = ComputePoint(kamikawa.inputs, 2019, kamikawa.value_in(2019));
  EXPECT_EQ(missing.status(), v1::PROGRESS_STATUS_UNKNOWN);
  EXPECT_EQ(missing.undefined_reason(), "no actual for R元 (2019)");
  EXPECT_EQ(missing.fiscal_year().label(), "R元 (2019)");
  EXPECT_FALSE(missing.has_value());
  EXPECT_FALSE(missing.has_rate());
  EXPECT_EQ(missing.expected_rate_display(), "100.0%");
}

// The review's case: the rate is defined (0.0001 of a target of 0.0002 is
// 50%) while the line starts at a baseline of 1e14, whose rate (4e19 % a year
// after the baseline) no tenths can hold. The point must not dereference the missing expected rate:
// it says why there is no pace, and never calls that LAGGING.
TEST(ProgressTest, SaysWhyThereIsNoPaceWhenTheExpectedRateOverflows) {
  const ProgressInputs huge_baseline{
      v1::PROGRESS_METHOD_ACHIEVEMENT, v1::DIRECTION_INCREASE, 2015, 1e14, 2020, 0.0002};
  const v1::ProgressPoint point = ComputePoint(huge_baseline, 2016, 0.0001);
  EXPECT_EQ(point.rate_display(), "50.0%");
  EXPECT_FALSE(point.has_expected_rate());
  EXPECT_FALSE(point.has_pace_gap());
  EXPECT_EQ(point.pace_gap_display(), "");
  EXPECT_EQ(point.pace_undefined_reason(), "expected rate 4e+19% is beyond ±9.2e17%");
  EXPECT_EQ(point.status(), v1::PROGRESS_STATUS_UNKNOWN);

  const v1::ProgressPoint reached = ComputePoint(huge_baseline, 2016, 0.0003);
  EXPECT_EQ(reached.status(), v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_FALSE(reached.pace_undefined_reason().empty());

  // In range, the reason stays empty and the gap is there.
  const ProgressInputs normal{
      v1::PROGRESS_METHOD_ACHIEVEMENT, v1::DIRECTION_INCREASE, 2015, 10, 2020, 43};
  const v1::ProgressPoint ok = ComputePoint(normal, 2018, 30.0);
  EXPECT_TRUE(ok.has_pace_gap());
  EXPECT_EQ(ok.pace_undefined_reason(), "");
}

// What a double-based rounding would print: floor(x × 10 + 0.5) / 10.
std::string NaiveDisplay(double percent) {
  return absl::StrFormat("%.1f%%", std::floor(percent * 10 + 0.5) / 10);
}

TEST(ProgressTest, RoundsHalfAwayFromZeroExactly) {
  struct Case {
    std::string what;
    v1::ProgressMethod method;
    double value, baseline, target;
    std::string exact;
    std::string naive;  // NaiveDisplay of the double rate.
  };
  const std::vector<Case> cases = {
      {"1/16 = 6.25%", v1::PROGRESS_METHOD_ACHIEVEMENT, 1, 0, 16, "6.3%", "6.3%"},
      {"0.0125/0.1 = 12.5%", v1::PROGRESS_METHOD_ACHIEVEMENT, 0.0125, 0, 0.1, "12.5%", "12.5%"},
      {"0.0005/0.008 = 6.25%", v1::PROGRESS_METHOD_ACHIEVEMENT, 0.0005, 0, 0.008, "6.3%", "6.3%"},
      // The double 23/80 × 100 is 28.749999999999996.
      {"23/80 = 28.75%", v1::PROGRESS_METHOD_ACHIEVEMENT, 23, 0, 80, "28.8%", "28.7%"},
      // The double 1.4/80 × 100 is 1.7499999999999998.
      {"1.4/80 = 1.75%", v1::PROGRESS_METHOD_ACHIEVEMENT, 1.4, 0, 80, "1.8%", "1.7%"},
      // Half away from zero, not half up: −1.25 → −1.3.
      {"(39 − 40)/(120 − 40) = −1.25%", v1::PROGRESS_METHOD_GAP_CLOSURE, 39, 40, 120, "-1.3%",
       "-1.2%"},
      {"(49.9 − 50)/(130 − 50) = −0.125%", v1::PROGRESS_METHOD_GAP_CLOSURE, 49.9, 50, 130, "-0.1%",
       "-0.1%"},
      {"just below a half", v1::PROGRESS_METHOD_ACHIEVEMENT, 2.2499, 0, 80, "2.8%", "2.8%"},
  };
  int naive_wrong = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const RateResult result = ComputeRate(c.method, c.value, c.baseline, c.target);
    ASSERT_TRUE(result.rate.has_value()) << result.undefined_reason;
    EXPECT_EQ(result.rate->Display(), c.exact);
    EXPECT_EQ(NaiveDisplay(result.rate->percent), c.naive);
    if (c.naive != c.exact) ++naive_wrong;
  }
  EXPECT_GE(naive_wrong, 3);
  // printf rounds the binary tie 6.25 to even.
  EXPECT_EQ(absl::StrFormat("%.1f", 6.25), "6.2");
}

TEST(ProgressTest, RoundsThePaceAndTheGapExactly) {
  // 1 in 2015 → 40 in 2017: the line is at 20.5 in 2016, 51.25% of 40.
  const ProgressInputs rising{
      v1::PROGRESS_METHOD_ACHIEVEMENT, v1::DIRECTION_INCREASE, 2015, 1, 2017, 40};
  const RateResult expected = ComputeExpectedRate(rising, 2016);
  ASSERT_TRUE(expected.rate.has_value());
  EXPECT_EQ(expected.rate->Display(), "51.3%");
  EXPECT_EQ(NaiveDisplay(expected.rate->percent), "51.2%");

  // 5 in 2015 → 24 in 2017, 16 in 2016: 66.67% against 60.42%, a gap of
  // exactly 6.25 points, which the doubles make 6.249999999999993.
  const ProgressInputs gap_up{
      v1::PROGRESS_METHOD_ACHIEVEMENT, v1::DIRECTION_INCREASE, 2015, 5, 2017, 24};
  const v1::ProgressPoint up = ComputePoint(gap_up, 2016, 16.0);
  EXPECT_EQ(up.pace_gap_display(), "+6.3");
  EXPECT_LT(up.pace_gap(), 6.25);

  // 1 in 2015 → 8 in 2017, 4 in 2016: 50% against 56.25%, −6.25 → "-6.3".
  const ProgressInputs gap_down{
      v1::PROGRESS_METHOD_ACHIEVEMENT, v1::DIRECTION_INCREASE, 2015, 1, 2017, 8};
  EXPECT_EQ(ComputePoint(gap_down, 2016, 4.0).pace_gap_display(), "-6.3");
}

TEST(ProgressTest, ComparesTheLaggingThresholdExactly) {
  // At the baseline year the line is at 46.7; 38.6 of 81 is exactly 10 points
  // behind, which the doubles make −10.000000000000007.
  const ProgressInputs in{
      v1::PROGRESS_METHOD_ACHIEVEMENT, v1::DIRECTION_INCREASE, 2015, 46.7, 2020, 81};
  const v1::ProgressPoint at_edge = ComputePoint(in, 2015, 38.6);
  EXPECT_LT(at_edge.pace_gap(), -10.0);
  EXPECT_EQ(at_edge.pace_gap_display(), "-10.0");
  EXPECT_EQ(at_edge.status(), v1::PROGRESS_STATUS_ON_TRACK);

  EXPECT_EQ(ComputePoint(in, 2015, 38.5999).status(), v1::PROGRESS_STATUS_LAGGING);
  ProgressInputs stricter = in;
  stricter.lagging_gap = -5;
  EXPECT_EQ(ComputePoint(stricter, 2015, 38.6).status(), v1::PROGRESS_STATUS_LAGGING);
}

TEST(ProgressTest, WeighsRatioChildrenByTheirDenominators) {
  // Households: 上川 10000 at 46.7%, 留萌 2000 at 37.9%, 宗谷 3000 at 22.8%.
  const std::vector<Figure> children = {
      {"kamikawa", 46.7, 4670, 10000},
      {"rumoi", 37.9, 758, 2000},
      {"soya", 22.8, 684, 3000},
  };
  const v1::Aggregate area = AggregateFigures(v1::AGGREGATION_RULE_RATIO, children, std::nullopt);
  EXPECT_EQ(area.rule(), v1::AGGREGATION_RULE_RATIO);
  EXPECT_TRUE(area.complete());
  ASSERT_TRUE(area.has_value());
  EXPECT_DOUBLE_EQ(area.value(), (4670.0 + 758 + 684) / (10000.0 + 2000 + 3000) * 100);
  EXPECT_EQ(FormatValue(area.value(), v1::VALUE_KIND_PERCENT), "40.7467");
  const double plain_mean = (46.7 + 37.9 + 22.8) / 3;
  EXPECT_EQ(FormatValue(plain_mean, v1::VALUE_KIND_PERCENT), "35.8");
  EXPECT_GT(area.value() - plain_mean, 4.0);
  EXPECT_DOUBLE_EQ(area.computed_value(), area.value());
  EXPECT_FALSE(area.has_reported_value());

  ASSERT_EQ(area.components_size(), 3);
  const std::vector<double> weights = {10000.0 / 15000, 2000.0 / 15000, 3000.0 / 15000};
  double total = 0;
  for (int i = 0; i < 3; ++i) {
    const v1::AggregateComponent& component = area.components(i);
    EXPECT_EQ(component.region_id(), children[i].region_id);
    EXPECT_EQ(component.value(), *children[i].value);
    EXPECT_EQ(component.numerator(), *children[i].numerator);
    EXPECT_EQ(component.denominator(), *children[i].denominator);
    EXPECT_DOUBLE_EQ(component.weight(), weights[i]);
    total += component.weight();
  }
  EXPECT_DOUBLE_EQ(total, 1.0);
  EXPECT_TRUE(area.warnings().empty());
}

// Found by the progress fuzzer (fuzz/corpus/progress/crash-lagging-gap-
// int128-overflow): the exact LAGGING comparison multiplied the lagging gap
// by the line's span beyond __int128 (undefined behaviour). It compares by
// division now, exactly.
TEST(ProgressTest, ComparesAHugeLaggingGapWithoutOverflow) {
  ProgressInputs in{
      v1::PROGRESS_METHOD_GAP_CLOSURE, v1::DIRECTION_INCREASE, 1989, -1e14, 2100, 1e14};
  in.lagging_gap = -1e14;
  const v1::ProgressPoint point = ComputePoint(in, 2000, 0.0);
  ASSERT_TRUE(point.has_pace_gap());
  EXPECT_EQ(point.status(), v1::PROGRESS_STATUS_ON_TRACK);  // far above −1e14 points
  in.lagging_gap = 1e14;                                    // every gap is below this
  EXPECT_EQ(ComputePoint(in, 2000, 0.0).status(), v1::PROGRESS_STATUS_LAGGING);
  // And the usual threshold on the same line, both ways.
  in.lagging_gap = -10;
  EXPECT_EQ(ComputePoint(in, 2000, 0.0).status(), v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_EQ(ComputePoint(in, 2080, 0.0).status(), v1::PROGRESS_STATUS_LAGGING);  // 50% of 82%
}

// Found by the progress fuzzer (crash-lagging-without-pace-gap): a gap
// beyond what tenths hold has no pace_gap, so it cannot be LAGGING either.
TEST(ProgressTest, NeverLagsOnAGapItCannotShow) {
  const ProgressInputs in{
      v1::PROGRESS_METHOD_ACHIEVEMENT, v1::DIRECTION_INCREASE, 2015, 1e14, 2020, 0.019};
  const v1::ProgressPoint point = ComputePoint(in, 2016, -1e14);
  EXPECT_TRUE(point.has_rate());
  EXPECT_FALSE(point.has_pace_gap());
  EXPECT_FALSE(point.pace_undefined_reason().empty());
  EXPECT_NE(point.status(), v1::PROGRESS_STATUS_LAGGING);
}

// Found by the aggregate fuzzer (crash-ratio-subnormal-denominator,
// crash-reported-subnormal-denominator): a denominator so small that the
// quotient is infinite gives no figure, with a warning, never infinity.
TEST(ProgressTest, ANonFiniteQuotientGivesNoFigure) {
  const v1::Aggregate ratio = AggregateFigures(
      v1::AGGREGATION_RULE_RATIO, {{"kamikawa", 50.0, 1.0, 1e-310}, {"rumoi", 50.0, 1.0, 1e-310}},
      std::nullopt);
  EXPECT_FALSE(ratio.has_value());
  EXPECT_FALSE(ratio.has_computed_value());
  ASSERT_EQ(ratio.warnings_size(), 1);
  EXPECT_NE(ratio.warnings(0).find("not a finite number"), std::string::npos) << ratio.warnings(0);

  const v1::Aggregate reported =
      AggregateFigures(v1::AGGREGATION_RULE_REPORTED, {{"kamikawa", 50.0, {}, {}}},
                       Figure{"dohoku", std::nullopt, 1.0, 1e-310});
  EXPECT_FALSE(reported.has_reported_value());
  EXPECT_FALSE(reported.has_value());
  EXPECT_FALSE(reported.complete());
}

TEST(ProgressTest, MarksAnIncompleteAggregate) {
  struct Case {
    std::string what;
    v1::AggregationRule rule;
    std::vector<Figure> children;
    std::optional<Figure> area;
    std::vector<std::string> missing;
  };
  const std::vector<Case> cases = {
      {"SUM, 宗谷 has no R元 actual",
       v1::AGGREGATION_RULE_SUM,
       {{"kamikawa", 45, {}, {}}, {"rumoi", 4, {}, {}}, {"soya", {}, {}, {}}},
       std::nullopt,
       {"soya"}},
      {"SUM, two missing, in input order",
       v1::AGGREGATION_RULE_SUM,
       {{"kamikawa", {}, {}, {}}, {"rumoi", 4, {}, {}}, {"soya", {}, {}, {}}},
       Figure{"dohoku", 50, {}, {}},
       {"kamikawa", "soya"}},
      {"RATIO, 留萌 has a numerator only",
       v1::AGGREGATION_RULE_RATIO,
       {{"kamikawa", 46.7, 4670, 10000}, {"rumoi", 37.9, 758, {}}, {"soya", 22.8, 684, 3000}},
       std::nullopt,
       {"rumoi"}},
      {"RATIO, values but no households",
       v1::AGGREGATION_RULE_RATIO,
       {{"kamikawa", 46.7, {}, {}}, {"rumoi", 37.9, 758, 2000}, {"soya", 22.8, {}, {}}},
       std::nullopt,
       {"kamikawa", "soya"}},
      {"REPORTED, the area has not reported",
       v1::AGGREGATION_RULE_REPORTED,
       {{"kamikawa", 52.5, {}, {}}, {"rumoi", 37.1, {}, {}}, {"soya", 33.4, {}, {}}},
       Figure{"dohoku", {}, {}, {}},
       {"dohoku"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const v1::Aggregate area = AggregateFigures(c.rule, c.children, c.area);
    EXPECT_FALSE(area.complete());
    EXPECT_FALSE(area.has_value());
    EXPECT_FALSE(area.has_computed_value());
    EXPECT_EQ(std::vector<std::string>(area.missing_region_ids().begin(),
                                       area.missing_region_ids().end()),
              c.missing);
    ASSERT_EQ(area.components_size(), static_cast<int>(c.children.size()));
    for (const v1::AggregateComponent& component : area.components()) {
      EXPECT_EQ(component.weight(), 0.0);
    }
    EXPECT_EQ(area.has_reported_value(), c.area.has_value() && c.area->value.has_value());
  }
}

TEST(ProgressTest, TakesTheAreasOwnFigureForReported) {
  // 自主防災組織率 H30: the area reports 49.3; its children carry no households,
  // so there is nothing to compute and nothing to warn about.
  const v1::KpiRecord& record = SeedKpi("jishu-bousai");
  const v1::Aggregate area = AggregateFigures(
      v1::AGGREGATION_RULE_REPORTED,
      ChildFigures(record, [&](const std::string& c) { return ActualOf(record, c, 2018); }),
      Figure{"dohoku", ActualOf(record, "dohoku", 2018), std::nullopt, std::nullopt});
  EXPECT_TRUE(area.complete());
  EXPECT_DOUBLE_EQ(area.value(), 49.3);
  EXPECT_DOUBLE_EQ(area.reported_value(), 49.3);
  EXPECT_FALSE(area.has_computed_value());
  EXPECT_TRUE(area.missing_region_ids().empty());
  EXPECT_TRUE(area.warnings().empty());
  ASSERT_EQ(area.components_size(), 3);
  EXPECT_DOUBLE_EQ(area.components(2).value(), 33.4);
  EXPECT_EQ(area.components(2).weight(), 0.0);
}

TEST(ProgressTest, CarriesBothFiguresWhenReportedAndComputedDiffer) {
  // Σ numerators / Σ denominators = 6510 / 15000 = 43.4%, reported 45.0%.
  const std::vector<Figure> households = {
      {"kamikawa", 46.7, 4670, 10000},
      {"rumoi", 37.9, 758, 2000},
      {"soya", 36.1, 1082, 3000},
  };
  struct Case {
    std::string what;
    v1::AggregationRule rule;
    std::vector<Figure> children;
    Figure area;
    double value, computed, reported;
    std::string warning;
  };
  const std::vector<Case> cases = {
      {"RATIO: computed is authoritative", v1::AGGREGATION_RULE_RATIO, households,
       Figure{"dohoku", 45.0, {}, {}}, 43.4, 43.4, 45.0,
       "reported 45.0 differs from computed 43.4 (Σ numerators / Σ denominators)"},
      {"REPORTED: reported is authoritative", v1::AGGREGATION_RULE_REPORTED, households,
       Figure{"dohoku", 45.0, {}, {}}, 45.0, 43.4, 45.0,
       "reported 45.0 differs from computed 43.4 (Σ numerators / Σ denominators)"},
      {"RATIO: reported as households", v1::AGGREGATION_RULE_RATIO, households,
       Figure{"dohoku", {}, 6600, 15000}, 43.4, 43.4, 44.0,
       "reported 44.0 differs from computed 43.4 (Σ numerators / Σ denominators)"},
      {"RATIO: close figures get more digits", v1::AGGREGATION_RULE_RATIO, households,
       Figure{"dohoku", 43.41, {}, {}}, 43.4, 43.4, 43.41,
       "reported 43.41 differs from computed 43.40 (Σ numerators / Σ denominators)"},
      {"SUM: 41+4+3 against a reported 45",
       v1::AGGREGATION_RULE_SUM,
       {{"kamikawa", 41, {}, {}}, {"rumoi", 4, {}, {}}, {"soya", 3, {}, {}}},
       Figure{"dohoku", 45, {}, {}},
       48,
       48,
       45,
       "reported 45 differs from computed 48 (Σ values)"},
      {"SUM: amounts as typed",
       v1::AGGREGATION_RULE_SUM,
       {{"kamikawa", 10.25, {}, {}}, {"rumoi", 3.15, {}, {}}},
       Figure{"dohoku", 12.5, {}, {}},
       13.4,
       13.4,
       12.5,
       "reported 12.5 differs from computed 13.4 (Σ values)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const v1::Aggregate area = AggregateFigures(c.rule, c.children, c.area);
    EXPECT_TRUE(area.complete());
    EXPECT_DOUBLE_EQ(area.value(), c.value);
    EXPECT_DOUBLE_EQ(area.computed_value(), c.computed);
    EXPECT_DOUBLE_EQ(area.reported_value(), c.reported);
    ASSERT_EQ(area.warnings_size(), 1);
    EXPECT_EQ(area.warnings(0), c.warning);
  }

  // Equal within 1e-9 relative: both carried, no warning.
  const v1::Aggregate agreeing =
      AggregateFigures(v1::AGGREGATION_RULE_RATIO, households, Figure{"dohoku", 43.4, {}, {}});
  EXPECT_DOUBLE_EQ(agreeing.reported_value(), 43.4);
  EXPECT_DOUBLE_EQ(agreeing.computed_value(), 43.4);
  EXPECT_TRUE(agreeing.warnings().empty());
}

TEST(ProgressTest, WarnsWhenThereAreNoHouseholds) {
  const v1::Aggregate area = AggregateFigures(
      v1::AGGREGATION_RULE_RATIO, {{"kamikawa", 0, 0, 0}, {"rumoi", 0, 0, 0}}, std::nullopt);
  EXPECT_TRUE(area.complete());
  EXPECT_FALSE(area.has_value());
  ASSERT_EQ(area.warnings_size(), 1);
  EXPECT_EQ(area.warnings(0), "Σ denominators is 0: no Σ numerators / Σ denominators figure");
}

TEST(ProgressTest, FormatsValuesAsTyped) {
  struct Case {
    double value;
    v1::ValueKind kind;
    std::string printed;
  };
  const std::vector<Case> cases = {
      {43, v1::VALUE_KIND_COUNT, "43"},           {47.2, v1::VALUE_KIND_PERCENT, "47.2"},
      {81, v1::VALUE_KIND_PERCENT, "81.0"},       {0.0125, v1::VALUE_KIND_AMOUNT, "0.0125"},
      {12.5, v1::VALUE_KIND_AMOUNT, "12.5"},      {0.1 + 0.2, v1::VALUE_KIND_AMOUNT, "0.3"},
      {-3.25, v1::VALUE_KIND_AMOUNT, "-3.25"},    {1234567, v1::VALUE_KIND_AMOUNT, "1234567"},
      {0.00005, v1::VALUE_KIND_AMOUNT, "0.0001"}, {0, v1::VALUE_KIND_PERCENT, "0.0"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatValue(c.value, c.kind), c.printed) << c.value;
  }
}

TEST(ProgressTest, ComparesTargetsOnTheTypedDecimals) {
  EXPECT_TRUE(TargetReached(v1::DIRECTION_INCREASE, 0.1 + 0.2, 0.3));
  EXPECT_TRUE(TargetReached(v1::DIRECTION_INCREASE, 4, 4));
  EXPECT_FALSE(TargetReached(v1::DIRECTION_INCREASE, 3, 6));
  EXPECT_TRUE(TargetReached(v1::DIRECTION_DECREASE, 0, 0));
  EXPECT_FALSE(TargetReached(v1::DIRECTION_DECREASE, 20, 0));
}

}  // namespace
}  // namespace suishin::kpi
