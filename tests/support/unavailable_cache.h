// A SharedCache (common/shared_cache.h) that is down: every call fails with
// UNAVAILABLE, as RedisClient's do while Redis is unreachable, and is
// counted. Handed to a service's test harness in place of Redis (the same
// `cache` seam in kpi-service's and notification-service's), it shows the
// service answering from its own store when its cache fails, at every call,
// without stopping a redis-server at the right moment.
#ifndef SUISHIN_TESTS_SUPPORT_UNAVAILABLE_CACHE_H_
#define SUISHIN_TESTS_SUPPORT_UNAVAILABLE_CACHE_H_

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/shared_cache.h"

namespace suishin::testing {

class UnavailableCache final : public SharedCache {
 public:
  std::string Key(absl::string_view name) const override { return absl::StrCat("test:", name); }
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view /*key*/) override {
    return Down();
  }
  absl::Status Set(absl::string_view /*key*/, absl::string_view /*value*/,
                   absl::Duration /*ttl*/) override {
    return Down();
  }
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& /*args*/) override {
    return Down();
  }
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& /*commands*/) override {
    return Down();
  }

  // Calls made so far.
  int64_t calls() const { return calls_.load(); }

 private:
  absl::Status Down() {
    calls_.fetch_add(1);
    return absl::UnavailableError("the test's cache is down");
  }

  std::atomic<int64_t> calls_{0};
};

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_UNAVAILABLE_CACHE_H_
