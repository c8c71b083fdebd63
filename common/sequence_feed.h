// SequenceFeed: tells the streams that follow a durable, ordered log (kpi-
// service's change log, notification-service's alert events) that it has
// grown.
//
// Writers call Published(sequence) after their unit of work commits; a stream
// that has sent everything up to the last sequence asks to be woken
// (WakeWhenPast) and reads the log again when it is. Wake-ups run on the
// publishing thread after the feed's lock is released, never on the thread
// that registers, so a waiter may hold its own lock while registering and
// take it again in the callback. Thread-safe.
#ifndef SUISHIN_COMMON_SEQUENCE_FEED_H_
#define SUISHIN_COMMON_SEQUENCE_FEED_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace suishin {

class SequenceFeed {
 public:
  explicit SequenceFeed(int64_t last_sequence = 0) : last_(last_sequence) {}

  SequenceFeed(const SequenceFeed&) = delete;
  SequenceFeed& operator=(const SequenceFeed&) = delete;

  // Records that changes up to `sequence` are committed and wakes waiters.
  void Published(int64_t sequence);

  // The last committed sequence.
  int64_t last() const;

  // Calls `wake` once, later, when a sequence greater than `seen` is
  // published, and returns true. Returns false without keeping `wake` when
  // one already is: the caller should read the log again.
  bool WakeWhenPast(int64_t seen, std::function<void()> wake);

 private:
  struct Waiter {
    int64_t seen;
    std::function<void()> wake;
  };

  mutable absl::Mutex mu_;
  int64_t last_ ABSL_GUARDED_BY(mu_);
  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_SEQUENCE_FEED_H_
