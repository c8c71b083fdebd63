#include "common/channel.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/auth.h"
#include "common/limits.h"
#include "common/tls.h"

ABSL_FLAG(std::string, tls_server_name, "",
          "the name the services' certificates carry, checked on every outgoing call; empty: "
          "the host of the address called (the first, for an ipv4:/ipv6: list)");

namespace suishin {
std::string TlsServerNameFor(const std::string& address) {
  const std::string flag = absl::GetFlag(FLAGS_tls_server_name);
  if (!flag.empty()) return flag;
  absl::string_view list = address;
  if (!absl::ConsumePrefix(&list, "ipv4:") && !absl::ConsumePrefix(&list, "ipv6:")) return "";
  // ipv4:10.0.0.1:50062,10.0.0.2:50062 → 10.0.0.1 (ipv6:[::1]:50062 → ::1)
  absl::string_view first = list.substr(0, list.find(','));
  if (absl::ConsumePrefix(&first, "[")) return std::string(first.substr(0, first.find(']')));
  return std::string(first.substr(0, first.rfind(':')));
}

std::string ChannelServiceConfig() {
  // Reads: the unary Get and List methods of the suite's services linked
  // into this program (those it can call), named one by one.
  std::vector<std::string> reads;
  for (const char* name : {"suishin.plan.v1.PlanService", "suishin.kpi.v1.KpiService",
                           "suishin.notification.v1.NotificationService"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      if (method->client_streaming() || method->server_streaming()) continue;
      if (!absl::StartsWith(method->name(), "Get") && !absl::StartsWith(method->name(), "List")) {
        continue;
      }
      reads.push_back(
          absl::StrCat(R"({"service":")", name, R"(","method":")", method->name(), R"("})"));
    }
  }
  std::string config = R"({"loadBalancingConfig":[{"round_robin":{}}])";
  if (!reads.empty()) {
    // A read that found its replica gone (UNAVAILABLE) is tried again, on
    // the next: reads change nothing, so a second try is always safe.
    absl::StrAppend(&config, R"(,"methodConfig":[{"name":[)", absl::StrJoin(reads, ","),
                    R"(],"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.05s",)",
                    R"("maxBackoff":"0.5s","backoffMultiplier":2,)",
                    R"("retryableStatusCodes":["UNAVAILABLE"]}}])");
  }
  absl::StrAppend(&config, "}");
  return config;
}

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
  // Every address the name resolves to, called in turn (a headless
  // Service's pods, or "ipv4:10.0.0.1:50062,10.0.0.2:50062").
  static const std::string* const config = new std::string(ChannelServiceConfig());
  args.SetServiceConfigJSON(*config);
  // Several addresses are one service: each replica's certificate carries
  // the same name, not the list.
  if (const std::string name = TlsServerNameFor(address); !name.empty()) {
    args.SetSslTargetNameOverride(name);
  }
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
