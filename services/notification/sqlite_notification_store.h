// The NotificationStore in a SQLite file: one table per kind of record
// holding the serialized message, plus the columns lists and queries filter
// on.
//
// One connection writes (RunGroup: a group is one transaction with a
// savepoint per body, committed with synchronous=FULL, so one fsync per
// group); a pool of read-only connections of its own serves Read, which in
// WAL mode neither waits for the writer nor holds it up. Thread-safe.
#ifndef SUISHIN_SERVICES_NOTIFICATION_SQLITE_NOTIFICATION_STORE_H_
#define SUISHIN_SERVICES_NOTIFICATION_SQLITE_NOTIFICATION_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite.h"
#include "services/notification/notification_store.h"
#include "services/notification/secret_sealer.h"

namespace suishin::notification {

class SqliteNotificationStore : public NotificationStore {
 public:
  // Opens or creates the file at `path`, brings its schema up to date and
  // opens `readers` (at least 1) connections for Read. Needs a real file:
  // ":memory:" would give every connection a database of its own.
  //
  // Webhook secrets are sealed with `sealer` as they are stored and opened
  // as they are read (secret_sealer.h), so the file never holds them in the
  // clear; secrets a version before sealing stored are sealed here. Fails
  // (FAILED_PRECONDITION) when a stored secret does not open with `sealer`'s
  // key.
  static absl::StatusOr<std::unique_ptr<SqliteNotificationStore>> Open(const std::string& path,
                                                                       SecretSealer sealer,
                                                                       int readers = 4);

  SqliteNotificationStore(const SqliteNotificationStore&) = delete;
  SqliteNotificationStore& operator=(const SqliteNotificationStore&) = delete;

  absl::Status RunGroup(const std::vector<const Body*>& bodies,
                        std::vector<absl::Status>* outcomes) override;
  absl::Status Read(const Body& body) override;

 private:
  SqliteNotificationStore(std::unique_ptr<Database> db, std::unique_ptr<ReaderPool> readers,
                          std::unique_ptr<Checkpointer> checkpointer, SecretSealer sealer)
      : db_(std::move(db)),
        readers_(std::move(readers)),
        checkpointer_(std::move(checkpointer)),
        sealer_(std::move(sealer)) {}

  // Held by the writer for a group; only Run from another thread (start-up,
  // tests) ever waits on it.
  absl::Mutex mu_;
  std::unique_ptr<Database> db_ ABSL_GUARDED_BY(mu_);
  const std::unique_ptr<ReaderPool> readers_;
  // Checkpoints the log off the writer's thread; destroyed before db_.
  const std::unique_ptr<Checkpointer> checkpointer_;
  const SecretSealer sealer_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_SQLITE_NOTIFICATION_STORE_H_
