// The alert rules against the seed document: DESIGN.md §2's H30 table and its
// MISSING paragraph are the oracle. The progress series are built by hand the
// way kpi-service returns them: the seed's values per year, and for the H30
// point the rate and expected pace the table prints (pace gap = rate − pace).
#include "services/notification/rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/fiscal_year.h"

namespace suishin::notification {
namespace {

using kpi::v1::GetProgressResponse;
using kpi::v1::Kpi;
using kpi::v1::ProgressPoint;

constexpr char kKodomoen[] = "kodomoen";
constexpr char kJishuBousai[] = "jishu-bousai";

absl::TimeZone Jst() { return absl::FixedTimeZone(9 * 3600); }

absl::Time JstTime(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss), Jst());
}

// During R元, before any of its reporting deadlines: the DESIGN.md table's
// "as of H30".
const absl::Time kDuringReiwaGannen = JstTime(2019, 11, 29, 12);
// Past every deadline of the seed's years ("as today").
const absl::Time kToday = JstTime(2026, 11, 29, 12);

// The seed's two KPIs as kpi-service defines them.
Kpi SeedKpi(const std::string& id) {
  Kpi kpi;
  kpi.set_id(id);
  kpi.set_project_id("dohoku-anzen-anshin");
  kpi.set_direction(kpi::v1::DIRECTION_INCREASE);
  kpi.set_progress_method(kpi::v1::PROGRESS_METHOD_ACHIEVEMENT);
  kpi.set_area_id("dohoku");
  if (id == kKodomoen) {
    kpi.set_name("認定こども園設置数");
    kpi.set_unit("カ所");
    kpi.set_value_kind(kpi::v1::VALUE_KIND_COUNT);
    kpi.set_aggregation(kpi::v1::AGGREGATION_RULE_SUM);
  } else {
    kpi.set_name("自主防災組織率");
    kpi.set_unit("%");
    kpi.set_value_kind(kpi::v1::VALUE_KIND_PERCENT);
    kpi.set_aggregation(kpi::v1::AGGREGATION_RULE_REPORTED);
  }
  for (const auto& [region, name] : std::vector<std::pair<std::string, std::string>>{
           {"dohoku", "道北"}, {"kamikawa", "上川"}, {"rumoi", "留萌"}, {"soya", "宗谷"}}) {
    kpi.add_region_ids(region);
    (*kpi.mutable_region_names())[region] = name;
  }
  return kpi;
}

// The latest year's figures as the table prints them.
struct Printed {
  double rate;
  double pace;
};

// A KPI in a region: what GetProgress would return, from the seed.
struct Series {
  std::string kpi_id;
  std::string region_id;
  int baseline_year;
  double baseline;
  int target_year;
  double target;
  // One per year from baseline_year + 1 to target_year; nullopt = no actual
  // (for a SUM area: its aggregate is incomplete).
  std::vector<std::optional<double>> actuals;
  // The latest actual's rate and expected pace.
  Printed latest;
};

// The GetProgressResponse kpi-service would send for `series`: one point per
// year from the year after the baseline to the target year; the latest point
// with a value carries the printed rate, pace and gap; every point with a value
// its status (ACHIEVED once the target is reached).
GetProgressResponse MakeProgress(const Series& series) {
  GetProgressResponse progress;
  *progress.mutable_kpi() = SeedKpi(series.kpi_id);
  progress.set_region_id(series.region_id);
  progress.mutable_baseline()->set_region_id(series.region_id);
  progress.mutable_baseline()->mutable_fiscal_year()->set_year(series.baseline_year);
  progress.mutable_baseline()->set_value(series.baseline);
  progress.mutable_target()->set_region_id(series.region_id);
  progress.mutable_target()->mutable_fiscal_year()->set_year(series.target_year);
  progress.mutable_target()->set_value(series.target);

  int latest = -1;
  for (size_t i = 0; i < series.actuals.size(); ++i) {
    if (series.actuals[i].has_value()) latest = static_cast<int>(i);
  }
  for (size_t i = 0; i < series.actuals.size(); ++i) {
    const int year = series.baseline_year + 1 + static_cast<int>(i);
    ProgressPoint* point = progress.add_points();
    point->mutable_fiscal_year()->set_year(year);
    point->mutable_fiscal_year()->set_label(FormatFiscalYear(year));
    const std::optional<double>& value = series.actuals[i];
    if (!value.has_value()) {
      point->set_status(kpi::v1::PROGRESS_STATUS_UNKNOWN);
      continue;
    }
    point->set_value(*value);
    const bool reached = *value >= series.target;
    point->set_status(reached ? kpi::v1::PROGRESS_STATUS_ACHIEVED
                              : kpi::v1::PROGRESS_STATUS_ON_TRACK);
    if (static_cast<int>(i) != latest) continue;
    const double gap = series.latest.rate - series.latest.pace;
    point->set_rate(series.latest.rate);
    point->set_rate_display(absl::StrFormat("%.1f%%", series.latest.rate));
    point->set_expected_rate(series.latest.pace);
    point->set_expected_rate_display(absl::StrFormat("%.1f%%", series.latest.pace));
    point->set_pace_gap(gap);
    point->set_pace_gap_display(absl::StrFormat("%+.1f", gap));
    if (!reached && gap < -10) point->set_status(kpi::v1::PROGRESS_STATUS_LAGGING);
  }
  return progress;
}

// A seed region and what the rules must say about it.
struct SeedCase {
  Series series;
  // True when the region reports its own figure (not a SUM area).
  bool reports;
  // DESIGN.md's H30 table: "RULE SEVERITY", in RuleKind order.
  std::vector<std::string> h30_alerts;
  // DESIGN.md's MISSING paragraph, with a clock past every deadline.
  std::vector<int> missing_years;
};

