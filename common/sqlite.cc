#include "common/sqlite.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/metrics.h"
#include "common/status_macros.h"

namespace suishin {

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  const std::string message =
      absl::StrCat(what, ": ", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return absl::AlreadyExistsError(message);
      }
      return absl::FailedPreconditionError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_error_(other.bind_error_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::NoteBind(int rc) {
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

Statement& Statement::BindInt(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}
Statement& Statement::BindDouble(int index, double value) {
  NoteBind(sqlite3_bind_double(stmt_, index, value));
  return *this;
}
Statement& Statement::BindText(int index, absl::string_view value) {
  NoteBind(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                             SQLITE_TRANSIENT));
  return *this;
}
Statement& Statement::BindBlob(int index, absl::string_view bytes) {
  NoteBind(sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                             SQLITE_TRANSIENT));
  return *this;
}
Statement& Statement::BindTextUnowned(int index, absl::string_view value) {
  NoteBind(
      sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC));
  return *this;
}
Statement& Statement::BindBlobUnowned(int index, absl::string_view bytes) {
  NoteBind(
      sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC));
  return *this;
}
Statement& Statement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index));
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) return SqliteError(db_, bind_error_, "bind");
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, sqlite3_extended_errcode(db_), sqlite3_sql(stmt_));
}

absl::Status Statement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return absl::OkStatus();
  }
}

void Statement::ResetKeepingBindings() {
  sqlite3_reset(stmt_);
  bind_error_ = SQLITE_OK;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }
std::string Statement::ColumnText(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return text == nullptr ? std::string() : std::string(text, sqlite3_column_bytes(stmt_, column));
}
std::string Statement::ColumnBlob(int column) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  return data == nullptr ? std::string() : std::string(data, sqlite3_column_bytes(stmt_, column));
}
bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  // Memory statistics take a global mutex on every allocation; nothing here
  // reads them. Only possible before SQLite initialises, so once, first.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(raw, rc, absl::StrCat("open ", path));
    sqlite3_close(raw);
    return status;
  }
  std::unique_ptr<Database> db(new Database(raw));
  sqlite3_busy_timeout(raw, 5000);
  // 8 KiB pages (a new file only; an existing one keeps its size): measured
  // on an import of a million rows and on single writes side by side, twice
  // SQLite's default makes bulk writes cheaper (fewer pages) while a small
  // commit still writes few bytes to the log (16 KiB: imports faster still,
  // single writes a fifth slower).
  RETURN_IF_ERROR(
      db->Exec("PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA "
               "foreign_keys=ON;"));
  return db;
}

Database::~Database() {
  cached_.clear();
  sqlite3_close(db_);
}

absl::Status Database::Exec(absl::string_view sql) {
  char* error = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db_, sqlite3_extended_errcode(db_), text.substr(0, 80));
    sqlite3_free(error);
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> Database::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, absl::StrCat("prepare ", sql));
  return Statement(db_, stmt);
}

absl::StatusOr<Statement*> Database::Cached(absl::string_view sql) {
  auto it = cached_.find(sql);
  if (it == cached_.end()) {
    ASSIGN_OR_RETURN(Statement statement, Prepare(sql));
    it = cached_.emplace(std::string(sql), std::make_unique<Statement>(std::move(statement))).first;
  }
  it->second->Reset();
  return it->second.get();
}

absl::Status Database::InTransaction(const std::function<absl::Status()>& body) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status status = body();
  if (status.ok()) status = Exec("COMMIT");
  if (!status.ok()) {
    Exec("ROLLBACK").IgnoreError();
  }
  return status;
}

absl::Status Database::InReadTransaction(const std::function<absl::Status()>& body) {
  RETURN_IF_ERROR(Exec("BEGIN DEFERRED"));
  absl::Status status = body();
  // A cached statement left on a row keeps the snapshot open past COMMIT:
  // reset them all, so the next read sees what was committed meanwhile.
  for (auto& [sql, statement] : cached_) statement->Reset();
  // A read-only transaction has nothing to lose: end it either way.
  absl::Status ended = Exec(status.ok() ? "COMMIT" : "ROLLBACK");
  return status.ok() ? ended : status;
}

absl::Status Database::InGroupTransaction(const std::vector<std::function<absl::Status()>>& bodies,
                                          std::vector<absl::Status>* outcomes) {
  outcomes->assign(bodies.size(), absl::OkStatus());
  // Prepared once per connection: a group runs them for every body.
  auto run = [this](absl::string_view sql) -> absl::Status {
    ASSIGN_OR_RETURN(Statement * statement, Cached(sql));
    absl::Status status = statement->Run();
    statement->Reset();
    return status;
  };
  absl::Status begun = run("BEGIN IMMEDIATE");
  if (!begun.ok()) {
    outcomes->assign(bodies.size(), begun);
    return begun;
  }
  if (bodies.size() == 1) {
    // Alone in its group: the transaction is its savepoint.
    absl::Status status = bodies[0]();
    absl::Status committed = absl::OkStatus();
    if (status.ok()) {
      committed = run("COMMIT");
      status = committed;
    }
    if (!status.ok()) Exec("ROLLBACK").IgnoreError();
    (*outcomes)[0] = std::move(status);
    return committed;
  }
  for (size_t i = 0; i < bodies.size(); ++i) {
    absl::Status status = run("SAVEPOINT body");
    if (status.ok()) status = bodies[i]();
    if (status.ok()) status = run("RELEASE body");
    if (!status.ok()) {
      // Undo this body alone; the transaction stays open for the others.
      absl::Status undone = run("ROLLBACK TO body");
      if (undone.ok()) undone = run("RELEASE body");
      if (!undone.ok()) {
        Exec("ROLLBACK").IgnoreError();
        outcomes->assign(bodies.size(), undone);
        return undone;
      }
    }
    (*outcomes)[i] = std::move(status);
  }
  absl::Status committed = run("COMMIT");
  if (!committed.ok()) {
    Exec("ROLLBACK").IgnoreError();
    for (absl::Status& outcome : *outcomes) {
      if (outcome.ok()) outcome = committed;
    }
  }
  return committed;
}

