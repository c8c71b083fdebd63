// Where notification-service keeps its durable record: the cursor into
// kpi-service's change log, rules, alerts with their history, the alert
// events (the log Subscribe serves), silences, webhooks, the webhook outbox
// and dead letters.
//
// Writes come as groups of bodies (a function given a
// NotificationTransaction): the group is one durable commit, and each body is
// all or nothing on its own, its reads seeing the writes made before it in
// the group (NotificationWriter's BatchWriter hands every write of the
// service to RunGroup). An evaluation writes its alerts, events, outbox entries and the
// advanced cursor in one body, so a change is either fully accounted for or
// not at all, and replaying it after a crash is harmless. Reads run on a
// snapshot of what was committed, beside the writer, never waiting for it.
//
// The rules (what is valid, limits, what an evaluation changes) live in the
// book's rooms (alert_book.h); the store only keeps and finds records. Its
// transaction is sectioned as they are: the cursor and events (EventLog),
// rules (RuleSettings), alerts (Alerts), silences (Silences), webhooks,
// the outbox and dead letters (WebhookRegistry, WebhookDispatcher). Lists that clients page
// through return each item with the key that orders it (insertion order),
// which page tokens carry.
#ifndef SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_STORE_H_
#define SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/page_token.h"
#include "common/store_listener.h"
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

// A stored message with the key that orders it (common/page_token.h).
using ::suishin::Keyed;

// What a body reads and writes through. Writes work only in a group
// (RunGroup); inside a Read they fail with FAILED_PRECONDITION.
class NotificationTransaction {
 public:
  virtual ~NotificationTransaction() = default;

  // ---- The cursor ----
  // The next kpi-service change sequence to read (1 at first).
  virtual absl::StatusOr<int64_t> Cursor() = 0;
  virtual absl::Status SetCursor(int64_t next_sequence) = 0;

  // ---- Rules: stored settings, global (kpi_id "") and per-KPI overrides ----
  virtual absl::StatusOr<std::vector<v1::Rule>> Rules() = 0;
  // Adds or replaces the rule of the same kind and KPI.
  virtual absl::Status PutRule(const v1::Rule& rule) = 0;

  // ---- Alerts, stored without their history, which has a table of its own ----
  virtual absl::StatusOr<std::optional<v1::Alert>> FindAlert(absl::string_view fingerprint) = 0;
  virtual absl::StatusOr<std::vector<v1::Alert>> AlertsOf(absl::string_view kpi_id,
                                                          absl::string_view region_id) = 0;
  // Every alert, firing ones first; only firing ones unless `include_resolved`.
  virtual absl::StatusOr<std::vector<v1::Alert>> Alerts(bool include_resolved) = 0;
  virtual absl::Status PutAlert(const v1::Alert& alert) = 0;
  virtual absl::Status AppendHistory(absl::string_view fingerprint,
                                     const v1::AlertHistoryEntry& entry) = 0;
  // The history of an alert after `after_key`, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<Keyed<v1::AlertHistoryEntry>>> History(
      absl::string_view fingerprint, int64_t after_key, int limit) = 0;

  // ---- Events ----
  // Appends an event (its id is ignored) and returns the id it got: the next
  // after the last, without gaps. Only in a write.
  virtual absl::StatusOr<int64_t> AppendEvent(const v1::AlertEvent& event) = 0;
  // Events with ids after `after_id`, in id order, at most `limit`.
  virtual absl::StatusOr<std::vector<v1::AlertEvent>> Events(int64_t after_id, int limit) = 0;
  virtual absl::StatusOr<int64_t> LastEventId() = 0;

  // ---- Silences ----
  // A silence is live until it is expired or its end time has passed
  // (whether or not it has started).
  // Every silence live at `now`, in creation order.
  virtual absl::StatusOr<std::vector<v1::Silence>> LiveSilences(absl::Time now) = 0;
  virtual absl::StatusOr<int64_t> CountLiveSilences(absl::Time now) = 0;
  // Silences after `after_key` in creation order, at most `limit`; only the
  // live ones unless `include_ended`.
  virtual absl::StatusOr<std::vector<Keyed<v1::Silence>>> ListSilences(bool include_ended,
                                                                       absl::Time now,
                                                                       int64_t after_key,
                                                                       int limit) = 0;
  // True when any silence was ever stored.
  virtual absl::StatusOr<bool> AnySilence() = 0;
  virtual absl::StatusOr<std::optional<v1::Silence>> FindSilence(absl::string_view id) = 0;
  virtual absl::Status PutSilence(const v1::Silence& silence) = 0;

  // ---- Webhooks, as stored, with their secrets ----
  virtual absl::StatusOr<std::vector<v1::Webhook>> Webhooks() = 0;
  virtual absl::StatusOr<std::vector<Keyed<v1::Webhook>>> ListWebhooks(int64_t after_key,
                                                                       int limit) = 0;
  virtual absl::StatusOr<int64_t> CountWebhooks() = 0;
  virtual absl::StatusOr<std::optional<v1::Webhook>> FindWebhook(absl::string_view id) = 0;
  virtual absl::Status PutWebhook(const v1::Webhook& webhook) = 0;
  // Also drops its outbox entries. OK if there was none.
  virtual absl::Status DeleteWebhook(absl::string_view id) = 0;

  // ---- The outbox ----
  virtual absl::Status AddDelivery(const Delivery& delivery) = 0;
  // Each webhook with deliveries waiting, with when its soonest is due.
  virtual absl::StatusOr<std::vector<std::pair<std::string, absl::Time>>> SoonestByWebhook() = 0;
  // The delivery of `webhook_id` to send next (soonest due, then oldest);
  // nullopt when it has none waiting.
  virtual absl::StatusOr<std::optional<Delivery>> NextDelivery(absl::string_view webhook_id) = 0;
  virtual absl::Status UpdateDelivery(const Delivery& delivery) = 0;
  virtual absl::Status DeleteDelivery(int64_t id) = 0;
  // Deliveries waiting (the outbox's depth, for metrics).
  virtual absl::StatusOr<int64_t> CountDeliveries() = 0;

  // ---- Dead letters ----
  virtual absl::Status PutDeadLetter(const v1::DeadLetter& letter) = 0;
  // Dead letters (of one webhook unless `webhook_id` is empty) after
  // `after_key`, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<Keyed<v1::DeadLetter>>> DeadLetters(
      absl::string_view webhook_id, int64_t after_key, int limit) = 0;
  virtual absl::StatusOr<std::optional<v1::DeadLetter>> FindDeadLetter(absl::string_view id) = 0;
  virtual absl::Status DeleteDeadLetter(absl::string_view id) = 0;
  virtual absl::StatusOr<int64_t> CountDeadLetters() = 0;

  // ---- Leadership (replicas on one database; leader_lease.h) ----
  // OK while `token` is the newest lease's fencing token, and it stays so
  // until this transaction ends (a takeover waits for it); FAILED_PRECONDITION
  // once another replica has taken the lease. A store of one process has no
  // other writer: always OK.
  virtual absl::Status CheckFence(int64_t token) { return absl::OkStatus(); }
};

