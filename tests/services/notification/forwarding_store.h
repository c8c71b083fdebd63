// Test seams for notification-service's store: a NotificationStore that
// stands in front of the real one and hands each body a transaction of the
// test's making, which forwards every call to the real transaction unless it
// overrides it. For the failures a real SQLite store cannot be made to show
// on demand (a delete refused as on a full disk), for counting what readers
// read, and for holding the writer while a test lines up its writes.
//
// Thread-safe as far as the wrapped store and the test's transactions are.
#ifndef SUISHIN_TESTS_SERVICES_NOTIFICATION_FORWARDING_STORE_H_
#define SUISHIN_TESTS_SERVICES_NOTIFICATION_FORWARDING_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "services/notification/notification_store.h"

namespace suishin::notification::testing {

// Forwards every call to `inner`; a test overrides what it means to change.
class ForwardingTransaction : public NotificationTransaction {
 public:
  explicit ForwardingTransaction(NotificationTransaction& inner) : inner_(inner) {}

  absl::StatusOr<int64_t> Cursor() override { return inner_.Cursor(); }
  absl::Status SetCursor(int64_t next_sequence) override { return inner_.SetCursor(next_sequence); }
  absl::StatusOr<std::vector<v1::Rule>> Rules() override { return inner_.Rules(); }
  absl::Status PutRule(const v1::Rule& rule) override { return inner_.PutRule(rule); }
  absl::StatusOr<std::optional<v1::Alert>> FindAlert(absl::string_view fingerprint) override {
    return inner_.FindAlert(fingerprint);
  }
  absl::StatusOr<std::vector<v1::Alert>> AlertsOf(absl::string_view kpi_id,
                                                  absl::string_view region_id) override {
    return inner_.AlertsOf(kpi_id, region_id);
  }
  absl::StatusOr<std::vector<v1::Alert>> Alerts(bool include_resolved) override {
    return inner_.Alerts(include_resolved);
  }
  absl::Status PutAlert(const v1::Alert& alert) override { return inner_.PutAlert(alert); }
  absl::Status AppendHistory(absl::string_view fingerprint,
                             const v1::AlertHistoryEntry& entry) override {
    return inner_.AppendHistory(fingerprint, entry);
  }
  absl::StatusOr<std::vector<Keyed<v1::AlertHistoryEntry>>> History(absl::string_view fingerprint,
                                                                    int64_t after_key,
                                                                    int limit) override {
    return inner_.History(fingerprint, after_key, limit);
  }
  absl::StatusOr<int64_t> AppendEvent(const v1::AlertEvent& event) override {
    return inner_.AppendEvent(event);
  }
  absl::StatusOr<std::vector<v1::AlertEvent>> Events(int64_t after_id, int limit) override {
    return inner_.Events(after_id, limit);
  }
  absl::StatusOr<int64_t> LastEventId() override { return inner_.LastEventId(); }
  absl::StatusOr<std::vector<v1::Silence>> LiveSilences(absl::Time now) override {
    return inner_.LiveSilences(now);
  }
  absl::StatusOr<int64_t> CountLiveSilences(absl::Time now) override {
    return inner_.CountLiveSilences(now);
  }
  absl::StatusOr<std::vector<Keyed<v1::Silence>>> ListSilences(bool include_ended, absl::Time now,
                                                               int64_t after_key,
                                                               int limit) override {
    return inner_.ListSilences(include_ended, now, after_key, limit);
  }
  absl::StatusOr<bool> AnySilence() override { return inner_.AnySilence(); }
  absl::StatusOr<std::optional<v1::Silence>> FindSilence(absl::string_view id) override {
    return inner_.FindSilence(id);
  }
  absl::Status PutSilence(const v1::Silence& silence) override {
    return inner_.PutSilence(silence);
  }
  absl::StatusOr<std::vector<v1::Webhook>> Webhooks() override { return inner_.Webhooks(); }
  absl::StatusOr<std::vector<Keyed<v1::Webhook>>> ListWebhooks(int64_t after_key,
                                                               int limit) override {
    return inner_.ListWebhooks(after_key, limit);
  }
  absl::StatusOr<int64_t> CountWebhooks() override { return inner_.CountWebhooks(); }
  absl::StatusOr<std::optional<v1::Webhook>> FindWebhook(absl::string_view id) override {
    return inner_.FindWebhook(id);
  }
  absl::Status PutWebhook(const v1::Webhook& webhook) override {
    return inner_.PutWebhook(webhook);
  }
  absl::Status DeleteWebhook(absl::string_view id) override { return inner_.DeleteWebhook(id); }
  absl::Status AddDelivery(const Delivery& delivery) override {
    return inner_.AddDelivery(delivery);
  }
  absl::StatusOr<std::vector<std::pair<std::string, absl::Time>>> SoonestByWebhook() override {
    return inner_.SoonestByWebhook();
  }
  absl::StatusOr<std::optional<Delivery>> NextDelivery(absl::string_view webhook_id) override {
    return inner_.NextDelivery(webhook_id);
  }
  absl::Status UpdateDelivery(const Delivery& delivery) override {
    return inner_.UpdateDelivery(delivery);
  }
  absl::Status DeleteDelivery(int64_t id) override { return inner_.DeleteDelivery(id); }
  absl::StatusOr<int64_t> CountDeliveries() override { return inner_.CountDeliveries(); }
  absl::StatusOr<int64_t> CountDeadLetters() override { return inner_.CountDeadLetters(); }
  absl::Status CheckFence(int64_t token) override { return inner_.CheckFence(token); }
  absl::Status PutDeadLetter(const v1::DeadLetter& letter) override {
    return inner_.PutDeadLetter(letter);
  }
  absl::StatusOr<std::vector<Keyed<v1::DeadLetter>>> DeadLetters(absl::string_view webhook_id,
                                                                 int64_t after_key,
                                                                 int limit) override {
    return inner_.DeadLetters(webhook_id, after_key, limit);
  }
  absl::StatusOr<std::optional<v1::DeadLetter>> FindDeadLetter(absl::string_view id) override {
    return inner_.FindDeadLetter(id);
  }
  absl::Status DeleteDeadLetter(absl::string_view id) override {
    return inner_.DeleteDeadLetter(id);
  }

