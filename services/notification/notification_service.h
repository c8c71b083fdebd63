// The gRPC face of notification-service: unary RPCs hand their request to
// AlertBook; Subscribe is a LogStreamReactor over the alert events, from the
// event id the client last saw, with its filter.
#ifndef SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_
#define SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_

#include "services/notification/alert_book.h"
#include "suishin/notification/v1/notification.grpc.pb.h"

namespace suishin::notification {

class NotificationServiceImpl final : public v1::NotificationService::CallbackService {
 public:
  // `book` must outlive the service.
  explicit NotificationServiceImpl(AlertBook* book) : book_(book) {}

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
  SUISHIN_NOTIFICATION_UNARY(ListDeadLetters)
  SUISHIN_NOTIFICATION_UNARY(ReplayDeadLetter)
#undef SUISHIN_NOTIFICATION_UNARY

  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) override;

 private:
  AlertBook* book_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_
