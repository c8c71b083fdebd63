// A thin RAII layer over SQLite: open with the settings every store wants,
// numbered schema migrations, prepared statements and transactions, all
// reporting absl::Status.
//
// A Database is one connection and is NOT safe to use from several threads at
// once: a store serialises access with its own mutex.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
//   RETURN_IF_ERROR(db->Migrate({{1, "CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)"}}));
//   RETURN_IF_ERROR(db->InTransaction([&]() -> absl::Status {
//     ASSIGN_OR_RETURN(Statement insert, db->Prepare("INSERT INTO t VALUES (?, ?)"));
//     insert.BindText(1, "a").BindBlob(2, bytes);
//     return insert.Run();
//   }));
#ifndef SUISHIN_COMMON_SQLITE_H_
#define SUISHIN_COMMON_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/page_token.h"

namespace suishin {

// A prepared statement. Bind parameters are 1-based, columns 0-based, as in
// SQLite. Movable, not copyable; finalised on destruction.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& BindInt(int index, int64_t value);
  Statement& BindDouble(int index, double value);
  Statement& BindText(int index, absl::string_view value);
  Statement& BindBlob(int index, absl::string_view bytes);
  // Without a copy: the bytes must stay unchanged until the statement has
  // been stepped to its end or reset. For hot paths.
  Statement& BindTextUnowned(int index, absl::string_view value);
  Statement& BindBlobUnowned(int index, absl::string_view bytes);
  Statement& BindNull(int index);

  // Advances to the next row: true when there is one, false when done.
  // Errors (constraint violations, a busy database) come back as a status;
  // a failed bind is reported here too.
  absl::StatusOr<bool> Step();
  // Steps until done, for statements that return no rows.
  absl::Status Run();
  // Resets to run again with new bindings.
  void Reset();
  // Resets to run again, keeping the bindings: for a statement whose every
  // parameter is bound again before each run (a hot insert).
  void ResetKeepingBindings();

  int64_t ColumnInt(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void NoteBind(int rc);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = SQLITE_OK;
};

// One step of a schema: applied once, in version order, in a transaction:
// `sql`, then `apply` when set (for a step SQL alone cannot do, such as
// re-encoding stored messages).
struct Migration {
  int version;
  std::string sql;
  std::function<absl::Status(class Database&)> apply = nullptr;
};

class Database {
 public:
  // Opens (creating if needed) the file at `path` with 8 KiB pages (new
  // files), WAL journaling,
  // synchronous=FULL (an acknowledged commit survives a kill or a power cut),
  // foreign keys on and a busy timeout. ":memory:" works for tests.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Applies the migrations whose version is above the file's user_version,
  // each in its own transaction, and records the new version.
  absl::Status Migrate(const std::vector<Migration>& migrations);

  // Runs one or more statements that return no rows.
  absl::Status Exec(absl::string_view sql);

  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // A statement prepared once per Database and kept for its lifetime, reset
  // and with its bindings cleared, ready to bind. For the hot paths; the
  // pointer stays valid until the Database is destroyed.
  absl::StatusOr<Statement*> Cached(absl::string_view sql);

  // Runs `body` between BEGIN IMMEDIATE and COMMIT; rolls back and returns
  // the body's status when it fails, so nothing is half-written.
  absl::Status InTransaction(const std::function<absl::Status()>& body);

  // Runs `body`, which only reads, in a deferred transaction: one consistent
  // snapshot, without taking the write lock (in WAL mode it neither waits
  // for a writer nor holds one up).
  absl::Status InReadTransaction(const std::function<absl::Status()>& body);

  // Group commit: runs every body in one transaction, each under a savepoint
  // of its own (a body alone needs none: the transaction is its savepoint),
  // and commits once (one fsync for all of them). A body that
  // fails is rolled back to its savepoint, so it leaves no trace and fails
  // only itself; the bodies after it see the writes of the ones that
  // succeeded before them. `outcomes` gets one status per body: its own, or
  // the commit's error when the commit failed (then nothing is stored).
  // Returns the commit's status.
  absl::Status InGroupTransaction(const std::vector<std::function<absl::Status()>>& bodies,
                                  std::vector<absl::Status>* outcomes);

  // The schema version recorded in the file.
  absl::StatusOr<int> SchemaVersion();

