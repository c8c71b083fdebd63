// The gateway's HTTP server (cpp-httplib): the suite's RPCs as JSON on the
// routes their protos declare (routes.h), server streams as Server-Sent
// Events, /openapi.json, /healthz and the web page's files. It holds no
// data: every answer comes from a service, called with the caller's own
// token (backend.h).
//
//   GET  /v1/kpis/k1/progress?region_id=soya&as_of=2019   → GetProgress as JSON
//   POST /v1/kpis/k1/actuals {"actual": {...}}             → RecordActual
//   GET  /v1/alerts:subscribe  (Accept: text/event-stream) → alert events,
//        "id: <event id>" each; a reconnect with Last-Event-ID resumes after it
//
// A body over the limit is refused with 413 before any service is called.
#ifndef SUISHIN_SERVICES_GATEWAY_GATEWAY_SERVER_H_
#define SUISHIN_SERVICES_GATEWAY_GATEWAY_SERVER_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls.h"
#include "services/gateway/backend.h"
#include "services/gateway/routes.h"

namespace suishin::gateway {

struct GatewayOptions {
  // host:port; port 0 picks one (Gateway::port tells which).
  std::string listen = "127.0.0.1:8080";
  // Service full name to host:port.
  absl::flat_hash_map<std::string, std::string> backends;
  // TLS: with cert and key the gateway serves HTTPS only; with ca its calls
  // check the services' certificates (common/tls.h, PEM text).
  TlsSettings tls;
  // The largest request body taken (a CSV upload, an import), in bytes.
  size_t max_body_bytes = 8 * 1024 * 1024;
  // The deadline of each unary call to a service.
  absl::Duration call_timeout = absl::Seconds(30);
  // Requests served at once; each open event stream holds one.
  int threads = 64;
  // Event streams open at once; one more is refused with 429, so that
  // streams (each holding a thread) leave threads for other requests.
  // Below `threads`.
  int max_streams = 32;
  // A comment line sent on a quiet event stream this often, so that a
  // vanished client is noticed and proxies keep the stream open.
  absl::Duration keepalive = absl::Seconds(15);
  // The directory of the web page's files, served at "/"; empty: none.
  std::string web_root;
};

// The three services of the suite, from the generated descriptors.
std::vector<const google::protobuf::ServiceDescriptor*> SuiteServices();

class Gateway {
 public:
  // Binds and starts serving in a thread of its own. INVALID_ARGUMENT for a
  // bad listen address or TLS material; UNAVAILABLE when the port is taken.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(GatewayOptions options);
  ~Gateway();

  int port() const;
  // Stops taking requests and ends open event streams.
  void Shutdown();

 private:
  class Impl;
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace suishin::gateway

#endif  // SUISHIN_SERVICES_GATEWAY_GATEWAY_SERVER_H_
