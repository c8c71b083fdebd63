#include "common/auth.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/audit.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "suishin/common/v1/access.pb.h"

ABSL_FLAG(std::string, auth_keys, "",
          "a PEM file of the public keys tokens are signed with; empty: no authentication "
          "(only on loopback)");
ABSL_FLAG(std::string, auth_issuer, "", "the issuer (iss) tokens must name");
ABSL_FLAG(std::string, auth_audience, "suishin", "the audience (aud) tokens must name");
ABSL_FLAG(std::string, token_file, "",
          "a file holding the bearer token this client sends with every call");

namespace suishin {
namespace {

absl::Mutex auth_mu(absl::kConstInit);

// Never destroyed: no exit-time order.
AuthSettings& ProcessAuthLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(auth_mu) {
  static AuthSettings* settings = new AuthSettings();
  return *settings;
}

// The token, read from --token_file the first time it is asked for.
std::optional<std::string>& ProcessTokenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(auth_mu) {
  static std::optional<std::string>* token = new std::optional<std::string>();
  return *token;
}

using Jwt = std::unique_ptr<jwt_t, decltype(&jwt_free)>;

// Tokens kept verified at most; past it, the cache starts over.
constexpr size_t kMaxVerified = 10000;

std::string Sha256(absl::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("token: ", why));
}

// A claim that is a string or an array of strings.
std::vector<std::string> Strings(jwt_t* jwt, const char* claim) {
  std::vector<std::string> out;
  if (const char* one = jwt_get_grant(jwt, claim); one != nullptr) {
    out.emplace_back(one);
    return out;
  }
  char* json = jwt_get_grants_json(jwt, claim);
  if (json == nullptr) return out;
  google::protobuf::ListValue list;
  const bool parsed = google::protobuf::util::JsonStringToMessage(json, &list).ok();
  std::free(json);
  if (!parsed) return out;
  for (const google::protobuf::Value& value : list.values()) {
    if (value.kind_case() == google::protobuf::Value::kStringValue) {
      out.push_back(value.string_value());
    }
  }
  return out;
}

bool AcceptedAlgorithm(jwt_alg_t alg) {
  switch (alg) {
    case JWT_ALG_ES256:
    case JWT_ALG_ES384:
    case JWT_ALG_ES512:
    case JWT_ALG_RS256:
    case JWT_ALG_RS384:
    case JWT_ALG_RS512:
      return true;
    default:  // none, and the shared-secret HS* a public key must never verify
      return false;
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitPublicKeys(absl::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::vector<std::string> keys;
  while (in != nullptr) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (key == nullptr) break;
    std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
    if (out == nullptr || PEM_write_bio_PUBKEY(out.get(), key.get()) != 1) break;
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    keys.emplace_back(data, static_cast<size_t>(size));
  }
  if (keys.empty()) return absl::InvalidArgumentError("holds no PEM public key");
  return keys;
}

absl::StatusOr<AuthSettings> AuthFromFlags() {
  AuthSettings settings;
  settings.issuer = absl::GetFlag(FLAGS_auth_issuer);
  settings.audience = absl::GetFlag(FLAGS_auth_audience);
  const std::string path = absl::GetFlag(FLAGS_auth_keys);
  if (path.empty()) return settings;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat("--auth_keys=\"", path, "\": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::vector<std::string>> keys = SplitPublicKeys(text.str());
  if (!keys.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth_keys=\"", path, "\": ", keys.status().message()));
  }
  if (settings.issuer.empty() || settings.audience.empty()) {
    return absl::InvalidArgumentError("--auth_keys needs --auth_issuer and --auth_audience");
  }
  settings.public_keys = *std::move(keys);
  return settings;
}

AuthSettings ProcessAuth() {
  absl::MutexLock lock(&auth_mu);
  return ProcessAuthLocked();
}

void SetProcessAuth(AuthSettings settings) {
  absl::MutexLock lock(&auth_mu);
  ProcessAuthLocked() = std::move(settings);
}

std::string ProcessToken() {
  absl::MutexLock lock(&auth_mu);
  std::optional<std::string>& token = ProcessTokenLocked();
  if (!token) {
    token = std::string();
    if (const std::string path = absl::GetFlag(FLAGS_token_file); !path.empty()) {
      std::ifstream in(path);
      std::stringstream text;
      text << in.rdbuf();
      *token = std::string(absl::StripAsciiWhitespace(text.str()));
    }
  }
  return *token;
}

void SetProcessToken(std::string token) {
  absl::MutexLock lock(&auth_mu);
  ProcessTokenLocked() = std::move(token);
}

absl::StatusOr<std::string> IssueToken(absl::string_view private_key, const TokenClaims& claims) {
  if (claims.issuer.empty() || claims.subject.empty() || claims.audience.empty()) {
    return absl::InvalidArgumentError("a token needs an issuer, an audience and a subject");
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(private_key.data(), static_cast<int>(private_key.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      in == nullptr ? nullptr : PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr),
      EVP_PKEY_free);
  if (key == nullptr) return absl::InvalidArgumentError("the signing key is no PEM private key");
  jwt_alg_t alg = JWT_ALG_NONE;
  if (EVP_PKEY_base_id(key.get()) == EVP_PKEY_EC) alg = JWT_ALG_ES256;
  if (EVP_PKEY_base_id(key.get()) == EVP_PKEY_RSA) alg = JWT_ALG_RS256;
  if (alg == JWT_ALG_NONE) return absl::InvalidArgumentError("the signing key is not EC or RSA");
  jwt_t* made = nullptr;
  if (jwt_new(&made) != 0) return absl::ResourceExhaustedError("jwt_new failed");
  Jwt jwt(made, jwt_free);
  google::protobuf::ListValue roles;
  for (const std::string& role : claims.roles) roles.add_values()->set_string_value(role);
  google::protobuf::ListValue regions;
  for (const std::string& region : claims.regions) regions.add_values()->set_string_value(region);
  std::string roles_json;
  std::string regions_json;
  (void)google::protobuf::util::MessageToJsonString(roles, &roles_json);
  (void)google::protobuf::util::MessageToJsonString(regions, &regions_json);
  const std::string grants =
      absl::StrCat("{\"roles\":", roles_json, ",\"regions\":", regions_json, "}");
  const bool ok =
      jwt_add_grant(jwt.get(), "iss", claims.issuer.c_str()) == 0 &&
      jwt_add_grant(jwt.get(), "aud", claims.audience.c_str()) == 0 &&
      jwt_add_grant(jwt.get(), "sub", claims.subject.c_str()) == 0 &&
      (claims.name.empty() || jwt_add_grant(jwt.get(), "name", claims.name.c_str()) == 0) &&
      jwt_add_grant_int(jwt.get(), "iat", absl::ToUnixSeconds(claims.issued)) == 0 &&
      jwt_add_grant_int(jwt.get(), "nbf", absl::ToUnixSeconds(claims.issued)) == 0 &&
      jwt_add_grant_int(jwt.get(), "exp", absl::ToUnixSeconds(claims.issued + claims.lifetime)) ==
          0 &&
      jwt_add_grants_json(jwt.get(), grants.c_str()) == 0 &&
      jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(private_key.data()),
                  static_cast<int>(private_key.size())) == 0;
  if (!ok) return absl::InternalError("libjwt could not build the token");
  char* encoded = jwt_encode_str(jwt.get());
  if (encoded == nullptr) return absl::InternalError("libjwt could not sign the token");
  std::string token(encoded);
  std::free(encoded);  // jwt_encode_str's string, malloc'd
  return token;
}

absl::StatusOr<Principal> TokenVerifier::Verify(absl::string_view token, absl::Time now) const {
  ASSIGN_OR_RETURN(std::shared_ptr<const Principal> principal, VerifyShared(token, now));
  return *principal;
}

absl::StatusOr<std::shared_ptr<const Principal>> TokenVerifier::VerifyShared(
    absl::string_view token, absl::Time now) const {
  const std::string key = Sha256(token);
  {
    absl::MutexLock lock(&mu_);
    auto known = verified_.find(key);
    if (known != verified_.end()) {
      if (now < known->second->expires + settings_.leeway) return known->second;
      verified_.erase(known);
    }
  }
  ASSIGN_OR_RETURN(Principal principal, VerifyUncached(std::string(token), now));
  auto shared = std::make_shared<const Principal>(std::move(principal));
  absl::MutexLock lock(&mu_);
  if (verified_.size() >= kMaxVerified) verified_.clear();
  verified_.emplace(key, shared);
  return shared;
}

absl::StatusOr<Principal> TokenVerifier::VerifyUncached(const std::string& token,
                                                        absl::Time now) const {
  Jwt jwt(nullptr, jwt_free);
  for (const std::string& key : settings_.public_keys) {
    jwt_t* decoded = nullptr;
    if (jwt_decode(&decoded, token.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                   static_cast<int>(key.size())) == 0) {
      jwt.reset(decoded);
      break;
    }
  }
  if (jwt == nullptr) return Unauthenticated("not signed by a configured key, or malformed");
  if (!AcceptedAlgorithm(jwt_get_alg(jwt.get()))) {
    return Unauthenticated(
        absl::StrCat("algorithm ", jwt_alg_str(jwt_get_alg(jwt.get())), " is not accepted"));
  }
  const char* issuer = jwt_get_grant(jwt.get(), "iss");
  if (issuer == nullptr || settings_.issuer != issuer) {
    return Unauthenticated(absl::StrCat("issuer \"", issuer == nullptr ? "" : issuer,
                                        "\" is not \"", settings_.issuer, "\""));
  }
  const std::vector<std::string> audiences = Strings(jwt.get(), "aud");
  if (std::find(audiences.begin(), audiences.end(), settings_.audience) == audiences.end()) {
    return Unauthenticated(absl::StrCat("not for audience \"", settings_.audience, "\""));
  }
  errno = 0;
  const long exp = jwt_get_grant_int(jwt.get(), "exp");
  if (errno != 0) return Unauthenticated("no expiry (exp)");
  const absl::Time expires = absl::FromUnixSeconds(exp);
  if (now >= expires + settings_.leeway) {
    return Unauthenticated(absl::StrCat("expired at ", absl::FormatTime(expires)));
  }
  errno = 0;
  const long nbf = jwt_get_grant_int(jwt.get(), "nbf");
  if (errno == 0 && now + settings_.leeway < absl::FromUnixSeconds(nbf)) {
    return Unauthenticated("not valid yet (nbf)");
  }
  const char* subject = jwt_get_grant(jwt.get(), "sub");
  if (subject == nullptr || *subject == '\0') return Unauthenticated("no subject (sub)");
  Principal principal;
  principal.subject = subject;
  if (const char* name = jwt_get_grant(jwt.get(), "name"); name != nullptr) principal.name = name;
  principal.roles = Strings(jwt.get(), "roles");
  principal.regions = Strings(jwt.get(), "regions");
  principal.expires = expires;
  return principal;
}

std::string RoleName(common::v1::Role role) {
  return absl::AsciiStrToLower(absl::StripPrefix(common::v1::Role_Name(role), "ROLE_"));
}

const google::protobuf::MethodDescriptor* SuiteMethod(absl::string_view path) {
  // Every call asks (the processor, the audit): the pool's lookup, behind
  // its own lock, is done once per path.
  static absl::Mutex mu(absl::kConstInit);
  static auto* known =
      new absl::flat_hash_map<std::string, const google::protobuf::MethodDescriptor*>();
  {
    absl::ReaderMutexLock lock(&mu);
    if (auto found = known->find(path); found != known->end()) return found->second;
  }
  // "/suishin.kpi.v1.KpiService/RecordActual" → "suishin.kpi.v1.KpiService.RecordActual"
  absl::string_view name = absl::StripPrefix(path, "/");
  const size_t slash = name.find('/');
  const google::protobuf::MethodDescriptor* method =
      slash == absl::string_view::npos
          ? nullptr
          : google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
                absl::StrCat(name.substr(0, slash), ".", name.substr(slash + 1)));
  absl::MutexLock lock(&mu);
  if (known->size() < 1000) known->emplace(path, method);  // only paths of calls served
  return method;
}

