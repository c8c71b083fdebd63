#include "common/redis_client.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace suishin {

struct RedisClient::Connection {
  explicit Connection(redisContext* c) : context(c) {}
  ~Connection() { redisFree(context); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  redisContext* const context;
};

namespace {

using SteadyClock = std::chrono::steady_clock;

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

bool IsFiniteAndPositive(absl::Duration d) {
  return d > absl::ZeroDuration() && d != absl::InfiniteDuration();
}

// Keeps a write on a socket the server has closed from killing the process with SIGPIPE,
// without changing the process-wide disposition: SIGPIPE is blocked in this thread for the
// guard's life, and one raised meanwhile is consumed before unblocking. (hiredis 0.14 uses
// write(), not send(MSG_NOSIGNAL).)
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&sigpipe_);
    sigaddset(&sigpipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &sigpipe_, &old_mask_);
  }
  ~ScopedSigpipeBlock() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&sigpipe_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t sigpipe_;
  sigset_t old_mask_;
  bool was_pending_ = false;
};

// True when an idle connection has something to read: the server closed it (EOF, reset) or
// sent something unasked. Either way it must not carry the next command.
bool IdleConnectionIsStale(const redisContext* c) {
  struct pollfd pfd = {c->fd, POLLIN, 0};
  int n;
  do {
    n = poll(&pfd, 1, 0);
  } while (n == -1 && errno == EINTR);
  return n != 0;  // Readable, hung up, or poll itself failed.
}

// Maps a Redis error reply to a status, as documented in the header.
absl::Status ErrorReplyToStatus(absl::string_view text, absl::string_view command) {
  std::string message = absl::StrCat("redis ", command, ": ", text);
  if (absl::StartsWith(text, "WRONGTYPE") || absl::StrContains(text, "not an integer") ||
      absl::StrContains(text, "not a valid float") || absl::StrContains(text, "overflow") ||
      absl::StrContains(text, "out of range") || absl::StrContains(text, "no such key")) {
    return absl::FailedPreconditionError(message);
  }
  if (absl::StartsWith(text, "LOADING ") || absl::StartsWith(text, "BUSY ") ||
      absl::StartsWith(text, "MASTERDOWN ") || absl::StartsWith(text, "TRYAGAIN ")) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

// Copies a hiredis reply into a RedisReply; an error reply anywhere in it becomes a status.
absl::StatusOr<RedisReply> Convert(const redisReply& r, absl::string_view command) {
  RedisReply out;
  switch (r.type) {
    case REDIS_REPLY_NIL:
      out.type = RedisReply::Type::kNil;
      return out;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r.integer;
      return out;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out.type =
          r.type == REDIS_REPLY_STRING ? RedisReply::Type::kString : RedisReply::Type::kStatus;
      out.str.assign(r.str, r.len);
      return out;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) {
        absl::StatusOr<RedisReply> element = Convert(*r.element[i], command);
        if (!element.ok()) return element.status();
        out.elements.push_back(*std::move(element));
      }
      return out;
    case REDIS_REPLY_ERROR:
      return ErrorReplyToStatus(absl::string_view(r.str, r.len), command);
    default:
      return absl::InternalError(
          absl::StrCat("redis ", command, ": unexpected reply type ", r.type));
  }
}

// The command's name, upper-cased, for messages. Arguments are left out: they may be large,
// binary or secret.
std::string CommandName(const std::vector<std::string>& args) {
  return args.empty() ? std::string("(empty command)") : absl::AsciiStrToUpper(args[0]);
}

struct Argv {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
};

Argv MakeArgv(const std::vector<std::string>& args) {
  Argv argv;
  argv.ptrs.reserve(args.size());
  argv.lens.reserve(args.size());
  for (const std::string& a : args) {
    argv.ptrs.push_back(a.data());
    argv.lens.push_back(a.size());
  }
  return argv;
}

bool IsDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

absl::Status BadUrl(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrFormat("invalid redis url \"%s\": %s", RedactRedisUrl(url), why));
}

// "%40" → "@"; nullopt for a '%' without two hex digits.
std::optional<std::string> PercentDecode(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int value = 0;
    for (const char digit : text.substr(i + 1, 2)) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(digit))) return std::nullopt;
      value =
          value * 16 + (absl::ascii_isdigit(static_cast<unsigned char>(digit))
                            ? digit - '0'
                            : absl::ascii_tolower(static_cast<unsigned char>(digit)) - 'a' + 10);
    }
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

