// WebhookRegistry: the webhooks alerts are delivered to, with their secrets
// and filters, and the dead letters of deliveries that gave up.
//
// Delivery itself is elsewhere: the payload (webhook_payload.h), the outbox
// entries an event adds (RecordTransition, event_log.h), the dispatcher
// (webhook_dispatcher.h), the signer (webhook_signer.h) and HTTP
// (http_client.h).
//
// Writes check their request on the calling thread (INVALID_ARGUMENT naming
// the field or the flag of the limit; a URL's host is resolved and checked
// against --webhook_allow_targets here; `done` at once), then hand the
// writer a body (NOT_FOUND; RESOURCE_EXHAUSTED naming --max_webhooks), all
// or nothing; `done` on the writer thread once durable. A secret is shown
// once, in the answer that made it; listings never show one.
// Thread-safe.
#ifndef SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_REGISTRY_H_
#define SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_REGISTRY_H_

#include <utility>

#include "absl/status/status.h"
#include "common/clock.h"
#include "services/notification/notification_store.h"
#include "services/notification/notification_writer.h"
#include "services/notification/webhook_targets.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

class WebhookRegistry {
 public:
  using Done = NotificationWriter::Done;

  struct Options {
    // Webhooks registered at most (--max_webhooks).
    int max_webhooks = 100;
    // Characters of a webhook URL (--max_webhook_url_chars).
    int max_url_chars = 2000;
    // Where a webhook may point (--webhook_allow_targets): every address a
    // new webhook's host resolves to is checked when it is registered.
    TargetPolicy targets;
  };

  // All must outlive this.
  WebhookRegistry(NotificationStore* store, NotificationWriter* writer, const Clock* clock,
                  Options options)
      : store_(store), writer_(writer), clock_(clock), options_(std::move(options)) {}

  void CreateWebhook(const v1::CreateWebhookRequest& request, v1::CreateWebhookResponse* response,
                     Done done);
  void DeleteWebhook(const v1::DeleteWebhookRequest& request, v1::DeleteWebhookResponse* response,
                     Done done);
  // A new secret (given or made), the old one signing beside it for the
  // overlap (24 h unless set; at most 30 days).
  void RotateWebhookSecret(const v1::RotateWebhookSecretRequest& request,
                           v1::RotateWebhookSecretResponse* response, Done done);
  absl::Status ListWebhooks(const v1::ListWebhooksRequest& request,
                            v1::ListWebhooksResponse* response);

  absl::Status ListDeadLetters(const v1::ListDeadLettersRequest& request,
                               v1::ListDeadLettersResponse* response);
  // Puts a dead letter back in the outbox, due now (FAILED_PRECONDITION when
  // its webhook was deleted).
  void ReplayDeadLetter(const v1::ReplayDeadLetterRequest& request,
                        v1::ReplayDeadLetterResponse* response, Done done);

 private:
  NotificationStore* const store_;
  NotificationWriter* const writer_;
  const Clock* const clock_;
  const Options options_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_REGISTRY_H_
