// The NotificationStore in a PostgreSQL database (common/postgres.h), for
// installations that run several replicas or want to report on alerts with
// SQL: the same records, orders and errors as SqliteNotificationStore.
//
// Each table keeps the serialized message in `data` (what the store reads
// back, as in SQLite) and, beside it, typed columns a person or a BI tool
// can query: enum values by name (ALERT_STATE_FIRING), numbers as double
// precision, times as timestamptz. Webhook secrets are only ever in `data`,
// sealed.
//
// One connection writes (RunGroup: a group is one transaction with a
// savepoint per body, holding the cursor row's lock so that replicas sharing
// the database write one group at a time, as SQLite's single writer does);
// a pool of connections of its own serves Read, each in a REPEATABLE READ
// snapshot that neither waits for the writer nor holds it up. Thread-safe.
#ifndef SUISHIN_SERVICES_NOTIFICATION_POSTGRES_NOTIFICATION_STORE_H_
#define SUISHIN_SERVICES_NOTIFICATION_POSTGRES_NOTIFICATION_STORE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/postgres.h"
#include "services/notification/notification_store.h"
#include "services/notification/secret_sealer.h"

namespace suishin::notification {

class PostgresNotificationStore : public NotificationStore {
 public:
  // Connects to `url` (postgresql://...), brings its schema up to date and
  // opens `readers` (at least 1) connections for Read. UNAVAILABLE when the
  // server cannot be reached.
  //
  // Webhook secrets are sealed with `sealer` as they are stored and opened
  // as they are read (secret_sealer.h); a secret found in the clear is
  // sealed here. Fails (FAILED_PRECONDITION) when a stored secret does not
  // open with `sealer`'s key.
  static absl::StatusOr<std::unique_ptr<PostgresNotificationStore>> Open(const std::string& url,
                                                                         SecretSealer sealer,
                                                                         int readers = 4);

  PostgresNotificationStore(const PostgresNotificationStore&) = delete;
  PostgresNotificationStore& operator=(const PostgresNotificationStore&) = delete;

  absl::Status RunGroup(const std::vector<const Body*>& bodies,
                        std::vector<absl::Status>* outcomes) override;
  absl::Status Read(const Body& body) override;

  bool Shared() const override { return true; }
  // LISTEN on suishin_notification, which every write group NOTIFYs.
  std::unique_ptr<StoreListener> Listen() override;
  // The lease is one row (leader_lease): taken when it has run out, renewed
  // by its holder; each change of holder adds one to its token.
  absl::StatusOr<int64_t> AcquireLease(const std::string& holder, absl::Duration ttl) override;
  absl::Status ReleaseLease(const std::string& holder, int64_t token) override;

 private:
  PostgresNotificationStore(std::string url, std::unique_ptr<PgConnection> db,
                            std::unique_ptr<PgPool> readers, SecretSealer sealer)
      : url_(std::move(url)),
        db_(std::move(db)),
        readers_(std::move(readers)),
        sealer_(std::move(sealer)) {}

  const std::string url_;
  // Held by the writer for a group; only Run from another thread (start-up,
  // tests) ever waits on it.
  absl::Mutex mu_;
  std::unique_ptr<PgConnection> db_ ABSL_GUARDED_BY(mu_);
  const std::unique_ptr<PgPool> readers_;
  const SecretSealer sealer_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_POSTGRES_NOTIFICATION_STORE_H_
