#include "tools/loadgen/alert_load.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/channel.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "suishin/notification/v1/notification.grpc.pb.h"
#include "tools/loadgen/loader.h"

namespace suishin::loadgen {
namespace {

namespace kv1 = ::suishin::kpi::v1;
namespace nv1 = ::suishin::notification::v1;
using Clock = std::chrono::steady_clock;

constexpr char kReporter[] = "loadgen";
constexpr char kReason[] = "loadgen alerts: benchmark change";
// How long the stored events may keep coming before the stream counts as
// caught up, and how long that may take in all.
constexpr absl::Duration kQuiet = absl::Milliseconds(500);
constexpr absl::Duration kReplayLimit = absl::Minutes(1);
constexpr absl::Duration kPollInterval = absl::Milliseconds(20);

// Figures compared as the decimals they stand for (four fractional digits),
// as the rules compare them.
bool SameDecimal(double a, double b) { return std::llround(a * 1e4) == std::llround(b * 1e4); }
bool DecimalLess(double a, double b) { return !SameDecimal(a, b) && a < b; }

int64_t Nanos(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}
double Seconds(Clock::duration d) { return static_cast<double>(Nanos(d)) / 1e9; }

// Nearest-rank quantile of sorted nanoseconds, in milliseconds.
double QuantileMs(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  const size_t index = std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1);
  return static_cast<double>(sorted[index]) / 1e6;
}

std::string Quantiles(std::vector<int64_t>& ns) {
  std::sort(ns.begin(), ns.end());
  if (ns.empty()) return "none";
  return absl::StrFormat("p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  (%d)", QuantileMs(ns, 0.5),
                         QuantileMs(ns, 0.9), QuantileMs(ns, 0.99), QuantileMs(ns, 1.0), ns.size());
}

// The figure a change puts in place.
enum class Figure { kOriginal, kBad, kBadAlt, kGood };

// A KPI in a subprefecture, with the figures that flip its DECLINING alert.
struct Pair {
  std::string kpi_id;
  std::string region_id;
  int year = 0;          // the latest fiscal year with an actual
  double previous = 0;   // the value of the year before
  kv1::Actual original;  // the latest year's actual as found
  kv1::Actual bad;       // below `previous`: DECLINING holds
  kv1::Actual bad_alt;   // lower still; unset (year 0) when there is none
  kv1::Actual good;      // at least `previous`: DECLINING does not hold
  bool firing = false;   // the alert's state once the last change is evaluated
  Figure current = Figure::kOriginal;