const std::vector<SeedCase>& SeedCases() {
  static const std::vector<SeedCase>* const cases = new std::vector<SeedCase>{
      // 自主防災組織率: H27 (基準) → R2 (目標) 81.0%; the area reports its own figure.
      {{kJishuBousai,
        "dohoku",
        2015,
        43.4,
        2020,
        81.0,
        {47.2, 47.9, 49.3, std::nullopt, std::nullopt},
        {60.9, 81.4}},
       true,
       {"LAGGING WARNING"},
       {2019, 2020}},
      {{kJishuBousai,
        "kamikawa",
        2015,
        46.7,
        2020,
        81.0,
        {51.2, 51.1, 52.5, std::nullopt, std::nullopt},
        {64.8, 83.1}},
       true,
       {"LAGGING WARNING"},
       {2019, 2020}},
      {{kJishuBousai,
        "rumoi",
        2015,
        37.9,
        2020,
        81.0,
        {39.2, 39.7, 37.1, std::nullopt, std::nullopt},
        {45.8, 78.7}},
       true,
       {"LAGGING CRITICAL", "DECLINING WARNING"},
       {2019, 2020}},
      {{kJishuBousai,
        "soya",
        2015,
        22.8,
        2020,
        81.0,
        {22.8, 29.3, 33.4, std::nullopt, std::nullopt},
        {41.2, 71.3}},
       true,
       {"LAGGING CRITICAL"},
       {2019, 2020}},
      // 認定こども園設置数: H26 (基準) → R元 (目標); the area is the SUM of its
      // subprefectures (incomplete for R元, not missing).
      {{kKodomoen, "dohoku", 2014, 10, 2019, 43, {11, 22, 40, 48, std::nullopt}, {111.6, 84.7}},
       false,
       {"ACHIEVED INFO"},
       {}},
      {{kKodomoen, "kamikawa", 2014, 6, 2019, 33, {6, 16, 33, 41, std::nullopt}, {124.2, 83.6}},
       true,
       {"ACHIEVED INFO"},
       {2019}},
      {{kKodomoen, "rumoi", 2014, 2, 2019, 4, {2, 3, 4, 4, std::nullopt}, {100.0, 90.0}},
       true,
       {"ACHIEVED INFO"},
       {2019}},
      {{kKodomoen, "soya", 2014, 2, 2019, 6, {3, 3, 3, 3, std::nullopt}, {50.0, 86.7}},
       true,
       {"LAGGING CRITICAL", "STAGNANT WARNING"},
       {2019}},
  };
  return *cases;
}

const SeedCase& Seed(const std::string& kpi_id, const std::string& region_id) {
  for (const SeedCase& c : SeedCases()) {
    if (c.series.kpi_id == kpi_id && c.series.region_id == region_id) return c;
  }
  ADD_FAILURE() << "no seed case " << kpi_id << " " << region_id;
  return SeedCases().front();
}

// Evaluates a series; the kpi and progress live as long as the result is read.
struct Evaluation {
  Kpi kpi;
  GetProgressResponse progress;
  std::vector<Condition> conditions;
};

Evaluation Evaluated(const Series& series, bool reports, absl::Time now,
                     const RuleBook& rules = RuleBook(),
                     std::function<bool(v1::RuleKind)> firing = nullptr) {
  Evaluation e{SeedKpi(series.kpi_id), MakeProgress(series), {}};
  EvaluationInput in;
  in.kpi = &e.kpi;
  in.region_id = series.region_id;
  in.progress = &e.progress;
  in.reports = reports;
  in.now = now;
  if (firing) in.firing = std::move(firing);
  e.conditions = Evaluate(in, rules);
  return e;
}

Evaluation RunSeed(const std::string& kpi_id, const std::string& region_id, absl::Time now,
                   const RuleBook& rules = RuleBook()) {
  const SeedCase& c = Seed(kpi_id, region_id);
  return Evaluated(c.series, c.reports, now, rules);
}

std::string Name(v1::RuleKind kind) { return v1::RuleKind_Name(kind).substr(strlen("RULE_KIND_")); }
std::string Name(v1::Severity severity) {
  return v1::Severity_Name(severity).substr(strlen("SEVERITY_"));
}

// "LAGGING CRITICAL" per condition, in order.
std::vector<std::string> Alerts(const std::vector<Condition>& conditions) {
  std::vector<std::string> alerts;
  for (const Condition& c : conditions) {
    alerts.push_back(absl::StrCat(Name(c.rule), " ", Name(c.severity)));
  }
  return alerts;
}

const Condition* Find(const std::vector<Condition>& conditions, v1::RuleKind kind) {
  for (const Condition& c : conditions) {
    if (c.rule == kind) return &c;
  }
  return nullptr;
}

std::vector<int> MissingYears(const std::vector<Condition>& conditions) {
  std::vector<int> years;
  if (const Condition* c = Find(conditions, v1::RULE_KIND_MISSING)) {
    for (const auto& year : c->values.missing_years()) years.push_back(year.year());
  }
  return years;
}

// A series of a made-up KPI in 留萌 with the latest year's pace gap `gap`.
Series LaggingSeries(double gap) {
  Series series = Seed(kJishuBousai, "rumoi").series;
  series.actuals = {39.2, 39.7, 40.0, std::nullopt, std::nullopt};  // Rising: no DECLINING.
  series.latest = {50.0, 50.0 - gap};
  return series;
}

// The LAGGING condition for a gap, given whether its alert fires now: "" when
// none holds, else its severity.
std::string LaggingAt(double gap, bool firing) {
  const Evaluation e =
      Evaluated(LaggingSeries(gap), true, kDuringReiwaGannen, RuleBook(),
                [firing](v1::RuleKind kind) { return firing && kind == v1::RULE_KIND_LAGGING; });
  const Condition* c = Find(e.conditions, v1::RULE_KIND_LAGGING);
  return c == nullptr ? "" : Name(c->severity);
}