class NotificationStore {
 public:
  using Body = std::function<absl::Status(NotificationTransaction&)>;

  virtual ~NotificationStore() = default;

  // Runs `bodies` in order as one group: each body is all or nothing (a body
  // that fails leaves no trace and fails only itself; the event ids it took
  // go to the next), the group is one durable commit. Fills one status per
  // body: its own, or the commit's error (then nothing of the group is
  // stored). Returns the commit's status. Called by one writer at a time
  // (NotificationWriter's BatchWriter); safe from several threads all the same.
  virtual absl::Status RunGroup(const std::vector<const Body*>& bodies,
                                std::vector<absl::Status>* outcomes) = 0;

  // Runs `body`, which only reads (a write through its transaction fails),
  // on a consistent snapshot of everything committed when it starts. It
  // never waits for a write in progress, and several run at once.
  virtual absl::Status Read(const Body& body) = 0;

  // ---- Replicas ----
  // True when other processes may write to this store too (several
  // replicas on one PostgreSQL).
  virtual bool Shared() const { return false; }
  // Announces other processes' commits: payload "events" for any group,
  // "rules:<kpi_id>" for a rule change ("rules:" for the global ones).
  // nullptr when the store is not shared.
  virtual std::unique_ptr<StoreListener> Listen() { return nullptr; }
  // Takes the leader's lease for `holder`, or renews it, for `ttl`: the
  // lease's fencing token (> 0, larger at every change of holder), or 0
  // while another holder's lease runs. A store of one process: always 1.
  virtual absl::StatusOr<int64_t> AcquireLease(const std::string& holder, absl::Duration ttl) {
    return 1;
  }
  // Gives the lease up at once (a clean stop), if `holder` still has it
  // with `token`, so a standby takes over without waiting for it to run out.
  virtual absl::Status ReleaseLease(const std::string& holder, int64_t token) {
    return absl::OkStatus();
  }

  // One body alone, as a group of one: for start-up and tests; the
  // service's writes go through its BatchWriter.
  absl::Status Run(const Body& body) {
    std::vector<absl::Status> outcomes;
    RunGroup({&body}, &outcomes).IgnoreError();  // the outcome carries it
    return outcomes.empty() ? absl::InternalError("the store gave no outcome") : outcomes[0];
  }
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_STORE_H_