  std::string Name() const { return absl::StrCat(kpi_id, "/", region_id, "/", year); }
  const kv1::Actual& Get(Figure figure) const {
    switch (figure) {
      case Figure::kBad:
        return bad;
      case Figure::kBadAlt:
        return bad_alt;
      case Figure::kGood:
        return good;
      default:
        return original;
    }
  }
  // Turns the alert's state over: the figure to record next.
  const kv1::Actual& Flip() {
    firing = !firing;
    current = firing ? Figure::kBad : Figure::kGood;
    return Get(current);
  }
};

kv1::Actual MakeActual(const Pair& pair, double value, std::optional<double> numerator,
                       std::optional<double> denominator) {
  kv1::Actual actual;
  actual.set_kpi_id(pair.kpi_id);
  actual.set_region_id(pair.region_id);
  actual.mutable_fiscal_year()->set_year(pair.year);
  actual.set_value(value);
  if (numerator) actual.set_numerator(*numerator);
  if (denominator) actual.set_denominator(*denominator);
  actual.set_reported_by(kReporter);
  return actual;
}

// Fills bad, bad_alt and good; false when the pair cannot decline (a previous
// value of 0) or its figures cannot be made.
bool MakeFigures(Pair& pair) {
  const double prev = pair.previous;
  const kv1::Actual& orig = pair.original;
  if (orig.has_numerator() && orig.has_denominator() && orig.denominator() > 0) {
    // A rate: keep the denominator, move the numerator by about 1 point.
    const double den = orig.denominator();
    const double step = std::max(1.0, std::round(den / 100));
    const double num_bad = std::floor(prev * den / 100) - step;
    if (num_bad < 0) return false;
    pair.bad = MakeActual(pair, 100 * num_bad / den, num_bad, den);
    if (!DecimalLess(pair.bad.value(), prev)) return false;
    if (num_bad - step >= 0) {
      pair.bad_alt = MakeActual(pair, 100 * (num_bad - step) / den, num_bad - step, den);
    }
    if (!DecimalLess(orig.value(), prev)) {
      pair.good = orig;
    } else {
      double num_good = std::ceil(prev * den / 100);
      if (DecimalLess(100 * num_good / den, prev)) num_good += 1;
      if (num_good > den) return false;
      pair.good = MakeActual(pair, 100 * num_good / den, num_good, den);
    }
  } else {
    // A count (or a figure without parts): whole steps.
    if (prev < 1) return false;
    pair.bad = MakeActual(pair, std::floor(prev) - (prev == std::floor(prev) ? 1 : 0), {}, {});
    if (pair.bad.value() - 1 >= 0) {
      pair.bad_alt = MakeActual(pair, pair.bad.value() - 1, {}, {});
    }
    pair.good = DecimalLess(orig.value(), prev) ? MakeActual(pair, prev, {}, {}) : orig;
  }
  pair.good.set_reported_by(kReporter);
  return true;
}

absl::StatusOr<int64_t> Record(kv1::KpiService::Stub& stub, const kv1::Actual& actual,
                               absl::Duration timeout) {
  kv1::RecordActualRequest request;
  *request.mutable_actual() = actual;
  request.set_reason(kReason);
  kv1::RecordActualResponse response;
  auto context = NewClientContext(timeout);
  grpc::Status status = stub.RecordActual(context.get(), request, &response);
  if (!status.ok()) {
    absl::Status error = RpcError("RecordActual", status);
    return absl::Status(
        error.code(), absl::StrCat(error.message(), " (", actual.kpi_id(), "/", actual.region_id(),
                                   "/", actual.fiscal_year().year(), ")"));
  }
  return response.sequence();
}

// The DECLINING alerts firing now that `filter` also matches, every page.
absl::StatusOr<std::vector<nv1::Alert>> FiringDeclining(nv1::NotificationService::Stub& stub,
                                                        nv1::AlertFilter filter,
                                                        absl::Duration timeout) {
  filter.clear_rules();
  filter.add_rules(nv1::RULE_KIND_DECLINING);
  nv1::ListAlertsRequest request;
  *request.mutable_filter() = filter;
  request.set_page_size(1000);
  std::vector<nv1::Alert> alerts;
  do {
    nv1::ListAlertsResponse response;
    auto context = NewClientContext(timeout);
    grpc::Status status = stub.ListAlerts(context.get(), request, &response);
    if (!status.ok()) return RpcError("ListAlerts", status);
    for (const nv1::Alert& alert : response.alerts()) {
      if (alert.state() == nv1::ALERT_STATE_FIRING) alerts.push_back(alert);
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return alerts;
}

// Every usable pair of the KPIs whose id starts with `prefix`.
struct PairCensus {
  std::vector<Pair> pairs;
  int kpis = 0;
  int skipped_kpis = 0;   // not DIRECTION_INCREASE
  int skipped_pairs = 0;  // no previous year, or no room to decline
  int from_history = 0;   // figures read with GetHistory
};

absl::StatusOr<PairCensus> FindPairs(kv1::KpiService::Stub& stub, const std::string& prefix,
                                     absl::Duration timeout) {
  PairCensus census;
  std::vector<kv1::Kpi> kpis;
  kv1::ListKpisRequest list;
  list.set_page_size(1000);
  do {
    kv1::ListKpisResponse response;
    auto context = NewClientContext(timeout);
    grpc::Status status = stub.ListKpis(context.get(), list, &response);
    if (!status.ok()) return RpcError("ListKpis", status);
    for (const kv1::Kpi& kpi : response.kpis()) {
      if (absl::StartsWith(kpi.id(), prefix)) kpis.push_back(kpi);
    }
    list.set_page_token(response.next_page_token());
  } while (!list.page_token().empty());
  census.kpis = static_cast<int>(kpis.size());
  std::map<std::pair<std::string, int>, kv1::GetAggregateResponse> aggregates;
  for (const kv1::Kpi& kpi : kpis) {
    if (kpi.direction() == kv1::DIRECTION_DECREASE) {
      ++census.skipped_kpis;
      continue;
    }
    // Whether the area's figures are computed from its subprefectures':
    // kpi-service says so with the area's progress.
    bool area_computed = false;
    {
      kv1::GetProgressRequest request;
      request.set_kpi_id(kpi.id());
      request.set_region_id(kpi.area_id());
      kv1::GetProgressResponse progress;
      auto context = NewClientContext(timeout);
      grpc::Status status = stub.GetProgress(context.get(), request, &progress);
      if (!status.ok()) return RpcError("GetProgress", status);
      area_computed = progress.computed_from_children();
    }
    for (const std::string& region : kpi.region_ids()) {
      // A computed area has no figure of its own to record.
      if (region == kpi.area_id() && area_computed) continue;
      kv1::GetProgressRequest request;
      request.set_kpi_id(kpi.id());
      request.set_region_id(region);
      kv1::GetProgressResponse progress;
      auto context = NewClientContext(timeout);
      grpc::Status status = stub.GetProgress(context.get(), request, &progress);
      if (!status.ok()) return RpcError("GetProgress", status);
      int latest = -1;
      for (int i = progress.points_size() - 1; i >= 0; --i) {
        if (progress.points(i).has_value()) {
          latest = i;
          break;
        }
      }
      if (latest < 1 || !progress.points(latest - 1).has_value() ||
          progress.points(latest - 1).fiscal_year().year() !=
              progress.points(latest).fiscal_year().year() - 1) {
        ++census.skipped_pairs;
        continue;
      }
      Pair pair;
      pair.kpi_id = kpi.id();
      pair.region_id = region;
      pair.year = progress.points(latest).fiscal_year().year();
      pair.previous = progress.points(latest - 1).value();
      // The latest actual with its numerator and denominator: from the
      // area's aggregate for the year (one call for all the KPI's
      // subprefectures), else from the history (GetHistory reads the whole
      // change log: slow once the log is long).
      const double latest_value = progress.points(latest).value();
      std::optional<kv1::AggregateComponent> component;
      if (region != kpi.area_id() && area_computed) {
        auto [it, added] = aggregates.try_emplace({kpi.id(), pair.year});
        if (added) {
          kv1::GetAggregateRequest aggregate_request;
          aggregate_request.set_kpi_id(kpi.id());
          aggregate_request.set_area_id(kpi.area_id());
          aggregate_request.mutable_fiscal_year()->set_year(pair.year);
          context = NewClientContext(timeout);
          status = stub.GetAggregate(context.get(), aggregate_request, &it->second);
          if (!status.ok()) return RpcError("GetAggregate", status);
        }
        for (const kv1::AggregateComponent& c : it->second.aggregate().components()) {
          if (c.region_id() == region && c.has_value() && SameDecimal(c.value(), latest_value)) {
            component = c;
          }
        }
      }
      if (component) {
        pair.original = MakeActual(
            pair, component->value(),
            component->has_numerator() ? std::optional<double>(component->numerator())
                                       : std::nullopt,
            component->has_denominator() ? std::optional<double>(component->denominator())
                                         : std::nullopt);
      } else {
        ++census.from_history;
        kv1::GetHistoryRequest history_request;
        history_request.set_kpi_id(kpi.id());
        history_request.set_region_id(region);
        history_request.mutable_fiscal_year()->set_year(pair.year);
        history_request.set_page_size(1000);
        std::optional<kv1::Change> last;
        do {  // every page: the last figure is on the last one
          kv1::GetHistoryResponse history;
          context = NewClientContext(timeout);
          status = stub.GetHistory(context.get(), history_request, &history);
          if (!status.ok()) return RpcError("GetHistory", status);
          for (const kv1::Change& change : history.changes()) {
            if ((change.kind() == kv1::CHANGE_KIND_ACTUAL_RECORDED ||
                 change.kind() == kv1::CHANGE_KIND_ACTUAL_CORRECTED) &&
                change.has_new_value()) {
              last = change;
            }
          }
          history_request.set_page_token(history.next_page_token());
        } while (!history_request.page_token().empty());
        if (!last || !SameDecimal(last->new_value(), latest_value)) {
          ++census.skipped_pairs;
          continue;
        }
        pair.original = MakeActual(
            pair, last->new_value(),
            last->has_new_numerator() ? std::optional<double>(last->new_numerator()) : std::nullopt,
            last->has_new_denominator() ? std::optional<double>(last->new_denominator())
                                        : std::nullopt);
      }
      if (!MakeFigures(pair)) {
        ++census.skipped_pairs;
        continue;
      }
      census.pairs.push_back(std::move(pair));
    }
  }
  return census;
}

// An alert event as the subscriber got it.
struct Received {
  int64_t id = 0;
  nv1::EventKind kind = nv1::EVENT_KIND_UNSPECIFIED;
  nv1::RuleKind rule = nv1::RULE_KIND_UNSPECIFIED;
  std::string kpi_id;
  std::string region_id;
  double value = 0;
  Clock::time_point at;
};

// One Subscribe stream read by a thread of its own, every event kept with
// the time it arrived.
class EventStream {
 public:
  EventStream(nv1::NotificationService::Stub& stub, int64_t after) {
    thread_ = std::thread([this, &stub, after] { Read(stub, after); });
  }
  ~EventStream() { Stop(); }
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  void Stop() {
    context_.TryCancel();
    if (thread_.joinable()) thread_.join();
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return events_.size();
  }

  // The first event from index *from on that `match` accepts, waiting for
  // it until `deadline`; *from moves past the events looked at.
  std::optional<Received> WaitFor(size_t* from, const std::function<bool(const Received&)>& match,
                                  absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    while (true) {
      for (; *from < events_.size(); ++*from) {
        if (match(events_[*from])) return events_[(*from)++];
      }
      if (ended_) return std::nullopt;
      const size_t seen = events_.size();
      auto more = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return ended_ || events_.size() > seen;
      };
      if (!mu_.AwaitWithDeadline(absl::Condition(&more), deadline)) return std::nullopt;
    }
  }

  // Waits until no event has come for `quiet` (or `limit` has passed);
  // returns whether it went quiet.
  bool WaitQuiet(absl::Duration quiet, absl::Time limit) {
    absl::MutexLock lock(&mu_);
    while (!ended_) {
      const size_t seen = events_.size();
      auto more = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return ended_ || events_.size() > seen;
      };
      if (!mu_.AwaitWithTimeout(absl::Condition(&more), quiet)) return true;
      if (absl::Now() > limit) return false;
    }
    return false;
  }

  std::vector<Received> Copy(size_t from, size_t to) const {
    absl::MutexLock lock(&mu_);
    to = std::min(to, events_.size());
    if (from >= to) return {};
    return std::vector<Received>(events_.begin() + from, events_.begin() + to);
  }

  int64_t last_id() const {
    absl::MutexLock lock(&mu_);
    return events_.empty() ? 0 : events_.back().id;
  }

  // Calls `listener` with each event from now on, on the stream's thread
  // (an empty function stops it; once this returns, the old listener is not
  // running).
  void SetListener(std::function<void(const Received&)> listener) {
    absl::MutexLock lock(&listener_mu_);
    listener_ = std::move(listener);
  }

  // The stream's end, when it ended (it should not while measuring).
  std::optional<absl::Status> ended() const {
    absl::MutexLock lock(&mu_);
    if (!ended_) return std::nullopt;
    return end_;
  }

 private:
  void Read(nv1::NotificationService::Stub& stub, int64_t after) {
    nv1::SubscribeRequest request;
    request.set_after_event_id(after);
    auto reader = stub.Subscribe(&context_, request);
    nv1::SubscribeResponse response;
    while (reader->Read(&response)) {
      const Clock::time_point at = Clock::now();
      const nv1::AlertEvent& event = response.event();
      Received received;
      received.id = event.id();
      received.kind = event.kind();
      received.rule = event.alert().rule();
      received.kpi_id = event.alert().kpi_id();
      received.region_id = event.alert().region_id();
      received.value = event.alert().values().value();
      received.at = at;
      {
        absl::MutexLock lock(&mu_);
        events_.push_back(received);
      }
      absl::MutexLock lock(&listener_mu_);
      if (listener_) listener_(received);
    }
    const grpc::Status status = reader->Finish();
    absl::MutexLock lock(&mu_);
    ended_ = true;
    end_ = RpcError("Subscribe", status);
  }

  grpc::ClientContext context_;
  mutable absl::Mutex mu_;
  std::vector<Received> events_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status end_ ABSL_GUARDED_BY(mu_);
  absl::Mutex listener_mu_;
  std::function<void(const Received&)> listener_ ABSL_GUARDED_BY(listener_mu_);
  std::thread thread_;
};

// kpi-service's WatchChanges, read by a thread of its own: when each change
// (by sequence) reached a watcher, as it reaches notification-service's
// follower.
class ChangeStream {
 public:
  ChangeStream(kv1::KpiService::Stub& stub, int64_t from) {
    thread_ = std::thread([this, &stub, from] { Read(stub, from); });
  }
  ~ChangeStream() {
    context_.TryCancel();
    if (thread_.joinable()) thread_.join();
  }
  ChangeStream(const ChangeStream&) = delete;
  ChangeStream& operator=(const ChangeStream&) = delete;

