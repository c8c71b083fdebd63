#include "tests/support/test_pki.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace suishin::testing {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<TestPki> TestPki::Make(const std::string& dir) {
  const std::string command =
      absl::StrCat(SUISHIN_SOURCE_DIR, "/tools/pki/make-local-pki.sh '", dir, "' >/dev/null 2>&1");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("could not run: ", command));
  }
  TestPki pki;
  pki.dir = dir;
  pki.ca_file = dir + "/ca.pem";
  pki.cert_file = dir + "/service.pem";
  pki.key_file = dir + "/service.key";
  pki.signing_key_file = dir + "/token-signing.key";
  pki.signing_pub_file = dir + "/token-signing.pub";
  return pki;
}

TlsSettings TestPki::Tls() const {
  TlsSettings settings;
  settings.cert = Read(cert_file);
  settings.key = Read(key_file);
  settings.ca = Read(ca_file);
  return settings;
}

TlsSettings TestPki::ClientTls() const {
  TlsSettings settings;
  settings.ca = Read(ca_file);
  return settings;
}

std::vector<std::string> TestPki::Flags() const {
  return {"--tls_cert=" + cert_file, "--tls_key=" + key_file, "--tls_ca=" + ca_file,
          "--auth_keys=" + signing_pub_file, absl::StrCat("--auth_issuer=", kTestIssuer)};
}

AuthSettings TestPki::Auth() const {
  AuthSettings settings;
  settings.public_keys = *SplitPublicKeys(Read(signing_pub_file));
  settings.issuer = kTestIssuer;
  return settings;
}

std::string TestPki::Token(const std::string& subject, std::vector<std::string> roles,
                           std::vector<std::string> regions, absl::Duration lifetime,
                           absl::Time issued) const {
  TokenClaims claims;
  claims.issuer = kTestIssuer;
  claims.subject = subject;
  claims.roles = std::move(roles);
  claims.regions = std::move(regions);
  claims.lifetime = lifetime;
  claims.issued = issued;
  absl::StatusOr<std::string> token = IssueToken(Read(signing_key_file), claims);
  return token.ok() ? *token : std::string();
}

}  // namespace suishin::testing