v1::Rule Override(v1::RuleKind kind, const std::string& kpi_id, bool enabled = true,
                  v1::Severity severity = v1::SEVERITY_WARNING) {
  v1::Rule rule;
  rule.set_kind(kind);
  rule.set_kpi_id(kpi_id);
  rule.set_enabled(enabled);
  rule.set_severity(severity);
  return rule;
}

// ------------------------------------------------------------ the seed table

TEST(SeedAlertsTest, H30TableWithDefaults) {
  for (const SeedCase& c : SeedCases()) {
    SCOPED_TRACE(absl::StrCat(c.series.kpi_id, " ", c.series.region_id));
    EXPECT_EQ(Alerts(RunSeed(c.series.kpi_id, c.series.region_id, kDuringReiwaGannen).conditions),
              c.h30_alerts);
  }
}

TEST(SeedAlertsTest, MissingOnTopOfTheTableWithTodaysClock) {
  int missing_alerts = 0;
  for (const SeedCase& c : SeedCases()) {
    SCOPED_TRACE(absl::StrCat(c.series.kpi_id, " ", c.series.region_id));
    const Evaluation e = RunSeed(c.series.kpi_id, c.series.region_id, kToday);
    std::vector<std::string> expected = c.h30_alerts;
    if (!c.missing_years.empty()) {
      ++missing_alerts;
      // MISSING comes before ACHIEVED in RuleKind order.
      const auto achieved = std::find(expected.begin(), expected.end(), "ACHIEVED INFO");
      expected.insert(achieved, "MISSING WARNING");
    }
    EXPECT_EQ(Alerts(e.conditions), expected);
    EXPECT_EQ(MissingYears(e.conditions), c.missing_years);
  }
  EXPECT_EQ(missing_alerts, 7);
}

TEST(SeedAlertsTest, LaggingCarriesTheLatestYearsFigures) {
  const Evaluation e = RunSeed(kJishuBousai, "rumoi", kDuringReiwaGannen);
  const Condition* c = Find(e.conditions, v1::RULE_KIND_LAGGING);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->values.fiscal_year().year(), 2018);
  EXPECT_EQ(c->values.fiscal_year().label(), "H30 (2018)");
  EXPECT_DOUBLE_EQ(c->values.value(), 37.1);
  EXPECT_DOUBLE_EQ(c->values.rate(), 45.8);
  EXPECT_DOUBLE_EQ(c->values.expected_rate(), 78.7);
  EXPECT_NEAR(c->values.pace_gap(), -32.9, 1e-9);
  EXPECT_TRUE(c->values.missing_years().empty());
}

TEST(SeedAlertsTest, Summaries) {
  struct Case {
    std::string kpi_id;
    std::string region_id;
    v1::RuleKind rule;
    std::string summary;
  };
  const std::vector<Case> cases = {
      {kJishuBousai, "rumoi", v1::RULE_KIND_LAGGING,
       "自主防災組織率 留萌: 進捗率 45.8%（想定 78.7%、差 -32.9 pt）"},
      {kJishuBousai, "rumoi", v1::RULE_KIND_DECLINING,
       "自主防災組織率 留萌: 39.7% → 37.1%（H29 → H30）"},
      {kJishuBousai, "rumoi", v1::RULE_KIND_MISSING, "自主防災組織率 留萌: R元・R2 の実績が未報告"},
      {kKodomoen, "soya", v1::RULE_KIND_STAGNANT,
       "認定こども園設置数 宗谷: 3カ所のまま 3 年（H27–H30）"},
      {kKodomoen, "soya", v1::RULE_KIND_MISSING, "認定こども園設置数 宗谷: R元 の実績が未報告"},
      {kKodomoen, "dohoku", v1::RULE_KIND_ACHIEVED,
       "認定こども園設置数 道北: 目標 43カ所 を達成（48カ所、111.6%）"},
      {kKodomoen, "rumoi", v1::RULE_KIND_ACHIEVED,
       "認定こども園設置数 留萌: 目標 4カ所 を達成（4カ所、100.0%）"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.kpi_id, " ", c.region_id, " ", Name(c.rule)));
    const Evaluation e = RunSeed(c.kpi_id, c.region_id, kToday);
    const Condition* condition = Find(e.conditions, c.rule);
    ASSERT_NE(condition, nullptr);
    EXPECT_EQ(condition->summary, c.summary);
  }
}

TEST(SeedAlertsTest, SummaryFallsBackToIdsWithoutNames) {
  Series series = Seed(kJishuBousai, "rumoi").series;
  Evaluation e{SeedKpi(kJishuBousai), MakeProgress(series), {}};
  e.kpi.clear_name();
  e.kpi.mutable_region_names()->clear();
  EvaluationInput in;
  in.kpi = &e.kpi;
  in.region_id = "rumoi";
  in.progress = &e.progress;
  in.now = kDuringReiwaGannen;
  const std::vector<Condition> conditions = Evaluate(in, RuleBook());
  ASSERT_FALSE(conditions.empty());
  EXPECT_EQ(conditions.front().summary,
            "jishu-bousai rumoi: 進捗率 45.8%（想定 78.7%、差 -32.9 pt）");
}

// ------------------------------------------------------------------ MISSING

TEST(MissingTest, DeadlineIsTheEndOf30JuneJst) {
  EXPECT_EQ(ReportingDeadline(2019, DefaultRules()[4]), JstTime(2020, 7, 1));
  EXPECT_EQ(ReportingDeadline(2019, DefaultRules()[4]),
            absl::FromCivil(absl::CivilSecond(2020, 6, 30, 15, 0, 0), absl::UTCTimeZone()));
}

TEST(MissingTest, NotYetMissingOnTheDeadlineDay) {
  const Evaluation e = RunSeed(kKodomoen, "kamikawa", JstTime(2020, 6, 30, 12));
  EXPECT_EQ(Find(e.conditions, v1::RULE_KIND_MISSING), nullptr);
}

