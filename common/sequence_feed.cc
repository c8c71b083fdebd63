#include "common/sequence_feed.h"

#include <algorithm>
#include <utility>

namespace suishin {

SequenceFeed::SequenceFeed(int64_t last_sequence)
    : last_(last_sequence), wakeups_(std::make_unique<WorkQueue>("feed-wakeups")) {}

SequenceFeed::~SequenceFeed() { wakeups_.reset(); }

void SequenceFeed::Published(int64_t last, const std::vector<FeedEntry>& entries) {
  if (entries.empty()) {
    Published(last);
    return;
  }
  std::vector<std::pair<Wake, int64_t>> due;
  {
    absl::MutexLock lock(&mu_);
    last_ = std::max({last_, last, entries.back().sequence});
    size_t kept = 0;
    for (Waiter& waiter : waiters_) {
      int64_t woken_at = -1;
      for (const FeedEntry& entry : entries) {
        if (entry.sequence <= waiter.seen) continue;
        if (!waiter.wants || waiter.wants(entry)) {
          woken_at = entry.sequence;
          break;
        }
      }
      if (woken_at >= 0) {
        due.emplace_back(std::move(waiter.wake), woken_at - 1);
        continue;
      }
      // Nothing wanted up to last_: remember it, so the reader skips it.
      waiter.seen = std::max(waiter.seen, last_);
      if (&waiters_[kept] != &waiter) waiters_[kept] = std::move(waiter);
      ++kept;
    }
    waiters_.resize(kept);
  }
  WakeLater(std::move(due));
}

void SequenceFeed::Published(int64_t sequence) {
  std::vector<std::pair<Wake, int64_t>> due;
  {
    absl::MutexLock lock(&mu_);
    last_ = std::max(last_, sequence);
    size_t kept = 0;
    for (Waiter& waiter : waiters_) {
      if (waiter.seen < last_) {
        due.emplace_back(std::move(waiter.wake), waiter.seen);
        continue;
      }
      if (&waiters_[kept] != &waiter) waiters_[kept] = std::move(waiter);
      ++kept;
    }
    waiters_.resize(kept);
  }
  WakeLater(std::move(due));
}

void SequenceFeed::WakeLater(std::vector<std::pair<Wake, int64_t>> due) {
  if (due.empty()) return;
  wakeups_->Schedule([due = std::move(due)] {
    for (const auto& [wake, skip_to] : due) wake(skip_to);
  });
}

int64_t SequenceFeed::last() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

bool SequenceFeed::WakeWhenPast(int64_t seen, Wants wants, Wake wake) {
  absl::MutexLock lock(&mu_);
  if (last_ > seen) return false;
  waiters_.push_back({seen, std::move(wants), std::move(wake)});
  return true;
}

size_t SequenceFeed::waiters() const {
  absl::MutexLock lock(&mu_);
  return waiters_.size();
}

}  // namespace suishin