  sqlite3* handle() { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  // Finalised in the destructor, before the connection closes.
  absl::flat_hash_map<std::string, std::unique_ptr<Statement>> cached_;
};

// InGroupTransaction for a store whose bodies take its transaction object:
// each body runs with `transaction`, under its own savepoint, in one commit.
template <typename Tx>
absl::Status RunBodiesInGroup(Database& db, Tx& transaction,
                              const std::vector<const std::function<absl::Status(Tx&)>*>& bodies,
                              std::vector<absl::Status>* outcomes) {
  std::vector<std::function<absl::Status()>> steps;
  steps.reserve(bodies.size());
  for (const auto* body : bodies)
    steps.push_back([&transaction, body] { return (*body)(transaction); });
  return db.InGroupTransaction(steps, outcomes);
}

// Checkpoints a WAL database on a thread of its own, so the writer never
// pays, in the middle of a commit, for copying the log into the database
// file and that file's fsync. It takes over the writer connection's
// automatic checkpoints: when a commit leaves the log at `pages` frames or
// more, the checkpointer is woken and runs a PASSIVE checkpoint (it never
// waits for the writer or for readers) on a connection of its own.
// Thread-safe; destroy it before the writer's Database.
class Checkpointer {
 public:
  static absl::StatusOr<std::unique_ptr<Checkpointer>> Start(Database* writer,
                                                             const std::string& path,
                                                             int pages = 1000);
  // Stops the thread after a last checkpoint.
  ~Checkpointer();

  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Checkpoints run so far.
  int64_t checkpoints() const;

 private:
  Checkpointer(Database* writer, std::unique_ptr<Database> own, int pages);
  static int OnCommit(void* self, sqlite3* db, const char* name, int frames);
  void Loop();

  Database* writer_;
  std::unique_ptr<Database> own_;
  const int pages_;
  mutable absl::Mutex mu_;
  bool due_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t checkpoints_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

// A few read-only connections to one database file, each used by one reader
// at a time, so reads run side by side and never wait for the writer (WAL).
// Thread-safe.
class ReaderPool {
 public:
  // Opens `size` (at least 1) connections to `path`, which must exist and be
  // migrated already.
  static absl::StatusOr<std::unique_ptr<ReaderPool>> Open(const std::string& path, int size);

  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;
  ~ReaderPool();

  // Runs `body` with an idle connection inside a read transaction (one
  // consistent snapshot of what was committed when it began); waits for a
  // connection when all are busy.
  absl::Status Read(const std::function<absl::Status(Database&)>& body);

 private:
  ReaderPool() = default;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Database>> idle_ ABSL_GUARDED_BY(mu_);
};

// Messages kept in BLOB columns (serialized protobuf), as the stores keep
// their records. DATA_LOSS names `table` when a row does not parse.
template <typename T>
absl::StatusOr<T> ParseColumn(const Statement& statement, int column, absl::string_view table) {
  T message;
  if (!message.ParseFromString(statement.ColumnBlob(column))) {
    return absl::DataLossError(absl::StrCat("a row of ", table, " does not parse"));
  }
  return message;
}

// Steps through every row of `statement`, parsing `column` of each.
template <typename T>
absl::StatusOr<std::vector<T>> ReadMessages(Statement& statement, int column,
                                            absl::string_view table) {
  std::vector<T> out;
  while (true) {
    absl::StatusOr<bool> row = statement.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    absl::StatusOr<T> message = ParseColumn<T>(statement, column, table);
    if (!message.ok()) return message.status();
    out.push_back(*std::move(message));
  }
}

// Steps through every row of (key, data): the key in column 0, the message
// in column 1.
template <typename T>
absl::StatusOr<std::vector<Keyed<T>>> ReadKeyed(Statement& statement, absl::string_view table) {
  std::vector<Keyed<T>> out;
  while (true) {
    absl::StatusOr<bool> row = statement.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    absl::StatusOr<T> message = ParseColumn<T>(statement, 1, table);
    if (!message.ok()) return message.status();
    out.push_back({statement.ColumnInt(0), *std::move(message)});
  }
}

// The message in `column` of the first row, or nullopt when there is none.
template <typename T>
absl::StatusOr<std::optional<T>> ReadMessage(Statement& statement, int column,
                                             absl::string_view table) {
  absl::StatusOr<bool> row = statement.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<T>();
  absl::StatusOr<T> message = ParseColumn<T>(statement, column, table);
  if (!message.ok()) return message.status();
  return std::optional<T>(*std::move(message));
}

// Maps a SQLite result code to a status: constraint violations are
// ALREADY_EXISTS or FAILED_PRECONDITION, busy and locked are UNAVAILABLE,
// the rest INTERNAL. `what` says which operation failed.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what);

}  // namespace suishin

#endif  // SUISHIN_COMMON_SQLITE_H_