TEST(MissingTest, NotYetMissingAtTheDeadlineItself) {
  const Evaluation e = RunSeed(kKodomoen, "kamikawa", JstTime(2020, 7, 1));
  EXPECT_EQ(Find(e.conditions, v1::RULE_KIND_MISSING), nullptr);
}

TEST(MissingTest, MissingOneSecondAfterTheDeadline) {
  const Evaluation e = RunSeed(kKodomoen, "kamikawa", JstTime(2020, 7, 1, 0, 0, 1));
  EXPECT_EQ(MissingYears(e.conditions), std::vector<int>{2019});
  EXPECT_EQ(Find(e.conditions, v1::RULE_KIND_MISSING)->values.missing_years(0).label(),
            "R元 (2019)");
}

TEST(MissingTest, OnlyYearsPastTheirDeadline) {
  // R元 is due at the end of 30 June 2020, R2 at the end of 30 June 2021.
  const Evaluation e = RunSeed(kJishuBousai, "soya", JstTime(2021, 1, 15));
  EXPECT_EQ(MissingYears(e.conditions), std::vector<int>{2019});
}

TEST(MissingTest, NeverForAnAreaComputedFromItsChildren) {
  const Series& series = Seed(kKodomoen, "dohoku").series;
  EXPECT_EQ(Find(Evaluated(series, /*reports=*/false, kToday).conditions, v1::RULE_KIND_MISSING),
            nullptr);
}

TEST(MissingTest, AYearBetweenReportedOnesIsMissing) {
  Series series = Seed(kKodomoen, "kamikawa").series;
  series.actuals = {6, std::nullopt, 33, 41, 45};
  EXPECT_EQ(MissingYears(Evaluated(series, true, kToday).conditions), std::vector<int>{2016});
}

TEST(MissingTest, OnlyMissingHoldsWithoutAnyActual) {
  Series series = Seed(kJishuBousai, "soya").series;
  series.actuals.assign(5, std::nullopt);
  const Evaluation e = Evaluated(series, true, kToday);
  EXPECT_EQ(Alerts(e.conditions), std::vector<std::string>{"MISSING WARNING"});
  EXPECT_EQ(MissingYears(e.conditions), (std::vector<int>{2016, 2017, 2018, 2019, 2020}));
  EXPECT_FALSE(e.conditions[0].values.has_fiscal_year());
  EXPECT_FALSE(e.conditions[0].values.has_value());
}

TEST(MissingTest, ConfiguredDeadline) {
  v1::Rule rule = DefaultRules()[4];
  rule.set_deadline_month(5);
  rule.set_deadline_day(31);
  EXPECT_EQ(ReportingDeadline(2019, rule), JstTime(2020, 6, 1));
}

TEST(MissingTest, DeadlineInJanuaryToMarchFallsAfterTheYearEnds) {
  v1::Rule rule = DefaultRules()[4];
  rule.set_deadline_month(1);
  rule.set_deadline_day(31);
  // Fiscal 2019 ends on 31 March 2020; the first 31 January after it is 2021's.
  EXPECT_EQ(ReportingDeadline(2019, rule), JstTime(2021, 2, 1));
}

TEST(MissingTest, TwentyNinthOfFebruaryInACommonYearIsTheTwentyEighth) {
  v1::Rule rule = DefaultRules()[4];
  rule.set_deadline_month(2);
  rule.set_deadline_day(29);
  EXPECT_EQ(ReportingDeadline(2019, rule), JstTime(2021, 3, 1));  // 2021 is common.
  EXPECT_EQ(ReportingDeadline(2022, rule), JstTime(2024, 3, 1));  // 2024 is leap.
}

TEST(MissingTest, PerKpiDeadlineOverride) {
  v1::Rule later = Override(v1::RULE_KIND_MISSING, kKodomoen);
  later.set_deadline_month(9);
  later.set_deadline_day(30);
  const RuleBook rules({later});
  const absl::Time august_2020 = JstTime(2020, 8, 1);
  EXPECT_EQ(Find(RunSeed(kKodomoen, "soya", august_2020, rules).conditions, v1::RULE_KIND_MISSING),
            nullptr);
  EXPECT_EQ(MissingYears(RunSeed(kJishuBousai, "soya", JstTime(2021, 8, 1), rules).conditions),
            (std::vector<int>{2019, 2020}));
}

// ------------------------------------------------------------------ LAGGING

TEST(LaggingTest, GapAboveWarningGapDoesNotFire) { EXPECT_EQ(LaggingAt(-9, false), ""); }

TEST(LaggingTest, GapOfExactlyWarningGapDoesNotFire) { EXPECT_EQ(LaggingAt(-10, false), ""); }

TEST(LaggingTest, GapBelowWarningGapFiresWarning) { EXPECT_EQ(LaggingAt(-10.1, false), "WARNING"); }

TEST(LaggingTest, KeepsFiringBetweenWarningAndClearGap) {
  EXPECT_EQ(LaggingAt(-9, true), "WARNING");
}

TEST(LaggingTest, KeepsFiringAtExactlyClearGap) { EXPECT_EQ(LaggingAt(-8, true), "WARNING"); }

TEST(LaggingTest, ClearsAboveClearGap) { EXPECT_EQ(LaggingAt(-7.9, true), ""); }

TEST(LaggingTest, BelowCriticalGapIsCritical) { EXPECT_EQ(LaggingAt(-26, false), "CRITICAL"); }

TEST(LaggingTest, BackAboveCriticalGapIsWarningAgain) {
  EXPECT_EQ(LaggingAt(-24, true), "WARNING");
}

TEST(LaggingTest, FiringOnlyCountsForLagging) {
  // Another rule firing does not hold LAGGING on.
  const Evaluation e = Evaluated(LaggingSeries(-9), true, kDuringReiwaGannen, RuleBook(),
                                 [](v1::RuleKind kind) { return kind == v1::RULE_KIND_DECLINING; });
  EXPECT_EQ(Find(e.conditions, v1::RULE_KIND_LAGGING), nullptr);
}

