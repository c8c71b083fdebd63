// AlertBook: notification-service's rooms, each with one job, built over one
// store and one write path in the order they depend on each other:
//
//   EventLog          the alert events Subscribe serves, and the cursor
//   AlertMirror       active alerts per region in Redis (a mirror only)
//   NotificationWriter  the one write path; publishes each commit's outcome
//   Alerts            evaluation and each alert's lifecycle
//   Silences          what holds alerts' events back, and their release
//   RuleSettings      stored rule settings (SetRule, ListRules)
//   WebhookRegistry   webhooks, their secrets, and dead letters
//
// Nothing here calls back into a thread made later: the writer raises the
// WorkSignals it is given ("the outbox has work", "these KPIs' rules
// changed"), which the dispatcher and the follower, built after the book,
// wait on. main.cc wires signals → store → book → dispatcher → follower →
// service in one pass.
//
// Example:
//   WorkSignal outbox, rules_changed;
//   auto book = AlertBook::Create(store, clock, cache, {&outbox, &rules_changed}, options);
//   (*book)->alerts().Evaluate(subjects, next_sequence);
#ifndef SUISHIN_SERVICES_NOTIFICATION_ALERT_BOOK_H_
#define SUISHIN_SERVICES_NOTIFICATION_ALERT_BOOK_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/shared_cache.h"
#include "common/work_signal.h"
#include "services/notification/alert_mirror.h"
#include "services/notification/alerts.h"
#include "services/notification/event_log.h"
#include "services/notification/notification_store.h"
#include "services/notification/notification_writer.h"
#include "services/notification/rule_settings.h"
#include "services/notification/silences.h"
#include "services/notification/webhook_registry.h"

namespace suishin::notification {

class AlertBook {
 public:
  // Raised after the commits that concern them (either may be null).
  struct Signals {
    // Outbox entries were added: the dispatcher looks.
    WorkSignal* outbox = nullptr;
    // A KPI's rules changed ("" for all): the follower evaluates it again.
    WorkSignal* rules_changed = nullptr;
  };

  struct Options {
    NotificationWriter::Options writer;
    RuleSettings::Options rules;
    Silences::Options silences;
    WebhookRegistry::Options webhooks;
  };

  // `store`, `clock`, `cache` (Redis in production; may be null) and the signals must outlive
  // the book. Loads the last event id into the feed and
  // refills the Redis mirror.
  static absl::StatusOr<std::unique_ptr<AlertBook>> Create(NotificationStore* store,
                                                           const Clock* clock, SharedCache* cache,
                                                           Signals signals, Options options);

  AlertBook(const AlertBook&) = delete;
  AlertBook& operator=(const AlertBook&) = delete;

  EventLog& events() { return *events_; }
  Alerts& alerts() { return *alerts_; }
  Silences& silences() { return *silences_; }
  RuleSettings& rules() { return *rules_; }
  WebhookRegistry& webhooks() { return *webhooks_; }
  NotificationWriter& writer() { return *writer_; }

  // Redis calls that failed (the mirror is then refilled on the next read).
  int64_t redis_errors() const { return mirror_->errors(); }

 private:
  AlertBook() = default;

  std::unique_ptr<EventLog> events_;
  std::unique_ptr<AlertMirror> mirror_;
  std::unique_ptr<Alerts> alerts_;
  std::unique_ptr<Silences> silences_;
  std::unique_ptr<RuleSettings> rules_;
  std::unique_ptr<WebhookRegistry> webhooks_;
  // Made before the rooms, destroyed before them: it commits what is queued
  // (whose `done` may reach a room) while they are still here.
  std::unique_ptr<NotificationWriter> writer_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_ALERT_BOOK_H_
