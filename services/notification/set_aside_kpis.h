// SetAsideKpis: the KPIs whose evaluation keeps failing, which the follower
// has set aside so that they hold up neither the cursor nor any other KPI.
//
// A KPI is set aside when kpi-service answers its GetKpi or GetProgress with
// an error of its own (its reply is too large, INVALID_ARGUMENT, INTERNAL, a
// deadline that only it misses) while the service as a whole answers. The
// follower then moves on past its changes and evaluates every other KPI; the
// set-aside KPI is tried again, all its regions at once, when its
// next_attempt_time comes: `base_delay` after the first failure, doubling
// with each failure in a row up to `max_delay`. A success takes it off the
// list. The list is kept in memory only: a restarted service evaluates every
// KPI at start, set aside or not, so no change is lost with it.
//
// Thread-safe. Times are whatever clock the caller passes.
//
// Example:
//   if (progress_failed) set_aside.Failed(kpi_id, "GetProgress: INTERNAL: ...", now);
//   for (const std::string& kpi_id : set_aside.Due(now)) RequestEvaluation(kpi_id);
#ifndef SUISHIN_SERVICES_NOTIFICATION_SET_ASIDE_KPIS_H_
#define SUISHIN_SERVICES_NOTIFICATION_SET_ASIDE_KPIS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

class SetAsideKpis {
 public:
  struct Options {
    // The wait after the first failure, and at most
    // (--set_aside_delay, --set_aside_max_delay).
    absl::Duration base_delay = absl::Seconds(1);
    absl::Duration max_delay = absl::Minutes(10);
  };

  explicit SetAsideKpis(Options options);

  SetAsideKpis(const SetAsideKpis&) = delete;
  SetAsideKpis& operator=(const SetAsideKpis&) = delete;

  // Records a failed evaluation of `kpi_id` at `now` for `reason` and
  // returns its entry as it now is (failures in a row, next attempt).
  v1::SetAsideKpi Failed(const std::string& kpi_id, const std::string& reason, absl::Time now);
  // Takes `kpi_id` off the list (it was evaluated); true when it was on it.
  bool Cleared(const std::string& kpi_id);

  bool Contains(const std::string& kpi_id) const;
  // The set-aside KPIs whose next attempt is at or before `now`.
  std::vector<std::string> Due(absl::Time now) const;
  // The soonest next attempt; nullopt when the list is empty.
  std::optional<absl::Time> NextAttempt() const;
  // Every entry, by KPI id.
  std::vector<v1::SetAsideKpi> List() const;

 private:
  struct Entry {
    std::string reason;
    int failures = 0;
    absl::Time next_attempt;
  };

  const Options options_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_SET_ASIDE_KPIS_H_