TEST(LaggingTest, NeverWhenTheTargetIsReached) {
  // Reached, yet (made up) behind the pace and firing: an achieved KPI is not lagging.
  Series series = Seed(kKodomoen, "rumoi").series;
  series.latest = {100.0, 130.0};
  const Evaluation e = Evaluated(series, true, kDuringReiwaGannen, RuleBook(),
                                 [](v1::RuleKind kind) { return kind == v1::RULE_KIND_LAGGING; });
  EXPECT_EQ(Alerts(e.conditions), std::vector<std::string>{"ACHIEVED INFO"});
}

TEST(LaggingTest, ConfiguredGapsPerKpi) {
  v1::Rule strict = Override(v1::RULE_KIND_LAGGING, kJishuBousai);
  strict.set_warning_gap(-5);
  strict.set_clear_gap(-3);
  const Evaluation e = Evaluated(LaggingSeries(-6), true, kDuringReiwaGannen, RuleBook({strict}));
  EXPECT_NE(Find(e.conditions, v1::RULE_KIND_LAGGING), nullptr);
}

TEST(LaggingTest, ConfiguredCriticalGap) {
  v1::Rule lenient = Override(v1::RULE_KIND_LAGGING, kJishuBousai);
  lenient.set_critical_gap(-30);
  const Evaluation e = Evaluated(LaggingSeries(-26), true, kDuringReiwaGannen, RuleBook({lenient}));
  const Condition* c = Find(e.conditions, v1::RULE_KIND_LAGGING);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->severity, v1::SEVERITY_WARNING);
}

// --------------------------------------------------------- BELOW_THRESHOLD

TEST(BelowThresholdTest, OffByDefault) {
  const Evaluation e = RunSeed(kJishuBousai, "soya", kDuringReiwaGannen);  // 41.2% < 50%.
  EXPECT_EQ(Find(e.conditions, v1::RULE_KIND_BELOW_THRESHOLD), nullptr);
}

TEST(BelowThresholdTest, EnabledByAPerKpiOverride) {
  const RuleBook rules({Override(v1::RULE_KIND_BELOW_THRESHOLD, kJishuBousai)});
  const Evaluation soya = RunSeed(kJishuBousai, "soya", kDuringReiwaGannen, rules);
  EXPECT_EQ(Alerts(soya.conditions),
            (std::vector<std::string>{"LAGGING CRITICAL", "BELOW_THRESHOLD WARNING"}));
  EXPECT_EQ(Find(soya.conditions, v1::RULE_KIND_BELOW_THRESHOLD)->summary,
            "自主防災組織率 宗谷: 進捗率 41.2%（しきい値 50% 未満）");
  // 上川 is at 64.8%; 宗谷's 認定こども園 (50.0%) is another KPI.
  EXPECT_EQ(Find(RunSeed(kJishuBousai, "kamikawa", kDuringReiwaGannen, rules).conditions,
                 v1::RULE_KIND_BELOW_THRESHOLD),
            nullptr);
  v1::Rule kodomoen = Override(v1::RULE_KIND_BELOW_THRESHOLD, kKodomoen);
  kodomoen.set_threshold_percent(60);
  EXPECT_EQ(Find(RunSeed(kKodomoen, "soya", kDuringReiwaGannen, rules).conditions,
                 v1::RULE_KIND_BELOW_THRESHOLD),
            nullptr);
  EXPECT_NE(Find(RunSeed(kKodomoen, "soya", kDuringReiwaGannen, RuleBook({kodomoen})).conditions,
                 v1::RULE_KIND_BELOW_THRESHOLD),
            nullptr);
}

TEST(BelowThresholdTest, RateAtTheThresholdDoesNotFire) {
  v1::Rule rule = Override(v1::RULE_KIND_BELOW_THRESHOLD, kKodomoen);
  rule.set_threshold_percent(50);
  EXPECT_EQ(Find(RunSeed(kKodomoen, "soya", kDuringReiwaGannen, RuleBook({rule})).conditions,
                 v1::RULE_KIND_BELOW_THRESHOLD),
            nullptr);  // 宗谷 is at exactly 50.0%.
}

// ---------------------------------------------------------------- DECLINING

TEST(DecliningTest, IncreaseKpiRisingDoesNotFire) {
  // 上川 自主防災組織率 H29 51.1 → H30 52.5 (it fell H28 → H29, but that is not the latest step).
  EXPECT_EQ(Find(RunSeed(kJishuBousai, "kamikawa", kDuringReiwaGannen).conditions,
                 v1::RULE_KIND_DECLINING),
            nullptr);
}

TEST(DecliningTest, DecreaseKpiFiresWhenTheValueRose) {
  // A 待機児童数-like KPI: less is better.
  struct Case {
    double before;
    double latest;
    bool fires;
  };
  for (const Case& c : std::vector<Case>{{20, 25, true}, {25, 20, false}, {20, 20, false}}) {
    SCOPED_TRACE(absl::StrCat(c.before, " → ", c.latest));
    Series series = Seed(kKodomoen, "soya").series;
    series.actuals = {30, c.before, c.latest, std::nullopt, std::nullopt};
    Evaluation e{SeedKpi(kKodomoen), MakeProgress(series), {}};
    e.kpi.set_direction(kpi::v1::DIRECTION_DECREASE);
    EvaluationInput in;
    in.kpi = &e.kpi;
    in.region_id = "soya";
    in.progress = &e.progress;
    in.now = kDuringReiwaGannen;
    const std::vector<Condition> conditions = Evaluate(in, RuleBook());
    EXPECT_EQ(Find(conditions, v1::RULE_KIND_DECLINING) != nullptr, c.fires);
  }
}

