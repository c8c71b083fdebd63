// RedisClient is a small synchronous client for the Redis server that Suishin
// uses as a cache, and the SharedCache (common/shared_cache.h) the services
// are given in production. It owns one TCP connection, made lazily on the first
// command and re-made after it breaks, so a service can construct its client
// at start-up whether or not Redis is up yet.
//
// Contract:
//  - Thread-safe. Calls from many threads are serialised on the one
//    connection. A call waits on the network for at most connect_timeout to
//    connect and command_timeout for each socket read or write.
//  - Never throws, never aborts, and is safe against SIGPIPE without the
//    process having to ignore it.
//  - A Redis error reply is an error status carrying Redis's text:
//    FAILED_PRECONDITION when the stored data is not in a state the command
//    can act on (WRONGTYPE, "value is not an integer", overflow, ...),
//    UNAVAILABLE when Redis asks to be retried (LOADING, BUSY, MASTERDOWN,
//    TRYAGAIN), INTERNAL otherwise (unknown command, syntax error: a bug in
//    the caller). The connection stays usable.
//  - A failure to connect, a broken connection or a command_timeout is
//    UNAVAILABLE. The connection is dropped; the next call connects again,
//    except that for reconnect_backoff after a failed connect calls fail
//    fast with the same status without touching the network. (A connect
//    whose SELECT is refused, e.g. db out of range, is FAILED_PRECONDITION.) A command that
//    failed with UNAVAILABLE may or may not have run on the server, and is
//    never retried here: retrying is the caller's decision.
//  - A connection the server closed while idle (restart, CLIENT KILL, idle
//    timeout) is noticed before the next command is sent and re-made at
//    once, so that command does not fail.
//  - `AUTH [user] password` is sent on every (re)connect when a password is
//    set (a refusal is PERMISSION_DENIED, without the password), then
//    `SELECT db` when db != 0.
//
// Example:
//   ASSIGN_OR_RETURN(RedisOptions options, ParseRedisUrl(flag_redis_url));
//   RedisClient redis(options);
//   RETURN_IF_ERROR(redis.Set("kpi:progress:2024", payload, absl::Minutes(5)));
//   ASSIGN_OR_RETURN(std::optional<std::string> cached, redis.Get("kpi:progress:2024"));
//   if (!cached.has_value()) { /* miss: compute and Set */ }
#ifndef SUISHIN_COMMON_REDIS_CLIENT_H_
#define SUISHIN_COMMON_REDIS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/shared_cache.h"

namespace suishin {

// Where the Redis server is and how patient to be with it.
struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  // Sent as AUTH [user] password on every (re)connect when password is set:
  // a Redis 6 ACL user, or the default user's requirepass when user is empty.
  std::string user;
  std::string password;
  // What every key this installation writes starts with, before a ':'
  // (--redis_key_prefix), so installations can share one server.
  std::string key_prefix = "suishin";
  // Zero, negative or infinite: no timeout.
  absl::Duration connect_timeout = absl::Milliseconds(250);
  // Bounds each read and write on the socket. Zero, negative or infinite: no timeout.
  absl::Duration command_timeout = absl::Milliseconds(250);
  // After a failed connect, do not try again for this long (calls fail fast with UNAVAILABLE
  // meanwhile).
  absl::Duration reconnect_backoff = absl::Milliseconds(500);
};

// Parses "redis://[[user]:password@]host[:port][/db]"; port (default 6379) and /db
// (default 0) are optional, an IPv6 host is written in brackets, and the user and password
// are percent-decoded: "redis://127.0.0.1:6380/0", "redis://cache", "redis://[::1]:6379/2",
// "redis://:s3cret@cache", "redis://suishin:p%40ss@cache:6379/1". Timeouts and the key
// prefix keep their defaults. Anything else (other schemes, a user without a password,
// query strings, ports outside 1..65535, a non-numeric db) is INVALID_ARGUMENT naming the
// url with its password hidden (RedactRedisUrl).
absl::StatusOr<RedisOptions> ParseRedisUrl(absl::string_view url);

// `url` with the password of its user info, if any, replaced by "***": what may be
// logged or shown.
std::string RedactRedisUrl(absl::string_view url);

// OK for a --redis_key_prefix of 1 to 64 letters, digits, '-', '_' and '.';
// INVALID_ARGUMENT naming it otherwise.
absl::Status ValidateRedisKeyPrefix(absl::string_view prefix);

class RedisClient final : public SharedCache {
 public:
  // Does not connect: the first command does.
  explicit RedisClient(RedisOptions options);
  ~RedisClient() override;

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command, e.g. {"HSET", key, field, value}. Arguments are binary-safe.
  // Empty `args` is INVALID_ARGUMENT. Errors as described at the top of this file.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& args) override;

  // Sends all `commands` in one round trip and returns their replies in the same order.
  // If any reply is a Redis error, every reply is still read (the connection stays in step)
  // and the first error is returned, naming the command's index; the other commands ran.
  // On UNAVAILABLE any prefix of the commands may have run. No command may be empty.
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) override;

  // OK when the server answers PONG.
  absl::Status Ping();
  // The value, or nullopt when the key does not exist.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) override;
  // SET key value, with PX when `ttl` is positive and finite (rounded up to a whole
  // millisecond). Zero or infinite `ttl` means no expiry; a negative one is INVALID_ARGUMENT.
  absl::Status Set(absl::string_view key, absl::string_view value, absl::Duration ttl) override;
  absl::Status Set(absl::string_view key, absl::string_view value) {
    return Set(key, value, absl::ZeroDuration());
  }
  // The number of keys removed (0 or 1).
  absl::StatusOr<int64_t> Del(absl::string_view key);
  // The value after incrementing; a missing key counts as 0.
  absl::StatusOr<int64_t> Incr(absl::string_view key);

  const RedisOptions& options() const { return options_; }
  // "<key_prefix>:<name>": a key of this installation.
  std::string Key(absl::string_view name) const override {
    return absl::StrCat(options_.key_prefix, ":", name);
  }

 private:
  struct Connection;  // Wraps the hiredis context; defined in the .cc.

  // Makes sure `conn_` is a live connection, connecting if needed.
  absl::Status EnsureConnectedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the connection after an I/O failure (`saved_errno` is errno just after it) and
  // returns UNAVAILABLE describing it.
  absl::Status DropConnectionLocked(absl::string_view during, int saved_errno)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RedisOptions options_;
  const std::string address_;  // "host:port", for messages.

  absl::Mutex mu_;
  std::unique_ptr<Connection> conn_ ABSL_GUARDED_BY(mu_);
  // While now < retry_after_ (a monotonic clock), calls fail fast with last_connect_error_.
  std::chrono::steady_clock::time_point retry_after_ ABSL_GUARDED_BY(mu_);
  absl::Status last_connect_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_REDIS_CLIENT_H_
