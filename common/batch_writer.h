// BatchWriter: a service's one write path, in the shape of LevelDB's
// DBImpl::Write.
//
// Every write of a service becomes a body (a function of the store's
// transaction) handed to Submit, which returns at once: the gRPC thread that
// called it goes back to serving. One writer thread takes every body waiting
// at that moment (up to max_group), runs them as one group through the
// store's group runner (one transaction, each body under its own savepoint,
// one durable commit for all of them) and then calls each body's `done`, in
// submission order, with the body's own status: OK only once its commit is
// durable; a body that is refused fails only its own caller, never the others
// of its group. Nothing here waits for a client: a body gets everything it
// needs before it is submitted.
//
// `done` runs on the writer thread, after the commit, before the next group
// starts: the place to publish what the write changed (cache generations,
// stream wake-ups) and finish the RPC, in commit order. It must be quick and
// must not Write() (that would wait for itself).
//
// Bounded: at most max_queued bodies wait; beyond that Submit answers
// RESOURCE_EXHAUSTED at once, naming the limit. Thread-safe. The destructor
// commits what is queued, then joins.
//
// Example:
//   BatchWriter<KpiTransaction> writer(
//       [store](const auto& bodies, auto* outcomes) { return store->RunGroup(bodies, outcomes); },
//       BatchWriter<KpiTransaction>::Options());
//   writer.Submit([&](KpiTransaction& tx) { return tx.PutActual(actual); },
//                 [reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
#ifndef SUISHIN_COMMON_BATCH_WRITER_H_
#define SUISHIN_COMMON_BATCH_WRITER_H_

#include <pthread.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace suishin {

template <typename Tx>
class BatchWriter {
 public:
  // One write: reads and writes through the transaction; its status decides
  // whether it is kept.
  using Body = std::function<absl::Status(Tx&)>;
  // Told the outcome of one write, on the writer thread, after the commit.
  using Done = std::function<void(absl::Status)>;
  // Runs `bodies` in one transaction, each all or nothing, commits durably
  // and fills one status per body (see Database::InGroupTransaction).
  using GroupRunner =
      std::function<absl::Status(const std::vector<const Body*>&, std::vector<absl::Status>*)>;

  struct Options {
    // The thread's name in logs and errors.
    std::string name = "writer";
    // Writes that may wait; more are refused with RESOURCE_EXHAUSTED.
    size_t max_queued = 10000;
    // Writes committed together at most.
    size_t max_group = 256;
  };

  // What the writer has done so far.
  struct Stats {
    int64_t groups = 0;
    int64_t writes = 0;
    int64_t refused_full = 0;
  };

  BatchWriter(GroupRunner run_group, Options options)
      : run_group_(std::move(run_group)),
        options_(std::move(options)),
        thread_([this] { Loop(); }) {}

  ~BatchWriter() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Queues `body`; `done` is called once with its outcome. When the queue is
  // full (or the writer is stopping), `done` is called at once, on this
  // thread, with RESOURCE_EXHAUSTED (UNAVAILABLE when stopping).
  void Submit(Body body, Done done) {
    absl::Status refused;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        refused = absl::UnavailableError(absl::StrCat(options_.name, " is shutting down"));
      } else if (queue_.size() >= options_.max_queued) {
        ++stats_.refused_full;
        refused = absl::ResourceExhaustedError(
            absl::StrCat("too many writes waiting: ", queue_.size(), " queued, the limit is ",
                         options_.max_queued, " (--max_queued_writes); try again shortly"));
      } else {
        queue_.push_back({std::move(body), std::move(done)});
        return;
      }
    }
    done(std::move(refused));
  }

  // Submits `body` and waits for its outcome. For threads that may block
  // (background workers, start-up, tests), never the writer's own `done`.
  absl::Status Write(Body body) {
    absl::Notification finished;
    absl::Status outcome;
    Submit(std::move(body), [&](absl::Status status) {
      outcome = std::move(status);
      finished.Notify();
    });
    finished.WaitForNotification();
    return outcome;
  }

  Stats stats() const {
    absl::MutexLock lock(&mu_);
    return stats_;
  }

 private:
  struct Pending {
    Body body;
    Done done;
  };

  bool ReadyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !queue_.empty();
  }

  void Loop() {
    // The thread's name in top, perf and gdb (at most 15 characters).
    pthread_setname_np(pthread_self(), options_.name.substr(0, 15).c_str());
    std::vector<Pending> group;
    std::vector<const Body*> bodies;
    std::vector<absl::Status> outcomes;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &BatchWriter::ReadyLocked));
        if (queue_.empty()) return;  // stopping, and everything committed
        while (!queue_.empty() && group.size() < options_.max_group) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      bodies.clear();
      for (const Pending& pending : group) bodies.push_back(&pending.body);
      outcomes.clear();
      run_group_(bodies, &outcomes).IgnoreError();  // each outcome carries it
      outcomes.resize(group.size(), absl::InternalError("the store gave no outcome"));
      {
        absl::MutexLock lock(&mu_);
        ++stats_.groups;
        stats_.writes += static_cast<int64_t>(group.size());
      }
      for (size_t i = 0; i < group.size(); ++i) group[i].done(std::move(outcomes[i]));
      group.clear();
    }
  }

  const GroupRunner run_group_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_BATCH_WRITER_H_
