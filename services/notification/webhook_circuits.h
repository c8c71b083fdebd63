// WebhookCircuits: a circuit breaker per webhook endpoint, so that an
// endpoint that keeps failing stops taking delivery workers' time.
//
// An endpoint's circuit is closed while its deliveries succeed. After
// `failures_to_open` failed attempts in a row (a timeout, no connection, a
// 5xx or a 429) it opens: no attempt is made to that endpoint until
// next_attempt_time, `base_delay` after the failure that opened it. Then it
// is half-open: one attempt (the probe) may start, and no other until the
// probe's outcome is known. A probe that succeeds closes the circuit; one
// that fails opens it again for twice as long as the last time, up to
// `max_delay`. An answer that is not a failure of the endpoint (a 2xx, or a
// 4xx other than 429: the endpoint is up and has refused the content) counts
// as a success for the circuit.
//
// The circuits are kept in memory only: a restarted service starts with every
// circuit closed. The per-delivery retry schedule (webhook_dispatcher.h) runs
// beside them: a delivery waits for whichever of the two is later.
//
// Thread-safe. Times are whatever clock the caller passes.
//
// Example:
//   if (circuits.TryStart(webhook_id, now)) {
//     ... attempt ...
//     failed ? circuits.Failed(webhook_id, clock->Now(), "HTTP 503")
//            : circuits.Succeeded(webhook_id);
//   }
#ifndef SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_CIRCUITS_H_
#define SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_CIRCUITS_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

class WebhookCircuits {
 public:
  struct Options {
    // Failed attempts in a row that open an endpoint's circuit
    // (--webhook_circuit_failures).
    int failures_to_open = 5;
    // How long it stays open the first time, and at most
    // (--webhook_circuit_delay, --webhook_circuit_max_delay).
    absl::Duration base_delay = absl::Seconds(1);
    absl::Duration max_delay = absl::Minutes(5);
  };

  explicit WebhookCircuits(Options options);

  WebhookCircuits(const WebhookCircuits&) = delete;
  WebhookCircuits& operator=(const WebhookCircuits&) = delete;

  // True when an attempt to `webhook_id` could start at `now` (closed, or
  // open with its delay over and no probe in flight). Changes nothing.
  bool Ready(const std::string& webhook_id, absl::Time now) const;
  // Like Ready, and when it is true because the circuit was open, the
  // circuit becomes half-open: the caller's attempt is the probe.
  bool TryStart(const std::string& webhook_id, absl::Time now);
  // The attempt to `webhook_id` got an answer that is not a failure of the
  // endpoint: the circuit closes and its failures are forgotten.
  void Succeeded(const std::string& webhook_id);
  // The attempt failed (`error`: a status code and a short reason, never a
  // body). May open the circuit from `now`.
  void Failed(const std::string& webhook_id, absl::Time now, const std::string& error);
  // An attempt that started (TryStart) ended without an outcome (shutdown):
  // a half-open circuit may probe again at once.
  void Abandoned(const std::string& webhook_id);
  // Forgets the endpoints not in `webhook_ids` (deleted webhooks).
  void Retain(const std::set<std::string>& webhook_ids);

  // When the circuit of `webhook_id` next lets an attempt start: nullopt
  // when it is closed (no wait) or a probe is in flight (wait for it).
  std::optional<absl::Time> OpenUntil(const std::string& webhook_id) const;
  // The circuits that are open or half-open, by webhook id.
  std::vector<v1::WebhookCircuit> Open() const;

 private:
  struct Circuit {
    int failures = 0;  // in a row
    bool open = false;
    bool probing = false;
    int opened = 0;  // times opened since it was last closed
    absl::Time next_attempt = absl::InfinitePast();
    std::string last_error;
  };

  bool ReadyLocked(const Circuit& circuit, absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  std::map<std::string, Circuit> circuits_ ABSL_GUARDED_BY(mu_);
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_CIRCUITS_H_
