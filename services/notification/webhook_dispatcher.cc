#include "services/notification/webhook_dispatcher.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/notification/webhook_signer.h"

namespace suishin::notification {
namespace {

// The longest the scheduler sleeps without looking at the outbox.
constexpr absl::Duration kMaxIdle = absl::Seconds(1);

bool Retryable(const absl::StatusOr<HttpResult>& result) {
  if (!result.ok()) return true;  // timeouts and connection failures
  return result->status >= 500 || result->status == 429;
}

// The status code or the transport's reason; never the receiver's body
// (DESIGN.md §7).
std::string Describe(const absl::StatusOr<HttpResult>& result) {
  if (!result.ok()) {
    return absl::StrCat(absl::StatusCodeToString(result.status().code()), ": ",
                        result.status().message().substr(0, 200));
  }
  return absl::StrCat("HTTP ", result->status);
}

void KeepSoonest(std::optional<absl::Time>& soonest, absl::Time time) {
  if (!soonest || time < *soonest) soonest = time;
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
    // An infinite delay (inf, or a figure absl saturates to it) would keep a
    // delivery in the outbox for ever, neither retried nor a dead letter.
    if (delay > kMaxRetryDelay) {
      return FieldError(field, part,
                        absl::StrCat("is longer than ", absl::FormatDuration(kMaxRetryDelay),
                                     ", the longest wait before a retry"));
    }
    delays.push_back(delay);
  }
  return delays;
}

std::string WebhookMessageId(int64_t event_id) { return absl::StrCat("evt_", event_id); }

WebhookDispatcher::WebhookDispatcher(NotificationStore* store, Write write, WorkSignal* wake,
                                     WebhookTransport* transport, const Clock* clock,
                                     Options options)
    : store_(store),
      write_(std::move(write)),
      wake_(wake),
      transport_(transport),
      clock_(clock),
      options_(std::move(options)),
      circuits_(options_.circuits) {}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

void WebhookDispatcher::Start() {
  {
    absl::MutexLock lock(&mu_);
    if (started_) return;
    started_ = true;
  }
  for (int i = 0; i < std::max(options_.workers, 1); ++i) {
    workers_.emplace_back([this] { WorkLoop(); });
  }
  scheduler_ = std::thread([this] { ScheduleLoop(); });
}

void WebhookDispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_->Close();
  if (scheduler_.joinable()) scheduler_.join();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

int WebhookDispatcher::unstored() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(unstored_.size()) + retrying_;
}

void WebhookDispatcher::ScheduleLoop() {
  while (true) {
    std::optional<absl::Time> next = RetryUnstored();
    absl::StatusOr<std::optional<absl::Time>> due = Dispatch();
    if (!due.ok()) {
      LogWarning("webhook_outbox_failed", {{"error", std::string(due.status().message())}});
    } else if (due->has_value()) {
      KeepSoonest(next, **due);
    }
    absl::Duration idle = kMaxIdle;
    if (next) idle = std::clamp(*next - clock_->Now(), absl::ZeroDuration(), kMaxIdle);
    if (wake_->WaitUntil(absl::Now() + idle).closed) return;
  }
}

void WebhookDispatcher::WorkLoop() {
  while (true) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !tasks_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    Deliver(std::move(task));
  }
}

