// Outgoing calls: channels made once at start-up, and a context per call
// that always carries a deadline.
#ifndef SUISHIN_COMMON_CHANNEL_H_
#define SUISHIN_COMMON_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace suishin {

// An insecure channel to `address` (host:port on loopback or a private
// network), with the process's message size limits and keepalive
// (common/limits.h). Made once and shared; it reconnects by itself.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

// A client context whose deadline is `timeout` from now, or the deadline of
// the server call being served (`parent`), whichever comes first.
std::unique_ptr<grpc::ClientContext> NewClientContext(
    absl::Duration timeout, const grpc::ServerContextBase* parent = nullptr);

}  // namespace suishin

#endif  // SUISHIN_COMMON_CHANNEL_H_
