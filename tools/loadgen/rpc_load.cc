#include "tools/loadgen/rpc_load.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <random>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/auth.h"
#include "common/channel.h"
#include "common/tls.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "tools/loadgen/loader.h"

namespace suishin::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point After(Clock::time_point start, absl::Duration duration) {
  if (duration == absl::InfiniteDuration()) return Clock::time_point::max();
  return start + absl::ToChronoNanoseconds(duration);
}

// Runs RunLoad's calls: one Slot per call in flight, each a chain of calls
// where a completion starts the next. A slot is only touched by its own chain,
// one call at a time, so slots need no lock; the chains meet only at the
// request counter (atomic) and the count of chains still running (mu_).
//
// Each call's callback holds a reference to the run, so the run (its mutex,
// its slots) outlives the last callback even when that callback is still
// unwinding after RunLoad has returned.
class LoadRun : public std::enable_shared_from_this<LoadRun> {
 public:
  LoadRun(CallSource& source, const LoadOptions& options)
      : options_(options), requests_(source.size()) {
    for (int i = 0; i < options.inflight; ++i) {
      auto slot = std::make_unique<Slot>();
      slot->caller = source.NewCaller(i);
      slots_.push_back(std::move(slot));
    }
  }
  LoadRun(const LoadRun&) = delete;
  LoadRun& operator=(const LoadRun&) = delete;

  LoadResult Run() {
    const Clock::time_point begin = Clock::now();
    measure_start_ = After(begin, options_.warmup);
    measure_end_ = After(measure_start_, options_.duration);
    {
      absl::MutexLock lock(&mu_);
      running_ = static_cast<int>(slots_.size());
    }
    for (auto& slot : slots_) Issue(*slot);
    Clock::time_point last_stop;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](int* running) { return *running == 0; }, &running_));
      last_stop = last_stop_;
    }

    LoadResult result;
    result.exhausted = exhausted_.load();
    const Clock::time_point end = std::min(measure_end_, last_stop);
    result.window =
        end > measure_start_ ? absl::FromChrono(end - measure_start_) : absl::ZeroDuration();
    for (auto& slot : slots_) {
      result.ok += static_cast<int64_t>(slot->latencies_ns.size());
      result.warmup_calls += slot->warmup_calls;
      result.latencies_ns.insert(result.latencies_ns.end(), slot->latencies_ns.begin(),
                                 slot->latencies_ns.end());
      for (const auto& [code, count] : slot->errors) result.errors[code] += count;
      for (const auto& [code, message] : slot->error_messages) {
        result.error_messages.emplace(code, message);
      }
    }
    std::sort(result.latencies_ns.begin(), result.latencies_ns.end());
    return result;
  }

 private:
  struct Slot {
    std::unique_ptr<Caller> caller;
    std::unique_ptr<grpc::ClientContext> context;
    Clock::time_point start;
    std::vector<int64_t> latencies_ns;
    std::map<grpc::StatusCode, int64_t> errors;
    std::map<grpc::StatusCode, std::string> error_messages;
    int64_t warmup_calls = 0;
  };

  // Starts the slot's next call, or ends its chain when time or requests are
  // up.
  void Issue(Slot& slot) {
    if (Clock::now() >= measure_end_) {
      Stop();
      return;
    }
    const uint64_t index = next_index_.fetch_add(1, std::memory_order_relaxed);
    if (options_.distinct && index >= requests_) {
      exhausted_ = true;
      Stop();
      return;
    }
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.context->set_deadline(std::chrono::system_clock::now() +
                               absl::ToChronoNanoseconds(options_.call_timeout));
    slot.start = Clock::now();
    slot.caller->Start(
        slot.context.get(), index % requests_,
        [self = shared_from_this(), &slot](grpc::Status status) { self->OnDone(slot, status); });
  }

  void OnDone(Slot& slot, const grpc::Status& status) {
    const Clock::time_point end = Clock::now();
    if (slot.start < measure_start_) {
      ++slot.warmup_calls;
    } else if (end <= measure_end_) {
      if (status.ok()) {
        slot.latencies_ns.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(end - slot.start).count());
      } else {
        ++slot.errors[status.error_code()];
        slot.error_messages.try_emplace(status.error_code(), status.error_message());
      }
    }
    Issue(slot);
  }

  void Stop() {
    absl::MutexLock lock(&mu_);
    --running_;
    last_stop_ = std::max(last_stop_, Clock::now());
  }

  const LoadOptions options_;
  const size_t requests_;
  std::vector<std::unique_ptr<Slot>> slots_;
  Clock::time_point measure_start_;
  Clock::time_point measure_end_;
  std::atomic<uint64_t> next_index_{0};
  std::atomic<bool> exhausted_{false};
  absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  Clock::time_point last_stop_ ABSL_GUARDED_BY(mu_);
};

