#include "common/channel.h"

#include <algorithm>
#include <chrono>

namespace suishin {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) {
  grpc::ChannelArguments args;
  // Come back quickly after a peer restarts instead of backing off for long.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
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
