// NotificationWriter: notification-service's one write path, in the shape
// of LevelDB's DBImpl::Write.
//
// Every write of the service (an evaluation and the cursor, an
// acknowledgement, a silence, a rule, a webhook, a dead-letter replay, the
// dispatcher's outbox updates) is a body handed to one BatchWriter, which
// commits what is waiting together (a savepoint per body, one durable
// commit) and then, on its thread and in commit order, runs each write's
// `done`. Before `done`, the writer publishes what the body changed, as its
// WriteOutcome says: the events to the feed Subscribe waits on, the alerts
// to the Redis mirror, "the outbox has work" to the dispatcher's signal and
// the KPIs whose rules changed to the follower's.
//
// `done` is called exactly once, on the writer's thread (or at once on the
// caller's with a refusal: the body could not be made, or too many writes
// wait: RESOURCE_EXHAUSTED naming --max_queued_writes), and must be quick.
// SubmitAndWait and Write block: for background threads, never for a gRPC
// thread or a `done`.
//
// Thread-safe. The destructor commits the writes still queued, calling
// their `done`, before it returns.
#ifndef SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_WRITER_H_
#define SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_WRITER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/batch_writer.h"
#include "common/limits.h"
#include "common/sequence_feed.h"
#include "common/work_signal.h"
#include "services/notification/alert_mirror.h"
#include "services/notification/event_sync.h"
#include "services/notification/leader_lease.h"
#include "services/notification/notification_store.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

// What one write changed, filled by its body and published after its
// commit. A body that fails leaves it unpublished.
struct WriteOutcome {
  // Alerts as they now are (the Redis mirror).
  std::vector<v1::Alert> changed;
  // One per event appended, in id order (the feed).
  std::vector<FeedEntry> events;
  // Outbox entries were added (the dispatcher is woken).
  bool outbox_added = false;
  // The KPI whose rules changed ("" for all): the follower evaluates again.
  std::optional<std::string> rules_changed;
};

class NotificationWriter {
 public:
  using Body = NotificationStore::Body;
  // Told a write's outcome; see the file comment for when and where.
  using Done = std::function<void(absl::Status)>;

  // Where a commit's outcome goes. All must outlive the writer; `mirror`,
  // `outbox` and `rules_changed` may be null (nobody listens).
  struct Targets {
    SequenceFeed* events = nullptr;
    AlertMirror* mirror = nullptr;
    WorkSignal* outbox = nullptr;
    WorkSignal* rules_changed = nullptr;
  };

  struct Options {
    // Writes that may wait for the writer (--max_queued_writes: the
    // process's limit) and writes committed together at most.
    size_t max_queued_writes = static_cast<size_t>(ProcessLimits().max_queued_writes);
    size_t max_group = 256;
  };

  // What the write path has done so far.
  struct Stats {
    // Writes handed to the writer, counted once they are in its queue.
    int64_t submitted = 0;
    // Groups committed, and the writes in them.
    int64_t groups = 0;
    int64_t writes = 0;
  };

  // `store` must outlive the writer.
  NotificationWriter(NotificationStore* store, Targets targets, Options options);
  NotificationWriter(const NotificationWriter&) = delete;
  NotificationWriter& operator=(const NotificationWriter&) = delete;

  // Hands `body` to the writer, or calls `done` with its refusal; on a
  // durable commit publishes `outcome` (may be null) before calling `done`.
  void Submit(absl::StatusOr<Body> body, std::shared_ptr<WriteOutcome> outcome, Done done);
  // Submit, waiting for the commit and the publication.
  absl::Status SubmitAndWait(Body body, std::shared_ptr<WriteOutcome> outcome);
  // A body that publishes nothing (the dispatcher's outbox updates).
  absl::Status Write(Body body) { return SubmitAndWait(std::move(body), nullptr); }

  Stats stats() const;

  // With replicas on one store, set before the first write: `lease` fences
  // every write made while this replica leads (its token, checked in the
  // write's transaction); `events` tells the feed of every replica's events
  // in id order after each commit, in place of this writer's own.
  struct Replicas {
    const LeaderLease* lease = nullptr;
    EventSync* events = nullptr;
  };
  void set_replicas(Replicas replicas) { replicas_ = replicas; }

 private:
  void Publish(const WriteOutcome& outcome);

  const Targets targets_;
  Replicas replicas_;
  std::atomic<int64_t> submitted_{0};
  // Last: destroyed first, committing what is queued while the rest is here.
  BatchWriter<NotificationTransaction> writer_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_WRITER_H_
