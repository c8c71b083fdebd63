#include "services/notification/webhook_registry.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/notification/alert_filter.h"
#include "services/notification/book_util.h"
#include "services/notification/webhook_signer.h"

namespace suishin::notification {

namespace {

using Body = NotificationStore::Body;

absl::Status WebhookNotFound(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("id: webhook \"", id, "\" not found"));
}

}  // namespace

void WebhookRegistry::CreateWebhook(const v1::CreateWebhookRequest& request,
                                    v1::CreateWebhookResponse* response, Done done) {
  auto prepare = [&]() -> absl::StatusOr<Body> {
    v1::Webhook webhook = request.webhook();
    webhook.DiscardUnknownFields();
    webhook.clear_id();  // output only
    webhook.clear_create_time();
    webhook.clear_previous_secret_expire_time();
    webhook.clear_previous_secret();
    const std::string& url = webhook.url();
    if (url.size() > static_cast<size_t>(options_.max_url_chars)) {
      return LimitError("webhook.url", static_cast<int64_t>(url.size()), options_.max_url_chars,
                        "--max_webhook_url_chars");
    }
    if (!(absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://")) ||
        url.find_first_of(" \t\r\n") != std::string::npos) {
      return FieldError("webhook.url", url, "must be an http:// or https:// URL");
    }
    // Resolves the host (on the caller's thread, before anything is queued).
    RETURN_IF_ERROR(options_.targets.CheckUrl("webhook.url", url));
    RETURN_IF_ERROR(ValidateFilter("webhook.filter", webhook.filter()));
    const bool generated = webhook.secret().empty();
    if (generated) webhook.set_secret(NewWebhookSecret());
    RETURN_IF_ERROR(DecodeWebhookSecret(webhook.secret()).status());
    webhook.set_id(NewId("webhook"));
    *webhook.mutable_create_time() = ToProtoTimestamp(clock_->Now());
    return Body([webhook = std::move(webhook), generated, limit = options_.max_webhooks,
                 response](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(int64_t count, tx.CountWebhooks());
      if (count >= limit) {
        return CountError("webhook", count, "webhooks are registered", limit, "--max_webhooks");
      }
      RETURN_IF_ERROR(tx.PutWebhook(webhook));
      *response->mutable_webhook() = webhook;
      // The secret is shown once, here, when the service made it.
      if (!generated) response->mutable_webhook()->clear_secret();
      return absl::OkStatus();
    });
  };
  writer_->Submit(prepare(), nullptr, std::move(done));
}

void WebhookRegistry::DeleteWebhook(const v1::DeleteWebhookRequest& request,
                                    v1::DeleteWebhookResponse* /*response*/, Done done) {
  auto prepare = [&]() -> absl::StatusOr<Body> {
    if (request.id().empty()) return FieldError("id", "", "is required");
    return Body([id = request.id()](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::optional<v1::Webhook> webhook, tx.FindWebhook(id));
      if (!webhook) return WebhookNotFound(id);
      return tx.DeleteWebhook(id);
    });
  };
  writer_->Submit(prepare(), nullptr, std::move(done));
}

