// WorkQueue: one background thread that runs scheduled functions in order.
//
// For work too long to run on a gRPC callback thread (a large import's
// transaction). The destructor runs what is already queued, then joins.
// Thread-safe.
//
// Example:
//   WorkQueue queue("imports");
//   queue.Schedule([reactor] { reactor->Apply(); });
#ifndef SUISHIN_COMMON_WORK_QUEUE_H_
#define SUISHIN_COMMON_WORK_QUEUE_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace suishin {

class WorkQueue {
 public:
  explicit WorkQueue(std::string name);
  ~WorkQueue();

  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Runs `work` on the queue's thread after everything scheduled before it.
  void Schedule(std::function<void()> work);

 private:
  void Loop();

  std::string name_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_WORK_QUEUE_H_
