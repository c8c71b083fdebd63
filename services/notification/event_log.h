// EventLog: the alert events notification-service serves (Subscribe reads
// them from the id a client last saw) and the cursor into kpi-service's
// change log, which advances in the same body as the evaluation it feeds.
//
// RecordTransition is how every room records a change of an alert: its
// history entry, its event (unless a silence holds the alert) and one
// outbox entry per webhook whose filter matches, in the caller's body, so
// all of it commits or none; the WriteOutcome says what to publish.
// Reads run on a snapshot beside the writer and never wait for it.
#ifndef SUISHIN_SERVICES_NOTIFICATION_EVENT_LOG_H_
#define SUISHIN_SERVICES_NOTIFICATION_EVENT_LOG_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/log_stream.h"
#include "common/sequence_feed.h"
#include "services/notification/notification_store.h"
#include "services/notification/notification_writer.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

// Records that `alert` (as it now is) went through `kind` at `now`: the
// history entry with `note`, then the event and the outbox entries for
// `webhooks` (all webhooks; each one's filter is checked) unless the alert
// is silenced.
absl::Status RecordTransition(NotificationTransaction& tx, v1::EventKind kind,
                              const v1::Alert& alert, absl::Time now, absl::string_view note,
                              const std::vector<v1::Webhook>& webhooks, WriteOutcome& outcome);

// The history entry of `alert` as it now is.
v1::AlertHistoryEntry HistoryEntry(const v1::Alert& alert, absl::Time now, absl::string_view note);

class EventLog {
 public:
  // `store` must outlive the log. Loads the last event id into the feed.
  static absl::StatusOr<std::unique_ptr<EventLog>> Open(NotificationStore* store);

  // Announces each event as it is committed, with its labels (the writer
  // publishes to it; Subscribe waits on it).
  SequenceFeed& feed() { return feed_; }

  // The next kpi-service change sequence to read (1 at first).
  absl::StatusOr<int64_t> Cursor();

  // Up to `limit` events after `after_id` that `filter` matches, in id
  // order, examining at most `max_examined` events: the batch says how far
  // it looked (LogBatch::scanned_through), so a filtered stream never reads
  // a stretch of non-matching events twice.
  absl::StatusOr<LogBatch<v1::AlertEvent>> ReadEvents(int64_t after_id,
                                                      const v1::AlertFilter& filter, int limit,
                                                      int max_examined = 4096);

 private:
  explicit EventLog(NotificationStore* store) : store_(store) {}

  NotificationStore* const store_;
  SequenceFeed feed_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_EVENT_LOG_H_
