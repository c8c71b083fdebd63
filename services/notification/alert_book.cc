#include "services/notification/alert_book.h"

#include <utility>
#include <vector>

#include "common/status_macros.h"

namespace suishin::notification {

absl::StatusOr<std::unique_ptr<AlertBook>> AlertBook::Create(NotificationStore* store,
                                                             const Clock* clock, SharedCache* cache,
                                                             Signals signals, Options options) {
  std::unique_ptr<AlertBook> book(new AlertBook());
  ASSIGN_OR_RETURN(book->events_, EventLog::Open(store));
  book->mirror_ =
      std::make_unique<AlertMirror>(cache, [store]() -> absl::StatusOr<std::vector<v1::Alert>> {
        std::vector<v1::Alert> alerts;
        RETURN_IF_ERROR(store->Read([&](NotificationTransaction& tx) -> absl::Status {
          ASSIGN_OR_RETURN(alerts, tx.Alerts(/*include_resolved=*/true));
          return absl::OkStatus();
        }));
        return alerts;
      });
  NotificationWriter::Targets targets;
  targets.outbox = signals.outbox;
  targets.rules_changed = signals.rules_changed;
  targets.events = &book->events_->feed();
  targets.mirror = book->mirror_.get();
  book->writer_ = std::make_unique<NotificationWriter>(store, targets, options.writer);
  NotificationWriter* writer = book->writer_.get();
  book->alerts_ = std::make_unique<Alerts>(store, writer, clock, book->mirror_.get());
  ASSIGN_OR_RETURN(book->silences_, Silences::Open(store, writer, clock, options.silences));
  book->rules_ = std::make_unique<RuleSettings>(store, writer, options.rules);
  book->webhooks_ =
      std::make_unique<WebhookRegistry>(store, writer, clock, std::move(options.webhooks));
  book->mirror_->Refill();
  return book;
}

}  // namespace suishin::notification
