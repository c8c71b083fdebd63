// The NotificationStore in a SQLite file.
#ifndef SUISHIN_SERVICES_NOTIFICATION_SQLITE_NOTIFICATION_STORE_H_
#define SUISHIN_SERVICES_NOTIFICATION_SQLITE_NOTIFICATION_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite.h"
#include "services/notification/notification_store.h"

namespace suishin::notification {

class SqliteNotificationStore : public NotificationStore {
 public:
  // Opens or creates the file at `path` and brings its schema up to date.
  static absl::StatusOr<std::unique_ptr<SqliteNotificationStore>> Open(const std::string& path);

  SqliteNotificationStore(const SqliteNotificationStore&) = delete;
  SqliteNotificationStore& operator=(const SqliteNotificationStore&) = delete;

  absl::Status Run(const std::function<absl::Status(NotificationTransaction&)>& body) override;

 private:
  explicit SqliteNotificationStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  absl::Mutex mu_;
  std::unique_ptr<Database> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_SQLITE_NOTIFICATION_STORE_H_
