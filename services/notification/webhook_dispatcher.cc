#include "services/notification/webhook_dispatcher.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/notification/webhook_signer.h"

namespace suishin::notification {
namespace {

// How many deliveries one pass takes from the outbox.
constexpr int kBatch = 32;
// The longest the thread sleeps without looking at the outbox.
constexpr absl::Duration kMaxIdle = absl::Seconds(1);

bool Retryable(const absl::StatusOr<HttpResult>& result) {
  if (!result.ok()) return true;  // timeouts and connection failures
  return result->status >= 500 || result->status == 429;
}

std::string Describe(const absl::StatusOr<HttpResult>& result) {
  if (!result.ok()) return std::string(result.status().message());
  return absl::StrCat("HTTP ", result->status, result->body.empty() ? "" : ": ",
                      result->body.substr(0, 200));
}

}  // namespace

std::vector<absl::Duration> DefaultRetryDelays() {
  return {absl::Seconds(5), absl::Minutes(5), absl::Minutes(30), absl::Hours(2),
          absl::Hours(5),   absl::Hours(10),  absl::Hours(10)};
}

absl::StatusOr<std::vector<absl::Duration>> ParseRetryDelays(absl::string_view field,
                                                             absl::string_view text) {
  std::vector<absl::Duration> delays;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    absl::Duration delay;
    if (!absl::ParseDuration(absl::StripAsciiWhitespace(part), &delay) ||
        delay < absl::ZeroDuration()) {
      return FieldError(field, part, "is not a duration such as 5s, 5m or 2h");
    }
    delays.push_back(delay);
  }
  return delays;
}

std::string WebhookMessageId(int64_t event_id) { return absl::StrCat("evt_", event_id); }

WebhookDispatcher::WebhookDispatcher(NotificationStore* store, WebhookTransport* transport,
                                     const Clock* clock, Options options)
    : store_(store), transport_(transport), clock_(clock), options_(std::move(options)) {}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

void WebhookDispatcher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void WebhookDispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void WebhookDispatcher::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void WebhookDispatcher::Loop() {
  while (true) {
    absl::Duration idle = kMaxIdle;
    absl::StatusOr<std::optional<absl::Time>> next = DeliverDue();
    if (!next.ok()) {
      LogWarning("webhook_outbox_failed", {{"error", std::string(next.status().message())}});
    } else if (next->has_value()) {
      idle = std::clamp(**next - clock_->Now(), absl::ZeroDuration(), kMaxIdle);
    }
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || woken_; };
    mu_.AwaitWithTimeout(absl::Condition(&ready), idle);
    if (stopping_) return;
    woken_ = false;
  }
}

absl::StatusOr<std::optional<absl::Time>> WebhookDispatcher::DeliverDue() {
  while (true) {
    std::vector<Delivery> due;
    std::map<std::string, v1::Webhook> webhooks;
    RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(due, tx.DueDeliveries(clock_->Now(), kBatch));
      ASSIGN_OR_RETURN(std::vector<v1::Webhook> all, tx.Webhooks());
      for (v1::Webhook& webhook : all) webhooks[webhook.id()] = std::move(webhook);
      return absl::OkStatus();
    }));
    if (due.empty()) break;
    for (Delivery& delivery : due) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return std::optional<absl::Time>();
      }
      auto webhook = webhooks.find(delivery.webhook_id);
      if (webhook == webhooks.end()) {  // deleted meanwhile
        RETURN_IF_ERROR(store_->Run(
            [&](NotificationTransaction& tx) { return tx.DeleteDelivery(delivery.id); }));
        continue;
      }
      absl::StatusOr<std::string> key = DecodeWebhookSecret(webhook->second.secret());
      const std::string id = WebhookMessageId(delivery.event_id);
      const int64_t timestamp = absl::ToUnixSeconds(clock_->Now());
      absl::StatusOr<HttpResult> result =
          key.ok()
              ? transport_->Post(
                    webhook->second.url(),
                    {{"Content-Type", "application/json"},
                     {"webhook-id", id},
                     {"webhook-timestamp", absl::StrCat(timestamp)},
                     {"webhook-signature", SignWebhook(*key, id, timestamp, delivery.payload)}},
                    delivery.payload, options_.timeout)
              : absl::StatusOr<HttpResult>(key.status());
      const bool delivered = result.ok() && result->status >= 200 && result->status < 300;
      delivery.attempts += 1;
      delivery.last_error = delivered ? "" : Describe(result);
      const bool retry = !delivered && key.ok() && Retryable(result) &&
                         delivery.attempts <= static_cast<int>(options_.retry_delays.size());
      LogInfo(delivered ? "webhook_delivered" : (retry ? "webhook_retry" : "webhook_dead_letter"),
              {{"webhook", delivery.webhook_id},
               {"webhook_id", id},
               {"attempt", absl::StrCat(delivery.attempts)},
               {"result", delivered ? "2xx" : delivery.last_error}});
      RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
        if (delivered) return tx.DeleteDelivery(delivery.id);
        if (retry) {
          delivery.next_attempt = clock_->Now() + options_.retry_delays[delivery.attempts - 1];
          return tx.UpdateDelivery(delivery);
        }
        v1::DeadLetter letter;
        // One per event and webhook: a replay removes it before it is sent.
        letter.set_id(absl::StrCat("dl-", delivery.event_id, "-", delivery.webhook_id));
        letter.set_webhook_id(delivery.webhook_id);
        letter.set_event_id(delivery.event_id);
        letter.set_attempts(delivery.attempts);
        letter.set_last_error(delivery.last_error);
        *letter.mutable_time() = ToProtoTimestamp(clock_->Now());
        letter.set_payload(delivery.payload);
        RETURN_IF_ERROR(tx.PutDeadLetter(letter));
        return tx.DeleteDelivery(delivery.id);
      }));
    }
  }
  std::optional<absl::Time> next;
  RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(next, tx.NextDue());
    return absl::OkStatus();
  }));
  return next;
}

}  // namespace suishin::notification