bool IsTokenRole(absl::string_view name) {
  common::v1::Role role = common::v1::ROLE_UNSPECIFIED;
  return common::v1::Role_Parse(absl::StrCat("ROLE_", absl::AsciiStrToUpper(name)), &role) &&
         role != common::v1::ROLE_UNSPECIFIED && role != common::v1::ROLE_SERVICE &&
         RoleName(role) == name;
}

absl::Status AuthorizeMethod(absl::string_view path, const std::vector<std::string>& roles) {
  if (path.find('/', 1) == absl::string_view::npos) return absl::PermissionDeniedError("no method");
  // Not one of the suite's (reflection): any authenticated caller.
  if (!absl::StartsWith(path, "/suishin.")) return absl::OkStatus();
  const google::protobuf::MethodDescriptor* method = SuiteMethod(path);
  if (method == nullptr) {  // fail closed
    return absl::PermissionDeniedError(absl::StrCat(path, " is not known here"));
  }
  const common::v1::Access& access = method->options().GetExtension(common::v1::access);
  if (access.any_role()) return absl::OkStatus();
  std::vector<std::string> wanted;
  for (const int role : access.roles()) {
    const std::string wanted_name = RoleName(static_cast<common::v1::Role>(role));
    if (std::find(roles.begin(), roles.end(), wanted_name) != roles.end()) {
      return absl::OkStatus();
    }
    wanted.push_back(wanted_name);
  }
  if (wanted.empty()) {  // fail closed: every method of the suite declares its access
    return absl::PermissionDeniedError(absl::StrCat(method->name(), " declares no access"));
  }
  return absl::PermissionDeniedError(
      absl::StrCat(method->name(), " needs the role ", absl::StrJoin(wanted, " or "),
                   " (the caller has ", roles.empty() ? "none" : absl::StrJoin(roles, ", "), ")"));
}