// A unary method called with the callback API: `fill` writes request number
// `index`, `invoke` starts stub->async()->Method.
template <typename Request, typename Response>
class UnaryCaller : public Caller {
 public:
  using Fill = std::function<void(size_t index, Request& request)>;
  using Invoke = std::function<void(grpc::ClientContext*, const Request*, Response*,
                                    std::function<void(grpc::Status)>)>;

  UnaryCaller(Fill fill, Invoke invoke) : fill_(std::move(fill)), invoke_(std::move(invoke)) {}

  void Start(grpc::ClientContext* context, size_t index,
             std::function<void(grpc::Status)> done) override {
    fill_(index, request_);
    response_.Clear();
    invoke_(context, &request_, &response_, std::move(done));
  }

 private:
  Fill fill_;
  Invoke invoke_;
  Request request_;
  Response response_;
};

// A unary call whose answer is received as bytes and never parsed: the
// load generator shares the machine with the server, and parsing a large
// answer (a KPI's series) would cost it more than the server spends making
// it. The request is a message, serialized for each call.
template <typename Request>
class WireCaller : public Caller {
 public:
  using Fill = std::function<void(size_t index, Request& request)>;

  WireCaller(Fill fill, std::shared_ptr<grpc::GenericStub> stub, std::string method)
      : fill_(std::move(fill)), stub_(std::move(stub)), method_(std::move(method)) {}

  void Start(grpc::ClientContext* context, size_t index,
             std::function<void(grpc::Status)> done) override {
    fill_(index, request_);
    request_bytes_.Clear();
    bool own = false;
    const grpc::Status serialized =
        grpc::SerializationTraits<Request>::Serialize(request_, &request_bytes_, &own);
    if (!serialized.ok()) {
      done(serialized);
      return;
    }
    response_bytes_.Clear();
    stub_->UnaryCall(context, method_, grpc::StubOptions(), &request_bytes_, &response_bytes_,
                     std::move(done));
  }

 private:
  Fill fill_;
  std::shared_ptr<grpc::GenericStub> stub_;
  std::string method_;
  Request request_;
  grpc::ByteBuffer request_bytes_;
  grpc::ByteBuffer response_bytes_;
};

// One generic stub per channel.
std::shared_ptr<std::vector<std::shared_ptr<grpc::GenericStub>>> GenericStubsFor(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  auto stubs = std::make_shared<std::vector<std::shared_ptr<grpc::GenericStub>>>();
  for (const auto& channel : channels)
    stubs->push_back(std::make_shared<grpc::GenericStub>(channel));
  return stubs;
}

class FunctionSource : public CallSource {
 public:
  FunctionSource(size_t size, std::function<std::unique_ptr<Caller>(int slot)> make)
      : size_(size), make_(std::move(make)) {}
  size_t size() const override { return size_; }
  std::unique_ptr<Caller> NewCaller(int slot) override { return make_(slot); }

 private:
  size_t size_;
  std::function<std::unique_ptr<Caller>(int slot)> make_;
};

template <typename Service>
std::shared_ptr<std::vector<std::unique_ptr<typename Service::Stub>>> StubsFor(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  auto stubs = std::make_shared<std::vector<std::unique_ptr<typename Service::Stub>>>();
  for (const auto& channel : channels) stubs->push_back(Service::NewStub(channel));
  return stubs;
}

// Every KPI whose id starts with `prefix`, all pages.
absl::StatusOr<std::vector<kpi::v1::Kpi>> ListKpis(kpi::v1::KpiService::Stub& stub,
                                                   const std::string& prefix,
                                                   absl::Duration timeout) {
  std::vector<kpi::v1::Kpi> kpis;
  kpi::v1::ListKpisRequest request;
  request.set_page_size(1000);
  do {
    kpi::v1::ListKpisResponse response;
    auto context = NewClientContext(timeout);
    grpc::Status status = stub.ListKpis(context.get(), request, &response);
    if (!status.ok()) return RpcError("ListKpis", status);
    for (const kpi::v1::Kpi& kpi : response.kpis()) {
      if (absl::StartsWith(kpi.id(), prefix)) kpis.push_back(kpi);
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  if (kpis.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no KPI with an id starting \"", prefix, "\"; run 'loadgen seed' first"));
  }
  return kpis;
}

