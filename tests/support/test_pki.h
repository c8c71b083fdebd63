// Certificates for tests that run the suite with TLS: a private CA and a
// service certificate for localhost/127.0.0.1/::1, made by the same script
// `./suishin up` uses (tools/pki/make-local-pki.sh), in a folder of the
// test's.
//
// Example:
//   absl::StatusOr<TestPki> pki = TestPki::Make(dir.File("pki"));
//   SetProcessTls(pki->Tls());  // this process's servers and channels
//   argv.insert(argv.end(), pki->Flags().begin(), pki->Flags().end());
#ifndef SUISHIN_TESTS_SUPPORT_TEST_PKI_H_
#define SUISHIN_TESTS_SUPPORT_TEST_PKI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth.h"
#include "common/tls.h"

namespace suishin::testing {

// The issuer the suite's test tokens name.
inline constexpr char kTestIssuer[] = "suishin-test";

struct TestPki {
  std::string dir;
  std::string ca_file, cert_file, key_file;
  // The key pair test tokens are signed and checked with.
  std::string signing_key_file, signing_pub_file;

  // Makes (or keeps) the CA and the service certificate in `dir`.
  static absl::StatusOr<TestPki> Make(const std::string& dir);

  // A service's settings: its certificate and key, the CA.
  TlsSettings Tls() const;
  // A client's: the CA only (no certificate of its own).
  TlsSettings ClientTls() const;
  // --tls_cert, --tls_key and --tls_ca for a binary, and --auth_keys,
  // --auth_issuer for a service checking tokens.
  std::vector<std::string> Flags() const;
  // The settings a service checking test tokens has.
  AuthSettings Auth() const;
  // A token of the test issuer for `subject` with `roles` and `regions`,
  // valid for `lifetime` from `issued`.
  std::string Token(const std::string& subject, std::vector<std::string> roles,
                    std::vector<std::string> regions = {}, absl::Duration lifetime = absl::Hours(1),
                    absl::Time issued = absl::Now()) const;
};

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_TEST_PKI_H_
