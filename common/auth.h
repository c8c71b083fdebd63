// Who is calling (DESIGN.md §7): identity from signed tokens, and between
// the services from their certificates.
//
// A service given --auth_keys (a PEM file of one or more public keys: a
// prefecture's identity provider's, or the local one `./suishin up` makes)
// accepts a call only from
//   - a caller with "authorization: Bearer <JWT>": signed by one of the keys
//     (ES256/384/512 or RS256/384/512; never "none" nor a shared-secret
//     HS*), issued by --auth_issuer, for --auth_audience, not expired and
//     already valid (nbf), with a subject; its "roles" and "regions" claims
//     (arrays of strings) and "name" (a display name) come along;
//   - another service of the suite, known by the client certificate it
//     presented over mutual TLS (common/tls.h), as role "service";
// and answers anyone else UNAUTHENTICATED before the call reaches the
// service (recording the refusal of a write in the process's audit trail,
// common/audit.h); then a caller without a role the method declares (its
// suishin.common.v1.access option, beside the RPC in the proto) gets
// PERMISSION_DENIED. The health check stays open, for probes. Tokens need TLS: a
// service with --auth_keys and no --tls_cert refuses to start.
//
// Handlers learn who calls with CallerOf, from the call's own token (the
// AuthContext is the connection's, shared by its calls: nothing per call is
// put there). Verified tokens are kept by their SHA-256 until they expire,
// so a warm call does no signature check, and CallerOf none again.
//
// Libraries: libjwt for the token format, OpenSSL for the keys and the
// cryptography.
#ifndef SUISHIN_COMMON_AUTH_H_
#define SUISHIN_COMMON_AUTH_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_metadata_processor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "suishin/common/v1/access.pb.h"

namespace suishin {

// The identity a token or a certificate gives.
struct Principal {
  std::string subject;
  std::string name;
  std::vector<std::string> roles;
  std::vector<std::string> regions;
  absl::Time expires = absl::InfiniteFuture();
};

struct AuthSettings {
  // PEM public keys, one per entry; empty: no authentication.
  std::vector<std::string> public_keys;
  std::string issuer;
  std::string audience = "suishin";
  // How far a token's times may be off this machine's clock.
  absl::Duration leeway = absl::Seconds(30);

  bool enabled() const { return !public_keys.empty(); }
};

// The settings the flags give (--auth_keys read and split into keys).
// INVALID_ARGUMENT naming the flag when the file cannot be read or holds no
// public key, or when --auth_keys is given without --auth_issuer.
absl::StatusOr<AuthSettings> AuthFromFlags();
// Every public key (PEM) in `pem`, each on its own; INVALID_ARGUMENT when
// there is none.
absl::StatusOr<std::vector<std::string>> SplitPublicKeys(absl::string_view pem);

// The authentication settings of this process (a copy; InitFlags sets them).
AuthSettings ProcessAuth();
void SetProcessAuth(AuthSettings settings);

// The bearer token this process's channels send (--token_file, or
// SUISHIN_TOKEN through --token); empty: none. suishinctl and other
// clients set it; the services call each other with their certificates.
std::string ProcessToken();
void SetProcessToken(std::string token);

class TokenVerifier {
 public:
  explicit TokenVerifier(AuthSettings settings) : settings_(std::move(settings)) {}

  // The principal `token` names. UNAUTHENTICATED with the reason (bad
  // signature, wrong issuer or audience, expired, not yet valid, no
  // subject, an algorithm not accepted) otherwise; never repeats the token.
  absl::StatusOr<Principal> Verify(absl::string_view token, absl::Time now) const;
  // The same, shared with the cache (no copy): what every call's check uses.
  absl::StatusOr<std::shared_ptr<const Principal>> VerifyShared(absl::string_view token,
                                                                absl::Time now) const;

  bool SameSettings(const AuthSettings& other) const {
    return settings_.public_keys == other.public_keys && settings_.issuer == other.issuer &&
           settings_.audience == other.audience && settings_.leeway == other.leeway;
  }

 private:
  absl::StatusOr<Principal> VerifyUncached(const std::string& token, absl::Time now) const;

  const AuthSettings settings_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const Principal>> verified_
      ABSL_GUARDED_BY(mu_);
};

// The verifier for `settings` that this process's servers and CallerOf
// share (made again when the settings change).
std::shared_ptr<TokenVerifier> ProcessVerifier(const AuthSettings& settings);

// What a token says, for IssueToken.
struct TokenClaims {
  std::string issuer;
  std::string audience = "suishin";
  std::string subject;
  std::string name;
  std::vector<std::string> roles;
  std::vector<std::string> regions;
  absl::Time issued = absl::Now();
  absl::Duration lifetime = absl::Hours(12);
};

// A JWT (ES256 with an EC P-256 key, RS256 with an RSA key) signed with the
// PEM private key `private_key`: what `suishinctl token issue` and the tests
// make with the local key, as an identity provider would. INVALID_ARGUMENT
// when the key is no such key or a claim is missing (issuer, subject).
absl::StatusOr<std::string> IssueToken(absl::string_view private_key, const TokenClaims& claims);

// Checks every call (see the file comment); attached to the server's TLS
// credentials by ServerCredentials (common/tls.h) when authentication is on.
class TokenAuthProcessor : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenAuthProcessor(const AuthSettings& settings)
      : verifier_(ProcessVerifier(settings)) {}
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  // The check itself; `subject` is set once the caller is known.
  grpc::Status Authenticate(const std::string& path, const InputMetadata& auth_metadata,
                            grpc::AuthContext* context, OutputMetadata* consumed_auth_metadata,
                            std::string* subject);

  std::shared_ptr<TokenVerifier> verifier_;
};

// True when `name` is a role as tokens name it ("officer" for
// suishin.common.v1.ROLE_OFFICER); "service" is not one a token may carry.
bool IsTokenRole(absl::string_view name);

// "officer" for ROLE_OFFICER: a role as tokens name it.
std::string RoleName(common::v1::Role role);

// The suite's method at `path` ("/suishin.kpi.v1.KpiService/RecordActual"),
// whose options carry its access (suishin/common/v1/access.proto); null when
// there is none.
const google::protobuf::MethodDescriptor* SuiteMethod(absl::string_view path);

// OK when a caller with `roles` may call the method at `path`
// ("/suishin.kpi.v1.KpiService/RecordActual") as its proto declares
// (suishin/common/v1/access.proto); PERMISSION_DENIED naming the method,
// the roles it needs and those the caller has otherwise. A method of the
// suite that declares nothing is refused; other methods (reflection) are
// open to any authenticated caller.
absl::Status AuthorizeMethod(absl::string_view path, const std::vector<std::string>& roles);

// The caller of a call the processor let in: its subject, display name,
// roles and regions, from the call's token (verified again, from the cache
// the processor filled) or, for another service, from its certificate
// (role "service"). Empty when the server runs without authentication
// (plaintext on loopback).
Principal CallerOf(const grpc::ServerContextBase& context);

}  // namespace suishin

#endif  // SUISHIN_COMMON_AUTH_H_