void WebhookRegistry::RotateWebhookSecret(const v1::RotateWebhookSecretRequest& request,
                                          v1::RotateWebhookSecretResponse* response, Done done) {
  auto prepare = [&]() -> absl::StatusOr<Body> {
    if (request.id().empty()) return FieldError("id", "", "is required");
    absl::Duration overlap = absl::Hours(24);
    if (request.has_overlap()) {
      overlap =
          absl::Seconds(request.overlap().seconds()) + absl::Nanoseconds(request.overlap().nanos());
      if (overlap < absl::ZeroDuration() || overlap > absl::Hours(24 * 30)) {
        return FieldError("overlap", absl::FormatDuration(overlap), "must be 0 to 30 days");
      }
    }
    const bool generated = request.secret().empty();
    std::string secret = generated ? NewWebhookSecret() : request.secret();
    if (!generated) {
      // The field is named, never the secret.
      absl::Status decoded = DecodeWebhookSecret(secret).status();
      if (!decoded.ok())
        return absl::Status(decoded.code(), absl::StrCat("secret: ", decoded.message()));
    }
    // Real time, as deliveries are timed (the service's clock may be pinned by --now).
    const absl::Time now = absl::Now();
    return Body([id = request.id(), secret = std::move(secret), generated, overlap, now,
                 response](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::optional<v1::Webhook> webhook, tx.FindWebhook(id));
      if (!webhook) return WebhookNotFound(id);
      if (overlap > absl::ZeroDuration()) {
        webhook->set_previous_secret(webhook->secret());
        *webhook->mutable_previous_secret_expire_time() = ToProtoTimestamp(now + overlap);
      } else {
        webhook->clear_previous_secret();
        webhook->clear_previous_secret_expire_time();
      }
      webhook->set_secret(secret);
      RETURN_IF_ERROR(tx.PutWebhook(*webhook));
      *response->mutable_webhook() = *std::move(webhook);
      response->mutable_webhook()->clear_previous_secret();
      // The new secret is shown once, here, when the service made it.
      if (!generated) response->mutable_webhook()->clear_secret();
      return absl::OkStatus();
    });
  };
  writer_->Submit(prepare(), nullptr, std::move(done));
}

absl::Status WebhookRegistry::ListWebhooks(const v1::ListWebhooksRequest& request,
                                           v1::ListWebhooksResponse* response) {
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t after, DecodePageToken("page_token", request.page_token()));
  return store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Keyed<v1::Webhook>> page, tx.ListWebhooks(after, page_size + 1));
    FillPage(
        page, page_size,
        [&](v1::Webhook webhook) {
          webhook.clear_secret();  // shown once, when the service made it
          webhook.clear_previous_secret();
          *response->add_webhooks() = std::move(webhook);
        },
        response->mutable_next_page_token());
    return absl::OkStatus();
  });
}

absl::Status WebhookRegistry::ListDeadLetters(const v1::ListDeadLettersRequest& request,
                                              v1::ListDeadLettersResponse* response) {
  if (!request.webhook_id().empty()) {
    RETURN_IF_ERROR(ValidateId("webhook_id", request.webhook_id()));
  }
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t after, DecodePageToken("page_token", request.page_token()));
  return store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Keyed<v1::DeadLetter>> page,
                     tx.DeadLetters(request.webhook_id(), after, page_size + 1));
    FillPage(
        page, page_size,
        [&](v1::DeadLetter letter) { *response->add_dead_letters() = std::move(letter); },
        response->mutable_next_page_token());
    return absl::OkStatus();
  });
}

void WebhookRegistry::ReplayDeadLetter(const v1::ReplayDeadLetterRequest& request,
                                       v1::ReplayDeadLetterResponse* /*response*/, Done done) {
  auto outcome = std::make_shared<WriteOutcome>();
  outcome->outbox_added = true;
  auto prepare = [&]() -> absl::StatusOr<Body> {
    if (request.id().empty()) return FieldError("id", "", "is required");
    const absl::Time now = clock_->Now();
    return Body([id = request.id(), now](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::optional<v1::DeadLetter> letter, tx.FindDeadLetter(id));
      if (!letter) {
        return absl::NotFoundError(absl::StrCat("id: dead letter \"", id, "\" not found"));
      }
      ASSIGN_OR_RETURN(std::optional<v1::Webhook> webhook, tx.FindWebhook(letter->webhook_id()));
      if (!webhook) {
        return absl::FailedPreconditionError(
            absl::StrCat("id: the webhook \"", letter->webhook_id(), "\" of dead letter \"", id,
                         "\" was deleted"));
      }
      Delivery delivery;
      delivery.webhook_id = letter->webhook_id();
      delivery.event_id = letter->event_id();
      delivery.payload = letter->payload();
      delivery.next_attempt = now;
      RETURN_IF_ERROR(tx.AddDelivery(delivery));
      return tx.DeleteDeadLetter(id);
    });
  };
  writer_->Submit(prepare(), outcome, std::move(done));
}

}  // namespace suishin::notification
