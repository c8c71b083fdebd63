// The body a webhook delivery sends: Standard Webhooks' payload shape
// ({"type", "timestamp", "data"}), "data" being the AlertEvent in the
// protobuf JSON mapping. Fixed when the event is made, so every retry sends
// the same bytes (and the same signature input).
#ifndef SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_PAYLOAD_H_
#define SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_PAYLOAD_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

// "alert.fired", "alert.resolved", "alert.acknowledged",
// "alert.severity_changed" ("alert.unknown" for anything else).
absl::string_view WebhookEventType(v1::EventKind kind);

// The payload of `event` (with its id), stamped `now` to the millisecond.
std::string WebhookPayload(const v1::AlertEvent& event, absl::Time now);

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_PAYLOAD_H_