absl::StatusOr<std::optional<absl::Time>> WebhookDispatcher::Dispatch() {
  std::set<std::string> busy;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return std::optional<absl::Time>();
    // An endpoint idle now stays idle until this pass starts its next
    // delivery: only this thread starts them. So the snapshot read below,
    // which begins after this, holds every outcome stored for it.
    busy = busy_;
  }
  const absl::Time now = clock_->Now();
  std::optional<absl::Time> next;
  std::vector<Task> ready;
  std::set<std::string> known;
  std::vector<std::string> orphans;  // outbox entries of deleted webhooks
  RETURN_IF_ERROR(store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::Webhook> webhooks, tx.Webhooks());
    std::map<std::string, v1::Webhook> by_id;
    for (v1::Webhook& webhook : webhooks) {
      known.insert(webhook.id());
      by_id[webhook.id()] = std::move(webhook);
    }
    ASSIGN_OR_RETURN(auto soonest, tx.SoonestByWebhook());
    for (const auto& [webhook_id, due] : soonest) {
      if (busy.count(webhook_id)) continue;  // its worker wakes this thread when done
      auto webhook = by_id.find(webhook_id);
      if (webhook == by_id.end()) {
        orphans.push_back(webhook_id);
        continue;
      }
      if (due > now) {
        KeepSoonest(next, due);
        continue;
      }
      if (!circuits_.Ready(webhook_id, now)) {
        if (std::optional<absl::Time> until = circuits_.OpenUntil(webhook_id)) {
          KeepSoonest(next, *until);
        }
        continue;
      }
      ASSIGN_OR_RETURN(std::optional<Delivery> delivery, tx.NextDelivery(webhook_id));
      if (delivery) ready.push_back({*std::move(delivery), webhook->second});
    }
    return absl::OkStatus();
  }));
  circuits_.Retain(known);
  for (const std::string& webhook_id : orphans) {
    // Deleted meanwhile: DeleteWebhook removes its outbox too (no-op here
    // unless a delivery slipped in).
    absl::Status status =
        write_([&webhook_id](NotificationTransaction& tx) { return tx.DeleteWebhook(webhook_id); });
    if (!status.ok()) return status;
  }
  absl::MutexLock lock(&mu_);
  for (Task& task : ready) {
    if (stopping_) break;
    const std::string& webhook_id = task.delivery.webhook_id;
    if (busy_.count(webhook_id) || !circuits_.TryStart(webhook_id, now)) continue;
    busy_.insert(webhook_id);
    tasks_.push_back(std::move(task));
  }
  return next;
}

std::optional<absl::Time> WebhookDispatcher::RetryUnstored() {
  std::vector<Unstored> due;
  std::optional<absl::Time> next;
  const absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    for (auto it = unstored_.begin(); it != unstored_.end();) {
      if (it->next_try <= now) {
        due.push_back(std::move(*it));
        it = unstored_.erase(it);
      } else {
        KeepSoonest(next, it->next_try);
        ++it;
      }
    }
    retrying_ += static_cast<int>(due.size());
  }
  for (Unstored& entry : due) {
    absl::Status status = write_(entry.body);
    if (status.ok()) {
      LogInfo("webhook_outcome_stored", {{"webhook", entry.webhook_id}});
      {
        absl::MutexLock lock(&mu_);
        --retrying_;
      }
      Release(entry.webhook_id);
      continue;
    }
    entry.delay = std::min(entry.delay * 2, options_.max_store_retry_delay);
    entry.next_try = clock_->Now() + entry.delay;
    LogWarning("webhook_outcome_not_stored", {{"webhook", entry.webhook_id},
                                              {"error", std::string(status.message())},
                                              {"retry_in", absl::FormatDuration(entry.delay)}});
    KeepSoonest(next, entry.next_try);
    absl::MutexLock lock(&mu_);
    --retrying_;
    unstored_.push_back(std::move(entry));
  }
  return next;
}

void WebhookDispatcher::Release(const std::string& webhook_id) {
  {
    absl::MutexLock lock(&mu_);
    busy_.erase(webhook_id);
  }
  wake_->Wake();  // its next delivery may be due
}

namespace {

// suishin_webhook_delivery_seconds{outcome}: each attempt, from sending to
// its answer (or failure).
prometheus::Histogram& DeliveryLatency(const std::string& outcome) {
  static prometheus::Family<prometheus::Histogram>& family =
      prometheus::BuildHistogram()
          .Name("suishin_webhook_delivery_seconds")
          .Help("webhook delivery attempts, from sending to the answer, by outcome")
          .Register(Metrics::Process().registry());
  return family.Add({{"outcome", outcome}}, Metrics::LatencyBuckets());
}

}  // namespace