// Fisher–Yates with a fixed seed: the same order on every run and platform.
template <typename T>
void Shuffle(std::vector<T>& items) {
  std::mt19937_64 random(42);
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[random() % i]);
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace

absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> ConnectChannels(
    const std::string& target, int count, absl::Duration connect_timeout) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // Up to 256 MiB, what growth.sh lets kpi-service send (--max_message_bytes)
    // for the largest project table; the default 4 MiB would refuse it.
    args.SetMaxReceiveMessageSize(256 << 20);
    // Round-robin over every address of the target (stores.sh gives an
    // ipv4: list of kpi-service replicas), as the services' own channels.
    args.SetServiceConfigJSON(ChannelServiceConfig());
    // TLS and a token when the flags give them (--tls_ca, --token_file):
    // the secure runs of bench.sh.
    auto channel =
        grpc::CreateCustomChannel(target, ChannelCredentials(ProcessTls(), ProcessToken()), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                   absl::ToChronoMilliseconds(connect_timeout))) {
      return absl::UnavailableError(absl::StrCat("cannot connect to ", target, " within ",
                                                 absl::FormatDuration(connect_timeout),
                                                 "; is the service running?"));
    }
    channels.push_back(std::move(channel));
  }
  return channels;
}

int64_t LoadResult::error_count() const {
  int64_t total = 0;
  for (const auto& [code, count] : errors) total += count;
  return total;
}

double LoadResult::qps() const {
  const double seconds = absl::ToDoubleSeconds(window);
  return seconds > 0 ? static_cast<double>(ok) / seconds : 0;
}

double LoadResult::LatencyMs(double q) const {
  if (latencies_ns.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(latencies_ns.size())));
  const size_t index = std::min(latencies_ns.size() - 1, rank == 0 ? 0 : rank - 1);
  return static_cast<double>(latencies_ns[index]) / 1e6;
}

LoadResult RunLoad(CallSource& source, const LoadOptions& options) {
  auto run = std::make_shared<LoadRun>(source, options);
  return run->Run();
}

void PrintLoadResult(const std::string& label, const LoadResult& result, std::ostream& out) {
  out << absl::StrFormat(
      "%s: %d OK calls in %.2f s = %.0f calls/s (%d warm-up calls not counted)\n", label, result.ok,
      absl::ToDoubleSeconds(result.window), result.qps(), result.warmup_calls);
  out << absl::StrFormat("  latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
                         result.LatencyMs(0.5), result.LatencyMs(0.9), result.LatencyMs(0.99),
                         result.LatencyMs(1.0));
  if (result.errors.empty()) out << "  errors: none\n";
  for (const auto& [code, count] : result.errors) {
    out << "  errors: " << CodeName(code) << " " << count << " (first: \""
        << result.error_messages.at(code) << "\")\n";
  }
  if (result.exhausted) {
    out << "  the distinct requests ran out: the window ended when the last call did\n";
  }
  out << absl::StrFormat(
      "RESULT label=%s qps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f ok=%d errors=%d\n",
      label, result.qps(), result.LatencyMs(0.5), result.LatencyMs(0.9), result.LatencyMs(0.99),
      result.LatencyMs(1.0), result.ok, result.error_count());
  out.flush();
}

std::unique_ptr<CallSource> MakeHealthSource(std::vector<std::shared_ptr<grpc::Channel>> channels) {
  using grpc::health::v1::HealthCheckRequest;
  auto stubs = GenericStubsFor(channels);
  return std::make_unique<FunctionSource>(1, [stubs](int slot) -> std::unique_ptr<Caller> {
    return std::make_unique<WireCaller<HealthCheckRequest>>(
        [](size_t, HealthCheckRequest& request) { request.set_service(""); },
        (*stubs)[slot % stubs->size()], "/grpc.health.v1.Health/Check");
  });
}

