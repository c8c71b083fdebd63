#include "services/notification/notification_service.h"

#include <functional>
#include <utility>

#include "common/auth.h"
#include "common/grpc_status.h"
#include "common/log_stream.h"
#include "common/status_macros.h"
#include "services/notification/alert_filter.h"

namespace suishin::notification {
namespace {

// Starts a write through `start` and returns its reactor, which the write's
// `done` finishes (perhaps before this returns, when the request is refused
// at once).
grpc::ServerUnaryReactor* StartWrite(grpc::CallbackServerContext* context,
                                     const std::function<void(NotificationWriter::Done)>& start) {
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

// Each RPC goes to the room of the book that holds what it reads or writes.
#define SUISHIN_NOTIFICATION_READ(Room, Method)                                                   \
  grpc::ServerUnaryReactor* NotificationServiceImpl::Method(grpc::CallbackServerContext* context, \
                                                            const v1::Method##Request* request,   \
                                                            v1::Method##Response* response) {     \
    return FinishUnary(context, book_->Room().Method(*request, response));                        \
  }
SUISHIN_NOTIFICATION_READ(alerts, ListAlerts)
SUISHIN_NOTIFICATION_READ(alerts, GetAlert)
SUISHIN_NOTIFICATION_READ(silences, ListSilences)
SUISHIN_NOTIFICATION_READ(rules, ListRules)
SUISHIN_NOTIFICATION_READ(webhooks, ListWebhooks)
SUISHIN_NOTIFICATION_READ(webhooks, ListDeadLetters)
#undef SUISHIN_NOTIFICATION_READ

#define SUISHIN_NOTIFICATION_WRITE(Room, Method)                                                  \
  grpc::ServerUnaryReactor* NotificationServiceImpl::Method(grpc::CallbackServerContext* context, \
                                                            const v1::Method##Request* request,   \
                                                            v1::Method##Response* response) {     \
    return StartWrite(context, [&](NotificationWriter::Done done) {                               \
      book_->Room().Method(*request, response, std::move(done));                                  \
    });                                                                                           \
  }
SUISHIN_NOTIFICATION_WRITE(silences, ExpireSilence)
SUISHIN_NOTIFICATION_WRITE(rules, SetRule)
SUISHIN_NOTIFICATION_WRITE(webhooks, CreateWebhook)
SUISHIN_NOTIFICATION_WRITE(webhooks, DeleteWebhook)
SUISHIN_NOTIFICATION_WRITE(webhooks, RotateWebhookSecret)
SUISHIN_NOTIFICATION_WRITE(webhooks, ReplayDeadLetter)
#undef SUISHIN_NOTIFICATION_WRITE

// The writes that record who made them (the caller's principal).
#define SUISHIN_NOTIFICATION_WRITE_BY(Room, Method)                                               \
  grpc::ServerUnaryReactor* NotificationServiceImpl::Method(grpc::CallbackServerContext* context, \
                                                            const v1::Method##Request* request,   \
                                                            v1::Method##Response* response) {     \
    return StartWrite(context, [&](NotificationWriter::Done done) {                               \
      book_->Room().Method(*request, response, std::move(done), CallerOf(*context).subject);      \
    });                                                                                           \
  }
SUISHIN_NOTIFICATION_WRITE_BY(alerts, AcknowledgeAlert)
SUISHIN_NOTIFICATION_WRITE_BY(silences, CreateSilence)
#undef SUISHIN_NOTIFICATION_WRITE_BY

grpc::ServerUnaryReactor* NotificationServiceImpl::GetStatus(
    grpc::CallbackServerContext* context, const v1::GetStatusRequest* /*request*/,
    v1::GetStatusResponse* response) {
  absl::StatusOr<int64_t> cursor = book_->events().Cursor();
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
  if (absl::Status status = ValidateFilter("filter", request->filter()); !status.ok()) {
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
  SequenceFeed::Wants wants = FilterWants(filter);
  return new LogStreamReactor<v1::AlertEvent, v1::SubscribeResponse>(
      &book_->events().feed(), request->after_event_id(),
      [log = &book_->events(), filter = std::move(filter)](int64_t after, int limit) {
        return log->ReadEvents(after, filter, limit, kMaxExaminedPerRead);
      },
      [](v1::AlertEvent event, v1::SubscribeResponse* response) {
        *response->mutable_event() = std::move(event);
      },
      [](const v1::AlertEvent& event) { return event.id(); }, std::move(wants), *std::move(slot));
}

}  // namespace suishin::notification
