// The alert rules of notification-service: which conditions hold for a KPI
// in a region, given its progress as kpi-service computes it.
//
// Pure functions, no I/O: the follower fetches GetProgress and hands it here;
// what comes back is the set of conditions that hold now. Turning conditions
// into alerts (firing, resolving, events) is Alerts' work (alerts.h).
//
// Rules look at the latest reported fiscal year of the KPI in the region (the
// last point with a value). Defaults, as DESIGN.md §2 sets them:
//   LAGGING          pace gap below −10 points (WARNING), below −25 (CRITICAL);
//                    once firing it clears only when the gap is back above −8
//   BELOW_THRESHOLD  achievement rate below threshold_percent; off by default
//   DECLINING        the value moved the wrong way since the previous year (WARNING)
//   STAGNANT         unchanged for min_steps (2) year-over-year steps or more while
//                    the target is not reached (WARNING)
//   MISSING          years from the one after the baseline to the target year
//                    whose reporting deadline (30 June after the year ends, JST)
//                    has passed without an actual (WARNING); only for regions
//                    that report their own figures
//   ACHIEVED         the target is reached (INFO)
//
// Example:
//   RuleBook rules(stored_rules);  // global settings and per-KPI overrides
//   EvaluationInput in{kpi, "rumoi", progress, /*reports=*/true, now};
//   in.firing = [&](v1::RuleKind kind) { return IsFiring(kind); };
//   for (const Condition& c : Evaluate(in, rules)) ...
#ifndef SUISHIN_SERVICES_NOTIFICATION_RULES_H_
#define SUISHIN_SERVICES_NOTIFICATION_RULES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

// Every rule with its default settings, global (kpi_id empty), in RuleKind
// order.
std::vector<v1::Rule> DefaultRules();

// INVALID_ARGUMENT naming the field and the value for a rule SetRule must
// refuse: unknown (or UNSPECIFIED) kind or severity, a kpi_id that is no id,
// gaps that are not finite or out of order (critical < warning < clear ≤ 0),
// a threshold outside 0–100, min_steps < 1, a deadline that is no date (month
// 1–12, day within the month; 29 February is allowed), e.g.
//   rule.critical_gap: must be below warning_gap (-10) (got "-9")
// Only the fields the rule sets are checked against each other: an override
// setting critical_gap alone passes, so SetRule should also validate the
// effective rule (RuleBook::For with the new setting stored).
absl::Status ValidateRule(const v1::Rule& rule);

// The effective settings of each rule for each KPI: the defaults, overlaid
// with the stored global settings (kpi_id ""), overlaid with the KPI's
// overrides. A layer replaces only the optional fields it sets (has_...), but
// always `enabled` and `severity`, which have no "unset": an override that
// means to change a threshold must repeat them. Of two stored settings for the
// same kind and kpi_id, the later wins. Immutable; safe across threads.
class RuleBook {
 public:
  explicit RuleBook(std::vector<v1::Rule> stored = {});

  // The settings of `kind` for `kpi_id`, every field filled, kpi_id set to
  // `kpi_id`.
  v1::Rule For(v1::RuleKind kind, absl::string_view kpi_id) const;
  // The effective rules for `kpi_id` (or the global ones for ""), RuleKind order.
  std::vector<v1::Rule> All(absl::string_view kpi_id) const;

 private:
  std::vector<v1::Rule> stored_;
};

// A condition that holds now.
struct Condition {
  v1::RuleKind rule = v1::RULE_KIND_UNSPECIFIED;
  v1::Severity severity = v1::SEVERITY_UNSPECIFIED;
  // The figures behind it: fiscal year evaluated, value, rate, expected rate,
  // pace gap; for MISSING the years without an actual.
  v1::AlertValues values;
  // One line for people, in Japanese as the table writes it: the KPI's name
  // and the region's display name (their ids when the KPI has none), then
  //   LAGGING          "自主防災組織率 留萌: 進捗率 45.8%（想定 78.7%、差 -32.9 pt）"
  //   BELOW_THRESHOLD  "自主防災組織率 宗谷: 進捗率 41.2%（しきい値 50% 未満）"
  //   DECLINING        "自主防災組織率 留萌: 39.7% → 37.1%（H29 → H30）"
  //   STAGNANT         "認定こども園設置数 宗谷: 3カ所のまま 3 年（H27–H30）"
  //   MISSING          "自主防災組織率 留萌: R元・R2 の実績が未報告"
  //   ACHIEVED         "認定こども園設置数 道北: 目標 43カ所 を達成（48カ所、111.6%）"
  // Rates are kpi-service's *_display strings.
  std::string summary;
};

struct EvaluationInput {
  const kpi::v1::Kpi* kpi = nullptr;
  std::string region_id;
  // GetProgress for the KPI in the region, every year (as_of unset).
  const kpi::v1::GetProgressResponse* progress = nullptr;
  // True when the region reports its own figures (false for an area whose
  // figures are computed from its children: SUM and RATIO areas).
  bool reports = true;
  absl::Time now;
  // Whether the rule's alert is firing now (for LAGGING's hysteresis).
  std::function<bool(v1::RuleKind)> firing = [](v1::RuleKind) { return false; };
};

// The conditions that hold, at most one per rule, in RuleKind order; none
// when kpi or progress is null. Disabled rules never hold. Every condition's
// values carry the latest reported point's year, value, rate, expected rate
// and pace gap (unset when there is none); its severity is the rule's, except
// LAGGING below critical_gap (CRITICAL). In detail:
//   LAGGING          pace_gap < warning_gap, or, while firing, until pace_gap
//                    > clear_gap; never when the latest status is ACHIEVED.
//   BELOW_THRESHOLD  rate < threshold_percent.
//   DECLINING        against the point just before the latest, when it is the
//                    previous fiscal year and has a value.
//   STAGNANT         the latest value equals that of each of the min_steps
//                    years before it (consecutive points with values), and the
//                    latest status is not ACHIEVED.
//   MISSING          only when in.reports; values.missing_years lists them.
//   ACHIEVED         the latest status is ACHIEVED.
// Values are compared as the decimals people typed (to 4 places), so an
// area's 0.1 + 0.2 equals a 0.3. Points are taken in kpi-service's order
// (ascending years).
std::vector<Condition> Evaluate(const EvaluationInput& in, const RuleBook& rules);

// When the reporting of `fiscal_year` is due under `rule` (MISSING): the
// first deadline_month/deadline_day after the year ends (31 March of
// fiscal_year + 1), so April–December of fiscal_year + 1 and January–March of
// fiscal_year + 2, at the end of that day in Japan (the next day's 00:00
// JST). 29 February in a common year means the 28th. The default: fiscal 2019
// (R元) is due at 2020-07-01 00:00 JST; a year is missing once `now` is past
// that instant.
absl::Time ReportingDeadline(int fiscal_year, const v1::Rule& rule);

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_RULES_H_