  std::optional<Clock::time_point> SeenAt(int64_t sequence, absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    auto seen = [this, sequence]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return ended_ || seen_.contains(sequence);
    };
    mu_.AwaitWithDeadline(absl::Condition(&seen), deadline);
    auto it = seen_.find(sequence);
    if (it == seen_.end()) return std::nullopt;
    return it->second;
  }

 private:
  void Read(kv1::KpiService::Stub& stub, int64_t from) {
    kv1::WatchChangesRequest request;
    request.set_from_sequence(from);
    auto reader = stub.WatchChanges(&context_, request);
    kv1::WatchChangesResponse response;
    while (reader->Read(&response)) {
      const Clock::time_point at = Clock::now();
      absl::MutexLock lock(&mu_);
      seen_[response.change().sequence()] = at;
    }
    reader->Finish();
    absl::MutexLock lock(&mu_);
    ended_ = true;
  }

  grpc::ClientContext context_;
  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, Clock::time_point> seen_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

std::function<bool(const Received&)> MatchFlip(const Pair& pair) {
  const nv1::EventKind kind = pair.firing ? nv1::EVENT_KIND_FIRED : nv1::EVENT_KIND_RESOLVED;
  return [kpi = pair.kpi_id, region = pair.region_id, kind](const Received& r) {
    return r.rule == nv1::RULE_KIND_DECLINING && r.kind == kind && r.kpi_id == kpi &&
           r.region_id == region;
  };
}

// Sets the marker to a bad figure its DECLINING alert does not show yet and
// waits until the alert shows it: notification-service has then evaluated
// every change up to this one. Returns the change's sequence.
absl::StatusOr<int64_t> Probe(Pair& marker, kv1::KpiService::Stub& kpi,
                              nv1::NotificationService::Stub& notification,
                              const AlertOptions& options) {
  nv1::AlertFilter filter;
  filter.add_kpi_ids(marker.kpi_id);
  filter.add_region_ids(marker.region_id);
  auto shown = [&]() -> absl::StatusOr<std::optional<double>> {
    absl::StatusOr<std::vector<nv1::Alert>> alerts =
        FiringDeclining(notification, filter, options.call_timeout);
    if (!alerts.ok()) return alerts.status();
    if (alerts->empty()) return std::optional<double>();
    return std::optional<double>(alerts->front().values().value());
  };
  absl::StatusOr<std::optional<double>> before = shown();
  if (!before.ok()) return before.status();
  const Figure target =
      *before && SameDecimal(**before, marker.bad.value()) ? Figure::kBadAlt : Figure::kBad;
  const Figure other = target == Figure::kBad ? Figure::kBadAlt : Figure::kBad;
  absl::StatusOr<int64_t> sequence = Record(kpi, marker.Get(target), options.call_timeout);
  if (sequence.ok() && *sequence == 0) {
    // The figure was there already: go through the other one.
    sequence = Record(kpi, marker.Get(other), options.call_timeout);
    if (sequence.ok()) sequence = Record(kpi, marker.Get(target), options.call_timeout);
  }
  if (!sequence.ok()) return sequence.status();
  marker.firing = true;
  marker.current = target;
  const absl::Time deadline = absl::Now() + options.catch_up_timeout;
  while (true) {
    absl::StatusOr<std::optional<double>> now = shown();
    if (!now.ok()) return now.status();
    if (*now && SameDecimal(**now, marker.Get(target).value())) return *sequence;
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "notification-service did not evaluate the change of ", marker.Name(), " (sequence ",
          *sequence, ") within ", absl::FormatDuration(options.catch_up_timeout),
          ": is it following this kpi-service (--kpi_address), and is DECLINING enabled?"));
    }
    absl::SleepFor(kPollInterval);
  }
}