grpc::Status TokenAuthProcessor::Process(const InputMetadata& auth_metadata,
                                         grpc::AuthContext* context,
                                         OutputMetadata* consumed_auth_metadata,
                                         OutputMetadata* /*response_metadata*/) {
  auto found = auth_metadata.find(":path");
  const std::string path = found == auth_metadata.end()
                               ? std::string()
                               : std::string(found->second.data(), found->second.size());
  std::string subject;
  grpc::Status status =
      Authenticate(path, auth_metadata, context, consumed_auth_metadata, &subject);
  // A refused write is audited here: it never reaches the service.
  if (!status.ok() && ProcessAuditTrail() != nullptr && IsAuditedMethod(path)) {
    common::v1::AuditRecord record;
    record.set_principal(subject);
    record.set_method(path);
    record.set_outcome(
        absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())));
    record.set_message(status.error_message());
    ProcessAuditTrail()->Append(std::move(record), nullptr);
  }
  return status;
}

grpc::Status TokenAuthProcessor::Authenticate(const std::string& path,
                                              const InputMetadata& auth_metadata,
                                              grpc::AuthContext* context,
                                              OutputMetadata* consumed_auth_metadata,
                                              std::string* subject) {
  if (absl::StartsWith(path, "/grpc.health.v1.Health/")) {
    return grpc::Status::OK;  // open for probes
  }
  auto authorization = auth_metadata.find("authorization");
  if (authorization != auth_metadata.end()) {
    absl::string_view value(authorization->second.data(), authorization->second.size());
    if (!absl::ConsumePrefix(&value, "Bearer ")) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "authorization: want \"Bearer <JWT>\"");
    }
    absl::StatusOr<std::shared_ptr<const Principal>> principal =
        verifier_->VerifyShared(value, absl::Now());
    if (!principal.ok()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          std::string(principal.status().message()));
    }
    *subject = (*principal)->subject;
    if (!path.empty()) {
      const absl::Status allowed = AuthorizeMethod(path, (*principal)->roles);
      if (!allowed.ok()) {
        return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, std::string(allowed.message()));
      }
    }
    // The header stays with the call: CallerOf reads it there (the verified
    // token is cached, so it is not checked twice).
    return grpc::Status::OK;
  }
  // Another service of the suite: the certificate it presented was checked
  // against the suite's CA during the TLS handshake.
  const std::vector<grpc::string_ref> names = context->FindPropertyValues("x509_common_name");
  if (!names.empty()) {
    *subject = std::string(names.front().data(), names.front().size());
    if (!path.empty()) {
      const absl::Status allowed = AuthorizeMethod(path, {"service"});
      if (!allowed.ok()) {
        return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, std::string(allowed.message()));
      }
    }
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "no token: send \"authorization: Bearer <JWT>\"");
}

