// LogStreamReactor: a server stream over a durable, ordered log — replay
// from a position, then follow new entries as a SequenceFeed announces them.
//
// kpi-service's WatchChanges (the change log) and notification-service's
// Subscribe (alert events) are both this: the client names the last entry it
// saw, the reactor reads the entries after it from the store in batches,
// writes them one at a time, and when the log is drained waits on the feed.
// A client that reconnects with the last key it received misses nothing and
// sees nothing twice. Nothing blocks a gRPC thread except the short store
// reads.
//
// Example:
//   return new LogStreamReactor<v1::Change, v1::WatchChangesResponse>(
//       &feed, request->from_sequence() - 1,
//       [this](int64_t after, int limit) { return catalog_->ReadChanges(after + 1, "", limit); },
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

template <typename Entry, typename Response>
class LogStreamReactor : public grpc::ServerWriteReactor<Response> {
 public:
  // Up to `limit` entries with keys greater than `after`, in key order.
  using Reader = std::function<absl::StatusOr<std::vector<Entry>>(int64_t after, int limit)>;
  // Puts an entry into the response to write.
  using Filler = std::function<void(Entry entry, Response* response)>;
  // An entry's position in the log (its sequence or id).
  using Key = std::function<int64_t(const Entry& entry)>;

  // Starts sending the entries after `after`. `feed` must outlive the stream.
  // When entries are filtered (a reader that skips some), the feed's
  // sequences are the log's, the keys the entries'.
  LogStreamReactor(SequenceFeed* feed, int64_t after, Reader read, Filler fill, Key key,
                   int batch = 256)
      : feed_(feed),
        read_(std::move(read)),
        fill_(std::move(fill)),
        key_(std::move(key)),
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
      const int64_t published = feed_->last();
      absl::StatusOr<std::vector<Entry>> entries = read_(after_, batch_);
      if (!entries.ok()) {
        FinishLocked(ToGrpcStatus(entries.status()));
        return;
      }
      for (Entry& entry : *entries) buffer_.push_back(std::move(entry));
      if (!buffer_.empty()) break;
      // Everything published up to `published` has been read: wait for more,
      // or read again if more came in the meantime.
      std::shared_ptr<State> state = state_;
      waiting_ = feed_->WakeWhenPast(std::max(published, after_), [state] {
        absl::MutexLock lock(&state->mu);
        if (state->reactor == nullptr) return;
        state->reactor->waiting_ = false;
        state->reactor->PumpLocked();
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
  const int batch_;
  std::shared_ptr<State> state_;
  int64_t after_;
  std::deque<Entry> buffer_;
  Response response_;
  bool writing_ = false;
  bool waiting_ = false;
  bool finished_ = false;
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_LOG_STREAM_H_