TEST(DecliningTest, NeedsThePreviousYearsValue) {
  Series series = Seed(kJishuBousai, "rumoi").series;
  series.actuals = {39.7, std::nullopt, 37.1, std::nullopt, std::nullopt};
  EXPECT_EQ(Find(Evaluated(series, true, kDuringReiwaGannen).conditions, v1::RULE_KIND_DECLINING),
            nullptr);
}

TEST(DecliningTest, ComparesOnlyWithTheYearBefore) {
  // 留萌 without its H29 point: H28's 39.2 is not "the previous year".
  Evaluation e{SeedKpi(kJishuBousai), MakeProgress(Seed(kJishuBousai, "rumoi").series), {}};
  e.progress.mutable_points()->DeleteSubrange(1, 1);
  EvaluationInput in;
  in.kpi = &e.kpi;
  in.region_id = "rumoi";
  in.progress = &e.progress;
  in.now = kDuringReiwaGannen;
  const std::vector<Condition> conditions = Evaluate(in, RuleBook());
  EXPECT_EQ(Find(conditions, v1::RULE_KIND_DECLINING), nullptr);
}

TEST(DecliningTest, ComparesTheTypedDecimals) {
  // 0.1 + 0.2 (an area's sum) is the 0.3 of the year before, not less or more.
  Series series = Seed(kJishuBousai, "rumoi").series;
  series.actuals = {0.3, 0.1 + 0.2, std::nullopt, std::nullopt, std::nullopt};
  series.latest = {0.4, 40};
  EXPECT_EQ(Find(Evaluated(series, true, kDuringReiwaGannen).conditions, v1::RULE_KIND_DECLINING),
            nullptr);
}

// ----------------------------------------------------------------- STAGNANT

TEST(StagnantTest, OneUnchangedStepIsNotStagnant) {
  Series series = Seed(kKodomoen, "soya").series;
  series.actuals = {2, 3, 4, 4, std::nullopt};
  EXPECT_EQ(Find(Evaluated(series, true, kDuringReiwaGannen).conditions, v1::RULE_KIND_STAGNANT),
            nullptr);
}

TEST(StagnantTest, TwoUnchangedStepsAreStagnantByDefault) {
  Series series = Seed(kKodomoen, "soya").series;
  series.actuals = {2, 4, 4, 4, std::nullopt};
  const Evaluation e = Evaluated(series, true, kDuringReiwaGannen);
  const Condition* c = Find(e.conditions, v1::RULE_KIND_STAGNANT);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->summary, "認定こども園設置数 宗谷: 4カ所のまま 2 年（H28–H30）");
}

TEST(StagnantTest, MinStepsOverride) {
  v1::Rule three = Override(v1::RULE_KIND_STAGNANT, kKodomoen);
  three.set_min_steps(3);
  const RuleBook rules({three});
  Series two_steps = Seed(kKodomoen, "soya").series;
  two_steps.actuals = {2, 4, 4, 4, std::nullopt};
  EXPECT_EQ(Find(Evaluated(two_steps, true, kDuringReiwaGannen, rules).conditions,
                 v1::RULE_KIND_STAGNANT),
            nullptr);
  // 宗谷: 3 from H27 to H30 is three steps.
  EXPECT_NE(Find(RunSeed(kKodomoen, "soya", kDuringReiwaGannen, rules).conditions,
                 v1::RULE_KIND_STAGNANT),
            nullptr);
}

TEST(StagnantTest, NeverWhenTheTargetIsReached) {
  // 留萌 認定こども園: 4 in H29 and H30, the target.
  v1::Rule one = Override(v1::RULE_KIND_STAGNANT, kKodomoen);
  one.set_min_steps(1);
  EXPECT_EQ(Find(RunSeed(kKodomoen, "rumoi", kDuringReiwaGannen, RuleBook({one})).conditions,
                 v1::RULE_KIND_STAGNANT),
            nullptr);
}

TEST(StagnantTest, AYearWithoutAnActualBreaksTheRun) {
  Series series = Seed(kKodomoen, "soya").series;
  series.actuals = {3, std::nullopt, 3, 3, std::nullopt};
  EXPECT_EQ(Find(Evaluated(series, true, kDuringReiwaGannen).conditions, v1::RULE_KIND_STAGNANT),
            nullptr);
}

// ----------------------------------------------------------------- ACHIEVED

TEST(AchievedTest, FollowsTheLatestPointsStatus) {
  // 上川 認定こども園 reached 33 in H29 and stays above it.
  const Evaluation e = RunSeed(kKodomoen, "kamikawa", kDuringReiwaGannen);
  const Condition* c = Find(e.conditions, v1::RULE_KIND_ACHIEVED);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->severity, v1::SEVERITY_INFO);
  EXPECT_EQ(c->values.fiscal_year().year(), 2018);
  EXPECT_DOUBLE_EQ(c->values.rate(), 124.2);
}

// --------------------------------------------------------- rules and severity

TEST(RuleSettingsTest, DisabledRuleNeverHolds) {
  const RuleBook rules({Override(v1::RULE_KIND_LAGGING, kJishuBousai, /*enabled=*/false)});
  EXPECT_EQ(Alerts(RunSeed(kJishuBousai, "rumoi", kDuringReiwaGannen, rules).conditions),
            std::vector<std::string>{"DECLINING WARNING"});
  // Another KPI keeps the global setting.
  EXPECT_EQ(Alerts(RunSeed(kKodomoen, "soya", kDuringReiwaGannen, rules).conditions),
            (std::vector<std::string>{"LAGGING CRITICAL", "STAGNANT WARNING"}));
}

