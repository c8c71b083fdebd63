#include "services/notification/leader_lease.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"

namespace suishin::notification {

LeaderLease::LeaderLease(NotificationStore* store, Options options, std::function<void()> won,
                         std::function<void()> lost)
    : store_(store), options_(std::move(options)), won_(std::move(won)), lost_(std::move(lost)) {}

LeaderLease::~LeaderLease() { Stop(); }

void LeaderLease::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void LeaderLease::Stop() {
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  if (thread_.joinable()) thread_.join();
}

void LeaderLease::Loop() {
  const absl::Duration every = options_.ttl / 3;
  // While leading: until when the lease surely runs, by this process's
  // clock (renewals that fail do not extend it).
  absl::Time runs_until = absl::InfinitePast();
  while (!stopping_.HasBeenNotified()) {
    const absl::Time asked = absl::Now();
    absl::StatusOr<int64_t> token = store_->AcquireLease(options_.holder, options_.ttl);
    const int64_t held = token_.load();
    if (token.ok() && *token > 0 && (held == 0 || *token == held)) {
      runs_until = asked + options_.ttl;
      if (held == 0) {
        token_ = *token;
        LogInfo("leading", {{"holder", options_.holder}, {"token", absl::StrCat(*token)}});
        won_();
      }
    } else if (held != 0 && (token.ok() || absl::Now() >= runs_until)) {
      // Taken by another (or renewed under a new token: it ran out
      // meanwhile), or not renewed in time.
      token_ = 0;
      LogWarning("leadership_lost",
                 {{"holder", options_.holder},
                  {"error", token.ok() ? "another replica holds the lease"
                                       : std::string(token.status().message())}});
      lost_();
      return;
    } else if (!token.ok()) {
      LogWarning("lease_unavailable", {{"error", std::string(token.status().message())}});
    }
    stopping_.WaitForNotificationWithTimeout(every);
  }
  if (const int64_t held = token_.exchange(0); held != 0) {
    if (absl::Status released = store_->ReleaseLease(options_.holder, held); !released.ok()) {
      LogWarning("lease_release_failed", {{"error", std::string(released.message())}});
    }
  }
}

std::string DefaultLeaseHolder() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return absl::StrCat(host, ":", getpid());
}

}  // namespace suishin::notification
