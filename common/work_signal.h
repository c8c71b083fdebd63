// WorkSignal: a one-way hand-off from the threads that make work to the one
// thread that does it.
//
// A producer raises a key (what to do again; "" for everything) or only
// wakes the consumer; the consumer waits until something was raised, a
// deadline passes or the signal is closed, and takes what was raised since
// it last looked. Made before both sides and handed to each, it lets a
// producer wake a consumer built after it without a pointer set later: the
// wiring goes one way (notification-service's writer raises "the outbox has
// work" and "these KPIs' rules changed"; the dispatcher and the follower
// wait on them).
//
// Example:
//   WorkSignal rules_changed;
//   writer.Publish(..., &rules_changed);            // rules_changed.Raise("kpi-1")
//   WorkSignal::Raised raised = rules_changed.WaitUntil(deadline);
//   if (raised.closed) return;
//
// Thread-safe. A raise is never lost: one made while the consumer works is
// there at its next wait.
#ifndef SUISHIN_COMMON_WORK_SIGNAL_H_
#define SUISHIN_COMMON_WORK_SIGNAL_H_

#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace suishin {

class WorkSignal {
 public:
  // What was raised since the consumer last looked.
  struct Raised {
    // Raise("") was called: everything is to be done again.
    bool all = false;
    std::set<std::string> keys;
    // Close() was called: the consumer should stop.
    bool closed = false;
  };

  WorkSignal() = default;
  WorkSignal(const WorkSignal&) = delete;
  WorkSignal& operator=(const WorkSignal&) = delete;

  // Adds `key` ("" for everything) and wakes the consumer.
  void Raise(absl::string_view key);
  // Wakes the consumer with nothing to add (new work it keeps itself).
  void Wake();
  // Wakes the consumer for good: every later wait returns at once, closed.
  void Close();

  // Waits until something was raised or woken, `deadline`, or Close, and
  // takes what was raised. Returns at once when something is waiting.
  Raised WaitUntil(absl::Time deadline);
  // What was raised, without waiting.
  Raised Take() { return WaitUntil(absl::InfinitePast()); }

 private:
  absl::Mutex mu_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  Raised raised_ ABSL_GUARDED_BY(mu_);
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_WORK_SIGNAL_H_
