#include "services/notification/event_log.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/proto_util.h"
#include "common/status_macros.h"
#include "services/notification/alert_filter.h"
#include "services/notification/webhook_payload.h"

namespace suishin::notification {

v1::AlertHistoryEntry HistoryEntry(const v1::Alert& alert, absl::Time now, absl::string_view note) {
  v1::AlertHistoryEntry entry;
  *entry.mutable_time() = ToProtoTimestamp(now);
  entry.set_state(alert.state());
  entry.set_severity(alert.severity());
  *entry.mutable_values() = alert.values();
  entry.set_note(std::string(note));
  return entry;
}

absl::Status RecordTransition(NotificationTransaction& tx, v1::EventKind kind,
                              const v1::Alert& alert, absl::Time now, absl::string_view note,
                              const std::vector<v1::Webhook>& webhooks, WriteOutcome& outcome) {
  RETURN_IF_ERROR(tx.AppendHistory(alert.fingerprint(), HistoryEntry(alert, now, note)));
  if (alert.silenced()) return absl::OkStatus();
  v1::AlertEvent event;
  event.set_kind(kind);
  *event.mutable_time() = ToProtoTimestamp(now);
  *event.mutable_alert() = alert;
  event.mutable_alert()->clear_history();
  ASSIGN_OR_RETURN(int64_t id, tx.AppendEvent(event));
  event.set_id(id);
  FeedEntry& entry = outcome.events.emplace_back();
  entry.sequence = id;
  entry.kpi_id = alert.kpi_id();
  entry.region_id = alert.region_id();
  entry.severity = alert.severity();
  entry.rule = alert.rule();
  std::string payload;
  for (const v1::Webhook& webhook : webhooks) {
    if (!Matches(webhook.filter(), alert)) continue;
    if (payload.empty()) payload = WebhookPayload(event, now);
    Delivery delivery;
    delivery.webhook_id = webhook.id();
    delivery.event_id = id;
    delivery.payload = payload;
    delivery.next_attempt = now;
    RETURN_IF_ERROR(tx.AddDelivery(delivery));
    outcome.outbox_added = true;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<EventLog>> EventLog::Open(NotificationStore* store) {
  std::unique_ptr<EventLog> log(new EventLog(store));
  int64_t last_event = 0;
  RETURN_IF_ERROR(store->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(last_event, tx.LastEventId());
    return absl::OkStatus();
  }));
  log->feed_.Published(last_event);
  return log;
}

absl::StatusOr<int64_t> EventLog::Cursor() {
  int64_t cursor = 1;
  RETURN_IF_ERROR(store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(cursor, tx.Cursor());
    return absl::OkStatus();
  }));
  return cursor;
}

absl::StatusOr<LogBatch<v1::AlertEvent>> EventLog::ReadEvents(int64_t after_id,
                                                              const v1::AlertFilter& filter,
                                                              int limit, int max_examined) {
  LogBatch<v1::AlertEvent> batch;
  batch.scanned_through = after_id;
  const int chunk = std::max(1, std::min(limit, max_examined));
  RETURN_IF_ERROR(store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    int examined = 0;
    while (examined < max_examined) {
      const int want = std::min(chunk, max_examined - examined);
      ASSIGN_OR_RETURN(std::vector<v1::AlertEvent> events, tx.Events(batch.scanned_through, want));
      if (events.empty()) break;
      examined += static_cast<int>(events.size());
      batch.scanned_through = events.back().id();
      for (v1::AlertEvent& event : events) {
        if (Matches(filter, event.alert())) batch.entries.push_back(std::move(event));
      }
      // Stop at a stretch with matches (what follows the last match is read
      // again next time: at most one chunk), or at the end of the log.
      if (!batch.entries.empty() || static_cast<int>(events.size()) < want) break;
    }
    return absl::OkStatus();
  }));
  return batch;
}

}  // namespace suishin::notification
