// Outgoing calls: channels made once at start-up, and a context per call
// that always carries a deadline.
#ifndef SUISHIN_COMMON_CHANNEL_H_
#define SUISHIN_COMMON_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace suishin {

// A channel to `address` (host:port, or any gRPC target: dns:///kpi:50062
// for a headless Service, ipv4:a:p,b:p for a list), with the process's TLS
// and token, message size limits and keepalive (common/limits.h), balancing
// its calls round-robin over every address the target resolves to, and
// retrying reads (unary Get*/List*) that find a replica gone
// (ChannelServiceConfig). Made once and shared; it reconnects by itself.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

// The name a called replica's certificate is checked against when that is
// not the host called: --tls_server_name, or for an ipv4:/ipv6: list its
// first host; "" to check the host called.
std::string TlsServerNameFor(const std::string& address);

// The service config every channel gets: round_robin, and a retry policy
// (UNAVAILABLE, 3 attempts) for the unary reads of the services linked in.
std::string ChannelServiceConfig();

// A client context whose deadline is `timeout` from now, or the deadline of
// the server call being served (`parent`), whichever comes first.
std::unique_ptr<grpc::ClientContext> NewClientContext(
    absl::Duration timeout, const grpc::ServerContextBase* parent = nullptr);

}  // namespace suishin

#endif  // SUISHIN_COMMON_CHANNEL_H_