// Where the user info of a redis URL ends (its '@'), within the authority.
size_t UserInfoEnd(absl::string_view url) {
  const size_t start = url.find("://");
  if (start == absl::string_view::npos) return absl::string_view::npos;
  const size_t authority_end = url.find('/', start + 3);
  const absl::string_view authority = url.substr(start + 3, authority_end - (start + 3));
  const size_t at = authority.rfind('@');
  return at == absl::string_view::npos ? at : start + 3 + at;
}

}  // namespace

std::string RedactRedisUrl(absl::string_view url) {
  const size_t at = UserInfoEnd(url);
  if (at == absl::string_view::npos) return std::string(url);
  const size_t start = url.find("://") + 3;
  const size_t colon = url.substr(start, at - start).find(':');
  if (colon == absl::string_view::npos) return std::string(url);
  return absl::StrCat(url.substr(0, start + colon + 1), "***", url.substr(at));
}

absl::Status ValidateRedisKeyPrefix(absl::string_view prefix) {
  const bool ok = !prefix.empty() && prefix.size() <= 64 &&
                  std::all_of(prefix.begin(), prefix.end(), [](char c) {
                    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                           c == '_' || c == '.';
                  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "--redis_key_prefix=\"", prefix, "\": want 1 to 64 letters, digits, '-', '_' or '.'"));
}

absl::StatusOr<RedisOptions> ParseRedisUrl(absl::string_view url) {
  constexpr absl::string_view kScheme = "redis://";
  if (!absl::StartsWithIgnoreCase(url, kScheme)) {
    if (absl::StartsWithIgnoreCase(url, "rediss://")) {
      return BadUrl(url, "TLS (rediss://) is not supported");
    }
    return BadUrl(url, "want redis://host[:port][/db]");
  }
  absl::string_view rest = url.substr(kScheme.size());
  RedisOptions options;
  if (const size_t at = UserInfoEnd(url); at != absl::string_view::npos) {
    const absl::string_view user_info = url.substr(kScheme.size(), at - kScheme.size());
    rest = url.substr(at + 1);
    const size_t colon = user_info.find(':');
    if (colon == absl::string_view::npos)
      return BadUrl(url, "a user needs a password (user:password@)");
    std::optional<std::string> user = PercentDecode(user_info.substr(0, colon));
    std::optional<std::string> password = PercentDecode(user_info.substr(colon + 1));
    if (!user || !password) return BadUrl(url, "bad percent-encoding in user info");
    if (password->empty()) return BadUrl(url, "empty password");
    options.user = *std::move(user);
    options.password = *std::move(password);
  }
  if (rest.find_first_of("@?#") != absl::string_view::npos) {
    return BadUrl(url, "query and fragment are not supported");
  }
  absl::string_view authority = rest;
  absl::string_view db_part;
  bool has_db = false;
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    authority = rest.substr(0, slash);
    db_part = rest.substr(slash + 1);
    has_db = true;
  }

  absl::string_view host = authority;
  absl::string_view port_part;
  bool has_port = false;
  if (absl::StartsWith(authority, "[")) {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) return BadUrl(url, "unclosed '[' in host");
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return BadUrl(url, "unexpected text after ']'");
      port_part = after.substr(1);
      has_port = true;
    }
  } else if (size_t colon = authority.find(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port_part = authority.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return BadUrl(url, "empty host");
  for (char c : host) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || absl::ascii_iscntrl(c) || c == '[' ||
        c == ']') {
      return BadUrl(url, "bad character in host");
    }
  }
  options.host = std::string(host);

  if (has_port) {
    int port = 0;
    if (!IsDigits(port_part) || port_part.size() > 5 || !absl::SimpleAtoi(port_part, &port) ||
        port < 1 || port > 65535) {
      return BadUrl(url, "port must be a number in 1..65535");
    }
    options.port = port;
  }
  if (has_db && !db_part.empty()) {  // "redis://host/" means db 0.
    int db = 0;
    if (!IsDigits(db_part) || db_part.size() > 9 || !absl::SimpleAtoi(db_part, &db)) {
      return BadUrl(url, "db must be a non-negative number");
    }
    options.db = db;
  }
  return options;
}

RedisClient::RedisClient(RedisOptions options)
    : options_(std::move(options)), address_(absl::StrCat(options_.host, ":", options_.port)) {}

