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
#include "common/tls.h"

namespace suishin::testing {

struct TestPki {
  std::string dir;
  std::string ca_file, cert_file, key_file;

  // Makes (or keeps) the CA and the service certificate in `dir`.
  static absl::StatusOr<TestPki> Make(const std::string& dir);

  // A service's settings: its certificate and key, the CA.
  TlsSettings Tls() const;
  // A client's: the CA only (no certificate of its own).
  TlsSettings ClientTls() const;
  // --tls_cert, --tls_key and --tls_ca for a binary.
  std::vector<std::string> Flags() const;
};

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_TEST_PKI_H_
