#include "common/work_queue.h"

#include <utility>

namespace suishin {

WorkQueue::WorkQueue(std::string name) : name_(std::move(name)), thread_([this] { Loop(); }) {}

WorkQueue::~WorkQueue() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void WorkQueue::Schedule(std::function<void()> work) {
  absl::MutexLock lock(&mu_);
  pending_.push_back(std::move(work));
}

void WorkQueue::Loop() {
  while (true) {
    std::function<void()> work;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkQueue* queue) ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue->mu_) {
            return queue->stopping_ || !queue->pending_.empty();
          },
          this));
      if (pending_.empty()) return;  // stopping, and nothing left
      work = std::move(pending_.front());
      pending_.pop_front();
    }
    work();
  }
}

}  // namespace suishin
