// The gateway's calls to the suite's services, with messages known only by
// their descriptors (the route's RPC): one channel per service, the caller's
// `authorization` header passed through as it came, never the gateway's own.
//
// The channels carry no identity of the gateway: over TLS they check the
// services' certificates against the suite's CA but present none (a service
// would take a certificate for another service's identity, common/auth.h),
// and they send no token of their own. A request without a token is refused
// by the service (UNAUTHENTICATED), as if it had called directly.
#ifndef SUISHIN_SERVICES_GATEWAY_BACKEND_H_
#define SUISHIN_SERVICES_GATEWAY_BACKEND_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "services/gateway/routes.h"

namespace suishin::gateway {

class Backends {
 public:
  // `addresses`: service full name ("suishin.kpi.v1.KpiService") to
  // host:port. `ca_pem`: the suite's CA; empty for plaintext channels.
  Backends(const absl::flat_hash_map<std::string, std::string>& addresses,
           const std::string& ca_pem);

  // The channel to `service` ("suishin.kpi.v1.KpiService"), null when none.
  std::shared_ptr<grpc::Channel> channel(const std::string& service) const;

  // Calls `route`'s unary RPC. `authorization` is the caller's header value
  // ("Bearer ..."), empty for none.
  grpc::Status Call(const Route& route, const google::protobuf::Message& request,
                    const std::string& authorization, absl::Duration timeout,
                    google::protobuf::Message* response) const;

  // Calls `route`'s client-streaming RPC with `requests` sent in order.
  grpc::Status CallClientStream(
      const Route& route, const std::vector<std::unique_ptr<google::protobuf::Message>>& requests,
      const std::string& authorization, absl::Duration timeout,
      google::protobuf::Message* response) const;

  // Calls `route`'s server-streaming RPC, handing each response to `on_event`
  // (false from it ends the call) until the stream ends or `context` is
  // cancelled. Blocks; returns how the stream ended.
  grpc::Status Stream(const Route& route, const google::protobuf::Message& request,
                      const std::string& authorization, grpc::ClientContext* context,
                      const std::function<bool(const google::protobuf::Message&)>& on_event) const;

 private:
  std::shared_ptr<grpc::Channel> ChannelFor(const Route& route) const;
  // UNIMPLEMENTED: the gateway was given no address for the route's service.
  static grpc::Status NoChannel(const Route& route);

  // Calls to a service go round its connections: many HTTP threads calling
  // at once wait less on one connection's locks.
  static constexpr int kConnectionsPerService = 4;
  absl::flat_hash_map<std::string, std::vector<std::shared_ptr<grpc::Channel>>> channels_;
  mutable std::atomic<size_t> next_{0};
};

}  // namespace suishin::gateway

#endif  // SUISHIN_SERVICES_GATEWAY_BACKEND_H_
