#include "common/channel.h"

#include <algorithm>
#include <chrono>

#include "common/auth.h"
#include "common/limits.h"
#include "common/tls.h"

namespace suishin {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) {
  grpc::ChannelArguments args;
  // Come back quickly after a peer restarts instead of backing off for long.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  const Limits& limits = ProcessLimits();
  args.SetMaxReceiveMessageSize(limits.max_message_bytes);
  args.SetMaxSendMessageSize(limits.max_message_bytes);
  // Keepalive, also while no call is open: a peer that vanished without a
  // word (a half-open connection) is noticed within keepalive time + timeout,
  // and a stream on it ends with UNAVAILABLE instead of waiting forever.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(absl::ToInt64Milliseconds(limits.keepalive_time)));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              static_cast<int>(absl::ToInt64Milliseconds(limits.keepalive_timeout)));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  return grpc::CreateCustomChannel(address, ChannelCredentials(ProcessTls(), ProcessToken()), args);
}

std::unique_ptr<grpc::ClientContext> NewClientContext(absl::Duration timeout,
                                                      const grpc::ServerContextBase* parent) {
  auto context = std::make_unique<grpc::ClientContext>();
  auto deadline = std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
  if (parent != nullptr) deadline = std::min(deadline, parent->deadline());
  context->set_deadline(deadline);
  return context;
}

}  // namespace suishin
