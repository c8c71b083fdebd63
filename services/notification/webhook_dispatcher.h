// WebhookDispatcher: delivers the outbox to webhooks, following Standard
// Webhooks.
//
// One thread takes due deliveries from the durable outbox and POSTs each
// event's JSON with `webhook-id` (the event's id, the same on every retry),
// `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
// "id.timestamp.body">` under the endpoint's secret. A 2xx answer removes the
// delivery. A 5xx, a 429, a timeout or a connection failure schedules a retry
// after the next of `retry_delays` (seconds, then minutes, then hours); when
// they are used up, and at once for any other answer (a 4xx), the delivery
// becomes a dead letter that ReplayDeadLetter can send again. A delivery is
// removed only after the endpoint answered 2xx, so a crash sends it again:
// receivers drop duplicates by webhook-id.
#ifndef SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_DISPATCHER_H_
#define SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_DISPATCHER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "services/notification/http_client.h"
#include "services/notification/notification_store.h"

namespace suishin::notification {

// Standard Webhooks' schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
std::vector<absl::Duration> DefaultRetryDelays();

// Parses "5s,5m,30m,2h" (absl durations). INVALID_ARGUMENT naming `field`.
absl::StatusOr<std::vector<absl::Duration>> ParseRetryDelays(absl::string_view field,
                                                             absl::string_view text);

// The webhook-id of an event.
std::string WebhookMessageId(int64_t event_id);

class WebhookDispatcher {
 public:
  struct Options {
    std::vector<absl::Duration> retry_delays = DefaultRetryDelays();
    absl::Duration timeout = absl::Seconds(5);
  };

  // `store`, `transport` and `clock` must outlive the dispatcher.
  WebhookDispatcher(NotificationStore* store, WebhookTransport* transport, const Clock* clock,
                    Options options);
  ~WebhookDispatcher();

  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void Start();
  void Stop();
  // New deliveries are due: look now rather than at the next planned time.
  void Wake();

 private:
  void Loop();
  // Sends what is due; returns when the next delivery is due (or nullopt).
  absl::StatusOr<std::optional<absl::Time>> DeliverDue();

  NotificationStore* store_;
  WebhookTransport* transport_;
  const Clock* clock_;
  Options options_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_DISPATCHER_H_
