// A thin RAII layer over libpq (Debian's libpq-dev), the PostgreSQL client
// library: connections with the settings every store wants, statements
// prepared once per connection, transactions and group commits with
// savepoints, numbered schema migrations that several replicas may start at
// once, and a pool of read connections. Everything reports absl::Status.
//
// A service's store is PostgreSQL when its database flag holds a URL
// (`postgresql://user@host/dbname`, anything libpq's PQconnectdb accepts in
// URI form); otherwise it is a SQLite file (common/sqlite.h).
//
// A PgConnection is NOT safe to use from several threads at once: a store
// serialises its writer's connection with a mutex, and PgPool hands each
// reader a connection of its own.
//
// Example:
//   ASSIGN_OR_RETURN(auto db, PgConnection::Connect(url));
//   RETURN_IF_ERROR(db->Migrate({{1, "CREATE TABLE t (k text PRIMARY KEY, v bytea)"}}));
//   RETURN_IF_ERROR(db->InTransaction([&]() -> absl::Status {
//     return db->Run("INSERT INTO t VALUES ($1, $2)", PgParams().Text("a").Bytes(v)).status();
//   }));
#ifndef SUISHIN_COMMON_POSTGRES_H_
#define SUISHIN_COMMON_POSTGRES_H_

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/store_listener.h"

namespace suishin {

// True when `store` names a PostgreSQL database (postgresql:// or
// postgres://) rather than a SQLite file.
bool IsPostgresUrl(absl::string_view store);

// `store` as it may be logged: a URL's password left out.
std::string StoreForLog(absl::string_view store);

// A file kept beside a service's store (its audit trail, its sealing key):
// `store` + `suffix` for a SQLite file; for a PostgreSQL URL, the database's
// name + `suffix` in the working directory.
std::string LocalFileFor(absl::string_view store, absl::string_view suffix);

// The parameters $1, $2, ... of one statement, in order. Numbers and text go
// as text, bytes (bytea) in binary; a time goes as microseconds since the
// epoch (turn it into a timestamptz in SQL with suishin_time($n)).
class PgParams {
 public:
  PgParams& Int(int64_t value);
  PgParams& Double(double value);
  PgParams& Text(absl::string_view value);
  PgParams& Bytes(absl::string_view value);
  PgParams& Micros(absl::Time time);
  PgParams& Null();
  // The value when `has`, NULL otherwise.
  PgParams& OptionalDouble(bool has, double value);

  int size() const { return static_cast<int>(values_.size()); }

 private:
  friend class PgConnection;
  std::vector<std::string> values_;
  std::vector<bool> null_;
  std::vector<int> formats_;  // 0 text, 1 binary
};

// The rows of one statement, in text format. Rows and columns are 0-based.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}

  int rows() const { return PQntuples(result_.get()); }
  // Rows an INSERT, UPDATE or DELETE touched.
  int64_t affected() const;
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  absl::string_view Text(int row, int column) const;
  int64_t Int(int row, int column) const;
  double Double(int row, int column) const;
  // A bytea column (its hex text decoded).
  std::string Bytes(int row, int column) const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

// One step of a schema, applied once, in version order.
struct PgMigration {
  int version;
  std::string sql;
};

class PgConnection {
 public:
  // Connects to `url` with client_encoding UTF8, time zone UTC and a connect
  // timeout; UNAVAILABLE when the server cannot be reached.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(const std::string& url);

  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  // Runs one statement with `params`, prepared on first use and kept for the
  // connection's lifetime; returns its rows. A lost connection is
  // re-established on the next call outside a transaction.
  absl::StatusOr<PgResult> Exec(absl::string_view sql, const PgParams& params = PgParams());
  // Runs one statement that returns no rows: how many rows it touched.
  absl::StatusOr<int64_t> Run(absl::string_view sql, const PgParams& params = PgParams());
  // Runs one or more statements without parameters (schema, SET, LISTEN).
  absl::Status ExecScript(absl::string_view sql);