RedisClient::~RedisClient() = default;

absl::Status RedisClient::DropConnectionLocked(absl::string_view during, int saved_errno) {
  const redisContext* c = conn_->context;
  std::string why;
  if (c->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
    why = absl::StrCat("timed out after ", absl::FormatDuration(options_.command_timeout));
  } else if (c->err == REDIS_ERR_EOF) {
    why = "connection closed by server";
  } else {
    why = c->errstr[0] != '\0' ? std::string(c->errstr) : std::string("connection error");
  }
  conn_.reset();
  return absl::UnavailableError(absl::StrCat("redis ", address_, ": ", during, ": ", why));
}

absl::Status RedisClient::EnsureConnectedLocked() {
  if (conn_ != nullptr) {
    if (!IdleConnectionIsStale(conn_->context)) return absl::OkStatus();
    conn_.reset();  // Closed by the server while idle: re-make it now.
  }
  const SteadyClock::time_point now = SteadyClock::now();
  if (now < retry_after_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(retry_after_ - now);
    return absl::Status(last_connect_error_.code(),
                        absl::StrCat(last_connect_error_.message(), " (not retrying for another ",
                                     left.count(), "ms)"));
  }

  // On any failure below: remember why, and fail fast for reconnect_backoff.
  auto fail = [&](absl::StatusCode code, absl::string_view why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    conn_.reset();
    last_connect_error_ = absl::Status(code, absl::StrCat("redis ", address_, ": ", why));
    if (IsFiniteAndPositive(options_.reconnect_backoff)) {
      const absl::Duration backoff = std::min(options_.reconnect_backoff, absl::Hours(24));
      retry_after_ = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                              absl::ToChronoNanoseconds(backoff));
    }
    return last_connect_error_;
  };

  redisContext* c = IsFiniteAndPositive(options_.connect_timeout)
                        ? redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                                  absl::ToTimeval(options_.connect_timeout))
                        : redisConnect(options_.host.c_str(), options_.port);
  if (c == nullptr) return fail(absl::StatusCode::kUnavailable, "connect: out of memory");
  conn_ = std::make_unique<Connection>(c);
  if (c->err != 0) {
    return fail(absl::StatusCode::kUnavailable, absl::StrCat("connect: ", c->errstr));
  }
  // Not inherited by processes this one spawns.
  fcntl(c->fd, F_SETFD, fcntl(c->fd, F_GETFD) | FD_CLOEXEC);
  if (IsFiniteAndPositive(options_.command_timeout) &&
      redisSetTimeout(c, absl::ToTimeval(options_.command_timeout)) != REDIS_OK) {
    return fail(absl::StatusCode::kUnavailable, absl::StrCat("set timeout: ", c->errstr));
  }

  if (!options_.password.empty()) {
    std::vector<const char*> argv = {"AUTH"};
    std::vector<size_t> lens = {4};
    if (!options_.user.empty()) {
      argv.push_back(options_.user.c_str());
      lens.push_back(options_.user.size());
    }
    argv.push_back(options_.password.c_str());
    lens.push_back(options_.password.size());
    ScopedSigpipeBlock no_sigpipe;
    ReplyPtr reply(static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (reply == nullptr) {
      return fail(absl::StatusCode::kUnavailable,
                  absl::StrCat("AUTH: ", c->errstr[0] ? c->errstr : "no reply"));
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      // "WRONGPASS invalid username-password pair": the configuration, not a blip.
      return fail(absl::StatusCode::kPermissionDenied,
                  absl::StrCat("AUTH as ", options_.user.empty() ? "default" : options_.user, ": ",
                               absl::string_view(reply->str, reply->len)));
    }
  }
  if (options_.db != 0) {
    const std::string db = absl::StrCat(options_.db);
    const char* argv[] = {"SELECT", db.c_str()};
    const size_t lens[] = {6, db.size()};
    ScopedSigpipeBlock no_sigpipe;
    ReplyPtr reply(static_cast<redisReply*>(redisCommandArgv(c, 2, argv, lens)));
    if (reply == nullptr) {
      return fail(absl::StatusCode::kUnavailable,
                  absl::StrCat("SELECT ", db, ": ", c->errstr[0] ? c->errstr : "no reply"));
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      // Typically "ERR DB index is out of range": the server's configuration, not a blip.
      return fail(absl::StatusCode::kFailedPrecondition,
                  absl::StrCat("SELECT ", db, ": ", absl::string_view(reply->str, reply->len)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisReply> RedisClient::Command(const std::vector<std::string>& args) {
  if (args.empty()) return absl::InvalidArgumentError("redis: empty command");
  const std::string name = CommandName(args);
  Argv argv = MakeArgv(args);

  absl::MutexLock lock(&mu_);
  if (absl::Status s = EnsureConnectedLocked(); !s.ok()) return s;
  ScopedSigpipeBlock no_sigpipe;
  ReplyPtr reply(static_cast<redisReply*>(redisCommandArgv(
      conn_->context, static_cast<int>(args.size()), argv.ptrs.data(), argv.lens.data())));
  if (reply == nullptr) {
    const int saved_errno = errno;
    return DropConnectionLocked(name, saved_errno);
  }
  return Convert(*reply, name);
}

absl::StatusOr<std::vector<RedisReply>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  for (size_t i = 0; i < commands.size(); ++i) {
    if (commands[i].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("redis pipeline: command ", i, " is empty"));
    }
  }
  std::vector<RedisReply> replies;
  if (commands.empty()) return replies;
  replies.reserve(commands.size());

  absl::MutexLock lock(&mu_);
  if (absl::Status s = EnsureConnectedLocked(); !s.ok()) return s;
  redisContext* c = conn_->context;
  ScopedSigpipeBlock no_sigpipe;
  for (const std::vector<std::string>& args : commands) {
    Argv argv = MakeArgv(args);
    if (redisAppendCommandArgv(c, static_cast<int>(args.size()), argv.ptrs.data(),
                               argv.lens.data()) != REDIS_OK) {
      const int saved_errno = errno;
      return DropConnectionLocked("pipeline", saved_errno);
    }
  }
  absl::Status first_error;
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
      const int saved_errno = errno;
      return DropConnectionLocked(
          absl::StrCat("pipeline command ", i, " (", CommandName(commands[i]), ")"), saved_errno);
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    absl::StatusOr<RedisReply> converted =
        Convert(*reply, absl::StrCat(CommandName(commands[i]), " (pipeline command ", i, ")"));
    if (!converted.ok()) {
      if (first_error.ok()) first_error = converted.status();
      continue;  // Keep reading so the connection stays in step.
    }
    replies.push_back(*std::move(converted));
  }
  if (!first_error.ok()) return first_error;
  return replies;
}

absl::Status RedisClient::Ping() {
  absl::StatusOr<RedisReply> reply = Command({"PING"});
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kStatus || reply->str != "PONG") {
    return absl::InternalError(absl::StrCat("redis PING: unexpected reply \"", reply->str, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> RedisClient::Get(absl::string_view key) {
  absl::StatusOr<RedisReply> reply = Command({"GET", std::string(key)});
  if (!reply.ok()) return reply.status();
  switch (reply->type) {
    case RedisReply::Type::kNil:
      return std::optional<std::string>();
    case RedisReply::Type::kString:
      return std::optional<std::string>(std::move(reply->str));
    default:
      return absl::InternalError("redis GET: reply is not a string or nil");
  }
}

absl::Status RedisClient::Set(absl::string_view key, absl::string_view value, absl::Duration ttl) {
  if (ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis SET: ttl must not be negative, got ", absl::FormatDuration(ttl)));
  }
  std::vector<std::string> args = {"SET", std::string(key), std::string(value)};
  if (IsFiniteAndPositive(ttl)) {
    args.push_back("PX");
    args.push_back(absl::StrCat(absl::ToInt64Milliseconds(absl::Ceil(ttl, absl::Milliseconds(1)))));
  }
  absl::StatusOr<RedisReply> reply = Command(args);
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kStatus || reply->str != "OK") {
    return absl::InternalError("redis SET: reply is not OK");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RedisClient::Del(absl::string_view key) {
  absl::StatusOr<RedisReply> reply = Command({"DEL", std::string(key)});
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kInteger) {
    return absl::InternalError("redis DEL: reply is not an integer");
  }
  return reply->integer;
}

absl::StatusOr<int64_t> RedisClient::Incr(absl::string_view key) {
  absl::StatusOr<RedisReply> reply = Command({"INCR", std::string(key)});
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kInteger) {
    return absl::InternalError("redis INCR: reply is not an integer");
  }
  return reply->integer;
}

}  // namespace suishin