 protected:
  NotificationTransaction& inner_;
};

class ForwardingStore : public NotificationStore {
 public:
  // Makes the transaction a body sees from the real one; `write` is true in
  // a group, false in a Read.
  using Wrap =
      std::function<std::unique_ptr<NotificationTransaction>(NotificationTransaction&, bool write)>;

  // `inner` must outlive the store.
  ForwardingStore(NotificationStore* inner, Wrap wrap) : inner_(inner), wrap_(std::move(wrap)) {}

  // Runs before every group, on the writer's thread (a test may block it).
  void set_before_group(std::function<void()> before) { before_group_ = std::move(before); }

  absl::Status RunGroup(const std::vector<const Body*>& bodies,
                        std::vector<absl::Status>* outcomes) override {
    if (before_group_) before_group_();
    std::vector<Body> wrapped;
    wrapped.reserve(bodies.size());
    for (const Body* body : bodies) {
      wrapped.push_back([this, body](NotificationTransaction& tx) {
        std::unique_ptr<NotificationTransaction> mine = wrap_(tx, /*write=*/true);
        return (*body)(*mine);
      });
    }
    std::vector<const Body*> pointers;
    for (const Body& body : wrapped) pointers.push_back(&body);
    return inner_->RunGroup(pointers, outcomes);
  }

  absl::Status Read(const Body& body) override {
    return inner_->Read([&](NotificationTransaction& tx) {
      std::unique_ptr<NotificationTransaction> mine = wrap_(tx, /*write=*/false);
      return body(*mine);
    });
  }

 private:
  NotificationStore* const inner_;
  const Wrap wrap_;
  std::function<void()> before_group_;
};

}  // namespace suishin::notification::testing

#endif  // SUISHIN_TESTS_SERVICES_NOTIFICATION_FORWARDING_STORE_H_