  // Runs `body` between BEGIN and COMMIT (READ COMMITTED); rolls back and
  // returns the body's status when it fails.
  absl::Status InTransaction(const std::function<absl::Status()>& body);
  // Runs `body`, which only reads, in a REPEATABLE READ READ ONLY
  // transaction: one consistent snapshot, never waiting for a writer.
  absl::Status InReadTransaction(const std::function<absl::Status()>& body);

  // Group commit: after BEGIN, runs `prologue` (when set: a lock to take,
  // a counter to read), then every body under a savepoint of its own, and
  // commits once. A body that fails is rolled back to its savepoint and
  // fails only itself. `outcomes` gets one status per body: its own, or the
  // prologue's or commit's error (then nothing is stored). Returns the
  // commit's status.
  absl::Status InGroupTransaction(const std::function<absl::Status()>& prologue,
                                  const std::vector<std::function<absl::Status()>>& bodies,
                                  std::vector<absl::Status>* outcomes);

  // Applies the migrations above the version recorded in the database
  // (table schema_migrations), in one transaction under an advisory lock,
  // so replicas starting together apply each once. Also defines the helper
  // functions suishin_time(bigint) → timestamptz and
  // suishin_micros(timestamptz) → bigint.
  absl::Status Migrate(const std::vector<PgMigration>& migrations);

  // The recorded schema version (0 for a new database).
  absl::StatusOr<int> SchemaVersion();

  // LISTEN on `channel` (an identifier): NOTIFYs on it committed by any
  // session reach WaitForNotification.
  absl::Status Listen(absl::string_view channel);
  // Waits up to `timeout` for a notification: true when one or more came
  // (all are taken, their payloads appended to `payloads` when not null),
  // false when the time ran out. UNAVAILABLE when the connection is lost
  // (then Listen again after it is back).
  absl::StatusOr<bool> WaitForNotification(absl::Duration timeout,
                                           std::vector<std::string>* payloads = nullptr);

  PGconn* handle() { return conn_; }

 private:
  explicit PgConnection(std::string url, PGconn* conn) : url_(std::move(url)), conn_(conn) {}
  // Reconnects when the connection was lost and no transaction is open.
  absl::Status EnsureConnected();

  std::string url_;
  PGconn* conn_;
  bool in_transaction_ = false;
  // SQL → the name it was prepared under on this connection.
  absl::flat_hash_map<std::string, std::string> prepared_;
};

// A few connections for reads, each used by one reader at a time, so reads
// run side by side on MVCC snapshots and never wait for a writer.
// Thread-safe.
class PgPool {
 public:
  // Opens `size` (at least 1) connections to `url`.
  static absl::StatusOr<std::unique_ptr<PgPool>> Open(const std::string& url, int size);

  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;
  ~PgPool();

  // Runs `body` with an idle connection inside a read transaction (a
  // snapshot of what was committed when it began); waits for a connection
  // when all are busy.
  absl::Status Read(const std::function<absl::Status(PgConnection&)>& body);

  // Runs one statement outside a transaction on an idle connection: for a
  // single read that needs no snapshot of its own (one round trip).
  absl::StatusOr<PgResult> Query(absl::string_view sql, const PgParams& params = PgParams());

  // Connections in use now, and in all.
  int busy() const;
  int size() const { return size_; }

 private:
  explicit PgPool(int size) : size_(size) {}
  // An idle connection, waiting for one; and giving it back.
  std::unique_ptr<PgConnection> Take();
  void Give(std::unique_ptr<PgConnection> connection);
  const int size_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<PgConnection>> idle_ ABSL_GUARDED_BY(mu_);
};

// A StoreListener on `channel` of the database at `url`: a connection of
// its own, LISTENing, made again when lost.
std::unique_ptr<StoreListener> ListenTo(const std::string& url, const std::string& channel);

// Maps a failed result to a status: unique violations are ALREADY_EXISTS,
// other constraint violations and writes in a read-only transaction
// FAILED_PRECONDITION, serialization failures
// and deadlocks ABORTED, a lost or refused connection UNAVAILABLE, the rest
// INTERNAL. `what` says which operation failed.
absl::Status PostgresError(PGconn* conn, const PGresult* result, absl::string_view what);

}  // namespace suishin

#endif  // SUISHIN_COMMON_POSTGRES_H_