absl::StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::Start(Database* writer,
                                                                  const std::string& path,
                                                                  int pages) {
  ASSIGN_OR_RETURN(std::unique_ptr<Database> own, Database::Open(path));
  std::unique_ptr<Checkpointer> checkpointer(
      new Checkpointer(writer, std::move(own), std::max(pages, 1)));
  // Replaces the automatic checkpoints of the writer's connection.
  sqlite3_wal_hook(writer->handle(), &Checkpointer::OnCommit, checkpointer.get());
  return checkpointer;
}

Checkpointer::Checkpointer(Database* writer, std::unique_ptr<Database> own, int pages)
    : writer_(writer), own_(std::move(own)), pages_(pages), thread_([this] { Loop(); }) {}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writer_->handle(), nullptr, nullptr);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

int64_t Checkpointer::checkpoints() const {
  absl::MutexLock lock(&mu_);
  return checkpoints_;
}

int Checkpointer::OnCommit(void* self, sqlite3*, const char*, int frames) {
  auto* checkpointer = static_cast<Checkpointer*>(self);
  if (frames >= checkpointer->pages_) {
    absl::MutexLock lock(&checkpointer->mu_);
    checkpointer->due_ = true;
  }
  return SQLITE_OK;
}

void Checkpointer::Loop() {
  pthread_setname_np(pthread_self(), "checkpointer");
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Checkpointer* self)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->due_ || self->stopping_; },
          this));
      due_ = false;
      if (stopping_) break;
    }
    // PASSIVE: copies what no reader still needs, waits for nobody.
    sqlite3_wal_checkpoint_v2(own_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    absl::MutexLock lock(&mu_);
    ++checkpoints_;
  }
  sqlite3_wal_checkpoint_v2(own_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

absl::StatusOr<std::unique_ptr<ReaderPool>> ReaderPool::Open(const std::string& path, int size) {
  std::unique_ptr<ReaderPool> pool(new ReaderPool);
  absl::MutexLock lock(&pool->mu_);
  for (int i = 0; i < std::max(size, 1); ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
    // A reader never writes: a write through one fails instead of taking
    // the write lock behind the writer's back.
    RETURN_IF_ERROR(db->Exec("PRAGMA query_only = ON"));
    pool->idle_.push_back(std::move(db));
    StoreConnectionGauges::Get().idle.Increment();
  }
  return pool;
}

ReaderPool::~ReaderPool() {
  absl::MutexLock lock(&mu_);
  StoreConnectionGauges::Get().idle.Decrement(static_cast<double>(idle_.size()));
}

absl::Status ReaderPool::Read(const std::function<absl::Status(Database&)>& body) {
  std::unique_ptr<Database> db;
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::vector<std::unique_ptr<Database>>* idle) { return !idle->empty(); }, &idle_));
    db = std::move(idle_.back());
    idle_.pop_back();
  }
  StoreConnectionGauges::Get().idle.Decrement();
  StoreConnectionGauges::Get().busy.Increment();
  absl::Status status = db->InReadTransaction([&] { return body(*db); });
  StoreConnectionGauges::Get().busy.Decrement();
  StoreConnectionGauges::Get().idle.Increment();
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(db));
  return status;
}

absl::StatusOr<int> Database::SchemaVersion() {
  ASSIGN_OR_RETURN(Statement statement, Prepare("PRAGMA user_version"));
  ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? static_cast<int>(statement.ColumnInt(0)) : 0;
}

absl::Status Database::Migrate(const std::vector<Migration>& migrations) {
  ASSIGN_OR_RETURN(int current, SchemaVersion());
  std::vector<const Migration*> ordered;
  for (const Migration& migration : migrations) ordered.push_back(&migration);
  std::sort(ordered.begin(), ordered.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });
  for (const Migration* step : ordered) {
    const Migration& migration = *step;
    if (migration.version <= current) continue;
    RETURN_IF_ERROR(InTransaction([&]() -> absl::Status {
      RETURN_IF_ERROR(Exec(migration.sql));
      if (migration.apply) RETURN_IF_ERROR(migration.apply(*this));
      return Exec(absl::StrCat("PRAGMA user_version = ", migration.version));
    }));
    current = migration.version;
  }
  return absl::OkStatus();
}

}  // namespace suishin
