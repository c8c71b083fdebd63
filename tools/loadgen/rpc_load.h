// Closed-loop RPC load over the callback API: a fixed number of calls in
// flight, spread over a few channels (each its own TCP connection); each
// completion records its latency and starts the next call at once, with no
// sleeping, so the figure is the most the server (and this client) can do.
//
// A run has a warm-up, whose calls are not counted, then a measured window:
// a call counts when it both starts and ends inside the window. Latencies are
// kept in full and sorted for the percentiles (a histogram as a sorted
// vector: at 100k calls/s for 10 s, 8 MB).
//
// Example:
//   ASSIGN_OR_RETURN(auto channels, ConnectChannels("127.0.0.1:50062", 4, absl::Seconds(5)));
//   ASSIGN_OR_RETURN(std::unique_ptr<CallSource> source, MakeHealthSource(channels));
//   LoadOptions options;  // 64 in flight, 2 s warm-up, 10 s measured
//   LoadResult result = RunLoad(*source, options);
//   PrintLoadResult("health", result, std::cout);
#ifndef SUISHIN_TOOLS_LOADGEN_RPC_LOAD_H_
#define SUISHIN_TOOLS_LOADGEN_RPC_LOAD_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace suishin::loadgen {

// `count` channels to `target`, each with its own connection (a local
// subchannel pool, so gRPC does not share one TCP connection between them),
// connected before returning. UNAVAILABLE when one does not connect within
// `connect_timeout`.
absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> ConnectChannels(
    const std::string& target, int count, absl::Duration connect_timeout);

// One in-flight call's storage (request, response, stub) and how to start it.
// A Caller runs one call at a time; the next starts only after `done`.
class Caller {
 public:
  virtual ~Caller() = default;
  // Fills the request for request number `index` and starts the call on
  // `context`; `done` runs once, on a gRPC thread, when it completes.
  virtual void Start(grpc::ClientContext* context, size_t index,
                     std::function<void(grpc::Status)> done) = 0;
};

// What to call: a Caller per in-flight slot, and how many distinct requests
// there are to cycle over.
class CallSource {
 public:
  virtual ~CallSource() = default;
  // The number of distinct requests (1 for a health check).
  virtual size_t size() const = 0;
  // A Caller for slot `slot`, on channel slot % channels.
  virtual std::unique_ptr<Caller> NewCaller(int slot) = 0;
};

struct LoadOptions {
  int inflight = 64;
  absl::Duration warmup = absl::Seconds(2);
  // The measured window; absl::InfiniteDuration() runs until `distinct`
  // requests run out.
  absl::Duration duration = absl::Seconds(10);
  // Each request index is used once, never again; the run ends early when
  // they are all used. Otherwise requests cycle.
  bool distinct = false;
  absl::Duration call_timeout = absl::Seconds(10);
};

struct LoadResult {
  // Calls that started and ended in the measured window.
  int64_t ok = 0;
  std::map<grpc::StatusCode, int64_t> errors;
  // The first message seen for each error code.
  std::map<grpc::StatusCode, std::string> error_messages;
  int64_t warmup_calls = 0;
  // The measured window as it was: shorter than asked when requests ran out.
  absl::Duration window;
  // Latencies of the OK calls, in nanoseconds, sorted.
  std::vector<int64_t> latencies_ns;
  bool exhausted = false;

  int64_t error_count() const;
  double qps() const;
  // The latency at quantile q (0 < q ≤ 1, nearest rank), in milliseconds;
  // 0 when there were no OK calls.
  double LatencyMs(double q) const;
};

// Runs the load and returns what happened. Blocks for warm-up + duration
// (plus the last calls' time to finish).
LoadResult RunLoad(CallSource& source, const LoadOptions& options);

// A human summary (QPS, p50/p90/p99/max, errors by code), then one line
// "RESULT label=… qps=… p50_ms=… p90_ms=… p99_ms=… max_ms=… ok=… errors=…"
// that scripts can parse.
void PrintLoadResult(const std::string& label, const LoadResult& result, std::ostream& out);

// grpc.health.v1.Health/Check with service "".
std::unique_ptr<CallSource> MakeHealthSource(std::vector<std::shared_ptr<grpc::Channel>> channels);

// GetAggregate over every (KPI, area, fiscal year) of the KPIs whose id starts
// with `kpi_prefix`, for the years first_year … last_year, learned with
// ListKpis; shuffled (with a fixed seed) so consecutive calls touch different
// KPIs. FAILED_PRECONDITION when no KPI matches.
absl::StatusOr<std::unique_ptr<CallSource>> MakeAggregateSource(
    std::vector<std::shared_ptr<grpc::Channel>> channels, const std::string& kpi_prefix,
    int first_year, int last_year, absl::Duration timeout);

// The same (KPI, area, fiscal year) set as the gateway's GetAggregate
// routes ("/v1/kpis/K/aggregates/A?fiscal_year=Y"), shuffled the same way,
// for an HTTP load tool (bench.sh runs wrk with them).
absl::StatusOr<std::vector<std::string>> AggregatePaths(std::shared_ptr<grpc::Channel> channel,
                                                        const std::string& kpi_prefix,
                                                        int first_year, int last_year,
                                                        absl::Duration timeout);

// GetKpiTable of `project_id` as of `as_of`, the same request every call.
std::unique_ptr<CallSource> MakeTableSource(std::vector<std::shared_ptr<grpc::Channel>> channels,
                                            const std::string& project_id, int as_of);

// GetProgress over every (KPI, region) of those KPIs, region being the area
// and each subprefecture the KPI is tracked in; no as_of.
absl::StatusOr<std::unique_ptr<CallSource>> MakeProgressSource(
    std::vector<std::shared_ptr<grpc::Channel>> channels, const std::string& kpi_prefix,
    absl::Duration timeout);

// RecordActual over every (KPI, subprefecture, fiscal year after the first)
// of those KPIs, shuffled, each cell twice with two values, so that cycling
// through them every call really changes a figure (one write, one change,
// one fsync shared with whatever commits with it).
absl::StatusOr<std::unique_ptr<CallSource>> MakeRecordSource(
    std::vector<std::shared_ptr<grpc::Channel>> channels, const std::string& kpi_prefix,
    int first_year, int last_year, absl::Duration timeout);

// `count` WatchChanges streams open on `channel`, each filtered on a KPI id
// nothing writes ("idle-0001", …): open for as long as the object lives,
// then cancelled. What a server pays for subscribers that wait.
class IdleStreams {
 public:
  IdleStreams(std::shared_ptr<grpc::Channel> channel, int count);
  ~IdleStreams();
  IdleStreams(const IdleStreams&) = delete;
  IdleStreams& operator=(const IdleStreams&) = delete;
  std::string Summary() const;

 private:
  struct Streams;
  std::unique_ptr<Streams> streams_;
};

}  // namespace suishin::loadgen

#endif  // SUISHIN_TOOLS_LOADGEN_RPC_LOAD_H_
