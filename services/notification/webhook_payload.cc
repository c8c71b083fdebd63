#include "services/notification/webhook_payload.h"

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"

namespace suishin::notification {

absl::string_view WebhookEventType(v1::EventKind kind) {
  switch (kind) {
    case v1::EVENT_KIND_FIRED:
      return "alert.fired";
    case v1::EVENT_KIND_RESOLVED:
      return "alert.resolved";
    case v1::EVENT_KIND_ACKNOWLEDGED:
      return "alert.acknowledged";
    case v1::EVENT_KIND_SEVERITY_CHANGED:
      return "alert.severity_changed";
    default:
      return "alert.unknown";
  }
}

std::string WebhookPayload(const v1::AlertEvent& event, absl::Time now) {
  return absl::StrCat("{\"type\":\"", WebhookEventType(event.kind()), "\",\"timestamp\":\"",
                      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone()),
                      "\",\"data\":", ToJson(event, /*compact=*/true), "}");
}

}  // namespace suishin::notification
