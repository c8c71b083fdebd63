// Starting and stopping a gRPC server the way every Suishin service does:
// standard health checking and reflection on, the chosen port reported, and
// on SIGTERM or SIGINT health set to NOT_SERVING before a graceful shutdown.
//
// Example (a service's main.cc):
//   suishin::BlockTerminationSignals();       // first, before any thread starts
//   PlanServiceImpl service(...);
//   auto host = suishin::ServiceHost::Start(
//       address, {{PlanService::service_full_name(), &service}});
//   suishin::WaitForTerminationSignal();
//   host->Shutdown(absl::Seconds(5));
#ifndef SUISHIN_COMMON_SERVER_H_
#define SUISHIN_COMMON_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/log.h"

namespace suishin {

// A service to serve, with its full name as the health service reports it
// ("suishin.plan.v1.PlanService", the generated class's service_full_name()).
struct HostedService {
  std::string name;
  grpc::Service* service;
};

// A running gRPC server. Thread-safe.
class ServiceHost {
 public:
  // Builds and starts a server for `services` on `address` ("127.0.0.1:0"
  // picks a free port), marks each service by name and the server ("") as
  // SERVING. UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Start(
      const std::string& address, const std::vector<HostedService>& services);

  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;
  ~ServiceHost();

  // The port actually bound.
  int port() const { return port_; }
  // "host:port" with the bound port, for clients.
  std::string address() const;

  // Sets NOT_SERVING (on the health port too), stops accepting calls, lets
  // running calls finish for up to `grace` and cancels the rest. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  ServiceHost(std::unique_ptr<grpc::Server> server, std::string host, int port);
  // Sets every hosted service's and the server's status on both servers.
  void SetServing(bool serving);

  // ListAuditRecords, when the process keeps an audit trail (common/audit.h);
  // before server_, so it outlives it.
  std::unique_ptr<grpc::Service> audit_service_;
  std::unique_ptr<grpc::Server> server_;
  // --health_listen: the health check alone, in plaintext, for probes that
  // cannot speak TLS (Kubernetes' grpc probes); null when not asked for.
  std::unique_ptr<grpc::Server> health_;
  std::vector<std::string> names_;
  std::string host_;
  int port_;
  bool shut_down_ = false;
};

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts
// afterwards, so WaitForTerminationSignal can take them. Call first in main.
void BlockTerminationSignals();

// Waits for SIGTERM or SIGINT (blocked by BlockTerminationSignals) and
// returns the signal's number.
int WaitForTerminationSignal();

// The rest of a service's main once its parts are built: starts a host for
// `services` on `listen`, writes the port file (--port_file), logs
// "listening" with `details`, waits for SIGTERM or SIGINT and shuts down with
// the grace of --shutdown_grace_ms. Returns the process's exit code: 0 after
// a clean stop, 1 when the server cannot start.
int ServeUntilTerminated(const std::string& listen, const std::vector<HostedService>& services,
                         std::initializer_list<LogField> details);

// Logs every failed check as "bad_config" and returns false if there was one;
// a main returns 2 then.
bool ConfigurationIsValid(std::initializer_list<absl::Status> checks);

// Writes `port` to `path` (atomically, via a rename), so a supervisor that
// asked for port 0 learns the one chosen. Does nothing when `path` is empty.
absl::Status WritePortFile(const std::string& path, int port);

}  // namespace suishin

#endif  // SUISHIN_COMMON_SERVER_H_
