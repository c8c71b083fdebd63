// LogStreamReactor: a server stream over a durable, ordered log — replay
// from a position, then follow new entries as a SequenceFeed announces them.
//
// kpi-service's WatchChanges (the change log) and notification-service's
// Subscribe (alert events) are both this: the client names the last entry it
// saw, the reactor reads the entries after it from the store in batches,
// writes them one at a time, and when the log is drained waits on the feed.
// A client that reconnects with the last key it received misses nothing and
// sees nothing twice.
//
// Filtered streams never rescan: a read says how far it looked
// (LogBatch::scanned_through), even when nothing in that stretch matched, and
// the reactor moves past it; while waiting, the feed wakes the stream only
// for an entry its filter wants and tells it how far it may skip. At most one
// batch of entries is buffered per stream, and a slow client only holds up
// its own stream. Store reads (short, on a reader connection) run on gRPC's
// threads and the feed's wake-up thread, never on the writer's.
//
// Example:
//   return new LogStreamReactor<v1::Change, v1::WatchChangesResponse>(
//       &feed, request->from_sequence() - 1,
//       [this](int64_t after, int limit) { return catalog_->ReadChanges(after, "", limit); },
//       [](v1::Change change, v1::WatchChangesResponse* response) {
//         *response->mutable_change() = std::move(change);
//       },
//       [](const v1::Change& change) { return change.sequence(); });
#ifndef SUISHIN_COMMON_LOG_STREAM_H_
#define SUISHIN_COMMON_LOG_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"
#include "common/sequence_feed.h"

namespace suishin {

// What one read of a log found: the entries that match (in key order) and
// the last key it examined, matching or not: at least the last entry's key,
// and, when the read reached the end of the log, the log's last key (so a
// stream whose filter matched nothing moves past everything it looked at).
template <typename Entry>
struct LogBatch {
  std::vector<Entry> entries;
  int64_t scanned_through = 0;
};

template <typename Entry, typename Response>
class LogStreamReactor : public grpc::ServerWriteReactor<Response> {
 public:
  // Up to `limit` matching entries with keys greater than `after`.
  using Reader = std::function<absl::StatusOr<LogBatch<Entry>>(int64_t after, int limit)>;
  // Puts an entry into the response to write.
  using Filler = std::function<void(Entry entry, Response* response)>;
  // An entry's position in the log (its sequence or id).
  using Key = std::function<int64_t(const Entry& entry)>;

  // Starts sending the entries after `after`. `feed` must outlive the stream.
  // `wants` tells the feed which published entries this stream's reader
  // would return (empty: all). `on_done` runs when the stream ends (to
  // release a stream slot).
  LogStreamReactor(SequenceFeed* feed, int64_t after, Reader read, Filler fill, Key key,
                   SequenceFeed::Wants wants = nullptr, std::function<void()> on_done = nullptr,
                   int batch = 256)
      : feed_(feed),
        read_(std::move(read)),
        fill_(std::move(fill)),
        key_(std::move(key)),
        wants_(std::move(wants)),
        on_done_(std::move(on_done)),
        batch_(batch),
        state_(std::make_shared<State>()),
        after_(std::max<int64_t>(after, 0)) {
    absl::MutexLock lock(&state_->mu);
    state_->reactor = this;
    PumpLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&state_->mu);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    PumpLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&state_->mu);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&state_->mu);
      state_->reactor = nullptr;
    }
    if (on_done_) on_done_();
    delete this;
  }

 private:
  // Shared with the feed's wake-up callbacks, so a wake-up after the stream
  // ended finds `reactor` null and does nothing.
  struct State {
    absl::Mutex mu;
    LogStreamReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
  };

  // Writes the next buffered entry; reads more when the buffer is empty; asks
  // the feed for a wake-up when the log is drained.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (finished_ || writing_ || waiting_) return;
    while (buffer_.empty()) {
      // The last read looked past its last match: never look there again.
      after_ = std::max(after_, scanned_);
      const int64_t published = feed_->last();
      absl::StatusOr<LogBatch<Entry>> read = read_(after_, batch_);
      if (!read.ok()) {
        FinishLocked(ToGrpcStatus(read.status()));
        return;
      }
      for (Entry& entry : read->entries) buffer_.push_back(std::move(entry));
      scanned_ = read->scanned_through;
      if (!buffer_.empty()) break;
      // Nothing matched up to where the read looked: never look there again,
      // and read on while that is short of what is published.
      const int64_t before = after_;
      after_ = std::max(after_, read->scanned_through);
      if (after_ < published && after_ > before) continue;
      // Everything published up to `published` has been read: wait for more,
      // or read again if more came in the meantime.
      std::shared_ptr<State> state = state_;
      waiting_ = feed_->WakeWhenPast(std::max(published, after_), wants_, [state](int64_t skip) {
        absl::MutexLock lock(&state->mu);
        LogStreamReactor* reactor = state->reactor;
        if (reactor == nullptr) return;
        reactor->waiting_ = false;
        reactor->after_ = std::max(reactor->after_, skip);
        reactor->PumpLocked();
      });
      if (waiting_) return;
    }
    after_ = key_(buffer_.front());
    response_.Clear();
    fill_(std::move(buffer_.front()), &response_);
    buffer_.pop_front();
    writing_ = true;
    this->StartWrite(&response_);
  }

  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (finished_) return;
    finished_ = true;
    this->Finish(status);
  }

  SequenceFeed* feed_;
  Reader read_;
  Filler fill_;
  Key key_;
  SequenceFeed::Wants wants_;
  std::function<void()> on_done_;
  const int batch_;
  std::shared_ptr<State> state_;
  int64_t after_;
  // How far the read that filled the buffer looked.
  int64_t scanned_ = 0;
  std::deque<Entry> buffer_;
  Response response_;
  bool writing_ = false;
  bool waiting_ = false;
  bool finished_ = false;
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_LOG_STREAM_H_
