// LeaderLease: which notification-service replica evaluates and delivers.
//
// Replicas on one PostgreSQL serve reads and streams alike, but only one at
// a time follows kpi-service (evaluating alerts) and delivers webhooks: the
// one holding the lease, a row in the database (NotificationStore::
// AcquireLease). The holder renews it every `ttl` / 3; a standby tries as
// often and takes it once it has run out, so when a leader dies another
// leads within about `ttl` + `ttl` / 3.
//
// Fencing: each change of holder gives the lease a larger token. While this
// replica leads, every write it makes checks, in its own transaction, that
// its token is still the lease's (NotificationWriter; CheckFence), so a
// leader that stalled past its lease (a pause, a partition) cannot write
// after its successor started: its writes fail instead.
//
// A replica that loses the lease does not try to lead again: `lost` is
// called (notification-service then stops, to be restarted as a standby by
// systemd or Kubernetes), since its follower and dispatcher cannot be
// restarted in place.
//
// Thread-safe.
#ifndef SUISHIN_SERVICES_NOTIFICATION_LEADER_LEASE_H_
#define SUISHIN_SERVICES_NOTIFICATION_LEADER_LEASE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/notification/notification_store.h"

namespace suishin::notification {

class LeaderLease {
 public:
  struct Options {
    // Who this replica is (unique among the replicas: host and process).
    std::string holder;
    // How long a lease runs without renewal.
    absl::Duration ttl = absl::Seconds(5);
  };

  // `won` is called once, when this replica first leads; `lost` once, when
  // it stops leading (both on the lease's thread). `store` must outlive it.
  LeaderLease(NotificationStore* store, Options options, std::function<void()> won,
              std::function<void()> lost);
  // Stop()s.
  ~LeaderLease();

  LeaderLease(const LeaderLease&) = delete;
  LeaderLease& operator=(const LeaderLease&) = delete;

  void Start();
  // Stops trying; a leader gives the lease up at once for a standby to take.
  void Stop();

  // The fencing token while this replica leads; 0 otherwise.
  int64_t token() const { return token_.load(); }
  const std::string& holder() const { return options_.holder; }

 private:
  void Loop();

  NotificationStore* const store_;
  const Options options_;
  const std::function<void()> won_;
  const std::function<void()> lost_;
  std::atomic<int64_t> token_{0};
  absl::Notification stopping_;
  std::thread thread_;
};

// A holder name for this process: host name and process id.
std::string DefaultLeaseHolder();

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_LEADER_LEASE_H_