void WebhookDispatcher::Deliver(Task task) {
  Delivery& delivery = task.delivery;
  const v1::Webhook& webhook = task.webhook;
  absl::StatusOr<std::string> key = DecodeWebhookSecret(webhook.secret());
  const std::string id = WebhookMessageId(delivery.event_id);
  const absl::Time sent = clock_->Now();
  const int64_t timestamp = absl::ToUnixSeconds(sent);
  absl::StatusOr<HttpResult> result = absl::UnknownError("not sent");
  if (!key.ok()) {
    result = key.status();
  } else {
    std::string signature = SignWebhook(*key, id, timestamp, delivery.payload);
    // While a rotation's overlap lasts, the previous secret signs too.
    if (!webhook.previous_secret().empty() &&
        sent < FromProtoTimestamp(webhook.previous_secret_expire_time())) {
      if (absl::StatusOr<std::string> previous = DecodeWebhookSecret(webhook.previous_secret());
          previous.ok()) {
        absl::StrAppend(&signature, " ", SignWebhook(*previous, id, timestamp, delivery.payload));
      }
    }
    result = transport_->Post(webhook.url(),
                              {{"Content-Type", "application/json"},
                               {"webhook-id", id},
                               {"webhook-timestamp", absl::StrCat(timestamp)},
                               {"webhook-signature", signature}},
                              delivery.payload, options_.timeout);
  }
  const absl::Time now = clock_->Now();
  const bool delivered = result.ok() && result->status >= 200 && result->status < 300;
  delivery.attempts += 1;
  delivery.last_error = delivered ? "" : Describe(result);
  // The circuit hears whether the endpoint is up: any answer but a 5xx or a
  // 429 says it is.
  if (key.ok()) {
    if (Retryable(result)) {
      circuits_.Failed(delivery.webhook_id, now, delivery.last_error);
    } else {
      circuits_.Succeeded(delivery.webhook_id);
    }
  } else {
    circuits_.Abandoned(delivery.webhook_id);
  }
  const bool retry = !delivered && key.ok() && Retryable(result) &&
                     delivery.attempts <= static_cast<int>(options_.retry_delays.size());
  const char* const outcome = delivered ? "delivered" : (retry ? "retry" : "dead_letter");
  DeliveryLatency(outcome).Observe(absl::ToDoubleSeconds(now - sent));
  LogInfo(delivered ? "webhook_delivered" : (retry ? "webhook_retry" : "webhook_dead_letter"),
          {{"webhook", delivery.webhook_id},
           {"webhook_id", id},
           {"attempt", absl::StrCat(delivery.attempts)},
           {"result", delivered ? "2xx" : delivery.last_error}});
  NotificationStore::Body body;
  if (delivered) {
    body = [delivery_id = delivery.id](NotificationTransaction& tx) {
      return tx.DeleteDelivery(delivery_id);
    };
  } else if (retry) {
    delivery.next_attempt = now + options_.retry_delays[delivery.attempts - 1];
    body = [delivery](NotificationTransaction& tx) { return tx.UpdateDelivery(delivery); };
  } else {
    v1::DeadLetter letter;
    // One per event and webhook: a replay removes it before it is sent.
    letter.set_id(absl::StrCat("dl-", delivery.event_id, "-", delivery.webhook_id));
    letter.set_webhook_id(delivery.webhook_id);
    letter.set_event_id(delivery.event_id);
    letter.set_attempts(delivery.attempts);
    letter.set_last_error(delivery.last_error);
    *letter.mutable_time() = ToProtoTimestamp(now);
    letter.set_payload(delivery.payload);
    body = [letter = std::move(letter),
            delivery_id = delivery.id](NotificationTransaction& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.PutDeadLetter(letter));
      return tx.DeleteDelivery(delivery_id);
    };
  }
  absl::Status stored = write_(body);
  if (stored.ok()) {
    Release(delivery.webhook_id);
    return;
  }
  // The attempt is over; only its record is missing. Never POST it again for
  // this: keep the outcome and retry the store update alone.
  LogWarning("webhook_outcome_not_stored",
             {{"webhook", delivery.webhook_id},
              {"webhook_id", id},
              {"error", std::string(stored.message())},
              {"retry_in", absl::FormatDuration(options_.store_retry_delay)}});
  {
    absl::MutexLock lock(&mu_);
    unstored_.push_back({std::move(body), delivery.webhook_id, now + options_.store_retry_delay,
                         options_.store_retry_delay});
  }
  wake_->Wake();  // the scheduler plans the retry
}

}  // namespace suishin::notification
