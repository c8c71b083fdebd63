// The alert pipeline benchmark: how long a KPI change takes to come out of
// notification-service as an alert event, and how many changes a second the
// whole pipeline carries:
//
//   RecordActual (kpi-service) → WatchChanges → notification-service's
//   follower (GetKpi, GetProgress, rules, one SQLite unit of work) → Subscribe
//
// The changes are RecordActual calls on the latest fiscal year of the seeded
// (KPI, subprefecture) pairs (loadgen seed), each moving the year's actual
// below the previous year's (DECLINING fires) or back to at least it
// (DECLINING resolves). Every pair toggles between one "bad" and one "good"
// figure; counts change by whole numbers, rates keep their denominator and
// change their numerator (value = 100 × numerator / denominator).
//
// Steps, all printed as they go:
//   1. Pairs: every subprefecture of every DIRECTION_INCREASE KPI with the id
//      prefix whose latest actual has one for the year before (GetProgress),
//      its current figure (the area's GetAggregate components, else
//      GetHistory) and a bad and a good figure.
//   2. Catch-up: one pair is the marker. Its figure is set to a bad value the
//      DECLINING alert does not show yet, and ListAlerts is polled until the
//      alert shows it; twice. Then notification-service has evaluated every
//      change before (the seed's too), and the alerts it lists are current.
//   3. The DECLINING alerts firing now (ListAlerts) give each pair's state.
//   4. Subscribe: from event 0 until the stored events stop coming (the
//      pipeline is idle, so only the stored ones come), which gives the last
//      event id; then a new Subscribe after that id, which the measurements
//      read. A WatchChanges stream of loadgen's own (from the marker's
//      sequence) timestamps each change as kpi-service publishes it.
//   5. Latency: `changes` changes one at a time (after `warmup_changes` not
//      counted), over the pairs in a fixed shuffled order. Each: RecordActual,
//      then wait (up to `event_timeout`) for the event with that KPI, region,
//      rule DECLINING and kind FIRED or RESOLVED. The figure is from
//      RecordActual's answer to the event reaching the subscriber.
//   6. Throughput, twice, `burst` changes each time from `burst_inflight`
//      threads (one RecordActual in flight each):
//      a. the burst: each change goes to a pair whose last change's event has
//         come (ready pairs in turn), so every change makes exactly one event
//         and the figure is from the first change to the last event, every
//         event awaited; its latencies are those of a saturated pipeline
//         (up to one change per pair queued);
//      b. the flood: each thread changes pairs of its own round-robin
//         without waiting for events, then one last change of the marker;
//         the pipeline has carried the flood when the marker's event arrives
//         (events come in order, the follower evaluates changes in order). A
//         pair changed twice before the follower evaluated it makes one event
//         or none (the follower takes everything queued at once), so events
//         are counted, not awaited. Afterwards every pair's DECLINING alert
//         must be in the state its last change set (ListAlerts).
//   7. Restore (when `restore`): every changed pair gets its figure back
//      (not awaited by notification-service).
//
// Ends with "RESULT label=alerts p50_ms=… p90_ms=… p99_ms=… max_ms=…
// changes=… missing=… watch_p50_ms=… evaluate_p50_ms=… evaluate_p99_ms=…
// burst=… burst_per_s=… burst_seconds=… burst_p50_ms=… burst_p99_ms=…
// burst_missing=… flood=… flood_per_s=… flood_seconds=… record_per_s=…
// flood_events=… mismatches=…" (watch: RecordActual's answer to the change
// on a WatchChanges stream, negative when the stream has it first;
// evaluate: from there to the event; record_per_s: RecordActual alone, in
// the flood).
#ifndef SUISHIN_TOOLS_LOADGEN_ALERT_LOAD_H_
#define SUISHIN_TOOLS_LOADGEN_ALERT_LOAD_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace suishin::loadgen {

struct AlertOptions {
  // Latency: changes measured one at a time, after the warm-up ones.
  int changes = 2000;
  int warmup_changes = 20;
  // Throughput: changes in the burst and again in the flood, sent as fast as
  // they are answered from this many threads (one call in flight each).
  int burst = 5000;
  int burst_inflight = 8;
  std::string kpi_prefix = "kpi-";
  // How long a change's event may take before it counts as missing.
  absl::Duration event_timeout = absl::Seconds(5);
  // How long notification-service may take to catch up at the start (its
  // first evaluation of everything, the seed's changes).
  absl::Duration catch_up_timeout = absl::Minutes(3);
  // How long the flood's marker event may take after the last change.
  absl::Duration drain_timeout = absl::Minutes(3);
  // Deadline of each unary call.
  absl::Duration call_timeout = absl::Seconds(10);
  // Put every changed figure back at the end.
  bool restore = true;
  std::string label = "alerts";
};

// Runs the benchmark against kpi-service and notification-service (which
// must follow that kpi-service) and prints it to `out`. A status other than
// OK when a call fails or the services never catch up; missing events and
// alerts in the wrong state are reported, not errors.
absl::Status RunAlertBenchmark(std::shared_ptr<grpc::Channel> kpi,
                               std::shared_ptr<grpc::Channel> notification,
                               const AlertOptions& options, std::ostream& out);

}  // namespace suishin::loadgen

#endif  // SUISHIN_TOOLS_LOADGEN_ALERT_LOAD_H_
