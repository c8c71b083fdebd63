// SequenceFeed: tells the streams that follow a durable, ordered log (kpi-
// service's change log, notification-service's alert events) that it has
// grown.
//
// The one writer calls Published after each commit, in commit order, with the
// entries it appended (their sequences and labels). A stream that has sent
// everything up to the last sequence asks to be woken (WakeWhenPast), saying
// which entries it wants; it is woken only when an entry it wants is
// published, and told how far it may skip: the entries before that one are
// known not to match, so a filtered stream never reads them again. Waking
// does no work on the publishing thread beyond matching labels: the wake-ups
// run on the feed's own thread, so the writer never waits for a stream's
// store read. Thread-safe.
#ifndef SUISHIN_COMMON_SEQUENCE_FEED_H_
#define SUISHIN_COMMON_SEQUENCE_FEED_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/work_queue.h"

namespace suishin {

// What a stream filter looks at in a published entry. Fields a log does not
// have stay empty (a KPI change has no severity).
struct FeedEntry {
  int64_t sequence = 0;
  std::string kpi_id;
  std::string region_id;
  int severity = 0;
  int rule = 0;
};

class SequenceFeed {
 public:
  // Which published entries a waiter wants; an empty function wants all.
  using Wants = std::function<bool(const FeedEntry&)>;
  // Called once on the feed's thread; `skip_to` is the last sequence known
  // not to be wanted (the reader may start after it).
  using Wake = std::function<void(int64_t skip_to)>;

  explicit SequenceFeed(int64_t last_sequence = 0);
  ~SequenceFeed();

  SequenceFeed(const SequenceFeed&) = delete;
  SequenceFeed& operator=(const SequenceFeed&) = delete;

  // Records that everything up to `last` is committed, labelled by `entries`:
  // in sequence order, each standing for the sequences from its own up to
  // the next entry's (a run of one KPI's changes is one entry), together
  // covering everything appended since the previous call. Wakes the waiters
  // that want one of them.
  void Published(int64_t last, const std::vector<FeedEntry>& entries);
  // Records that everything up to `sequence` is committed without saying
  // what: wakes every waiter past it.
  void Published(int64_t sequence);

  // The last committed sequence.
  int64_t last() const;

  // Calls `wake` once, later, when an entry after `seen` that `wants` accepts
  // is published, and returns true. Returns false without keeping `wake` when
  // sequences after `seen` are already published: the caller should read the
  // log again.
  bool WakeWhenPast(int64_t seen, Wants wants, Wake wake);

  // Waiters registered now (for tests and metrics).
  size_t waiters() const;

 private:
  struct Waiter {
    int64_t seen;
    Wants wants;
    Wake wake;
  };

  void WakeLater(std::vector<std::pair<Wake, int64_t>> due);

  mutable absl::Mutex mu_;
  int64_t last_ ABSL_GUARDED_BY(mu_);
  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  // Last: runs the wake-ups; joined (after running what is queued) first.
  std::unique_ptr<WorkQueue> wakeups_;
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_SEQUENCE_FEED_H_
