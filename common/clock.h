// Clock: where services get the time from, so tests and replays can pin it.
//
// RealClock is the system clock (SystemClock(), the process's one).
// FixedClock stays at the time it is given (settable, thread-safe):
// notification-service's --now flag uses it to evaluate reporting deadlines
// as of a chosen day, and tests step it. plan-service and kpi-service stamp
// their writes with the Clock they are given the same way.
#ifndef SUISHIN_COMMON_CLOCK_H_
#define SUISHIN_COMMON_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace suishin {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// The process's one RealClock: what a service uses unless a test gives it
// another (every service takes a `const Clock*`, the one time seam).
inline const Clock* SystemClock() {
  static const RealClock* const clock = new RealClock();
  return clock;
}

class FixedClock : public Clock {
 public:
  explicit FixedClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time now) {
    absl::MutexLock lock(&mu_);
    now_ = now;
  }
  void Advance(absl::Duration by) {
    absl::MutexLock lock(&mu_);
    now_ += by;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_CLOCK_H_