TEST(RuleSettingsTest, ConditionTakesTheRulesSeverity) {
  const RuleBook rules({Override(v1::RULE_KIND_DECLINING, "", true, v1::SEVERITY_CRITICAL),
                        Override(v1::RULE_KIND_LAGGING, "", true, v1::SEVERITY_INFO)});
  EXPECT_EQ(Alerts(RunSeed(kJishuBousai, "rumoi", kDuringReiwaGannen, rules).conditions),
            (std::vector<std::string>{"LAGGING CRITICAL", "DECLINING CRITICAL"}));
  EXPECT_EQ(Alerts(RunSeed(kJishuBousai, "kamikawa", kDuringReiwaGannen, rules).conditions),
            std::vector<std::string>{"LAGGING INFO"});
}

// ----------------------------------------------------------------- RuleBook

TEST(DefaultRulesTest, EveryRuleInKindOrderWithEveryFieldSet) {
  const std::vector<v1::Rule> rules = DefaultRules();
  ASSERT_EQ(rules.size(), 6u);
  const std::vector<std::string> expected = {"LAGGING WARNING on",   "BELOW_THRESHOLD WARNING off",
                                             "DECLINING WARNING on", "STAGNANT WARNING on",
                                             "MISSING WARNING on",   "ACHIEVED INFO on"};
  for (size_t i = 0; i < rules.size(); ++i) {
    const v1::Rule& rule = rules[i];
    EXPECT_EQ(absl::StrCat(Name(rule.kind()), " ", Name(rule.severity()), " ",
                           rule.enabled() ? "on" : "off"),
              expected[i]);
    EXPECT_EQ(rule.kpi_id(), "");
    EXPECT_EQ(rule.warning_gap(), -10);
    EXPECT_EQ(rule.critical_gap(), -25);
    EXPECT_EQ(rule.clear_gap(), -8);
    EXPECT_EQ(rule.threshold_percent(), 50);
    EXPECT_EQ(rule.min_steps(), 2);
    EXPECT_EQ(rule.deadline_month(), 6);
    EXPECT_EQ(rule.deadline_day(), 30);
    EXPECT_TRUE(rule.has_warning_gap() && rule.has_critical_gap() && rule.has_clear_gap() &&
                rule.has_threshold_percent() && rule.has_min_steps() && rule.has_deadline_month() &&
                rule.has_deadline_day());
    EXPECT_TRUE(ValidateRule(rule).ok()) << ValidateRule(rule);
  }
}

TEST(RuleBookTest, WithNothingStoredEveryKpiGetsTheDefaults) {
  const RuleBook rules;
  const std::vector<v1::Rule> defaults = DefaultRules();
  const std::vector<v1::Rule> all = rules.All(kKodomoen);
  ASSERT_EQ(all.size(), defaults.size());
  for (size_t i = 0; i < all.size(); ++i) {
    v1::Rule expected = defaults[i];
    expected.set_kpi_id(kKodomoen);
    EXPECT_EQ(all[i].SerializeAsString(), expected.SerializeAsString()) << i;
  }
}

TEST(RuleBookTest, GlobalSettingReplacesOnlyTheFieldsItSets) {
  v1::Rule global = Override(v1::RULE_KIND_LAGGING, "");
  global.set_warning_gap(-12);
  const v1::Rule rule = RuleBook({global}).For(v1::RULE_KIND_LAGGING, kKodomoen);
  EXPECT_EQ(rule.warning_gap(), -12);
  EXPECT_EQ(rule.critical_gap(), -25);
  EXPECT_EQ(rule.clear_gap(), -8);
  EXPECT_EQ(rule.kpi_id(), kKodomoen);
}

TEST(RuleBookTest, KpiOverrideLaysOverTheGlobalSetting) {
  v1::Rule global = Override(v1::RULE_KIND_LAGGING, "");
  global.set_warning_gap(-12);
  v1::Rule kodomoen = Override(v1::RULE_KIND_LAGGING, kKodomoen);
  kodomoen.set_critical_gap(-30);
  const RuleBook rules({kodomoen, global});  // Stored order does not matter.
  const v1::Rule overridden = rules.For(v1::RULE_KIND_LAGGING, kKodomoen);
  EXPECT_EQ(overridden.warning_gap(), -12);
  EXPECT_EQ(overridden.critical_gap(), -30);
  const v1::Rule other = rules.For(v1::RULE_KIND_LAGGING, kJishuBousai);
  EXPECT_EQ(other.warning_gap(), -12);
  EXPECT_EQ(other.critical_gap(), -25);
  EXPECT_EQ(rules.For(v1::RULE_KIND_LAGGING, "").critical_gap(), -25);
}

TEST(RuleBookTest, OverrideAlwaysSetsEnabledAndSeverity) {
  v1::Rule global = Override(v1::RULE_KIND_BELOW_THRESHOLD, "", true, v1::SEVERITY_CRITICAL);
  global.set_threshold_percent(70);
  // An override that means only to change the threshold still disables it
  // and sets WARNING: enabled and severity are not optional fields.
  v1::Rule kodomoen = Override(v1::RULE_KIND_BELOW_THRESHOLD, kKodomoen, false);
  kodomoen.set_threshold_percent(40);
  const RuleBook rules({global, kodomoen});
  const v1::Rule rule = rules.For(v1::RULE_KIND_BELOW_THRESHOLD, kKodomoen);
  EXPECT_FALSE(rule.enabled());
  EXPECT_EQ(rule.severity(), v1::SEVERITY_WARNING);
  EXPECT_EQ(rule.threshold_percent(), 40);
  const v1::Rule global_rule = rules.For(v1::RULE_KIND_BELOW_THRESHOLD, "");
  EXPECT_TRUE(global_rule.enabled());
  EXPECT_EQ(global_rule.severity(), v1::SEVERITY_CRITICAL);
  EXPECT_EQ(global_rule.threshold_percent(), 70);
}