// Runs `work(thread, pairs)` on `threads` threads, each with its share of
// `pairs` (pair j goes to thread j % threads); returns the first error.
absl::Status OnThreads(int threads, const std::vector<Pair*>& pairs,
                       const std::function<absl::Status(int, const std::vector<Pair*>&)>& work) {
  std::vector<std::vector<Pair*>> shares(threads);
  for (size_t j = 0; j < pairs.size(); ++j) shares[j % threads].push_back(pairs[j]);
  std::vector<absl::Status> results(threads);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] { results[t] = work(t, shares[t]); });
  }
  for (std::thread& thread : running) thread.join();
  for (const absl::Status& status : results) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// The burst: changes from `threads` threads as fast as they are answered,
// each to a pair whose last change's event has come (the ready pairs, in
// turn), so that every change makes exactly one event and each event's
// latency is known. The pairs a change waits on bound the changes in the
// pipeline at once (at most one per pair).
class Burst {
 public:
  struct Result {
    int64_t sent = 0;
    int64_t received = 0;
    std::vector<int64_t> rpc_ns;      // sorted
    std::vector<int64_t> latency_ns;  // answer → event, sorted
    Clock::time_point start;
    Clock::time_point last_event;
    int early = 0;
    int max_outstanding = 0;
    double idle_seconds = 0;
    std::vector<std::string> missing;
    absl::Status error;
  };

