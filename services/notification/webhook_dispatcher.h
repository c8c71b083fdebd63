// WebhookDispatcher: delivers the outbox to webhooks, following Standard
// Webhooks, so that no receiver can hold up another.
//
// A scheduler thread looks at the durable outbox and hands each endpoint's
// next delivery that is due (the soonest due, then the oldest) to a small
// pool of delivery workers. At most one delivery per endpoint is in flight,
// so an endpoint gets its events one at a time and in order, and a receiver
// that never answers holds one worker for at most `timeout` and delays no
// other endpoint's events.
//
// Each attempt POSTs the event's JSON with `webhook-id` (the event's id, the
// same on every retry), `webhook-timestamp` and `webhook-signature:
// v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the endpoint's
// secret. A 2xx answer removes the delivery. A 5xx, a 429, a timeout or a
// connection failure schedules a retry after the next of `retry_delays`
// (seconds, then minutes, then hours); when they are used up, and at once
// for any other answer (a 4xx), the delivery becomes a dead letter that
// ReplayDeadLetter can send again. A failure keeps the status code and a
// short reason, never the receiver's body.
//
// Endpoints that keep failing have their circuit opened (webhook_circuits.h):
// their deliveries wait, with growing delays, for one probe to succeed.
//
// What an attempt did is stored through `write` (the service's one write
// path). When that store update fails (a full disk), the dispatcher keeps
// the outcome in memory and retries only the store update, with growing
// delays, never the POST: the endpoint takes no other delivery meanwhile. A
// delivery is removed from the outbox only after the endpoint answered 2xx
// and the removal was stored, so a crash or restart in between sends it once
// more: receivers drop duplicates by webhook-id, as the specification asks.
//
// Thread-safe. Stop() (or the destructor) waits for the attempts in flight,
// at most `timeout`.
#ifndef SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_DISPATCHER_H_
#define SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_DISPATCHER_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/work_signal.h"
#include "services/notification/http_client.h"
#include "services/notification/notification_store.h"
#include "services/notification/webhook_circuits.h"

namespace suishin::notification {

// Standard Webhooks' schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
std::vector<absl::Duration> DefaultRetryDelays();

// The longest a delivery may wait before a retry.
inline constexpr absl::Duration kMaxRetryDelay = absl::Hours(24);

// Parses "5s,5m,30m,2h" (absl durations, each from 0 to kMaxRetryDelay).
// INVALID_ARGUMENT naming `field` and the part.
absl::StatusOr<std::vector<absl::Duration>> ParseRetryDelays(absl::string_view field,
                                                             absl::string_view text);

// The webhook-id of an event.
std::string WebhookMessageId(int64_t event_id);

class WebhookDispatcher {
 public:
  // Runs a body through the service's write path and waits for its commit.
  using Write = std::function<absl::Status(NotificationStore::Body)>;

  struct Options {
    std::vector<absl::Duration> retry_delays = DefaultRetryDelays();
    // How long an endpoint may take to answer (--webhook_timeout_ms).
    absl::Duration timeout = absl::Seconds(5);
    // Deliveries in flight at once, to different endpoints (--webhook_workers).
    int workers = 4;
    WebhookCircuits::Options circuits;
    // The first wait before retrying a store update that failed, doubled
    // each time up to the second.
    absl::Duration store_retry_delay = absl::Milliseconds(100);
    absl::Duration max_store_retry_delay = absl::Seconds(30);
  };

  // `store` (read), `transport` and `clock` must outlive the dispatcher.
  // All must outlive the dispatcher. It waits on `wake` (the book's writer
  // raises it when outbox entries are added) and closes it when it stops.
  WebhookDispatcher(NotificationStore* store, Write write, WorkSignal* wake,
                    WebhookTransport* transport, const Clock* clock, Options options);
  ~WebhookDispatcher();

  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void Start();
  void Stop();
  // The endpoints' circuits (for GetStatus).
  const WebhookCircuits& circuits() const { return circuits_; }
  // Attempts whose outcome could not be stored yet and waits in memory.
  int unstored() const;

 private:
  struct Task {
    Delivery delivery;
    v1::Webhook webhook;
  };
  // An attempt's outcome the store refused, to be written again.
  struct Unstored {
    NotificationStore::Body body;
    std::string webhook_id;
    absl::Time next_try;
    absl::Duration delay;
  };

  void ScheduleLoop();
  void WorkLoop();
  // Starts the next delivery of every idle endpoint that is due and whose
  // circuit lets it; returns when the next one not started is due.
  absl::StatusOr<std::optional<absl::Time>> Dispatch();
  // Stores the outcomes that were refused and are due again; returns when
  // the next of those still waiting is due.
  std::optional<absl::Time> RetryUnstored();
  // One attempt and its outcome stored (or kept for RetryUnstored).
  void Deliver(Task task);
  // The endpoint is free for its next delivery.
  void Release(const std::string& webhook_id);

  NotificationStore* store_;
  const Write write_;
  WorkSignal* const wake_;
  WebhookTransport* transport_;
  const Clock* clock_;
  const Options options_;
  WebhookCircuits circuits_;

  mutable absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Endpoints with an attempt in flight or its outcome unstored.
  std::set<std::string> busy_ ABSL_GUARDED_BY(mu_);
  std::deque<Task> tasks_ ABSL_GUARDED_BY(mu_);
  std::vector<Unstored> unstored_ ABSL_GUARDED_BY(mu_);
  // Taken out of unstored_ while a retry writes them: still unstored.
  int retrying_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread scheduler_;
  std::vector<std::thread> workers_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_DISPATCHER_H_
