#include "services/gateway/backend.h"

#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/client_callback.h>
#include <grpcpp/support/sync_stream.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/channel.h"
#include "common/limits.h"

namespace suishin::gateway {
namespace {

using google::protobuf::Message;

std::shared_ptr<grpc::Channel> MakeBackendChannel(const std::string& address,
                                                  const std::string& ca_pem) {
  grpc::ChannelArguments args;
  // A connection of each channel's own (not one shared by all of them).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  const Limits& limits = ProcessLimits();
  args.SetMaxReceiveMessageSize(limits.max_message_bytes);
  args.SetMaxSendMessageSize(limits.max_message_bytes);
  // Round-robin over every replica the address resolves to, reads retried,
  // as every channel of the suite (common/channel.h).
  static const std::string* const config = new std::string(ChannelServiceConfig());
  args.SetServiceConfigJSON(*config);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!ca_pem.empty()) {
    if (const std::string name = TlsServerNameFor(address); !name.empty()) {
      args.SetSslTargetNameOverride(name);
    }
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ca_pem;  // no certificate of the gateway's own
    credentials = grpc::SslCredentials(options);
  }
  return grpc::CreateCustomChannel(address, credentials, args);
}

void Prepare(grpc::ClientContext* context, const std::string& authorization,
             absl::Duration timeout) {
  if (!authorization.empty()) context->AddMetadata("authorization", authorization);
  if (timeout != absl::InfiniteDuration()) {
    context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  }
}

}  // namespace

Backends::Backends(const absl::flat_hash_map<std::string, std::string>& addresses,
                   const std::string& ca_pem) {
  for (const auto& [service, address] : addresses) {
    for (int i = 0; i < kConnectionsPerService; ++i) {
      channels_[service].push_back(MakeBackendChannel(address, ca_pem));
    }
  }
}

std::shared_ptr<grpc::Channel> Backends::channel(const std::string& service) const {
  auto found = channels_.find(service);
  return found == channels_.end() ? nullptr : found->second.front();
}

std::shared_ptr<grpc::Channel> Backends::ChannelFor(const Route& route) const {
  auto found = channels_.find(route.method->service()->full_name());
  if (found == channels_.end()) return nullptr;
  const size_t next = next_.fetch_add(1, std::memory_order_relaxed);
  return found->second[next % found->second.size()];
}

grpc::Status Backends::NoChannel(const Route& route) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      absl::StrCat("no address for ", route.method->service()->full_name()));
}

grpc::Status Backends::Call(const Route& route, const Message& request,
                            const std::string& authorization, absl::Duration timeout,
                            Message* response) const {
  std::shared_ptr<grpc::Channel> channel = ChannelFor(route);
  if (channel == nullptr) return NoChannel(route);
  grpc::ClientContext context;
  Prepare(&context, authorization, timeout);
  const grpc::internal::RpcMethod method(route.grpc_path.c_str(),
                                         grpc::internal::RpcMethod::NORMAL_RPC);
  // The callback API, waited for: gRPC's own threads drive the connection
  // (a blocking call would make each waiting HTTP thread poll it too).
  absl::Notification done;
  grpc::Status status;
  grpc::internal::CallbackUnaryCall<Message, Message>(channel.get(), method, &context, &request,
                                                      response, [&](grpc::Status finished) {
                                                        status = std::move(finished);
                                                        done.Notify();
                                                      });
  done.WaitForNotification();
  return status;
}

grpc::Status Backends::CallClientStream(const Route& route,
                                        const std::vector<std::unique_ptr<Message>>& requests,
                                        const std::string& authorization, absl::Duration timeout,
                                        Message* response) const {
  std::shared_ptr<grpc::Channel> channel = ChannelFor(route);
  if (channel == nullptr) return NoChannel(route);
  grpc::ClientContext context;
  Prepare(&context, authorization, timeout);
  const grpc::internal::RpcMethod method(route.grpc_path.c_str(),
                                         grpc::internal::RpcMethod::CLIENT_STREAMING);
  std::unique_ptr<grpc::ClientWriter<Message>> writer(
      grpc::internal::ClientWriterFactory<Message>::Create(channel.get(), method, &context,
                                                           response));
  for (const std::unique_ptr<Message>& request : requests) {
    if (!writer->Write(*request)) break;  // the service ended the call: Finish says why
  }
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status Backends::Stream(const Route& route, const Message& request,
                              const std::string& authorization, grpc::ClientContext* context,
                              const std::function<bool(const Message&)>& on_event) const {
  std::shared_ptr<grpc::Channel> channel = ChannelFor(route);
  if (channel == nullptr) return NoChannel(route);
  Prepare(context, authorization, absl::InfiniteDuration());
  const grpc::internal::RpcMethod method(route.grpc_path.c_str(),
                                         grpc::internal::RpcMethod::SERVER_STREAMING);
  std::unique_ptr<grpc::ClientReader<Message>> reader(
      grpc::internal::ClientReaderFactory<Message>::Create(channel.get(), method, context,
                                                           request));
  std::unique_ptr<Message> event(google::protobuf::MessageFactory::generated_factory()
                                     ->GetPrototype(route.method->output_type())
                                     ->New());
  while (reader->Read(event.get())) {
    if (!on_event(*event)) {
      context->TryCancel();
      break;
    }
    event->Clear();
  }
  return reader->Finish();
}

}  // namespace suishin::gateway
