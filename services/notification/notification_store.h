// Where notification-service keeps its durable record: the cursor into
// kpi-service's change log, rules, alerts with their history, the alert
// events (the log Subscribe serves), silences, webhooks, the webhook outbox
// and dead letters.
//
// Units of work as in the other services: a function given a
// NotificationTransaction, committed whole or rolled back whole, serialised
// with every other unit. An evaluation writes its alerts, events, outbox
// entries and the advanced cursor in one unit, so a change is either fully
// accounted for or not at all, and replaying it after a crash is harmless.
#ifndef SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_STORE_H_
#define SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

// A webhook delivery waiting in the outbox.
struct Delivery {
  int64_t id = 0;
  std::string webhook_id;
  int64_t event_id = 0;
  // The JSON body, fixed when the event was made so every retry sends the
  // same bytes.
  std::string payload;
  int attempts = 0;
  absl::Time next_attempt;
  std::string last_error;
};

class NotificationTransaction {
 public:
  virtual ~NotificationTransaction() = default;

  // The next kpi-service change sequence to read (1 at first).
  virtual absl::StatusOr<int64_t> Cursor() = 0;
  virtual absl::Status SetCursor(int64_t next_sequence) = 0;

  virtual absl::StatusOr<std::vector<v1::Rule>> Rules() = 0;
  // Adds or replaces the rule of the same kind and KPI.
  virtual absl::Status PutRule(const v1::Rule& rule) = 0;

  // Alerts are stored without their history, which has a table of its own.
  virtual absl::StatusOr<std::optional<v1::Alert>> FindAlert(absl::string_view fingerprint) = 0;
  virtual absl::StatusOr<std::vector<v1::Alert>> AlertsOf(absl::string_view kpi_id,
                                                          absl::string_view region_id) = 0;
  // Every alert; only firing ones unless `include_resolved`.
  virtual absl::StatusOr<std::vector<v1::Alert>> Alerts(bool include_resolved) = 0;
  virtual absl::Status PutAlert(const v1::Alert& alert) = 0;
  virtual absl::Status AppendHistory(absl::string_view fingerprint,
                                     const v1::AlertHistoryEntry& entry) = 0;
  virtual absl::StatusOr<std::vector<v1::AlertHistoryEntry>> History(
      absl::string_view fingerprint) = 0;

  // Appends an event (its id is ignored) and returns the id it got: the next
  // after the last, without gaps.
  virtual absl::StatusOr<int64_t> AppendEvent(const v1::AlertEvent& event) = 0;
  // Events with ids after `after_id`, in id order, at most `limit`.
  virtual absl::StatusOr<std::vector<v1::AlertEvent>> Events(int64_t after_id, int limit) = 0;
  virtual absl::StatusOr<int64_t> LastEventId() = 0;

  virtual absl::StatusOr<std::vector<v1::Silence>> Silences() = 0;
  virtual absl::StatusOr<std::optional<v1::Silence>> FindSilence(absl::string_view id) = 0;
  virtual absl::Status PutSilence(const v1::Silence& silence) = 0;

  // Webhooks as stored, with their secrets.
  virtual absl::StatusOr<std::vector<v1::Webhook>> Webhooks() = 0;
  virtual absl::StatusOr<std::optional<v1::Webhook>> FindWebhook(absl::string_view id) = 0;
  virtual absl::Status PutWebhook(const v1::Webhook& webhook) = 0;
  // Also drops its outbox entries. OK if there was none.
  virtual absl::Status DeleteWebhook(absl::string_view id) = 0;

  virtual absl::Status AddDelivery(const Delivery& delivery) = 0;
  // Deliveries due at `now`, soonest first, at most `limit`.
  virtual absl::StatusOr<std::vector<Delivery>> DueDeliveries(absl::Time now, int limit) = 0;
  // When the next delivery is due; nullopt when the outbox is empty.
  virtual absl::StatusOr<std::optional<absl::Time>> NextDue() = 0;
  virtual absl::Status UpdateDelivery(const Delivery& delivery) = 0;
  virtual absl::Status DeleteDelivery(int64_t id) = 0;

  virtual absl::Status PutDeadLetter(const v1::DeadLetter& letter) = 0;
  virtual absl::StatusOr<std::vector<v1::DeadLetter>> DeadLetters(absl::string_view webhook_id) = 0;
  virtual absl::StatusOr<std::optional<v1::DeadLetter>> FindDeadLetter(absl::string_view id) = 0;
  virtual absl::Status DeleteDeadLetter(absl::string_view id) = 0;
};

class NotificationStore {
 public:
  virtual ~NotificationStore() = default;
  // Runs `body` as one unit of work, all or nothing. Safe from several threads.
  virtual absl::Status Run(const std::function<absl::Status(NotificationTransaction&)>& body) = 0;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_STORE_H_
