#include "common/sequence_feed.h"

#include <algorithm>
#include <utility>

namespace suishin {

void SequenceFeed::Published(int64_t sequence) {
  std::vector<Waiter> due;
  {
    absl::MutexLock lock(&mu_);
    last_ = std::max(last_, sequence);
    auto keep = std::partition(waiters_.begin(), waiters_.end(),
                               [this](const Waiter& w)
                                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return w.seen >= last_; });
    std::move(keep, waiters_.end(), std::back_inserter(due));
    waiters_.erase(keep, waiters_.end());
  }
  for (Waiter& waiter : due) waiter.wake();
}

int64_t SequenceFeed::last() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

bool SequenceFeed::WakeWhenPast(int64_t seen, std::function<void()> wake) {
  absl::MutexLock lock(&mu_);
  if (last_ > seen) return false;
  waiters_.push_back({seen, std::move(wake)});
  return true;
}

}  // namespace suishin