absl::StatusOr<std::vector<std::string>> AggregatePaths(std::shared_ptr<grpc::Channel> channel,
                                                        const std::string& kpi_prefix,
                                                        int first_year, int last_year,
                                                        absl::Duration timeout) {
  auto stub = kpi::v1::KpiService::NewStub(channel);
  absl::StatusOr<std::vector<kpi::v1::Kpi>> kpis = ListKpis(*stub, kpi_prefix, timeout);
  if (!kpis.ok()) return kpis.status();
  std::vector<std::string> paths;
  for (const kpi::v1::Kpi& kpi : *kpis) {
    for (int year = first_year; year <= last_year; ++year) {
      paths.push_back(absl::StrCat("/v1/kpis/", kpi.id(), "/aggregates/", kpi.area_id(),
                                   "?fiscal_year=", year));
    }
  }
  Shuffle(paths);
  return paths;
}

absl::StatusOr<std::unique_ptr<CallSource>> MakeAggregateSource(
    std::vector<std::shared_ptr<grpc::Channel>> channels, const std::string& kpi_prefix,
    int first_year, int last_year, absl::Duration timeout) {
  using kpi::v1::GetAggregateRequest;
  using kpi::v1::GetAggregateResponse;
  using kpi::v1::KpiService;
  auto stubs = StubsFor<KpiService>(channels);
  absl::StatusOr<std::vector<kpi::v1::Kpi>> kpis = ListKpis(*(*stubs)[0], kpi_prefix, timeout);
  if (!kpis.ok()) return kpis.status();
  auto requests = std::make_shared<std::vector<GetAggregateRequest>>();
  for (const kpi::v1::Kpi& kpi : *kpis) {
    for (int year = first_year; year <= last_year; ++year) {
      GetAggregateRequest& request = requests->emplace_back();
      request.set_kpi_id(kpi.id());
      request.set_area_id(kpi.area_id());
      request.mutable_fiscal_year()->set_year(year);
    }
  }
  Shuffle(*requests);
  auto wires = GenericStubsFor(channels);
  return std::make_unique<FunctionSource>(
      requests->size(), [wires, requests](int slot) -> std::unique_ptr<Caller> {
        return std::make_unique<WireCaller<GetAggregateRequest>>(
            [requests](size_t index, GetAggregateRequest& request) {
              request = (*requests)[index];
            },
            (*wires)[slot % wires->size()], "/suishin.kpi.v1.KpiService/GetAggregate");
      });
}

absl::StatusOr<std::unique_ptr<CallSource>> MakeProgressSource(
    std::vector<std::shared_ptr<grpc::Channel>> channels, const std::string& kpi_prefix,
    absl::Duration timeout) {
  using kpi::v1::GetProgressRequest;
  using kpi::v1::GetProgressResponse;
  using kpi::v1::KpiService;
  auto stubs = StubsFor<KpiService>(channels);
  absl::StatusOr<std::vector<kpi::v1::Kpi>> kpis = ListKpis(*(*stubs)[0], kpi_prefix, timeout);
  if (!kpis.ok()) return kpis.status();
  auto requests = std::make_shared<std::vector<GetProgressRequest>>();
  for (const kpi::v1::Kpi& kpi : *kpis) {
    for (const std::string& region : kpi.region_ids()) {
      GetProgressRequest& request = requests->emplace_back();
      request.set_kpi_id(kpi.id());
      request.set_region_id(region);
    }
  }
  Shuffle(*requests);
  auto wires = GenericStubsFor(channels);
  return std::make_unique<FunctionSource>(
      requests->size(), [wires, requests](int slot) -> std::unique_ptr<Caller> {
        return std::make_unique<WireCaller<GetProgressRequest>>(
            [requests](size_t index, GetProgressRequest& request) { request = (*requests)[index]; },
            (*wires)[slot % wires->size()], "/suishin.kpi.v1.KpiService/GetProgress");
      });
}

std::unique_ptr<CallSource> MakeTableSource(std::vector<std::shared_ptr<grpc::Channel>> channels,
                                            const std::string& project_id, int as_of) {
  using kpi::v1::GetKpiTableRequest;
  auto wires = GenericStubsFor(channels);
  GetKpiTableRequest request;
  request.set_project_id(project_id);
  request.mutable_as_of()->set_year(as_of);
  return std::make_unique<FunctionSource>(1, [wires, request](int slot) -> std::unique_ptr<Caller> {
    return std::make_unique<WireCaller<GetKpiTableRequest>>(
        [request](size_t, GetKpiTableRequest& next) { next = request; },
        (*wires)[slot % wires->size()], "/suishin.kpi.v1.KpiService/GetKpiTable");
  });
}

