// SharedCache: the one seam for the cache Suishin's services share between
// processes (Redis in production: RedisClient, common/redis_client.h,
// implements it), as Clock (common/clock.h) is the one seam for time.
//
// A cache only: every caller keeps working when a call fails, reading its
// own store instead. kpi-service keeps computed figures in it
// (services/kpi/figure_cache.h), notification-service its active alerts per
// region (services/notification/alert_mirror.h). Each service's main makes a
// RedisClient from --redis_url and hands it on as a SharedCache*; a test
// hands the same parameter a substitute (an unavailable cache, to show the
// service answering from its store), the same way in every service.
//
// The operations are Redis's own, so the seam adds no translation: keys of
// this installation (Key), strings with an expiry (Get, Set), and any
// command, alone or pipelined, for the mirror's hashes and announcements.
#ifndef SUISHIN_COMMON_SHARED_CACHE_H_
#define SUISHIN_COMMON_SHARED_CACHE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace suishin {

// A reply, as a plain value. Error replies never appear here: they are
// error statuses.
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  long long integer = 0;             // kInteger
  std::string str;                   // kString (binary-safe), kStatus ("OK", "PONG")
  std::vector<RedisReply> elements;  // kArray
};

class SharedCache {
 public:
  virtual ~SharedCache() = default;

  // "<key_prefix>:<name>": a key of this installation (installations may
  // share one cache).
  virtual std::string Key(absl::string_view name) const = 0;

  // The value, or nullopt when the key does not exist.
  virtual absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) = 0;
  // Stores `value` under `key`, expiring after `ttl` when it is positive and
  // finite (zero or infinite: no expiry; negative: INVALID_ARGUMENT).
  virtual absl::Status Set(absl::string_view key, absl::string_view value, absl::Duration ttl) = 0;

  // Runs one command, e.g. {"HSET", key, field, value}; arguments are
  // binary-safe; empty `args` is INVALID_ARGUMENT.
  virtual absl::StatusOr<RedisReply> Command(const std::vector<std::string>& args) = 0;
  // Sends all `commands` at once and returns their replies in order; the
  // first error reply is returned as the status (the others ran). On
  // UNAVAILABLE any prefix of them may have run.
  virtual absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) = 0;
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_SHARED_CACHE_H_
