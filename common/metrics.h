// Prometheus metrics of one process (Debian's prometheus-cpp): a registry
// every part of the service adds its counters, gauges and histograms to,
// served over HTTP at --metrics_listen (path /metrics) when it is set.
//
// What every process has: each gRPC call handled, by method and status code
// (suishin_grpc_server_handled_total) with its latency
// (suishin_grpc_server_handling_seconds), recorded by the interceptor
// MetricsInterceptorFactory that ServiceHost installs. The services add
// their own (the cache's hits and misses, the change log's head, the
// follower's lag, the outbox, dead letters, webhook latency, leadership,
// store connections); values that are read rather than counted (a depth, a
// head) are refreshed when Prometheus scrapes, by the functions given to
// OnScrape.
//
// Thread-safe.
#ifndef SUISHIN_COMMON_METRICS_H_
#define SUISHIN_COMMON_METRICS_H_

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace suishin {

class Metrics {
 public:
  // The process's metrics (made on first use, never destroyed).
  static Metrics& Process();

  prometheus::Registry& registry() { return *registry_; }

  // Serves /metrics on `listen` (host:port; port 0 picks one) until the
  // process ends. Once per process; INVALID_ARGUMENT when it cannot listen.
  absl::Status Serve(const std::string& listen);
  // Stops serving (no scrape runs the OnScrape functions after it returns):
  // before what they read is destroyed.
  void StopServing();
  // The port served on (0 before Serve).
  int port() const;

  // Calls `refresh` before every scrape (on the HTTP server's thread), to
  // set gauges that are read, not counted. It must be quick and must outlive
  // the process's serving (or be harmless to call late).
  void OnScrape(std::function<void()> refresh);

  // One call handled: `method` its full name (/package.Service/Method).
  void RecordCall(const std::string& method, int code, absl::Duration took);

  // Histogram buckets for latencies, in seconds: 0.5 ms to 10 s.
  static prometheus::Histogram::BucketBoundaries LatencyBuckets();

  // Runs the OnScrape functions (what a scrape does first; for tests).
  void Refresh();

 private:
  Metrics();
  class Scraped;

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<Scraped> scraped_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_;
  mutable absl::Mutex mu_;
  std::unique_ptr<prometheus::Exposer> exposer_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void()>> refreshers_ ABSL_GUARDED_BY(mu_);
  // (method, code) → its counter and histogram, made on first use.
  absl::flat_hash_map<std::pair<std::string, int>,
                      std::pair<prometheus::Counter*, prometheus::Histogram*>>
      calls_ ABSL_GUARDED_BY(mu_);
};

// suishin_store_connections{state="busy"|"idle"}: the read connections of
// every store pool of the process (SQLite's ReaderPool, PostgreSQL's
// PgPool), moved as connections are taken and given back.
struct StoreConnectionGauges {
  prometheus::Gauge& busy;
  prometheus::Gauge& idle;
  static StoreConnectionGauges& Get();
};

// Records every call the server handles in Metrics::Process().
class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

// Serves the process's metrics at --metrics_listen when it is set (the
// flag, defined here: every binary has it). Logs where.
absl::Status ServeProcessMetrics();

// A gauge of the process's registry, without labels (made on first use).
prometheus::Gauge& ProcessGauge(const std::string& name, const std::string& help);
// A counter of the process's registry with one label set.
prometheus::Counter& ProcessCounter(const std::string& name, const std::string& help,
                                    const prometheus::Labels& labels);

}  // namespace suishin

#endif  // SUISHIN_COMMON_METRICS_H_
