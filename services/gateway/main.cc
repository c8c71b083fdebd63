// gateway: the suite's services as JSON over HTTP, and the web page
// (DESIGN.md §10). It holds no data; every answer comes from a service.
#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/server.h"
#include "common/tls.h"
#include "services/gateway/gateway_server.h"

ABSL_FLAG(std::string, gateway_listen, "127.0.0.1:8080",
          "host:port to serve HTTP on (port 0 picks one)");
ABSL_FLAG(std::string, plan_address, "127.0.0.1:50061", "plan-service");
ABSL_FLAG(std::string, kpi_address, "127.0.0.1:50062", "kpi-service");
ABSL_FLAG(std::string, notification_address, "127.0.0.1:50063", "notification-service");
ABSL_FLAG(int64_t, gateway_max_body_bytes, 8 * 1024 * 1024,
          "the largest request body taken (a CSV upload, an import)");
ABSL_FLAG(int, gateway_call_timeout_ms, 30000, "deadline of each call to a service");
ABSL_FLAG(int, gateway_max_streams, 32,
          "event streams (live pages, SSE clients) open at once; fewer than --gateway_threads");
ABSL_FLAG(int, gateway_threads, 64,
          "requests served at once; each open event stream (a live page) holds one");
ABSL_FLAG(int, gateway_stream_keepalive_ms, 15000,
          "a comment line on a quiet event stream this often, so a vanished client is noticed");
ABSL_FLAG(std::string, web_root, SUISHIN_WEB_ROOT,
          "directory of the web page's files, served at /; empty for none");

ABSL_DECLARE_FLAG(std::string, port_file);  // common/server.cc

namespace {

// Beyond the loopback address the gateway serves HTTPS only, unless told.
absl::Status CheckGatewayListen(const std::string& listen, const suishin::TlsSettings& tls) {
  const size_t colon = listen.rfind(':');
  const std::string host = listen.substr(0, colon == std::string::npos ? 0 : colon);
  if (tls.serves_tls() || tls.allow_insecure_listen || host == "127.0.0.1" || host == "localhost" ||
      host == "[::1]" || host == "::1") {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("--gateway_listen=", listen,
                   " is beyond the loopback address: serve it with TLS (--tls_cert, --tls_key), "
                   "or allow it unprotected with --allow_insecure_listen"));
}

}  // namespace

int main(int argc, char** argv) {
  suishin::BlockTerminationSignals();
  suishin::InitFlags(argc, argv,
                     "gateway: the plan, KPI and notification services as JSON over HTTP, and "
                     "the web page.\nEvery flag may also be set as SUISHIN_<FLAG> in the "
                     "environment.");
  suishin::SetLogService("gateway");
  suishin::gateway::GatewayOptions options;
  options.listen = absl::GetFlag(FLAGS_gateway_listen);
  options.backends = {
      {"suishin.plan.v1.PlanService", absl::GetFlag(FLAGS_plan_address)},
      {"suishin.kpi.v1.KpiService", absl::GetFlag(FLAGS_kpi_address)},
      {"suishin.notification.v1.NotificationService", absl::GetFlag(FLAGS_notification_address)},
  };
  options.tls = suishin::ProcessTls();
  options.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_gateway_max_body_bytes));
  options.call_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_gateway_call_timeout_ms));
  options.threads = absl::GetFlag(FLAGS_gateway_threads);
  options.max_streams = absl::GetFlag(FLAGS_gateway_max_streams);
  options.keepalive = absl::Milliseconds(absl::GetFlag(FLAGS_gateway_stream_keepalive_ms));
  options.web_root = absl::GetFlag(FLAGS_web_root);
  if (!suishin::ConfigurationIsValid(
          {suishin::ValidateAddress("--gateway_listen", options.listen),
           suishin::ValidateAddress("--plan_address", absl::GetFlag(FLAGS_plan_address)),
           suishin::ValidateAddress("--kpi_address", absl::GetFlag(FLAGS_kpi_address)),
           suishin::ValidateAddress("--notification_address",
                                    absl::GetFlag(FLAGS_notification_address)),
           CheckGatewayListen(options.listen, options.tls),
           absl::GetFlag(FLAGS_gateway_max_body_bytes) > 0 &&
                   absl::GetFlag(FLAGS_gateway_call_timeout_ms) > 0 &&
                   absl::GetFlag(FLAGS_gateway_threads) > 0 &&
                   absl::GetFlag(FLAGS_gateway_stream_keepalive_ms) > 0
               ? absl::OkStatus()
               : absl::InvalidArgumentError(
                     "--gateway_max_body_bytes, --gateway_call_timeout_ms, --gateway_threads and "
                     "--gateway_stream_keepalive_ms must be at least 1"),
           options.max_streams > 0 && options.max_streams < options.threads
               ? absl::OkStatus()
               : absl::InvalidArgumentError(absl::StrCat(
                     "--gateway_max_streams=", options.max_streams,
                     " must be at least 1 and below --gateway_threads=", options.threads,
                     ", so that streams leave threads for other requests"))})) {
    return 2;
  }
  if (absl::Status metrics = suishin::ServeProcessMetrics(); !metrics.ok()) {
    suishin::LogError("metrics_listen_failed", {{"error", std::string(metrics.message())}});
    return 1;
  }
  auto gateway = suishin::gateway::Gateway::Start(options);
  if (!gateway.ok()) {
    suishin::LogError("start_failed", {{"error", std::string(gateway.status().message())}});
    return 1;
  }
  if (absl::Status written =
          suishin::WritePortFile(absl::GetFlag(FLAGS_port_file), (*gateway)->port());
      !written.ok()) {
    suishin::LogError("port_file_failed", {{"error", std::string(written.message())}});
    return 1;
  }
  const size_t colon = options.listen.rfind(':');
  const std::string address =
      absl::StrCat(options.listen.substr(0, colon), ":", (*gateway)->port());
  suishin::LogInfo(
      "serving",
      {{"address", address},
       {"page", absl::StrCat(options.tls.serves_tls() ? "https" : "http", "://", address, "/")},
       {"tls", options.tls.serves_tls() ? "on" : "off"}});
  const int code = suishin::WaitForTerminationSignal();
  (*gateway)->Shutdown();
  suishin::Metrics::Process().StopServing();
  suishin::LogInfo("stopped", {});
  return code;
}
