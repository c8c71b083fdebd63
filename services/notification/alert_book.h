// AlertBook: the alerts of notification-service and everything done to them.
//
// Evaluate turns the conditions rules.h finds for a KPI in a region into
// alert transitions: a condition that starts holding fires its alert (the
// fingerprint is rule, KPI and region), one that stops holding resolves it,
// one that goes on holding only refreshes its figures (a change of severity
// is an event of its own). Each transition is written with its history entry,
// its event (the log Subscribe serves) and one outbox entry per matching
// webhook, and the follower's cursor, in one unit of work: evaluating the same
// data twice finds nothing to change and fires nothing twice.
//
// An alert a silence matches is kept and listed as silenced, but makes no
// event; when the silence ends, alerts still firing are delivered then.
// Active alerts are mirrored in Redis per region for fast listing; Redis is a
// mirror only, and everything works from SQLite when it is down.
//
// Thread-safe.
#ifndef SUISHIN_SERVICES_NOTIFICATION_ALERT_BOOK_H_
#define SUISHIN_SERVICES_NOTIFICATION_ALERT_BOOK_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/redis_client.h"
#include "common/sequence_feed.h"
#include "services/notification/notification_store.h"
#include "services/notification/rules.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

// A KPI in a region, with its progress as kpi-service computed it.
struct Subject {
  kpi::v1::Kpi kpi;
  std::string region_id;
  kpi::v1::GetProgressResponse progress;
};

class AlertBook {
 public:
  struct Hooks {
    // Called after a commit that added outbox entries (wakes the dispatcher).
    std::function<void()> outbox_added = [] {};
    // Called after SetRule changed the rules of a KPI ("" for all): the
    // follower evaluates again.
    std::function<void(const std::string& kpi_id)> rules_changed = [](const std::string&) {};
  };

  // `store`, `clock` and `redis` (may be null) must outlive the book. Loads
  // the last event id into the feed and refills the Redis mirror.
  static absl::StatusOr<std::unique_ptr<AlertBook>> Create(NotificationStore* store,
                                                           const Clock* clock, RedisClient* redis,
                                                           Hooks hooks);

  AlertBook(const AlertBook&) = delete;
  AlertBook& operator=(const AlertBook&) = delete;

  // The next kpi-service change sequence to read.
  absl::StatusOr<int64_t> Cursor();

  // Evaluates every subject and records the outcome; sets the cursor to
  // `next_sequence` unless it is 0; one unit of work.
  absl::Status Evaluate(const std::vector<Subject>& subjects, int64_t next_sequence);

  // Delivers the alerts that silences held back and that are still firing
  // once those silences have ended (expired or past their end time).
  absl::Status ReleaseEndedSilences();

  absl::Status ListAlerts(const v1::ListAlertsRequest& request, v1::ListAlertsResponse* response);
  absl::Status GetAlert(const v1::GetAlertRequest& request, v1::GetAlertResponse* response);
  absl::Status AcknowledgeAlert(const v1::AcknowledgeAlertRequest& request,
                                v1::AcknowledgeAlertResponse* response);
  absl::Status CreateSilence(const v1::CreateSilenceRequest& request,
                             v1::CreateSilenceResponse* response);
  absl::Status ListSilences(const v1::ListSilencesRequest& request,
                            v1::ListSilencesResponse* response);
  absl::Status ExpireSilence(const v1::ExpireSilenceRequest& request,
                             v1::ExpireSilenceResponse* response);
  absl::Status SetRule(const v1::SetRuleRequest& request, v1::SetRuleResponse* response);
  absl::Status ListRules(const v1::ListRulesRequest& request, v1::ListRulesResponse* response);
  absl::Status CreateWebhook(const v1::CreateWebhookRequest& request,
                             v1::CreateWebhookResponse* response);
  absl::Status ListWebhooks(const v1::ListWebhooksRequest& request,
                            v1::ListWebhooksResponse* response);
  absl::Status DeleteWebhook(const v1::DeleteWebhookRequest& request,
                             v1::DeleteWebhookResponse* response);
  absl::Status ListDeadLetters(const v1::ListDeadLettersRequest& request,
                               v1::ListDeadLettersResponse* response);
  absl::Status ReplayDeadLetter(const v1::ReplayDeadLetterRequest& request,
                                v1::ReplayDeadLetterResponse* response);

  // Validates a Subscribe request's filter.
  static absl::Status ValidateFilter(const v1::AlertFilter& filter);
  // Events after `after_id` that `filter` matches, in id order, at most
  // `limit`; empty only when no later event matches.
  absl::StatusOr<std::vector<v1::AlertEvent>> ReadEvents(int64_t after_id,
                                                         const v1::AlertFilter& filter, int limit);

  // Announces each event id as it is committed.
  SequenceFeed& events() { return events_; }

  // Redis calls that failed (the mirror is then refilled on the next change).
  int64_t redis_errors() const { return redis_errors_.load(); }

 private:
  AlertBook(NotificationStore* store, const Clock* clock, RedisClient* redis, Hooks hooks);

  // After a commit: the Redis mirror, the feed, the dispatcher.
  void Published(const std::vector<v1::Alert>& changed, int64_t last_event, bool outbox_added);
  void MirrorInRedis(const std::vector<v1::Alert>& alerts);
  // Writes every firing alert to Redis afresh and sets the marker saying the
  // mirror is whole. False when Redis or the store failed.
  bool RefillMirror();

  NotificationStore* store_;
  const Clock* clock_;
  RedisClient* redis_;
  Hooks hooks_;
  SequenceFeed events_;
  std::atomic<int64_t> redis_errors_{0};
  // Set when a write to the mirror failed: it may be missing alerts.
  std::atomic<bool> mirror_stale_{true};
  // False until a silence exists: ReleaseEndedSilences has nothing to do.
  std::atomic<bool> any_silence_{false};
};

// The fingerprint of an alert: a stable digest of rule, KPI and region.
std::string Fingerprint(v1::RuleKind rule, absl::string_view kpi_id, absl::string_view region_id);

// True when `filter` matches the alert (each list any-of, lists AND-ed).
bool Matches(const v1::AlertFilter& filter, const v1::Alert& alert);

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_ALERT_BOOK_H_
