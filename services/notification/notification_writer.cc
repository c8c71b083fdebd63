#include "services/notification/notification_writer.h"

#include <utility>

#include "absl/synchronization/notification.h"
#include "common/log.h"

namespace suishin::notification {

namespace {

BatchWriter<NotificationTransaction>::Options WriterOptions(
    const NotificationWriter::Options& options) {
  BatchWriter<NotificationTransaction>::Options writer;
  writer.name = "notification-writer";
  writer.max_queued = options.max_queued_writes;
  writer.max_group = options.max_group;
  return writer;
}

}  // namespace

NotificationWriter::NotificationWriter(NotificationStore* store, Targets targets, Options options)
    : targets_(targets),
      writer_(
          [store](const std::vector<const Body*>& bodies, std::vector<absl::Status>* outcomes) {
            return store->RunGroup(bodies, outcomes);
          },
          WriterOptions(options)) {}

void NotificationWriter::Submit(absl::StatusOr<Body> body, std::shared_ptr<WriteOutcome> outcome,
                                Done done) {
  if (!body.ok()) {
    done(body.status());
    return;
  }
  if (const int64_t token = replicas_.lease != nullptr ? replicas_.lease->token() : 0; token > 0) {
    // Made while leading: committed only while this replica still leads.
    body = [token, inner = *std::move(body)](NotificationTransaction& tx) -> absl::Status {
      if (absl::Status fenced = tx.CheckFence(token); !fenced.ok()) return fenced;
      return inner(tx);
    };
  }
  writer_.Submit(*std::move(body),
                 [this, outcome = std::move(outcome), done = std::move(done)](absl::Status status) {
                   if (status.ok() && outcome != nullptr) Publish(*outcome);
                   done(std::move(status));
                 });
  // After: once counted, the body is in the writer's queue (or refused).
  submitted_.fetch_add(1, std::memory_order_relaxed);
}

absl::Status NotificationWriter::SubmitAndWait(Body body, std::shared_ptr<WriteOutcome> outcome) {
  absl::Notification finished;
  absl::Status result;
  Submit(std::move(body), std::move(outcome), [&](absl::Status status) {
    result = std::move(status);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

void NotificationWriter::Publish(const WriteOutcome& outcome) {
  // Subscribers first: the Redis round trip is not on an event's path.
  if (!outcome.events.empty() && replicas_.events != nullptr) {
    // Other replicas' events may sit between these: the feed learns them
    // all, in order, from the store (or from the sync's thread, later).
    if (absl::Status status = replicas_.events->CatchUp(); !status.ok()) {
      LogWarning("replica_catch_up_failed", {{"error", std::string(status.message())}});
    }
  } else if (!outcome.events.empty() && targets_.events != nullptr) {
    targets_.events->Published(outcome.events.back().sequence, outcome.events);
  }
  if (targets_.mirror != nullptr) {
    targets_.mirror->Apply(outcome.changed);
    // Other replicas learn of new events here (fan-out).
    if (!outcome.events.empty()) targets_.mirror->AnnounceEvent(outcome.events.back().sequence);
  }
  if (outcome.outbox_added && targets_.outbox != nullptr) targets_.outbox->Wake();
  if (outcome.rules_changed && targets_.rules_changed != nullptr) {
    targets_.rules_changed->Raise(*outcome.rules_changed);
  }
}

NotificationWriter::Stats NotificationWriter::stats() const {
  const BatchWriter<NotificationTransaction>::Stats stats = writer_.stats();
  Stats out;
  out.submitted = submitted_.load(std::memory_order_relaxed);
  out.groups = stats.groups;
  out.writes = stats.writes;
  return out;
}

}  // namespace suishin::notification
