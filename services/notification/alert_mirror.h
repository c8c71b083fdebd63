// AlertMirror: the firing alerts of each region in Redis, for one-region
// listings that need not touch SQLite, and the fan-out announcement of new
// events to other replicas.
//
// Redis is a mirror only. Each region's firing alerts are a hash
// (<key prefix>:alerts:<region>, fingerprint → serialized Alert); a marker key
// says the mirror is whole. After every commit the writer's `done` calls
// Apply with the alerts the commit changed, in commit order. When a write to
// Redis fails, or Redis comes back empty (the marker is gone), the mirror is
// marked stale and RegionAlerts answers nullopt — the caller reads SQLite —
// until Refill has rewritten it from a snapshot of the store.
//
// Apply and Refill exclude each other, so a refill from an older snapshot
// never overwrites what a later commit applied: a commit applied after the
// refill's snapshot is applied after the refill. Each call waits for Redis at
// most its client's timeouts (common/redis_client.h), and fails fast while
// Redis is known to be down.
//
// Thread-safe.
#ifndef SUISHIN_SERVICES_NOTIFICATION_ALERT_MIRROR_H_
#define SUISHIN_SERVICES_NOTIFICATION_ALERT_MIRROR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/shared_cache.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

class AlertMirror {
 public:
  // Every alert (firing or not) from a snapshot of the store.
  using ReadAll = std::function<absl::StatusOr<std::vector<v1::Alert>>()>;

  // `redis` (the shared cache, common/shared_cache.h; null for no mirror: every call does nothing
  // or answers nullopt) must outlive the mirror.
  AlertMirror(SharedCache* redis, ReadAll read_all);

  AlertMirror(const AlertMirror&) = delete;
  AlertMirror& operator=(const AlertMirror&) = delete;

  // Writes `changed` (firing: set; resolved: removed). On failure the
  // mirror is stale until refilled.
  void Apply(const std::vector<v1::Alert>& changed);
  // PUBLISHes `last_event` on <key prefix>:alert-events for other replicas.
  void AnnounceEvent(int64_t last_event);
  // Rewrites every region's alerts from the store and sets the marker;
  // false (the mirror stays stale) when Redis or the store failed.
  bool Refill();
  // The firing alerts of `region_id` in (kpi_id, region_id, fingerprint)
  // order, or nullopt when the mirror cannot answer (no Redis, Redis down,
  // stale and not refillable now, or emptied by a Redis restart; the last
  // two start a refill).
  std::optional<std::vector<v1::Alert>> RegionAlerts(const std::string& region_id);

  // Redis calls that failed.
  int64_t errors() const { return errors_.load(); }

 private:
  bool RefillLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  SharedCache* const redis_;
  const ReadAll read_all_;
  std::atomic<int64_t> errors_{0};
  // Set when a write to the mirror failed: it may be missing alerts.
  std::atomic<bool> stale_{true};
  absl::Mutex mu_;  // Apply and Refill, one at a time
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_ALERT_MIRROR_H_
