#include "services/notification/open_notification_store.h"

#include <utility>

#include "common/postgres.h"
#include "services/notification/postgres_notification_store.h"
#include "services/notification/sqlite_notification_store.h"

namespace suishin::notification {

absl::StatusOr<std::unique_ptr<NotificationStore>> OpenNotificationStore(
    const std::string& location, SecretSealer sealer, int readers) {
  if (IsPostgresUrl(location)) {
    return PostgresNotificationStore::Open(location, std::move(sealer), readers);
  }
  return SqliteNotificationStore::Open(location, std::move(sealer), readers);
}

}  // namespace suishin::notification
