// The alert rules of notification-service: which conditions hold for a KPI
// in a region, given its progress as kpi-service computes it.
//
// Pure functions, no I/O: the follower fetches GetProgress and hands it here;
// what comes back is the set of conditions that hold now. Turning conditions
// into alerts (firing, resolving, events) is AlertBook's work.
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
// refuse: unknown kind or severity, gaps out of order (critical < warning <
// clear ≤ 0), a threshold outside 0–100, min_steps < 1, a deadline that is no
// date (month 1–12, day within the month).
absl::Status ValidateRule(const v1::Rule& rule);

// The effective settings of each rule for each KPI: the defaults, overlaid
// with the stored global settings, overlaid with the KPI's overrides (only
// the fields an override sets).
class RuleBook {
 public:
  explicit RuleBook(std::vector<v1::Rule> stored = {});

  // The settings of `kind` for `kpi_id`, every field filled.
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
  // One line for people, in Japanese as the table writes it, e.g.
  // "自主防災組織率 留萌: 進捗率 45.8%（想定 78.7%、-32.9 pt）".
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

// The conditions that hold, at most one per rule, in RuleKind order.
std::vector<Condition> Evaluate(const EvaluationInput& in, const RuleBook& rules);

// When the reporting of `fiscal_year` is due under `rule` (MISSING): the
// deadline day after the year ends (31 March of fiscal_year + 1), at the end
// of that day in Japan.
absl::Time ReportingDeadline(int fiscal_year, const v1::Rule& rule);

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_RULES_H_