absl::StatusOr<std::unique_ptr<CallSource>> MakeRecordSource(
    std::vector<std::shared_ptr<grpc::Channel>> channels, const std::string& kpi_prefix,
    int first_year, int last_year, absl::Duration timeout) {
  using kpi::v1::KpiService;
  using kpi::v1::RecordActualRequest;
  using kpi::v1::RecordActualResponse;
  auto stubs = StubsFor<KpiService>(channels);
  absl::StatusOr<std::vector<kpi::v1::Kpi>> kpis = ListKpis(*(*stubs)[0], kpi_prefix, timeout);
  if (!kpis.ok()) return kpis.status();
  // Two requests per cell, a value and another: cycling over them, every
  // write changes the figure (a real write with its change, never "the
  // same figure was already there").
  auto requests = std::make_shared<std::vector<RecordActualRequest>>();
  std::vector<RecordActualRequest> cells;
  for (const kpi::v1::Kpi& kpi : *kpis) {
    for (const std::string& region : kpi.region_ids()) {
      if (region == kpi.area_id()) continue;  // the subprefectures report
      for (int year = first_year + 1; year <= last_year; ++year) {
        RecordActualRequest& request = cells.emplace_back();
        kpi::v1::Actual* actual = request.mutable_actual();
        actual->set_kpi_id(kpi.id());
        actual->set_region_id(region);
        actual->mutable_fiscal_year()->set_year(year);
        actual->set_reported_by("loadgen");
      }
    }
  }
  Shuffle(cells);
  for (int round = 0; round < 2; ++round) {
    for (const RecordActualRequest& cell : cells) {
      RecordActualRequest& request = requests->emplace_back(cell);
      request.mutable_actual()->set_value(round == 0 ? 41 : 42);  // a count or a percentage
    }
  }
  return std::make_unique<FunctionSource>(
      requests->size(), [stubs, requests](int slot) -> std::unique_ptr<Caller> {
        const size_t channel = slot % stubs->size();
        return std::make_unique<UnaryCaller<RecordActualRequest, RecordActualResponse>>(
            [requests](size_t index, RecordActualRequest& request) {
              request = (*requests)[index];
            },
            [stubs, channel](grpc::ClientContext* context, const RecordActualRequest* request,
                             RecordActualResponse* response,
                             std::function<void(grpc::Status)> done) {
              (*stubs)[channel]->async()->RecordActual(context, request, response, std::move(done));
            });
      });
}

namespace {

// One WatchChanges stream that reads until it is cancelled.
class IdleStream : public grpc::ClientReadReactor<kpi::v1::WatchChangesResponse> {
 public:
  IdleStream(kpi::v1::KpiService::Stub& stub, const std::string& kpi_id) {
    request_.set_kpi_id(kpi_id);
    request_.set_from_sequence(0);
    stub.async()->WatchChanges(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (ok) {
      ++received_;
      StartRead(&response_);
    }
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }
  void Cancel() { context_.TryCancel(); }
  // Waits for the end; the stream's status.
  grpc::Status Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }
  int64_t received() const { return received_.load(); }

 private:
  grpc::ClientContext context_;
  kpi::v1::WatchChangesRequest request_;
  kpi::v1::WatchChangesResponse response_;
  std::atomic<int64_t> received_{0};
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

struct IdleStreams::Streams {
  std::unique_ptr<kpi::v1::KpiService::Stub> stub;
  std::vector<std::unique_ptr<IdleStream>> streams;
};

IdleStreams::IdleStreams(std::shared_ptr<grpc::Channel> channel, int count)
    : streams_(std::make_unique<Streams>()) {
  streams_->stub = kpi::v1::KpiService::NewStub(std::move(channel));
  for (int i = 0; i < count; ++i) {
    streams_->streams.push_back(
        std::make_unique<IdleStream>(*streams_->stub, absl::StrFormat("idle-%04d", i + 1)));
  }
}

IdleStreams::~IdleStreams() {
  for (auto& stream : streams_->streams) stream->Cancel();
  for (auto& stream : streams_->streams) stream->Wait();
}

std::string IdleStreams::Summary() const {
  int64_t received = 0;
  for (const auto& stream : streams_->streams) received += stream->received();
  return absl::StrCat(streams_->streams.size(),
                      " WatchChanges streams, each of a KPI nothing writes (", received,
                      " changes received by them)");
}

}  // namespace suishin::loadgen
