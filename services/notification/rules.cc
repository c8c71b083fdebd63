#include "services/notification/rules.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "common/fiscal_year.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace suishin::notification {
namespace {

using kpi::v1::GetProgressResponse;
using kpi::v1::ProgressPoint;

// The defaults DESIGN.md §2 sets.
constexpr double kWarningGap = -10.0;
constexpr double kCriticalGap = -25.0;
constexpr double kClearGap = -8.0;
constexpr double kThresholdPercent = 50.0;
constexpr int kMinSteps = 2;
constexpr int kDeadlineMonth = 6;
constexpr int kDeadlineDay = 30;

// Japan Standard Time: UTC+9, no daylight saving.
constexpr int kJstOffsetSeconds = 9 * 3600;

// The longest each month can be (February: 29, as in a leap year).
constexpr int kMaxDaysInMonth[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

// Values are decimals people typed, with at most four fractional digits
// (kpi-service's promise); figures summed for an area may carry rounding
// noise, so they are compared as the decimal they stand for.
constexpr double kScale = 10000.0;
constexpr double kMaxMagnitude = 1e14;

bool SameDecimal(double a, double b) {
  if (!std::isfinite(a) || !std::isfinite(b) || std::fabs(a) > kMaxMagnitude ||
      std::fabs(b) > kMaxMagnitude) {
    return a == b;
  }
  return std::llround(a * kScale) == std::llround(b * kScale);
}

// a < b as typed decimals.
bool DecimalLess(double a, double b) { return !SameDecimal(a, b) && a < b; }

const std::vector<v1::RuleKind>& AllKinds() {
  static const std::vector<v1::RuleKind>* const kinds = new std::vector<v1::RuleKind>{
      v1::RULE_KIND_LAGGING,  v1::RULE_KIND_BELOW_THRESHOLD, v1::RULE_KIND_DECLINING,
      v1::RULE_KIND_STAGNANT, v1::RULE_KIND_MISSING,         v1::RULE_KIND_ACHIEVED,
  };
  return *kinds;
}

v1::Rule DefaultRule(v1::RuleKind kind) {
  v1::Rule rule;
  rule.set_kind(kind);
  rule.set_enabled(kind != v1::RULE_KIND_BELOW_THRESHOLD);
  rule.set_severity(kind == v1::RULE_KIND_ACHIEVED ? v1::SEVERITY_INFO : v1::SEVERITY_WARNING);
  rule.set_warning_gap(kWarningGap);
  rule.set_critical_gap(kCriticalGap);
  rule.set_clear_gap(kClearGap);
  rule.set_threshold_percent(kThresholdPercent);
  rule.set_min_steps(kMinSteps);
  rule.set_deadline_month(kDeadlineMonth);
  rule.set_deadline_day(kDeadlineDay);
  return rule;
}

// Lays `layer` over `rule`: enabled and severity always (an UNSPECIFIED
// severity, which ValidateRule refuses, is ignored), each optional field when
// the layer sets it.
void Overlay(const v1::Rule& layer, v1::Rule* rule) {
  rule->set_enabled(layer.enabled());
  if (layer.severity() != v1::SEVERITY_UNSPECIFIED) rule->set_severity(layer.severity());
  if (layer.has_warning_gap()) rule->set_warning_gap(layer.warning_gap());
  if (layer.has_critical_gap()) rule->set_critical_gap(layer.critical_gap());
  if (layer.has_clear_gap()) rule->set_clear_gap(layer.clear_gap());
  if (layer.has_threshold_percent()) rule->set_threshold_percent(layer.threshold_percent());
  if (layer.has_min_steps()) rule->set_min_steps(layer.min_steps());
  if (layer.has_deadline_month()) rule->set_deadline_month(layer.deadline_month());
  if (layer.has_deadline_day()) rule->set_deadline_day(layer.deadline_day());
}

// A number as an error message quotes it: "-9", "12.5", "nan".
std::string Quote(double x) { return absl::StrCat(x); }

absl::Status ValidateGaps(const v1::Rule& rule) {
  for (const auto& [field, has, value] :
       {std::make_tuple("rule.warning_gap", rule.has_warning_gap(), rule.warning_gap()),
        std::make_tuple("rule.critical_gap", rule.has_critical_gap(), rule.critical_gap()),
        std::make_tuple("rule.clear_gap", rule.has_clear_gap(), rule.clear_gap())}) {
    if (has && !std::isfinite(value)) return FieldError(field, Quote(value), "must be finite");
  }
  if (rule.has_clear_gap() && rule.clear_gap() > 0) {
    return FieldError("rule.clear_gap", Quote(rule.clear_gap()), "must be 0 or below");
  }
  if (rule.has_warning_gap() && rule.has_clear_gap() && !(rule.warning_gap() < rule.clear_gap())) {
    return FieldError("rule.warning_gap", Quote(rule.warning_gap()),
                      absl::StrCat("must be below clear_gap (", Quote(rule.clear_gap()), ")"));
  }
  if (rule.has_warning_gap() && rule.warning_gap() >= 0) {
    return FieldError("rule.warning_gap", Quote(rule.warning_gap()), "must be below 0");
  }
  if (rule.has_critical_gap() && rule.has_warning_gap() &&
      !(rule.critical_gap() < rule.warning_gap())) {
    return FieldError("rule.critical_gap", Quote(rule.critical_gap()),
                      absl::StrCat("must be below warning_gap (", Quote(rule.warning_gap()), ")"));
  }
  if (rule.has_critical_gap() && rule.has_clear_gap() &&
      !(rule.critical_gap() < rule.clear_gap())) {
    return FieldError("rule.critical_gap", Quote(rule.critical_gap()),
                      absl::StrCat("must be below clear_gap (", Quote(rule.clear_gap()), ")"));
  }
  if (rule.has_critical_gap() && rule.critical_gap() >= 0) {
    return FieldError("rule.critical_gap", Quote(rule.critical_gap()), "must be below 0");
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------ Evaluate

// The text of a KPI figure: the typed decimal without trailing zeros, at least
// one fractional digit for percentages (as the table prints "81.0%"), then
// the unit: "3カ所", "37.1%".
std::string FormatFigure(const kpi::v1::Kpi& kpi, double value) {
  std::string text = absl::StrFormat("%.4f", value);
  if (std::isfinite(value) && text.find('.') != std::string::npos) {
    const size_t min_length =
        text.find('.') + (kpi.value_kind() == kpi::v1::VALUE_KIND_PERCENT ? 2 : 0);
    while (text.size() > min_length && text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return absl::StrCat(text, kpi.unit());
}

// A display string from kpi-service, or the figure rounded to 0.1 when it
// sent none.
std::string Displayed(const std::string& display, double value,
                      const absl::FormatSpec<double>& format) {
  if (!display.empty()) return display;
  return absl::StrFormat(format, value);
}

// What every condition of one evaluation shares.
struct Context {
  const EvaluationInput* in;
  const kpi::v1::Kpi* kpi;
  const GetProgressResponse* progress;
  // "自主防災組織率 留萌: ".
  std::string prefix;
  // The latest point with a value, if any.
  const ProgressPoint* latest = nullptr;
  int latest_index = -1;
  // The latest point's figures.
  v1::AlertValues values;
};

Context MakeContext(const EvaluationInput& in) {
  Context cx{&in, in.kpi, in.progress, "", nullptr, -1, {}};
  const std::string& name = in.kpi->name().empty() ? in.kpi->id() : in.kpi->name();
  const auto region = in.kpi->region_names().find(in.region_id);
  const std::string& region_name = region == in.kpi->region_names().end() || region->second.empty()
                                       ? in.region_id
                                       : region->second;
  cx.prefix = absl::StrCat(name, " ", region_name, ": ");

  const auto& points = in.progress->points();
  for (int i = points.size() - 1; i >= 0; --i) {
    if (points[i].has_value()) {
      cx.latest = &points[i];
      cx.latest_index = i;
      break;
    }
  }
  if (cx.latest != nullptr) {
    const ProgressPoint& p = *cx.latest;
    *cx.values.mutable_fiscal_year() = p.fiscal_year();
    if (p.fiscal_year().label().empty()) {
      cx.values.mutable_fiscal_year()->set_label(FormatFiscalYear(p.fiscal_year().year()));
    }
    cx.values.set_value(p.value());
    if (p.has_rate()) cx.values.set_rate(p.rate());
    if (p.has_expected_rate()) cx.values.set_expected_rate(p.expected_rate());
    if (p.has_pace_gap()) cx.values.set_pace_gap(p.pace_gap());
  }
  return cx;
}

Condition MakeCondition(const Context& cx, const v1::Rule& rule, absl::string_view detail) {
  Condition c;
  c.rule = rule.kind();
  c.severity = rule.severity();
  c.values = cx.values;
  c.summary = absl::StrCat(cx.prefix, detail);
  return c;
}

bool Achieved(const Context& cx) {
  return cx.latest != nullptr && cx.latest->status() == kpi::v1::PROGRESS_STATUS_ACHIEVED;
}

// The point just before the latest one, when it is the previous fiscal year
// and has a value.
const ProgressPoint* PreviousYear(const Context& cx, int index) {
  if (index <= 0) return nullptr;
  const ProgressPoint& before = cx.progress->points(index - 1);
  const ProgressPoint& point = cx.progress->points(index);
  if (!before.has_value() || before.fiscal_year().year() != point.fiscal_year().year() - 1) {
    return nullptr;
  }
  return &before;
}

std::optional<Condition> Lagging(const Context& cx, const v1::Rule& rule) {
  if (cx.latest == nullptr || !cx.latest->has_pace_gap() || Achieved(cx)) return std::nullopt;
  const double gap = cx.latest->pace_gap();
  const bool firing = cx.in->firing && cx.in->firing(v1::RULE_KIND_LAGGING);
  const bool holds = gap < rule.warning_gap() || (firing && !(gap > rule.clear_gap()));
  if (!holds) return std::nullopt;
  Condition c = MakeCondition(
      cx, rule,
      absl::StrCat(
          "進捗率 ", Displayed(cx.latest->rate_display(), cx.latest->rate(), "%.1f%%"), "（想定 ",
          Displayed(cx.latest->expected_rate_display(), cx.latest->expected_rate(), "%.1f%%"),
          "、差 ", Displayed(cx.latest->pace_gap_display(), gap, "%+.1f"), " pt）"));
  if (gap < rule.critical_gap()) c.severity = v1::SEVERITY_CRITICAL;
  return c;
}

std::optional<Condition> BelowThreshold(const Context& cx, const v1::Rule& rule) {
  if (cx.latest == nullptr || !cx.latest->has_rate()) return std::nullopt;
  if (!(cx.latest->rate() < rule.threshold_percent())) return std::nullopt;
  return MakeCondition(
      cx, rule,
      absl::StrCat("進捗率 ", Displayed(cx.latest->rate_display(), cx.latest->rate(), "%.1f%%"),
                   "（しきい値 ", rule.threshold_percent(), "% 未満）"));
}

std::optional<Condition> Declining(const Context& cx, const v1::Rule& rule) {
  if (cx.latest == nullptr) return std::nullopt;
  const ProgressPoint* before = PreviousYear(cx, cx.latest_index);
  if (before == nullptr) return std::nullopt;
  const bool decrease_is_better = cx.kpi->direction() == kpi::v1::DIRECTION_DECREASE;
  const bool wrong_way = decrease_is_better ? DecimalLess(before->value(), cx.latest->value())
                                            : DecimalLess(cx.latest->value(), before->value());
  if (!wrong_way) return std::nullopt;
  return MakeCondition(cx, rule,
                       absl::StrCat(FormatFigure(*cx.kpi, before->value()), " → ",
                                    FormatFigure(*cx.kpi, cx.latest->value()), "（",
                                    EraFiscalYear(before->fiscal_year().year()), " → ",
                                    EraFiscalYear(cx.latest->fiscal_year().year()), "）"));
}

std::optional<Condition> Stagnant(const Context& cx, const v1::Rule& rule) {
  if (cx.latest == nullptr || Achieved(cx)) return std::nullopt;
  int first = cx.latest_index;
  while (const ProgressPoint* before = PreviousYear(cx, first)) {
    if (!SameDecimal(before->value(), cx.latest->value())) break;
    --first;
  }
  const int steps = cx.latest_index - first;
  if (steps < 1 || steps < rule.min_steps()) return std::nullopt;
  return MakeCondition(
      cx, rule,
      absl::StrCat(FormatFigure(*cx.kpi, cx.latest->value()), "のまま ", steps, " 年（",
                   EraFiscalYear(cx.progress->points(first).fiscal_year().year()), "–",
                   EraFiscalYear(cx.latest->fiscal_year().year()), "）"));
}

std::optional<Condition> Missing(const Context& cx, const v1::Rule& rule) {
  if (!cx.in->reports) return std::nullopt;
  const int baseline_year = cx.progress->baseline().fiscal_year().year();
  const int target_year = cx.progress->target().fiscal_year().year();
  // Without a baseline and a target there are no years that must report.
  if (baseline_year < kMinFiscalYear || target_year > kMaxFiscalYear) return std::nullopt;
  std::set<int> reported;
  for (const ProgressPoint& point : cx.progress->points()) {
    if (point.has_value()) reported.insert(point.fiscal_year().year());
  }
  std::vector<std::string> eras;
  Condition c = MakeCondition(cx, rule, "");
  for (int year = baseline_year + 1; year <= target_year; ++year) {
    if (reported.count(year) > 0 || !(ReportingDeadline(year, rule) < cx.in->now)) continue;
    auto* missing = c.values.add_missing_years();
    missing->set_year(year);
    missing->set_label(FormatFiscalYear(year));
    eras.push_back(EraFiscalYear(year));
  }
  if (eras.empty()) return std::nullopt;
  c.summary = absl::StrCat(cx.prefix, absl::StrJoin(eras, "・"), " の実績が未報告");
  return c;
}

std::optional<Condition> AchievedRule(const Context& cx, const v1::Rule& rule) {
  if (!Achieved(cx)) return std::nullopt;
  return MakeCondition(
      cx, rule,
      absl::StrCat("目標 ", FormatFigure(*cx.kpi, cx.progress->target().value()), " を達成（",
                   FormatFigure(*cx.kpi, cx.latest->value()), "、",
                   Displayed(cx.latest->rate_display(), cx.latest->rate(), "%.1f%%"), "）"));
}

}  // namespace

std::vector<v1::Rule> DefaultRules() {
  std::vector<v1::Rule> rules;
  for (v1::RuleKind kind : AllKinds()) rules.push_back(DefaultRule(kind));
  return rules;
}

absl::Status ValidateRule(const v1::Rule& rule) {
  if (rule.kind() == v1::RULE_KIND_UNSPECIFIED || !v1::RuleKind_IsValid(rule.kind())) {
    return FieldError("rule.kind", absl::StrCat(rule.kind()),
                      "must be LAGGING, BELOW_THRESHOLD, DECLINING, STAGNANT, MISSING or ACHIEVED");
  }
  if (!rule.kpi_id().empty()) {
    RETURN_IF_ERROR(ValidateId("rule.kpi_id", rule.kpi_id()));
  }
  if (rule.severity() == v1::SEVERITY_UNSPECIFIED || !v1::Severity_IsValid(rule.severity())) {
    return FieldError("rule.severity", absl::StrCat(rule.severity()),
                      "must be INFO, WARNING or CRITICAL");
  }
  RETURN_IF_ERROR(ValidateGaps(rule));
  if (rule.has_threshold_percent() &&
      !(rule.threshold_percent() >= 0 && rule.threshold_percent() <= 100)) {
    return FieldError("rule.threshold_percent", Quote(rule.threshold_percent()),
                      "must be from 0 to 100");
  }
  if (rule.has_min_steps() && rule.min_steps() < 1) {
    return FieldError("rule.min_steps", absl::StrCat(rule.min_steps()), "must be 1 or more");
  }
  if (rule.has_deadline_month() && (rule.deadline_month() < 1 || rule.deadline_month() > 12)) {
    return FieldError("rule.deadline_month", absl::StrCat(rule.deadline_month()),
                      "must be a month from 1 to 12");
  }
  if (rule.has_deadline_day()) {
    const int max_day = rule.has_deadline_month() ? kMaxDaysInMonth[rule.deadline_month() - 1] : 31;
    if (rule.deadline_day() < 1 || rule.deadline_day() > max_day) {
      return FieldError("rule.deadline_day", absl::StrCat(rule.deadline_day()),
                        rule.has_deadline_month()
                            ? absl::StrCat("must be a day of month ", rule.deadline_month(),
                                           " (1 to ", max_day, ")")
                            : std::string("must be a day from 1 to 31"));
    }
  }
  return absl::OkStatus();
}

RuleBook::RuleBook(std::vector<v1::Rule> stored) : stored_(std::move(stored)) {}

v1::Rule RuleBook::For(v1::RuleKind kind, absl::string_view kpi_id) const {
  v1::Rule rule = DefaultRule(kind);
  // Global settings first, then the KPI's overrides; within each layer the
  // later of two stored settings wins.
  for (const v1::Rule& stored : stored_) {
    if (stored.kind() == kind && stored.kpi_id().empty()) Overlay(stored, &rule);
  }
  if (!kpi_id.empty()) {
    for (const v1::Rule& stored : stored_) {
      if (stored.kind() == kind && stored.kpi_id() == kpi_id) Overlay(stored, &rule);
    }
  }
  rule.set_kpi_id(std::string(kpi_id));
  return rule;
}

std::vector<v1::Rule> RuleBook::All(absl::string_view kpi_id) const {
  std::vector<v1::Rule> rules;
  for (v1::RuleKind kind : AllKinds()) rules.push_back(For(kind, kpi_id));
  return rules;
}

std::vector<Condition> Evaluate(const EvaluationInput& in, const RuleBook& rules) {
  std::vector<Condition> conditions;
  if (in.kpi == nullptr || in.progress == nullptr) return conditions;
  const Context cx = MakeContext(in);
  using RuleFn = std::optional<Condition> (*)(const Context&, const v1::Rule&);
  static constexpr std::pair<v1::RuleKind, RuleFn> kRules[] = {
      {v1::RULE_KIND_LAGGING, &Lagging},     {v1::RULE_KIND_BELOW_THRESHOLD, &BelowThreshold},
      {v1::RULE_KIND_DECLINING, &Declining}, {v1::RULE_KIND_STAGNANT, &Stagnant},
      {v1::RULE_KIND_MISSING, &Missing},     {v1::RULE_KIND_ACHIEVED, &AchievedRule},
  };
  for (const auto& [kind, fn] : kRules) {
    const v1::Rule rule = rules.For(kind, in.kpi->id());
    if (!rule.enabled()) continue;
    if (std::optional<Condition> c = fn(cx, rule)) conditions.push_back(*std::move(c));
  }
  return conditions;
}

absl::Time ReportingDeadline(int fiscal_year, const v1::Rule& rule) {
  const int month = rule.has_deadline_month() ? rule.deadline_month() : kDeadlineMonth;
  const int day = rule.has_deadline_day() ? rule.deadline_day() : kDeadlineDay;
  // The fiscal year ends on 31 March of fiscal_year + 1; the deadline is the
  // first such month and day after that: April–December of fiscal_year + 1,
  // January–March of fiscal_year + 2.
  const absl::CivilMonth deadline_month(month >= 4 ? fiscal_year + 1 : fiscal_year + 2, month);
  // A day beyond the month's end (29 February in a common year) is its last.
  const absl::CivilDay last_day = absl::CivilDay(deadline_month + 1) - 1;
  const absl::CivilDay deadline =
      absl::CivilDay(deadline_month) + (std::clamp(day, 1, static_cast<int>(last_day.day())) - 1);
  // The end of that day in Japan: the next day's 00:00 JST.
  return absl::FromCivil(deadline + 1, absl::FixedTimeZone(kJstOffsetSeconds));
}

}  // namespace suishin::notification