  Burst(kv1::KpiService::Stub& kpi, EventStream& events, const std::vector<Pair*>& pairs,
        int threads, const AlertOptions& options)
      : kpi_(kpi), events_(events), threads_(threads), options_(options) {
    ready_.assign(pairs.begin(), pairs.end());
  }

  Result Run() {
    events_.SetListener([this](const Received& r) { OnEvent(r); });
    result_.start = Clock::now();
    result_.last_event = result_.start;
    std::vector<std::thread> senders;
    for (int t = 0; t < threads_; ++t) senders.emplace_back([this] { Send(); });
    for (std::thread& sender : senders) sender.join();
    {
      // The last events: until every one has come, or none has for a while.
      absl::MutexLock lock(&mu_);
      while (!outstanding_.empty()) {
        const int64_t before = result_.received;
        auto progress = [this, before]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return outstanding_.empty() || result_.received != before;
        };
        if (!mu_.AwaitWithTimeout(absl::Condition(&progress), options_.event_timeout)) break;
      }
      for (const auto& [key, waiting] : outstanding_) {
        result_.missing.push_back(
            absl::StrCat(waiting.pair->Name(), " ",
                         waiting.kind == nv1::EVENT_KIND_FIRED ? "FIRED" : "RESOLVED"));
      }
    }
    events_.SetListener(nullptr);
    absl::MutexLock lock(&mu_);
    std::sort(result_.rpc_ns.begin(), result_.rpc_ns.end());
    std::sort(result_.latency_ns.begin(), result_.latency_ns.end());
    return result_;
  }

 private:
  using Key = std::pair<std::string, std::string>;
  struct Waiting {
    Pair* pair = nullptr;
    nv1::EventKind kind = nv1::EVENT_KIND_UNSPECIFIED;
    bool answered = false;
    Clock::time_point answered_at;
    bool seen = false;
    Clock::time_point seen_at;
  };

  void Send() {
    while (true) {
      Key key;
      kv1::Actual figure;
      {
        absl::MutexLock lock(&mu_);
        auto can = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stop_ || result_.sent >= options_.burst || !ready_.empty();
        };
        const Clock::time_point idle = Clock::now();
        const bool woke = mu_.AwaitWithTimeout(absl::Condition(&can), options_.event_timeout);
        result_.idle_seconds += Seconds(Clock::now() - idle);
        // No pair's event for a while: the rest are missing.
        if (!woke || stop_ || result_.sent >= options_.burst) return;
        Pair* pair = ready_.front();
        ready_.pop_front();
        ++result_.sent;
        figure = pair->Flip();
        key = {pair->kpi_id, pair->region_id};
        Waiting& waiting = outstanding_[key];
        waiting = Waiting();
        waiting.pair = pair;
        waiting.kind = pair->firing ? nv1::EVENT_KIND_FIRED : nv1::EVENT_KIND_RESOLVED;
        result_.max_outstanding =
            std::max(result_.max_outstanding, static_cast<int>(outstanding_.size()));
      }
      const Clock::time_point begin = Clock::now();
      absl::StatusOr<int64_t> sequence = Record(kpi_, figure, options_.call_timeout);
      const Clock::time_point answered = Clock::now();
      absl::MutexLock lock(&mu_);
      if (!sequence.ok()) {
        if (result_.error.ok()) result_.error = sequence.status();
        stop_ = true;
        outstanding_.erase(key);
        return;
      }
      result_.rpc_ns.push_back(Nanos(answered - begin));
      auto it = outstanding_.find(key);
      it->second.answered = true;
      it->second.answered_at = answered;
      if (it->second.seen) CompleteLocked(it);
    }
  }

  void OnEvent(const Received& r) {
    if (r.rule != nv1::RULE_KIND_DECLINING) return;
    absl::MutexLock lock(&mu_);
    auto it = outstanding_.find(Key(r.kpi_id, r.region_id));
    if (it == outstanding_.end() || it->second.kind != r.kind || it->second.seen) return;
    it->second.seen = true;
    it->second.seen_at = r.at;
    if (it->second.answered) CompleteLocked(it);
  }

  void CompleteLocked(std::map<Key, Waiting>::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const Waiting& waiting = it->second;
    if (waiting.seen_at < waiting.answered_at) ++result_.early;
    result_.latency_ns.push_back(
        std::max<int64_t>(0, Nanos(waiting.seen_at - waiting.answered_at)));
    result_.last_event = std::max(result_.last_event, waiting.seen_at);
    ++result_.received;
    ready_.push_back(waiting.pair);
    outstanding_.erase(it);
  }

  kv1::KpiService::Stub& kpi_;
  EventStream& events_;
  const int threads_;
  const AlertOptions& options_;
  absl::Mutex mu_;
  std::deque<Pair*> ready_ ABSL_GUARDED_BY(mu_);
  std::map<Key, Waiting> outstanding_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  Result result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::Status RunAlertBenchmark(std::shared_ptr<grpc::Channel> kpi_channel,
                               std::shared_ptr<grpc::Channel> notification_channel,
                               const AlertOptions& options, std::ostream& out) {
  auto kpi = kv1::KpiService::NewStub(kpi_channel);
  auto notification = nv1::NotificationService::NewStub(notification_channel);

  // 1. The pairs and their figures.
  const Clock::time_point setup_start = Clock::now();
  absl::StatusOr<PairCensus> census = FindPairs(*kpi, options.kpi_prefix, options.call_timeout);
  if (!census.ok()) return census.status();
  std::vector<Pair>& pairs = census->pairs;
  int rates = 0;
  for (const Pair& pair : pairs) rates += pair.original.has_numerator();
  out << "alerts: " << pairs.size() << " (KPI, subprefecture) pairs (" << pairs.size() - rates
      << " counts, " << rates << " rates) of " << census->kpis << " KPIs \"" << options.kpi_prefix
      << "…\"; " << census->skipped_pairs << " pairs and " << census->skipped_kpis
      << " DIRECTION_DECREASE KPIs skipped"
      << (census->from_history > 0
              ? absl::StrCat(" (", census->from_history, " figures read with GetHistory)")
              : std::string())
      << "; each change moves the latest actual below the year "
         "before's (DECLINING fires) or back (it resolves)"
      << std::endl;
  if (pairs.size() < 2) {
    return absl::FailedPreconditionError(
        absl::StrCat("need at least 2 pairs, found ", pairs.size(), "; run 'loadgen seed' first"));
  }
  // A fixed shuffle, so consecutive changes touch different KPIs and areas.
  {
    std::mt19937_64 random(42);
    for (size_t i = pairs.size(); i > 1; --i) std::swap(pairs[i - 1], pairs[random() % i]);
  }
  size_t marker_index = pairs.size();
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (pairs[i].bad_alt.fiscal_year().year() != 0) {
      marker_index = i;
      break;
    }
  }
  if (marker_index == pairs.size()) {
    return absl::FailedPreconditionError("no pair has room for two falling figures (a marker)");
  }
  Pair& marker = pairs[marker_index];

  // 2. Catch-up: two probes.
  const Clock::time_point catch_up_start = Clock::now();
  absl::StatusOr<int64_t> probe = Probe(marker, *kpi, *notification, options);
  if (probe.ok()) probe = Probe(marker, *kpi, *notification, options);
  if (!probe.ok()) return probe.status();
  out << "catch-up: notification-service shows the marker " << marker.Name()
      << "'s changes (sequence " << *probe << ") after "
      << absl::StrFormat("%.2f s", Seconds(Clock::now() - catch_up_start)) << std::endl;

  // 3. Each pair's state, as notification-service has it.
  absl::StatusOr<std::vector<nv1::Alert>> firing_now =
      FiringDeclining(*notification, nv1::AlertFilter(), options.call_timeout);
  if (!firing_now.ok()) return firing_now.status();
  std::set<std::pair<std::string, std::string>> firing_set;
  for (const nv1::Alert& alert : *firing_now) firing_set.emplace(alert.kpi_id(), alert.region_id());
  std::vector<Pair*> measured;  // every pair but the marker, in shuffled order
  int inconsistent = 0;
  int firing_pairs = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i == marker_index) continue;
    Pair& pair = pairs[i];
    pair.firing = firing_set.count({pair.kpi_id, pair.region_id}) > 0;
    if (pair.firing != DecimalLess(pair.original.value(), pair.previous)) {
      ++inconsistent;  // a silence, a disabled rule, or another writer
      continue;
    }
    firing_pairs += pair.firing;
    measured.push_back(&pair);
  }
  out << "state: " << firing_now->size() << " DECLINING alerts firing, " << firing_pairs
      << " of them on the pairs; " << inconsistent
      << " pairs left out (alert state does not match their figures)"
      << "; set-up took " << absl::StrFormat("%.2f s", Seconds(Clock::now() - setup_start))
      << std::endl;
  if (measured.empty()) return absl::FailedPreconditionError("no pair left to change");

  // 4. The subscription: the last stored event id, then after it.
  int64_t last_event = 0;
  {
    EventStream replay(*notification, 0);
    const bool quiet = replay.WaitQuiet(kQuiet, absl::Now() + kReplayLimit);
    if (std::optional<absl::Status> end = replay.ended()) return *end;
    last_event = replay.last_id();
    out << "subscribe: " << replay.size() << " stored events replayed from event 0"
        << (quiet ? "" : " (still coming after a minute)") << "; following after event id "
        << last_event << std::endl;
  }
  EventStream events(*notification, last_event);
  ChangeStream changes(*kpi, *probe + 1);

  // 5. Latency, one change at a time.
  const int total = options.warmup_changes + options.changes;
  std::vector<int64_t> latency_ns, rpc_ns, watch_ns, evaluate_ns;
  std::vector<std::string> missing;
  int early = 0;
  int unchanged = 0;
  const size_t latency_from = events.size();
  const Clock::time_point latency_start = Clock::now();
  for (int i = 0; i < total; ++i) {
    Pair& pair = *measured[static_cast<size_t>(i) % measured.size()];
    const kv1::Actual& figure = pair.Flip();
    size_t scan = events.size();
    const Clock::time_point sent = Clock::now();
    absl::StatusOr<int64_t> sequence = Record(*kpi, figure, options.call_timeout);
    const Clock::time_point answered = Clock::now();
    if (!sequence.ok()) return sequence.status();
    if (*sequence == 0) {
      ++unchanged;
      continue;
    }
    std::optional<Received> event =
        events.WaitFor(&scan, MatchFlip(pair), absl::Now() + options.event_timeout);
    if (std::optional<absl::Status> end = events.ended()) return *end;
    if (i < options.warmup_changes) continue;
    rpc_ns.push_back(Nanos(answered - sent));
    if (!event) {
      missing.push_back(absl::StrCat(pair.Name(), " ", pair.firing ? "FIRED" : "RESOLVED",
                                     " (sequence ", *sequence, ")"));
      continue;
    }
    if (event->at < answered) ++early;
    latency_ns.push_back(std::max<int64_t>(0, Nanos(event->at - answered)));
    if (std::optional<Clock::time_point> seen =
            changes.SeenAt(*sequence, absl::Now() + absl::Seconds(1))) {
      watch_ns.push_back(Nanos(*seen - answered));
      evaluate_ns.push_back(Nanos(event->at - *seen));
    }
  }
  const double latency_seconds = Seconds(Clock::now() - latency_start);
  const size_t latency_events = events.size() - latency_from;
  out << absl::StrFormat(
      "latency: %d changes one at a time in %.2f s (%d warm-up changes before them not "
      "counted), each waiting for its DECLINING event; %d events in all (the rest: the areas' "
      "figures and other rules)\n",
      options.changes, latency_seconds, options.warmup_changes, latency_events);
  out << "  RecordActual answered → event at the subscriber, ms: " << Quantiles(latency_ns) << "\n";
  out << "  RecordActual call, ms:                             " << Quantiles(rpc_ns) << "\n";
  out << "  RecordActual answered → change on a WatchChanges stream, ms: " << Quantiles(watch_ns)
      << "\n";
  out << "  change on a WatchChanges stream → event (follower: GetKpi, GetProgress, rules, "
         "SQLite, Subscribe), ms: "
      << Quantiles(evaluate_ns) << "\n";
  if (early > 0)
    out << "  events before RecordActual's answer (counted as 0 ms): " << early << "\n";
  if (unchanged > 0) out << "  changes that changed nothing (skipped): " << unchanged << "\n";
  out << "  missing (no event within " << absl::FormatDuration(options.event_timeout)
      << "): " << missing.size() << "\n";
  for (size_t i = 0; i < missing.size() && i < 10; ++i) out << "    " << missing[i] << "\n";
  out.flush();

  // 6a. Throughput, every change's event awaited: the burst.
  const int threads = std::max(1, std::min<int>(options.burst_inflight, measured.size()));
  Burst burst_run(*kpi, events, measured, threads, options);
  const Burst::Result burst = burst_run.Run();
  if (!burst.error.ok()) return burst.error;
  if (std::optional<absl::Status> end = events.ended()) return *end;
  std::vector<int64_t> burst_latency_ns = burst.latency_ns;
  std::vector<int64_t> burst_rpc_ns = burst.rpc_ns;
  const double burst_seconds = Seconds(burst.last_event - burst.start);
  const double burst_per_s =
      burst.received > 0 && burst_seconds > 0 ? burst.received / burst_seconds : 0;
  out << absl::StrFormat(
      "burst: %d changes from %d threads (one RecordActual in flight each) over %d pairs, a pair "
      "changed again only once its last change's event has come, so every change makes one "
      "event\n",
      burst.sent, threads, measured.size());
  out << absl::StrFormat(
      "  pipeline: %d of %d events, the last %.3f s after the first change = %.0f changes/s "
      "through RecordActual → WatchChanges → evaluation → subscriber\n",
      burst.received, burst.sent, burst_seconds, burst_per_s);
  out << "  RecordActual answered → event at the subscriber, ms: " << Quantiles(burst_latency_ns)
      << "\n";
  out << "  RecordActual call, ms: " << Quantiles(burst_rpc_ns) << "\n";
  out << absl::StrFormat(
      "  most changes waiting for their event at once: %d; senders idle "
      "waiting for a pair: %.3f s in all\n",
      burst.max_outstanding, burst.idle_seconds);
  if (burst.early > 0) {
    out << "  events before RecordActual's answer (counted as 0 ms): " << burst.early << "\n";
  }
  out << "  missing (no event within " << absl::FormatDuration(options.event_timeout)
      << " of the last one): " << burst.missing.size() << "\n";
  for (size_t i = 0; i < burst.missing.size() && i < 10; ++i) {
    out << "    " << burst.missing[i] << "\n";
  }
  out.flush();

  // 6b. Throughput, nothing awaited: the flood, then the marker.
  std::vector<int64_t> flood_rpc_ns;
  absl::Mutex flood_mu;
  Clock::time_point last_answer;
  const size_t flood_from = events.size();
  const Clock::time_point flood_start = Clock::now();
  absl::Status sent =
      OnThreads(threads, measured, [&](int t, const std::vector<Pair*>& own) -> absl::Status {
        const int count = options.burst / threads + (t < options.burst % threads ? 1 : 0);
        std::vector<int64_t> rpc;
        rpc.reserve(count);
        Clock::time_point last = flood_start;
        absl::Status result;
        for (int k = 0; k < count; ++k) {
          Pair& pair = *own[static_cast<size_t>(k) % own.size()];
          const Clock::time_point begin = Clock::now();
          absl::StatusOr<int64_t> sequence = Record(*kpi, pair.Flip(), options.call_timeout);
          last = Clock::now();
          if (!sequence.ok()) {
            result = sequence.status();
            break;
          }
          rpc.push_back(Nanos(last - begin));
        }
        absl::MutexLock lock(&flood_mu);
        flood_rpc_ns.insert(flood_rpc_ns.end(), rpc.begin(), rpc.end());
        last_answer = std::max(last_answer, last);
        return result;
      });
  if (!sent.ok()) return sent;
  const int64_t flood = static_cast<int64_t>(flood_rpc_ns.size());
  size_t scan = events.size();
  const kv1::Actual& marker_figure = marker.Flip();
  const Clock::time_point marker_sent = Clock::now();
  absl::StatusOr<int64_t> marker_sequence = Record(*kpi, marker_figure, options.call_timeout);
  const Clock::time_point marker_answered = Clock::now();
  if (!marker_sequence.ok()) return marker_sequence.status();
  std::optional<Received> marker_event =
      events.WaitFor(&scan, MatchFlip(marker), absl::Now() + options.drain_timeout);
  if (std::optional<absl::Status> end = events.ended()) return *end;
  const Clock::time_point flood_end = marker_event ? marker_event->at : Clock::now();
  const double record_seconds = Seconds(last_answer - flood_start);
  const double flood_seconds = Seconds(flood_end - flood_start);
  const double record_per_s = record_seconds > 0 ? flood / record_seconds : 0;
  const double flood_per_s = marker_event && flood_seconds > 0 ? flood / flood_seconds : 0;

  // The flood's events: those for the pairs' DECLINING alerts, and the rest.
  std::set<std::pair<std::string, std::string>> flood_pairs;
  for (const Pair* pair : measured) flood_pairs.emplace(pair->kpi_id, pair->region_id);
  int64_t fired = 0, resolved = 0, other_events = 0;
  for (const Received& r : events.Copy(flood_from, marker_event ? scan - 1 : events.size())) {
    if (r.rule == nv1::RULE_KIND_DECLINING && flood_pairs.count({r.kpi_id, r.region_id}) > 0) {
      (r.kind == nv1::EVENT_KIND_FIRED ? fired : resolved) += 1;
    } else {
      ++other_events;
    }
  }
  out << absl::StrFormat(
      "flood: %d changes from %d threads (one RecordActual in flight each, pairs round-robin, "
      "no event awaited), then one marker change whose event comes last\n",
      flood, threads);
  out << absl::StrFormat("  RecordActual: all answered in %.3f s = %.0f changes/s; call ms: %s\n",
                         record_seconds, record_per_s, Quantiles(flood_rpc_ns));
  if (marker_event) {
    out << absl::StrFormat(
        "  pipeline: the marker's event %.3f s after the first change = %.0f changes/s "
        "(caught up)\n",
        flood_seconds, flood_per_s);
    out << absl::StrFormat(
        "  drain after the last answer: %.3f s; the marker's own latency %.3f ms (call %.3f ms)\n",
        Seconds(flood_end - last_answer),
        static_cast<double>(Nanos(flood_end - marker_answered)) / 1e6,
        static_cast<double>(Nanos(marker_answered - marker_sent)) / 1e6);
  } else {
    out << "  pipeline: the marker's event did not come within "
        << absl::FormatDuration(options.drain_timeout) << "\n";
  }
  out << absl::StrFormat(
      "  events for the pairs' DECLINING alerts: %d (%d fired, %d resolved) for %d changes: the "
      "follower evaluates everything queued at once, so a pair changed twice in one batch makes "
      "no event; %d other events\n",
      fired + resolved, fired, resolved, flood, other_events);

  // Every pair's alert in the state its last change set.
  int mismatches = 0;
  if (marker_event) {
    absl::StatusOr<std::vector<nv1::Alert>> firing_after =
        FiringDeclining(*notification, nv1::AlertFilter(), options.call_timeout);
    if (!firing_after.ok()) return firing_after.status();
    std::set<std::pair<std::string, std::string>> after;
    for (const nv1::Alert& alert : *firing_after) after.emplace(alert.kpi_id(), alert.region_id());
    std::vector<std::string> wrong;
    std::vector<Pair*> checked = measured;
    checked.push_back(&marker);
    for (const Pair* pair : checked) {
      const bool is_firing = after.count({pair->kpi_id, pair->region_id}) > 0;
      if (is_firing != pair->firing) {
        ++mismatches;
        wrong.push_back(absl::StrCat(pair->Name(), " is ", is_firing ? "firing" : "not firing"));
      }
    }
    out << "  final state: " << checked.size() - mismatches << " of " << checked.size()
        << " pairs' DECLINING alerts as their last change set them\n";
    for (size_t i = 0; i < wrong.size() && i < 10; ++i) out << "    wrong: " << wrong[i] << "\n";
  }
  out.flush();

  // 7. The figures put back.
  if (options.restore) {
    std::vector<Pair*> all;
    for (Pair& pair : pairs) {
      if (pair.current != Figure::kOriginal) all.push_back(&pair);
    }
    absl::Status restored =
        OnThreads(threads, all, [&](int, const std::vector<Pair*>& own) -> absl::Status {
          for (Pair* pair : own) {
            absl::StatusOr<int64_t> sequence = Record(*kpi, pair->original, options.call_timeout);
            if (!sequence.ok()) return sequence.status();
            pair->current = Figure::kOriginal;
          }
          return absl::OkStatus();
        });
    if (!restored.ok()) return restored;
    out << "restore: " << all.size() << " actuals put back as they were" << std::endl;
  }

  std::sort(latency_ns.begin(), latency_ns.end());
  std::sort(watch_ns.begin(), watch_ns.end());
  std::sort(evaluate_ns.begin(), evaluate_ns.end());
  out << absl::StrFormat(
      "RESULT label=%s p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f changes=%d missing=%d "
      "watch_p50_ms=%.3f evaluate_p50_ms=%.3f evaluate_p99_ms=%.3f burst=%d burst_per_s=%.1f "
      "burst_seconds=%.3f burst_p50_ms=%.3f burst_p99_ms=%.3f burst_missing=%d flood=%d "
      "flood_per_s=%.1f flood_seconds=%.3f record_per_s=%.1f flood_events=%d mismatches=%d\n",
      options.label, QuantileMs(latency_ns, 0.5), QuantileMs(latency_ns, 0.9),
      QuantileMs(latency_ns, 0.99), QuantileMs(latency_ns, 1.0), rpc_ns.size(), missing.size(),
      QuantileMs(watch_ns, 0.5), QuantileMs(evaluate_ns, 0.5), QuantileMs(evaluate_ns, 0.99),
      burst.sent, burst_per_s, burst_seconds, QuantileMs(burst_latency_ns, 0.5),
      QuantileMs(burst_latency_ns, 0.99), burst.missing.size(), flood, flood_per_s, flood_seconds,
      record_per_s, fired + resolved, mismatches);
  out.flush();
  if (!marker_event) {
    return absl::DeadlineExceededError("the burst's marker event never came");
  }
  return absl::OkStatus();
}

}  // namespace suishin::loadgen
