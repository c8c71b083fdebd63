// Opens notification-service's store from its --notification_db setting: a
// PostgreSQL database when the setting is a postgresql:// URL (several
// replicas can share it), otherwise the SQLite file at that path.
#ifndef SUISHIN_SERVICES_NOTIFICATION_OPEN_NOTIFICATION_STORE_H_
#define SUISHIN_SERVICES_NOTIFICATION_OPEN_NOTIFICATION_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/notification/notification_store.h"
#include "services/notification/secret_sealer.h"

namespace suishin::notification {

// Webhook secrets are sealed with `sealer`; `readers`: connections that
// serve reads side by side (at least 1).
absl::StatusOr<std::unique_ptr<NotificationStore>> OpenNotificationStore(
    const std::string& location, SecretSealer sealer, int readers = 4);

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_OPEN_NOTIFICATION_STORE_H_
