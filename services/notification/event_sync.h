// EventSync: keeps one notification-service replica's event feed in step
// with the events every replica sharing its PostgreSQL store appends.
//
// Subscribe streams wait on this replica's SequenceFeed. With one process
// the write path tells the feed of each commit's events. With several, the
// leader's evaluations (and any replica's acknowledgements) append events
// elsewhere: EventSync reads the events after the last it told the feed of,
// in id order, and tells it, labelled as the write path labels them
// (filtered streams wake only for what they want). It runs after each local
// commit (NotificationWriter), and on its own thread, woken by the store's
// announcements (NOTIFY) or every poll interval when none come. Rule
// changes announced by other replicas raise `rules_changed`, so the leader
// evaluates their KPIs again at once.
//
// Thread-safe.
#ifndef SUISHIN_SERVICES_NOTIFICATION_EVENT_SYNC_H_
#define SUISHIN_SERVICES_NOTIFICATION_EVENT_SYNC_H_

#include <atomic>
#include <cstdint>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/sequence_feed.h"
#include "common/work_signal.h"
#include "services/notification/notification_store.h"

namespace suishin::notification {

class EventSync {
 public:
  struct Options {
    // How long the thread waits for an announcement before it looks anyway.
    absl::Duration poll_interval = absl::Milliseconds(500);
  };

  // All must outlive the sync; `rules_changed` may be null. `applied`: the
  // last event id the feed has been told of.
  EventSync(NotificationStore* store, SequenceFeed* feed, WorkSignal* rules_changed,
            int64_t applied, Options options);
  ~EventSync();

  EventSync(const EventSync&) = delete;
  EventSync& operator=(const EventSync&) = delete;

  void Start();
  void Stop();

  // Tells the feed of every event committed before the call.
  absl::Status CatchUp();

 private:
  void Loop();

  NotificationStore* const store_;
  SequenceFeed* const feed_;
  WorkSignal* const rules_changed_;
  const Options options_;
  absl::Mutex fold_mu_;
  std::atomic<int64_t> applied_;
  absl::Notification stopping_;
  std::thread thread_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_EVENT_SYNC_H_
