#include "common/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/audit.h"
#include "common/auth.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/tls.h"

ABSL_FLAG(std::string, port_file, "", "when set, write the bound port to this file");
ABSL_FLAG(int, shutdown_grace_ms, 5000, "how long running calls may finish after SIGTERM");
ABSL_FLAG(std::string, health_listen, "",
          "host:port serving only the gRPC health check, in plaintext, for probes that speak "
          "no TLS (Kubernetes' grpc probes); empty: none");

namespace suishin {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Start(
    const std::string& address, const std::vector<HostedService>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const Limits& limits = ProcessLimits();
  builder.SetMaxReceiveMessageSize(limits.max_message_bytes);
  builder.SetMaxSendMessageSize(limits.max_message_bytes);
  // Keepalive both ways: the server pings idle clients and drops those that
  // do not answer (a half-open connection holds nothing for long), and lets
  // clients ping it as often as their own keepalive asks.
  const int keepalive_ms = static_cast<int>(absl::ToInt64Milliseconds(limits.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, keepalive_ms);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(limits.keepalive_timeout)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             keepalive_ms / 2);
  int port = 0;
  builder.AddListeningPort(address, ServerCredentials(ProcessTls(), ProcessAuth()), &port);
  for (const HostedService& hosted : services) builder.RegisterService(hosted.service);
  // The audit trail: each audited call recorded as it ends, and served.
  // Every call counted and timed (metrics.h); the audited ones recorded.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<MetricsInterceptorFactory>());
  std::unique_ptr<AuditServiceImpl> audit_service;
  if (AuditTrail* trail = ProcessAuditTrail(); trail != nullptr) {
    factories.push_back(std::make_unique<AuditInterceptorFactory>(trail));
    audit_service = std::make_unique<AuditServiceImpl>(trail);
    builder.RegisterService(audit_service.get());
  }
  builder.experimental().SetInterceptorCreators(std::move(factories));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  const std::string host = address.substr(0, address.rfind(':'));
  auto started = std::unique_ptr<ServiceHost>(
      new ServiceHost(std::move(server), host.empty() ? "127.0.0.1" : host, port));
  started->audit_service_ = std::move(audit_service);
  for (const HostedService& hosted : services) started->names_.push_back(hosted.name);
  if (const std::string health = absl::GetFlag(FLAGS_health_listen); !health.empty()) {
    // Nothing but grpc.health.v1.Health (the default service every server
    // built here has), mirroring the main server's statuses.
    grpc::ServerBuilder health_builder;
    int health_port = 0;
    health_builder.AddListeningPort(health, grpc::InsecureServerCredentials(), &health_port);
    started->health_ = health_builder.BuildAndStart();
    if (started->health_ == nullptr || health_port == 0) {
      started->Shutdown(absl::ZeroDuration());
      return absl::UnavailableError(absl::StrCat("--health_listen: cannot listen on ", health));
    }
  }
  started->SetServing(true);
  return started;
}

ServiceHost::ServiceHost(std::unique_ptr<grpc::Server> server, std::string host, int port)
    : server_(std::move(server)), host_(std::move(host)), port_(port) {}

void ServiceHost::SetServing(bool serving) {
  for (grpc::Server* server : {server_.get(), health_.get()}) {
    if (server == nullptr) continue;
    server->GetHealthCheckService()->SetServingStatus(serving);
    for (const std::string& name : names_) {
      server->GetHealthCheckService()->SetServingStatus(name, serving);
    }
  }
}

ServiceHost::~ServiceHost() { Shutdown(absl::ZeroDuration()); }

std::string ServiceHost::address() const { return absl::StrCat(host_, ":", port_); }

void ServiceHost::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  SetServing(false);
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  server_->Wait();
  if (health_ != nullptr) {
    health_->Shutdown(std::chrono::system_clock::now());
    health_->Wait();
  }
}

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set = TerminationSignals();
  int signal_number = 0;
  sigwait(&set, &signal_number);
  return signal_number;
}

absl::Status WritePortFile(const std::string& path, int port) {
  if (path.empty()) return absl::OkStatus();
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write port file ", temp));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename port file to ", path));
  }
  return absl::OkStatus();
}

int ServeUntilTerminated(const std::string& listen, const std::vector<HostedService>& services,
                         std::initializer_list<LogField> details) {
  if (absl::Status metrics = ServeProcessMetrics(); !metrics.ok()) {
    LogError("metrics_listen_failed", {{"error", std::string(metrics.message())}});
    return 1;
  }
  auto host = ServiceHost::Start(listen, services);
  if (!host.ok()) {
    LogError("listen_failed",
             {{"address", listen}, {"error", std::string(host.status().message())}});
    return 1;
  }
  if (absl::Status status = WritePortFile(absl::GetFlag(FLAGS_port_file), (*host)->port());
      !status.ok()) {
    LogError("port_file_failed", {{"error", std::string(status.message())}});
    return 1;
  }
  std::vector<LogField> fields = {{"address", (*host)->address()}};
  fields.insert(fields.end(), details.begin(), details.end());
  LogInfo("listening", fields);
  const int signal_number = WaitForTerminationSignal();
  LogInfo("shutting_down", {{"signal", absl::StrCat(signal_number)}});
  (*host)->Shutdown(absl::Milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms)));
  Metrics::Process().StopServing();
  LogInfo("stopped");
  return 0;
}

bool ConfigurationIsValid(std::initializer_list<absl::Status> checks) {
  bool valid = true;
  for (const absl::Status& status : checks) {
    if (status.ok()) continue;
    LogError("bad_config", {{"error", std::string(status.message())}});
    valid = false;
  }
  return valid;
}

}  // namespace suishin