TEST(RuleBookTest, AllIsInKindOrderForTheGivenKpi) {
  const std::vector<v1::Rule> all = RuleBook().All("");
  std::vector<std::string> kinds;
  for (const v1::Rule& rule : all) kinds.push_back(Name(rule.kind()) + "/" + rule.kpi_id());
  EXPECT_EQ(kinds, (std::vector<std::string>{"LAGGING/", "BELOW_THRESHOLD/", "DECLINING/",
                                             "STAGNANT/", "MISSING/", "ACHIEVED/"}));
}

// ------------------------------------------------------------- ValidateRule

TEST(ValidateRuleTest, AcceptsPartialOverrides) {
  v1::Rule rule = Override(v1::RULE_KIND_MISSING, kKodomoen);
  rule.set_deadline_month(2);
  rule.set_deadline_day(29);
  EXPECT_TRUE(ValidateRule(rule).ok()) << ValidateRule(rule);
  v1::Rule lagging = Override(v1::RULE_KIND_LAGGING, "");
  lagging.set_critical_gap(-40);
  EXPECT_TRUE(ValidateRule(lagging).ok()) << ValidateRule(lagging);
}

TEST(ValidateRuleTest, RefusesNamingFieldAndValue) {
  struct Case {
    std::string name;
    std::function<void(v1::Rule*)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no kind", [](v1::Rule* r) { r->set_kind(v1::RULE_KIND_UNSPECIFIED); },
       "rule.kind: must be LAGGING, BELOW_THRESHOLD, DECLINING, STAGNANT, MISSING or ACHIEVED "
       "(got \"0\")"},
      {"unknown kind", [](v1::Rule* r) { r->set_kind(static_cast<v1::RuleKind>(42)); },
       "rule.kind: must be LAGGING, BELOW_THRESHOLD, DECLINING, STAGNANT, MISSING or ACHIEVED "
       "(got \"42\")"},
      {"no severity", [](v1::Rule* r) { r->set_severity(v1::SEVERITY_UNSPECIFIED); },
       "rule.severity: must be INFO, WARNING or CRITICAL (got \"0\")"},
      {"unknown severity", [](v1::Rule* r) { r->set_severity(static_cast<v1::Severity>(9)); },
       "rule.severity: must be INFO, WARNING or CRITICAL (got \"9\")"},
      {"critical above warning", [](v1::Rule* r) { r->set_critical_gap(-9); },
       "rule.critical_gap: must be below warning_gap (-10) (got \"-9\")"},
      {"critical equal to warning", [](v1::Rule* r) { r->set_critical_gap(-10); },
       "rule.critical_gap: must be below warning_gap (-10) (got \"-10\")"},
      {"warning above clear", [](v1::Rule* r) { r->set_warning_gap(-5); },
       "rule.warning_gap: must be below clear_gap (-8) (got \"-5\")"},
      {"clear above zero", [](v1::Rule* r) { r->set_clear_gap(0.5); },
       "rule.clear_gap: must be 0 or below (got \"0.5\")"},
      {"NaN gap", [](v1::Rule* r) { r->set_warning_gap(std::nan("")); },
       "rule.warning_gap: must be finite (got \"nan\")"},
      {"threshold over 100", [](v1::Rule* r) { r->set_threshold_percent(100.5); },
       "rule.threshold_percent: must be from 0 to 100 (got \"100.5\")"},
      {"negative threshold", [](v1::Rule* r) { r->set_threshold_percent(-1); },
       "rule.threshold_percent: must be from 0 to 100 (got \"-1\")"},
      {"NaN threshold", [](v1::Rule* r) { r->set_threshold_percent(std::nan("")); },
       "rule.threshold_percent: must be from 0 to 100 (got \"nan\")"},
      {"zero steps", [](v1::Rule* r) { r->set_min_steps(0); },
       "rule.min_steps: must be 1 or more (got \"0\")"},
      {"month 13", [](v1::Rule* r) { r->set_deadline_month(13); },
       "rule.deadline_month: must be a month from 1 to 12 (got \"13\")"},
      {"month 0", [](v1::Rule* r) { r->set_deadline_month(0); },
       "rule.deadline_month: must be a month from 1 to 12 (got \"0\")"},
      {"31 June", [](v1::Rule* r) { r->set_deadline_day(31); },
       "rule.deadline_day: must be a day of month 6 (1 to 30) (got \"31\")"},
      {"30 February",
       [](v1::Rule* r) {
         r->set_deadline_month(2);
         r->set_deadline_day(30);
       },
       "rule.deadline_day: must be a day of month 2 (1 to 29) (got \"30\")"},
      {"day 0 without a month",
       [](v1::Rule* r) {
         r->clear_deadline_month();
         r->set_deadline_day(0);
       },
       "rule.deadline_day: must be a day from 1 to 31 (got \"0\")"},
      {"bad kpi id", [](v1::Rule* r) { r->set_kpi_id("Kodomoen"); }, "rule.kpi_id: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::Rule rule = DefaultRules()[0];
    c.change(&rule);
    const absl::Status status = ValidateRule(rule);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    if (c.message == "rule.kpi_id: ") {
      EXPECT_EQ(status.message().substr(0, c.message.size()), c.message) << status;
      EXPECT_NE(status.message().find("\"Kodomoen\""), absl::string_view::npos) << status;
    } else {
      EXPECT_EQ(status.message(), c.message);
    }
  }
}

TEST(ValidateRuleTest, ChecksOnlyTheGapsItSets) {
  v1::Rule rule = Override(v1::RULE_KIND_LAGGING, kKodomoen);
  rule.set_critical_gap(-9);  // Above the default warning gap, but that is not set here.
  EXPECT_TRUE(ValidateRule(rule).ok()) << ValidateRule(rule);
  rule.set_clear_gap(-9.5);
  EXPECT_EQ(
      ValidateRule(rule),
      absl::InvalidArgumentError("rule.critical_gap: must be below clear_gap (-9.5) (got \"-9\")"));
}

}  // namespace
}  // namespace suishin::notification
