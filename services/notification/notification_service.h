// The gRPC face of notification-service (callback API): each RPC hands its
// request to the room of the AlertBook that holds it (alerts, silences,
// rules, webhooks, the event log). A read finishes with the room's answer,
// read from a snapshot on the spot; a write returns its reactor at once and
// is finished by the write's `done` once it is durable and published, or refused,
// so no gRPC thread ever waits for the writer. Subscribe is a
// LogStreamReactor over the alert events, from the event id the client last
// saw, with its filter: a filtered stream is woken only for events it wants
// and never reads a stretch of the log twice. Each stream holds a slot
// (--max_streams_per_client, --max_streams) until it ends. GetStatus reports
// the cursor, the set-aside KPIs and the open webhook circuits.
#ifndef SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_
#define SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_

#include <memory>

#include "common/limits.h"
#include "services/notification/alert_book.h"
#include "services/notification/kpi_follower.h"
#include "services/notification/webhook_circuits.h"
#include "suishin/notification/v1/notification.grpc.pb.h"

namespace suishin::notification {

class NotificationServiceImpl final : public v1::NotificationService::CallbackService {
 public:
  // Where GetStatus looks; either may be null (reported as empty).
  struct StatusSources {
    const KpiFollower* follower = nullptr;
    const WebhookCircuits* circuits = nullptr;
  };

  // `book` and the sources must outlive the service. Stream slots come from
  // the process's limits (common/limits.h).
  NotificationServiceImpl(AlertBook* book, StatusSources sources);
  explicit NotificationServiceImpl(AlertBook* book) : NotificationServiceImpl(book, {}) {}

#define SUISHIN_NOTIFICATION_UNARY(Method)                               \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* context, \
                                   const v1::Method##Request* request,   \
                                   v1::Method##Response* response) override;
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
  SUISHIN_NOTIFICATION_UNARY(RotateWebhookSecret)
  SUISHIN_NOTIFICATION_UNARY(ListDeadLetters)
  SUISHIN_NOTIFICATION_UNARY(ReplayDeadLetter)
  SUISHIN_NOTIFICATION_UNARY(GetStatus)
#undef SUISHIN_NOTIFICATION_UNARY

  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) override;

  // Subscribe streams open now.
  int open_streams() const { return slots_.open(); }

 private:
  AlertBook* book_;
  const StatusSources sources_;
  StreamSlots slots_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_
