#include "services/notification/notification_service.h"

#include <utility>

#include "common/grpc_status.h"
#include "common/log_stream.h"
#include "common/status_macros.h"

namespace suishin::notification {

#define SUISHIN_NOTIFICATION_UNARY(Method)                                                        \
  grpc::ServerUnaryReactor* NotificationServiceImpl::Method(grpc::CallbackServerContext* context, \
                                                            const v1::Method##Request* request,   \
                                                            v1::Method##Response* response) {     \
    return FinishUnary(context, book_->Method(*request, response));                               \
  }
SUISHIN_NOTIFICATION_UNARY(ListAlerts)
SUISHIN_NOTIFICATION_UNARY(GetAlert)
SUISHIN_NOTIFICATION_UNARY(AcknowledgeAlert)
SUISHIN_NOTIFICATION_UNARY(CreateSilence)
SUISHIN_NOTIFICATION_UNARY(ListSilences)
SUISHIN_NOTIFICATION_UNARY(ExpireSilence)
SUISHIN_NOTIFICATION_UNARY(SetRule)
SUISHIN_NOTIFICATION_UNARY(ListRules)
SUISHIN_NOTIFICATION_UNARY(CreateWebhook)
SUISHIN_NOTIFICATION_UNARY(ListWebhooks)
SUISHIN_NOTIFICATION_UNARY(DeleteWebhook)
SUISHIN_NOTIFICATION_UNARY(ListDeadLetters)
SUISHIN_NOTIFICATION_UNARY(ReplayDeadLetter)
#undef SUISHIN_NOTIFICATION_UNARY

namespace {

// A stream that only says why it could not start.
class RefusedStream : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<v1::SubscribeResponse>* NotificationServiceImpl::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) {
  if (absl::Status status = AlertBook::ValidateFilter(request->filter()); !status.ok()) {
    return new RefusedStream(ToGrpcStatus(status));
  }
  if (request->after_event_id() < 0) {
    return new RefusedStream(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "after_event_id: must not be negative"));
  }
  return new LogStreamReactor<v1::AlertEvent, v1::SubscribeResponse>(
      &book_->events(), request->after_event_id(),
      [book = book_, filter = request->filter()](
          int64_t after, int limit) -> absl::StatusOr<LogBatch<v1::AlertEvent>> {
        LogBatch<v1::AlertEvent> batch;
        ASSIGN_OR_RETURN(batch.entries, book->ReadEvents(after, filter, limit));
        batch.scanned_through = batch.entries.empty() ? after : batch.entries.back().id();
        return batch;
      },
      [](v1::AlertEvent event, v1::SubscribeResponse* response) {
        *response->mutable_event() = std::move(event);
      },
      [](const v1::AlertEvent& event) { return event.id(); });
}

}  // namespace suishin::notification
