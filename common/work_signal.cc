#include "common/work_signal.h"

#include <utility>

namespace suishin {

void WorkSignal::Raise(absl::string_view key) {
  absl::MutexLock lock(&mu_);
  if (key.empty()) {
    raised_.all = true;
  } else {
    raised_.keys.insert(std::string(key));
  }
  woken_ = true;
}

void WorkSignal::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void WorkSignal::Close() {
  absl::MutexLock lock(&mu_);
  raised_.closed = true;
  woken_ = true;
}

WorkSignal::Raised WorkSignal::WaitUntil(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(&woken_), deadline);
  Raised taken;
  taken.all = raised_.all;
  taken.keys.swap(raised_.keys);
  taken.closed = raised_.closed;
  raised_.all = false;
  woken_ = raised_.closed;  // closed stays woken
  return taken;
}

}  // namespace suishin
