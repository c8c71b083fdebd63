#include "common/postgres.h"

#include <poll.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/metrics.h"
#include "common/status_macros.h"

namespace suishin {
namespace {

// The key of the advisory lock Migrate holds (any constant shared by every
// replica of a service; one database belongs to one service).
constexpr int64_t kMigrationLock = 0x5375697368696e;  // "Suishin"

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsPostgresUrl(absl::string_view store) {
  return absl::StartsWith(store, "postgresql://") || absl::StartsWith(store, "postgres://");
}

std::string StoreForLog(absl::string_view store) {
  if (!IsPostgresUrl(store)) return std::string(store);
  // scheme://user:password@host... → scheme://user:***@host...
  const size_t start = store.find("://") + 3;
  const size_t at = store.find('@', start);
  const size_t colon = store.find(':', start);
  if (at == absl::string_view::npos || colon == absl::string_view::npos || colon > at) {
    return std::string(store);
  }
  return absl::StrCat(store.substr(0, colon + 1), "***", store.substr(at));
}

std::string LocalFileFor(absl::string_view store, absl::string_view suffix) {
  if (!IsPostgresUrl(store)) return absl::StrCat(store, suffix);
  // postgresql://user@host:port/dbname?params → dbname
  absl::string_view rest = store.substr(store.find("://") + 3);
  rest = rest.substr(0, rest.find('?'));
  const size_t slash = rest.find('/');
  absl::string_view name = slash == absl::string_view::npos ? "" : rest.substr(slash + 1);
  std::string file;
  for (char c : name) file.push_back(absl::ascii_isalnum(c) || c == '-' ? c : '_');
  if (file.empty()) file = "postgres";
  return absl::StrCat(file, suffix);
}

// ---- PgParams ----

PgParams& PgParams::Int(int64_t value) { return Text(absl::StrCat(value)); }

PgParams& PgParams::Double(double value) {
  // %.17g round-trips every double; the specials are PostgreSQL's words.
  if (value != value) return Text("NaN");
  if (value > 1.7976931348623157e308) return Text("Infinity");
  if (value < -1.7976931348623157e308) return Text("-Infinity");
  char buffer[32];
  snprintf(buffer, sizeof buffer, "%.17g", value);
  return Text(buffer);
}

PgParams& PgParams::Text(absl::string_view value) {
  values_.emplace_back(value);
  null_.push_back(false);
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::Bytes(absl::string_view value) {
  values_.emplace_back(value);
  null_.push_back(false);
  formats_.push_back(1);
  return *this;
}

PgParams& PgParams::Micros(absl::Time time) { return Int(absl::ToUnixMicros(time)); }

PgParams& PgParams::Null() {
  values_.emplace_back();
  null_.push_back(true);
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::OptionalDouble(bool has, double value) { return has ? Double(value) : Null(); }

// ---- PgResult ----

int64_t PgResult::affected() const {
  int64_t count = 0;
  return absl::SimpleAtoi(PQcmdTuples(result_.get()), &count) ? count : 0;
}

absl::string_view PgResult::Text(int row, int column) const {
  return absl::string_view(PQgetvalue(result_.get(), row, column),
                           PQgetlength(result_.get(), row, column));
}

int64_t PgResult::Int(int row, int column) const {
  return std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

double PgResult::Double(int row, int column) const {
  return std::strtod(PQgetvalue(result_.get(), row, column), nullptr);
}

std::string PgResult::Bytes(int row, int column) const {
  // bytea's text output is hex: \x followed by two digits per byte.
  absl::string_view text = Text(row, column);
  if (!absl::ConsumePrefix(&text, "\\x")) return std::string(text);
  std::string out(text.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>((HexValue(text[2 * i]) << 4) | HexValue(text[2 * i + 1]));
  }
  return out;
}

// ---- errors ----

absl::Status PostgresError(PGconn* conn, const PGresult* result, absl::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message =
      result != nullptr ? PQresultErrorMessage(result) : (conn ? PQerrorMessage(conn) : "");
  if (message.empty() && conn != nullptr) message = PQerrorMessage(conn);
  absl::StripTrailingAsciiWhitespace(&message);
  message = absl::StrCat(what, ": ", message);
  const absl::string_view code = state != nullptr ? state : "";
  if (code == "23505") return absl::AlreadyExistsError(message);
  // 23: integrity constraints; 25006: a write in a read-only transaction.
  if (absl::StartsWith(code, "23") || code == "25006") {
    return absl::FailedPreconditionError(message);
  }
  if (code == "40001" || code == "40P01") return absl::AbortedError(message);
  if (absl::StartsWith(code, "08") || absl::StartsWith(code, "57P") ||
      absl::StartsWith(code, "53") || (conn != nullptr && PQstatus(conn) != CONNECTION_OK)) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

// ---- PgConnection ----

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq: out of memory");
  std::unique_ptr<PgConnection> connection(new PgConnection(url, conn));
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    absl::StripTrailingAsciiWhitespace(&message);
    return absl::UnavailableError(absl::StrCat("PostgreSQL: ", message));
  }
  RETURN_IF_ERROR(connection->ExecScript(
      "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'; SET client_min_messages = warning"));
  return connection;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

absl::Status PgConnection::EnsureConnected() {
  if (PQstatus(conn_) == CONNECTION_OK) return absl::OkStatus();
  if (in_transaction_) return absl::UnavailableError("PostgreSQL: the connection was lost");
  PQreset(conn_);
  prepared_.clear();
  if (PQstatus(conn_) != CONNECTION_OK) return PostgresError(conn_, nullptr, "reconnect");
  return ExecScript(
      "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'; SET client_min_messages = warning");
}

absl::StatusOr<PgResult> PgConnection::Exec(absl::string_view sql, const PgParams& params) {
  RETURN_IF_ERROR(EnsureConnected());
  auto found = prepared_.find(sql);
  if (found == prepared_.end()) {
    std::string name = absl::StrCat("s", prepared_.size() + 1);
    PGresult* raw = PQprepare(conn_, name.c_str(), std::string(sql).c_str(), 0, nullptr);
    PgResult prepared(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK) return PostgresError(conn_, raw, sql);
    found = prepared_.emplace(std::string(sql), std::move(name)).first;
  }
  std::vector<const char*> values(params.values_.size());
  std::vector<int> lengths(params.values_.size());
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = params.null_[i] ? nullptr : params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  PGresult* raw = PQexecPrepared(conn_, found->second.c_str(), params.size(), values.data(),
                                 lengths.data(), params.formats_.data(), /*resultFormat=*/0);
  PgResult result(raw);
  const ExecStatusType status = PQresultStatus(raw);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return PostgresError(conn_, raw, sql);
  }
  return result;
}

absl::StatusOr<int64_t> PgConnection::Run(absl::string_view sql, const PgParams& params) {
  ASSIGN_OR_RETURN(PgResult result, Exec(sql, params));
  return result.affected();
}

absl::Status PgConnection::ExecScript(absl::string_view sql) {
  PGresult* raw = PQexec(conn_, std::string(sql).c_str());
  PgResult result(raw);
  const ExecStatusType status = PQresultStatus(raw);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return PostgresError(conn_, raw, sql.substr(0, 60));
  }
  return absl::OkStatus();
}

absl::Status PgConnection::InTransaction(const std::function<absl::Status()>& body) {
  std::vector<absl::Status> outcomes;
  RETURN_IF_ERROR(InGroupTransaction(nullptr, {body}, &outcomes));
  return outcomes.empty() ? absl::InternalError("no outcome") : outcomes[0];
}

absl::Status PgConnection::InReadTransaction(const std::function<absl::Status()>& body) {
  RETURN_IF_ERROR(EnsureConnected());
  RETURN_IF_ERROR(ExecScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  in_transaction_ = true;
  absl::Status status = body();
  in_transaction_ = false;
  absl::Status ended = ExecScript(status.ok() ? "COMMIT" : "ROLLBACK");
  return status.ok() ? ended : status;
}

absl::Status PgConnection::InGroupTransaction(
    const std::function<absl::Status()>& prologue,
    const std::vector<std::function<absl::Status()>>& bodies, std::vector<absl::Status>* outcomes) {
  auto fail_all = [&](const absl::Status& status) {
    if (outcomes != nullptr) outcomes->assign(bodies.size(), status);
    return status;
  };
  if (outcomes != nullptr) outcomes->clear();
  if (absl::Status connected = EnsureConnected(); !connected.ok()) return fail_all(connected);
  if (absl::Status begun = ExecScript("BEGIN"); !begun.ok()) return fail_all(begun);
  in_transaction_ = true;
  auto roll_back = [&](const absl::Status& status) {
    in_transaction_ = false;
    ExecScript("ROLLBACK").IgnoreError();
    return fail_all(status);
  };
  if (prologue) {
    if (absl::Status status = prologue(); !status.ok()) return roll_back(status);
  }
  std::vector<absl::Status> own;
  // A body alone needs no savepoint: the transaction is its savepoint.
  const bool savepoints = bodies.size() > 1;
  for (const auto& body : bodies) {
    if (savepoints) {
      if (absl::Status status = ExecScript("SAVEPOINT body"); !status.ok()) {
        return roll_back(status);
      }
    }
    absl::Status status = body();
    // A body that carried on after one of its statements failed: the
    // transaction is aborted, and COMMIT would answer ROLLBACK without an
    // error, losing the group while reporting success. It fails instead.
    if (status.ok() && PQtransactionStatus(conn_) == PQTRANS_INERROR) {
      status = absl::InternalError(
          "PostgreSQL: a statement of the body failed, but the body did not fail");
    }
    if (!savepoints && !status.ok()) {
      in_transaction_ = false;
      ExecScript("ROLLBACK").IgnoreError();
      if (outcomes != nullptr) outcomes->assign(1, status);
      return absl::OkStatus();  // nothing to commit; the body's outcome says why
    }
    if (savepoints) {
      absl::Status ended = ExecScript(status.ok() ? "RELEASE SAVEPOINT body"
                                                  : "ROLLBACK TO SAVEPOINT body; "
                                                    "RELEASE SAVEPOINT body");
      if (!ended.ok()) return roll_back(ended);
    }
    own.push_back(std::move(status));
  }
  in_transaction_ = false;
  absl::Status committed = ExecScript("COMMIT");
  if (!committed.ok()) {
    for (absl::Status& outcome : own) {
      if (outcome.ok()) outcome = committed;
    }
  }
  if (outcomes != nullptr) *outcomes = std::move(own);
  return committed;
}

absl::Status PgConnection::Migrate(const std::vector<PgMigration>& migrations) {
  return InTransaction([&]() -> absl::Status {
    RETURN_IF_ERROR(
        Exec("SELECT pg_advisory_xact_lock($1)", PgParams().Int(kMigrationLock)).status());
    RETURN_IF_ERROR(ExecScript(R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION suishin_time(micros bigint) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE AS $$ SELECT TIMESTAMPTZ 'epoch' + micros * INTERVAL '1 microsecond' $$;
CREATE OR REPLACE FUNCTION suishin_micros(t timestamptz) RETURNS bigint
  LANGUAGE sql IMMUTABLE AS $$ SELECT (EXTRACT(EPOCH FROM t) * 1000000)::bigint $$;
)sql"));
    ASSIGN_OR_RETURN(PgResult current,
                     Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    const int64_t version = current.Int(0, 0);
    for (const PgMigration& migration : migrations) {
      if (migration.version <= version) continue;
      if (absl::Status status = ExecScript(migration.sql); !status.ok()) {
        return absl::Status(status.code(),
                            absl::StrCat("migration ", migration.version, ": ", status.message()));
      }
      RETURN_IF_ERROR(Run("INSERT INTO schema_migrations (version) VALUES ($1)",
                          PgParams().Int(migration.version))
                          .status());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int> PgConnection::SchemaVersion() {
  ASSIGN_OR_RETURN(PgResult result,
                   Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return static_cast<int>(result.Int(0, 0));
}

absl::Status PgConnection::Listen(absl::string_view channel) {
  RETURN_IF_ERROR(EnsureConnected());
  return ExecScript(absl::StrCat("LISTEN ", channel));
}

absl::StatusOr<bool> PgConnection::WaitForNotification(absl::Duration timeout,
                                                       std::vector<std::string>* payloads) {
  auto drain = [&] {
    bool any = false;
    while (PGnotify* notify = PQnotifies(conn_)) {
      if (payloads != nullptr) payloads->emplace_back(notify->extra);
      PQfreemem(notify);
      any = true;
    }
    return any;
  };
  if (PQstatus(conn_) != CONNECTION_OK)
    return absl::UnavailableError("PostgreSQL: connection lost");
  if (drain()) return true;
  pollfd wait{PQsocket(conn_), POLLIN, 0};
  const int ready = poll(&wait, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (ready < 0) {
    if (errno == EINTR) return false;
    return absl::InternalError("poll failed");
  }
  if (ready == 0) return false;
  if (PQconsumeInput(conn_) == 0) return PostgresError(conn_, nullptr, "wait for notifications");
  return drain();
}

namespace {

class PgListener : public StoreListener {
 public:
  PgListener(std::string url, std::string channel)
      : url_(std::move(url)), channel_(std::move(channel)) {}

  bool Wait(absl::Duration timeout, std::vector<std::string>* payloads) override {
    if (connection_ == nullptr) {
      absl::StatusOr<std::unique_ptr<PgConnection>> connected = PgConnection::Connect(url_);
      if (!connected.ok() || !(*connected)->Listen(channel_).ok()) {
        absl::SleepFor(timeout);  // the database is away: wait, then let the caller look
        return true;
      }
      connection_ = *std::move(connected);
      return true;  // what came before LISTEN was not heard: the caller looks
    }
    absl::StatusOr<bool> heard = connection_->WaitForNotification(timeout, payloads);
    if (!heard.ok()) {
      connection_.reset();
      return true;
    }
    return *heard;
  }

 private:
  const std::string url_;
  const std::string channel_;
  std::unique_ptr<PgConnection> connection_;
};

}  // namespace

std::unique_ptr<StoreListener> ListenTo(const std::string& url, const std::string& channel) {
  return std::make_unique<PgListener>(url, channel);
}

// ---- PgPool ----

absl::StatusOr<std::unique_ptr<PgPool>> PgPool::Open(const std::string& url, int size) {
  if (size < 1) size = 1;
  std::unique_ptr<PgPool> pool(new PgPool(size));
  absl::MutexLock lock(&pool->mu_);
  for (int i = 0; i < size; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection, PgConnection::Connect(url));
    pool->idle_.push_back(std::move(connection));
    StoreConnectionGauges::Get().idle.Increment();
  }
  return pool;
}

PgPool::~PgPool() {
  absl::MutexLock lock(&mu_);
  StoreConnectionGauges::Get().idle.Decrement(static_cast<double>(idle_.size()));
}

std::unique_ptr<PgConnection> PgPool::Take() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::vector<std::unique_ptr<PgConnection>>* idle) { return !idle->empty(); }, &idle_));
  std::unique_ptr<PgConnection> connection = std::move(idle_.back());
  idle_.pop_back();
  StoreConnectionGauges::Get().idle.Decrement();
  StoreConnectionGauges::Get().busy.Increment();
  return connection;
}

void PgPool::Give(std::unique_ptr<PgConnection> connection) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(connection));
  StoreConnectionGauges::Get().busy.Decrement();
  StoreConnectionGauges::Get().idle.Increment();
}

absl::Status PgPool::Read(const std::function<absl::Status(PgConnection&)>& body) {
  std::unique_ptr<PgConnection> connection = Take();
  absl::Status status = connection->InReadTransaction([&] { return body(*connection); });
  Give(std::move(connection));
  return status;
}

absl::StatusOr<PgResult> PgPool::Query(absl::string_view sql, const PgParams& params) {
  std::unique_ptr<PgConnection> connection = Take();
  absl::StatusOr<PgResult> result = connection->Exec(sql, params);
  Give(std::move(connection));
  return result;
}

int PgPool::busy() const {
  absl::MutexLock lock(&mu_);
  return size_ - static_cast<int>(idle_.size());
}

}  // namespace suishin
