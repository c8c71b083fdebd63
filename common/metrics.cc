#include "common/metrics.h"

#include <exception>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"

ABSL_FLAG(std::string, metrics_listen, "",
          "host:port to serve Prometheus metrics on (/metrics); empty: none");

namespace suishin {

// The registry, refreshed before each scrape.
class Metrics::Scraped : public prometheus::Collectable {
 public:
  explicit Scraped(Metrics* metrics) : metrics_(metrics) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    metrics_->Refresh();
    return metrics_->registry_->Collect();
  }

 private:
  Metrics* const metrics_;
};

Metrics& Metrics::Process() {
  static Metrics* const metrics = new Metrics();
  return *metrics;
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      scraped_(std::make_shared<Scraped>(this)),
      handled_(prometheus::BuildCounter()
                   .Name("suishin_grpc_server_handled_total")
                   .Help("gRPC calls handled, by method and status code")
                   .Register(*registry_)),
      handling_(prometheus::BuildHistogram()
                    .Name("suishin_grpc_server_handling_seconds")
                    .Help("time from a call's start to its status, by method and status code")
                    .Register(*registry_)) {}

prometheus::Histogram::BucketBoundaries Metrics::LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

absl::Status Metrics::Serve(const std::string& listen) {
  absl::MutexLock lock(&mu_);
  if (exposer_ != nullptr) return absl::FailedPreconditionError("metrics are served already");
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_listen: cannot listen on \"", listen, "\": ", error.what()));
  }
  exposer_->RegisterCollectable(scraped_);
  return absl::OkStatus();
}

void Metrics::StopServing() {
  std::unique_ptr<prometheus::Exposer> exposer;
  {
    absl::MutexLock lock(&mu_);
    exposer = std::move(exposer_);
  }
  exposer.reset();  // joins its threads, outside the lock a scrape takes
}

int Metrics::port() const {
  absl::MutexLock lock(&mu_);
  if (exposer_ == nullptr) return 0;
  const std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports[0];
}

void Metrics::OnScrape(std::function<void()> refresh) {
  absl::MutexLock lock(&mu_);
  refreshers_.push_back(std::move(refresh));
}

void Metrics::Refresh() {
  std::vector<std::function<void()>> refreshers;
  {
    absl::MutexLock lock(&mu_);
    refreshers = refreshers_;
  }
  for (const auto& refresh : refreshers) refresh();
}

void Metrics::RecordCall(const std::string& method, int code, absl::Duration took) {
  std::pair<prometheus::Counter*, prometheus::Histogram*> found;
  {
    absl::MutexLock lock(&mu_);
    auto [it, added] = calls_.try_emplace({method, code});
    if (added) {
      const std::string status = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
      it->second = {&handled_.Add({{"method", method}, {"code", status}}),
                    &handling_.Add({{"method", method}, {"code", status}}, LatencyBuckets())};
    }
    found = it->second;
  }
  found.first->Increment();
  found.second->Observe(absl::ToDoubleSeconds(took));
}

StoreConnectionGauges& StoreConnectionGauges::Get() {
  static StoreConnectionGauges* const gauges = [] {
    auto& family = prometheus::BuildGauge()
                       .Name("suishin_store_connections")
                       .Help("the stores' read connections, busy or idle")
                       .Register(Metrics::Process().registry());
    return new StoreConnectionGauges{family.Add({{"state", "busy"}}),
                                     family.Add({{"state", "idle"}})};
  }();
  return *gauges;
}

namespace {

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit MetricsInterceptor(grpc::experimental::ServerRpcInfo* info)
      : method_(info->method() != nullptr ? info->method() : ""), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Metrics::Process().RecordCall(method_, methods->GetSendStatus().error_code(),
                                    absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  const absl::Time start_;
};

}  // namespace

grpc::experimental::Interceptor* MetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new MetricsInterceptor(info);
}

prometheus::Gauge& ProcessGauge(const std::string& name, const std::string& help) {
  return prometheus::BuildGauge()
      .Name(name)
      .Help(help)
      .Register(Metrics::Process().registry())
      .Add({});
}

prometheus::Counter& ProcessCounter(const std::string& name, const std::string& help,
                                    const prometheus::Labels& labels) {
  return prometheus::BuildCounter()
      .Name(name)
      .Help(help)
      .Register(Metrics::Process().registry())
      .Add(labels);
}

absl::Status ServeProcessMetrics() {
  const std::string listen = absl::GetFlag(FLAGS_metrics_listen);
  if (listen.empty()) return absl::OkStatus();
  if (absl::Status served = Metrics::Process().Serve(listen); !served.ok()) return served;
  LogInfo("metrics_listening",
          {{"address", listen}, {"port", absl::StrCat(Metrics::Process().port())}});
  return absl::OkStatus();
}

}  // namespace suishin