namespace {

// The verifier of the process's servers, shared with CallerOf (and its
// cache with it).
absl::Mutex verifier_mu(absl::kConstInit);
std::shared_ptr<TokenVerifier>* process_verifier ABSL_GUARDED_BY(verifier_mu) = nullptr;

}  // namespace

std::shared_ptr<TokenVerifier> ProcessVerifier(const AuthSettings& settings) {
  absl::MutexLock lock(&verifier_mu);
  if (process_verifier == nullptr || !(*process_verifier)->SameSettings(settings)) {
    delete process_verifier;
    process_verifier =
        new std::shared_ptr<TokenVerifier>(std::make_shared<TokenVerifier>(settings));
  }
  return *process_verifier;
}

Principal CallerOf(const grpc::ServerContextBase& context) {
  Principal principal;
  // A token: read from the call's own metadata. (The AuthContext belongs to
  // the connection, shared by every call on it: nothing per call is put
  // there.)
  const auto& metadata = context.client_metadata();
  if (auto found = metadata.find("authorization"); found != metadata.end()) {
    absl::string_view value(found->second.data(), found->second.size());
    std::shared_ptr<TokenVerifier> verifier;
    {
      absl::MutexLock lock(&verifier_mu);
      if (process_verifier != nullptr) verifier = *process_verifier;
    }
    if (verifier == nullptr || !absl::ConsumePrefix(&value, "Bearer ")) return principal;
    absl::StatusOr<std::shared_ptr<const Principal>> verified =
        verifier->VerifyShared(value, absl::Now());
    return verified.ok() ? **verified : principal;
  }
  // Another service, by its certificate.
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return principal;
  const std::vector<grpc::string_ref> names = auth->FindPropertyValues("x509_common_name");
  if (names.empty()) return principal;
  principal.subject = std::string(names.front().data(), names.front().size());
  principal.roles = {"service"};
  return principal;
}

}  // namespace suishin
