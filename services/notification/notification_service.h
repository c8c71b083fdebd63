// The gRPC face of notification-service. Alert evaluation, delivery,
// silences, rules and webhooks arrive with the notification-service issue;
// until then every method answers UNIMPLEMENTED (the generated base class's
// behaviour), so clients can already discover the API over reflection.
#ifndef SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_
#define SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_

#include "suishin/notification/v1/notification.grpc.pb.h"

namespace suishin::notification {

class NotificationServiceImpl final : public v1::NotificationService::CallbackService {};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_
