#include "common/tls.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"

ABSL_FLAG(std::string, tls_cert, "",
          "this process's certificate chain (PEM): served with TLS, and presented to the "
          "services it calls");
ABSL_FLAG(std::string, tls_key, "", "the private key of --tls_cert (PEM)");
ABSL_FLAG(std::string, tls_ca, "",
          "the CA (PEM) the suite's service certificates are signed by: servers called are "
          "checked against it, and so are client certificates presented to this server");
ABSL_FLAG(bool, allow_insecure_listen, false,
          "listen beyond the loopback address without TLS (only behind a trusted proxy)");

namespace suishin {
namespace {

absl::Mutex tls_mu(absl::kConstInit);
TlsSettings& ProcessTlsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(tls_mu) {
  static TlsSettings* settings = new TlsSettings();  // never destroyed: no exit-time order
  return *settings;
}

// The PEM text of the file the flag `name` names ("" when the flag is empty).
absl::StatusOr<std::string> ReadPem(absl::string_view name, const std::string& path) {
  if (path.empty()) return std::string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, "=\"", path, "\": cannot be read"));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (!absl::StrContains(text.str(), "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, "=\"", path, "\": holds no PEM"));
  }
  return text.str();
}

bool IsLoopbackHost(absl::string_view host) {
  host = absl::StripPrefix(absl::StripSuffix(host, "]"), "[");
  return absl::EqualsIgnoreCase(host, "localhost") || host == "::1" ||
         absl::StartsWith(host, "127.");
}

}  // namespace

absl::StatusOr<TlsSettings> TlsFromFlags() {
  TlsSettings settings;
  const std::string cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string key = absl::GetFlag(FLAGS_tls_key);
  if (cert.empty() != key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together: give both or neither");
  }
  auto read = [](absl::string_view name, const std::string& path,
                 std::string* out) -> absl::Status {
    absl::StatusOr<std::string> pem = ReadPem(name, path);
    if (!pem.ok()) return pem.status();
    *out = *std::move(pem);
    return absl::OkStatus();
  };
  if (absl::Status s = read("tls_cert", cert, &settings.cert); !s.ok()) return s;
  if (absl::Status s = read("tls_key", key, &settings.key); !s.ok()) return s;
  if (absl::Status s = read("tls_ca", absl::GetFlag(FLAGS_tls_ca), &settings.ca); !s.ok()) {
    return s;
  }
  settings.allow_insecure_listen = absl::GetFlag(FLAGS_allow_insecure_listen);
  return settings;
}

TlsSettings ProcessTls() {
  absl::MutexLock lock(&tls_mu);
  return ProcessTlsLocked();
}

void SetProcessTls(TlsSettings settings) {
  absl::MutexLock lock(&tls_mu);
  ProcessTlsLocked() = std::move(settings);
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsSettings& settings,
                                                           const AuthSettings& auth) {
  if (!settings.serves_tls()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(settings.ca.empty()
                                                ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                                : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = settings.ca;
  options.pem_key_cert_pairs.push_back({settings.key, settings.cert});
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::SslServerCredentials(options);
  if (auth.enabled()) {
    credentials->SetAuthMetadataProcessor(std::make_shared<TokenAuthProcessor>(auth));
  }
  return credentials;
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsSettings& settings,
                                                             const std::string& token) {
  if (!settings.calls_tls()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = settings.ca;
  options.pem_private_key = settings.key;
  options.pem_cert_chain = settings.cert;
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(options);
  if (token.empty()) return credentials;
  return grpc::CompositeChannelCredentials(credentials, grpc::AccessTokenCredentials(token));
}

absl::Status CheckListenAddress(absl::string_view flag, absl::string_view listen,
                                const TlsSettings& settings, const AuthSettings& auth) {
  if (auth.enabled() && !settings.serves_tls()) {
    return absl::FailedPreconditionError(
        "--auth_keys needs --tls_cert and --tls_key: tokens travel only over TLS");
  }
  if ((settings.serves_tls() && auth.enabled()) || settings.allow_insecure_listen) {
    return absl::OkStatus();
  }
  const size_t colon = listen.rfind(':');
  const absl::string_view host =
      colon == absl::string_view::npos ? listen : listen.substr(0, colon);
  if (IsLoopbackHost(host)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      flag, "=", listen,
      " is beyond the loopback address: serve it with TLS and authentication (--tls_cert, "
      "--tls_key, --auth_keys), or allow it unprotected with --allow_insecure_listen"));
}

}  // namespace suishin
