#include "services/notification/event_sync.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/strip.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace suishin::notification {
namespace {

// Events told to the feed per read.
constexpr int kPage = 1000;

}  // namespace

EventSync::EventSync(NotificationStore* store, SequenceFeed* feed, WorkSignal* rules_changed,
                     int64_t applied, Options options)
    : store_(store),
      feed_(feed),
      rules_changed_(rules_changed),
      options_(options),
      applied_(applied) {}

EventSync::~EventSync() { Stop(); }

void EventSync::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void EventSync::Stop() {
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  if (thread_.joinable()) thread_.join();
}

void EventSync::Loop() {
  std::unique_ptr<StoreListener> listener = store_->Listen();
  while (!stopping_.HasBeenNotified()) {
    std::vector<std::string> payloads;
    if (listener != nullptr) {
      listener->Wait(options_.poll_interval, &payloads);
    } else {
      stopping_.WaitForNotificationWithTimeout(options_.poll_interval);
    }
    if (stopping_.HasBeenNotified()) break;
    for (const std::string& payload : payloads) {
      absl::string_view kpi = payload;
      if (rules_changed_ != nullptr && absl::ConsumePrefix(&kpi, "rules:")) {
        rules_changed_->Raise(std::string(kpi));
      }
    }
    if (absl::Status status = CatchUp(); !status.ok()) {
      LogWarning("replica_catch_up_failed", {{"error", std::string(status.message())}});
    }
  }
}

absl::Status EventSync::CatchUp() {
  int64_t head = 0;
  RETURN_IF_ERROR(store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(head, tx.LastEventId());
    return absl::OkStatus();
  }));
  if (head <= applied_.load()) return absl::OkStatus();
  absl::MutexLock lock(&fold_mu_);
  while (applied_.load() < head) {
    std::vector<v1::AlertEvent> events;
    RETURN_IF_ERROR(store_->Read([&](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(events, tx.Events(applied_.load(), kPage));
      return absl::OkStatus();
    }));
    if (events.empty()) break;
    std::vector<FeedEntry> entries;
    entries.reserve(events.size());
    for (const v1::AlertEvent& event : events) {
      // Labelled as RecordTransition labels a new event (event_log.cc).
      FeedEntry& entry = entries.emplace_back();
      entry.sequence = event.id();
      entry.kpi_id = event.alert().kpi_id();
      entry.region_id = event.alert().region_id();
      entry.severity = event.alert().severity();
      entry.rule = event.alert().rule();
    }
    applied_ = events.back().id();
    feed_->Published(events.back().id(), entries);
  }
  return absl::OkStatus();
}

}  // namespace suishin::notification
