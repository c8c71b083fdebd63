#include "services/notification/notification_service.h"

#include <functional>
#include <utility>

#include "common/auth.h"
#include "common/grpc_status.h"
#include "common/log_stream.h"
#include "common/status_macros.h"

namespace suishin::notification {
namespace {

// Starts a write through `start` and returns its reactor, which the write's
// `done` finishes (perhaps before this returns, when the request is refused
// at once).
grpc::ServerUnaryReactor* StartWrite(grpc::CallbackServerContext* context,
                                     const std::function<void(AlertBook::Done)>& start) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  start([reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
  return reactor;
}

// A stream that only says why it could not start.
class RefusedStream : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// Events examined at most by one read of a Subscribe stream.
constexpr int kMaxExaminedPerRead = 4096;

}  // namespace

NotificationServiceImpl::NotificationServiceImpl(AlertBook* book, StatusSources sources)
    : book_(book),
      sources_(sources),
      slots_(ProcessLimits().max_streams_per_client, ProcessLimits().max_streams) {}

#define SUISHIN_NOTIFICATION_READ(Method)                                                         \
  grpc::ServerUnaryReactor* NotificationServiceImpl::Method(grpc::CallbackServerContext* context, \
                                                            const v1::Method##Request* request,   \
                                                            v1::Method##Response* response) {     \
    return FinishUnary(context, book_->Method(*request, response));                               \
  }
SUISHIN_NOTIFICATION_READ(ListAlerts)
SUISHIN_NOTIFICATION_READ(GetAlert)
SUISHIN_NOTIFICATION_READ(ListSilences)
SUISHIN_NOTIFICATION_READ(ListRules)
SUISHIN_NOTIFICATION_READ(ListWebhooks)
SUISHIN_NOTIFICATION_READ(ListDeadLetters)
#undef SUISHIN_NOTIFICATION_READ

#define SUISHIN_NOTIFICATION_WRITE(Method)                                                        \
  grpc::ServerUnaryReactor* NotificationServiceImpl::Method(grpc::CallbackServerContext* context, \
                                                            const v1::Method##Request* request,   \
                                                            v1::Method##Response* response) {     \
    return StartWrite(context, [&](AlertBook::Done done) {                                        \
      book_->Method(*request, response, std::move(done));                                         \
    });                                                                                           \
  }
SUISHIN_NOTIFICATION_WRITE(ExpireSilence)
SUISHIN_NOTIFICATION_WRITE(SetRule)
SUISHIN_NOTIFICATION_WRITE(CreateWebhook)
SUISHIN_NOTIFICATION_WRITE(DeleteWebhook)
SUISHIN_NOTIFICATION_WRITE(RotateWebhookSecret)
SUISHIN_NOTIFICATION_WRITE(ReplayDeadLetter)
#undef SUISHIN_NOTIFICATION_WRITE

// The writes that record who made them (the caller's principal).
#define SUISHIN_NOTIFICATION_WRITE_BY(Method)                                                     \
  grpc::ServerUnaryReactor* NotificationServiceImpl::Method(grpc::CallbackServerContext* context, \
                                                            const v1::Method##Request* request,   \
                                                            v1::Method##Response* response) {     \
    return StartWrite(context, [&](AlertBook::Done done) {                                        \
      book_->Method(*request, response, std::move(done), CallerOf(*context).subject);             \
    });                                                                                           \
  }
SUISHIN_NOTIFICATION_WRITE_BY(AcknowledgeAlert)
SUISHIN_NOTIFICATION_WRITE_BY(CreateSilence)
#undef SUISHIN_NOTIFICATION_WRITE_BY

grpc::ServerUnaryReactor* NotificationServiceImpl::GetStatus(
    grpc::CallbackServerContext* context, const v1::GetStatusRequest* /*request*/,
    v1::GetStatusResponse* response) {
  absl::StatusOr<int64_t> cursor = book_->Cursor();
  if (!cursor.ok()) return FinishUnary(context, cursor.status());
  response->set_cursor(*cursor);
  if (sources_.follower != nullptr) {
    for (v1::SetAsideKpi& kpi : sources_.follower->set_aside().List()) {
      *response->add_set_aside_kpis() = std::move(kpi);
    }
    response->set_progress_reads(sources_.follower->progress_reads());
  }
  if (sources_.circuits != nullptr) {
    for (v1::WebhookCircuit& circuit : sources_.circuits->Open()) {
      *response->add_open_circuits() = std::move(circuit);
    }
  }
  return FinishUnary(context, absl::OkStatus());
}

grpc::ServerWriteReactor<v1::SubscribeResponse>* NotificationServiceImpl::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) {
  if (absl::Status status = AlertBook::ValidateFilter("filter", request->filter()); !status.ok()) {
    return new RefusedStream(ToGrpcStatus(status));
  }
  if (request->after_event_id() < 0) {
    return new RefusedStream(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "after_event_id: must not be negative"));
  }
  absl::StatusOr<StreamSlots::Release> slot = slots_.Acquire(context->peer(), "Subscribe");
  if (!slot.ok()) return new RefusedStream(ToGrpcStatus(slot.status()));
  v1::AlertFilter filter = request->filter();
  filter.DiscardUnknownFields();
  SequenceFeed::Wants wants = AlertBook::Wants(filter);
  return new LogStreamReactor<v1::AlertEvent, v1::SubscribeResponse>(
      &book_->events(), request->after_event_id(),
      [book = book_, filter = std::move(filter)](int64_t after, int limit) {
        return book->ReadEvents(after, filter, limit, kMaxExaminedPerRead);
      },
      [](v1::AlertEvent event, v1::SubscribeResponse* response) {
        *response->mutable_event() = std::move(event);
      },
      [](const v1::AlertEvent& event) { return event.id(); }, std::move(wants), *std::move(slot));
}

}  // namespace suishin::notification
