// TLS for every server and channel of the suite (DESIGN.md §7).
//
// Flags, each with its SUISHIN_* environment fallback, read by InitFlags:
//   --tls_cert, --tls_key  this process's certificate chain and private key
//                          (PEM). A service with them listens with TLS only,
//                          and presents them to the services it calls, so
//                          the services talk to each other with mutual TLS.
//   --tls_ca               the CA (PEM) the suite's service certificates are
//                          signed by: channels check the servers they call
//                          against it (a channel without it is plaintext),
//                          and a TLS server checks the certificate a client
//                          presents against it (a client may present none:
//                          suishinctl and other clients come with tokens).
//   --allow_insecure_listen  lets a service listen beyond the loopback
//                          address without TLS and authentication
//                          (common/auth.h); otherwise it refuses to start,
//                          naming this flag.
//
// Example (tests):
//   TlsSettings tls;
//   tls.cert = ReadFile(dir + "/service.pem"); ...
//   SetProcessTls(tls);  // ServiceHost and MakeChannel use it from now on
#ifndef SUISHIN_COMMON_TLS_H_
#define SUISHIN_COMMON_TLS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth.h"

namespace suishin {

struct TlsSettings {
  // PEM text, not paths; empty when not given.
  std::string cert;
  std::string key;
  std::string ca;
  bool allow_insecure_listen = false;

  // True when this process serves with TLS (a certificate and its key).
  bool serves_tls() const { return !cert.empty(); }
  // True when this process's channels use TLS (a CA to check servers by).
  bool calls_tls() const { return !ca.empty(); }
};

// The files the flags name, read. INVALID_ARGUMENT naming the flag when a
// file cannot be read or holds no PEM, or when --tls_cert and --tls_key are
// not given together.
absl::StatusOr<TlsSettings> TlsFromFlags();

// The TLS settings of this process (a copy): TlsFromFlags() once flags are
// parsed (InitFlags), none before (tests set them).
TlsSettings ProcessTls();
void SetProcessTls(TlsSettings settings);

// Credentials for a server with `settings`, checking every call with
// `auth` when it is enabled (common/auth.h: only over TLS); for a channel,
// sending `token` as a bearer token with every call when it is not empty.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsSettings& settings,
                                                           const AuthSettings& auth = {});
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsSettings& settings,
                                                             const std::string& token = "");

// OK when a service may listen on `listen` ("host:port") with `settings` and
// `auth`: on a loopback address (127.0.0.0/8, ::1, localhost), with TLS and
// authentication, or with allow_insecure_listen; and tokens only with TLS.
// FAILED_PRECONDITION naming `flag` ("--plan_listen") and the flags that
// would allow it otherwise.
absl::Status CheckListenAddress(absl::string_view flag, absl::string_view listen,
                                const TlsSettings& settings, const AuthSettings& auth = {});

}  // namespace suishin

#endif  // SUISHIN_COMMON_TLS_H_
