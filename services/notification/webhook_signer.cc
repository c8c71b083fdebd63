#include "services/notification/webhook_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace suishin::notification {
namespace {

constexpr absl::string_view kSignatureVersion = "v1,";
constexpr size_t kMacBytes = 32;  // SHA-256.

absl::Status BadSecret(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("webhook.secret: ", why));
}

// HMAC-SHA256 of "{id}.{timestamp}.{body}". False only if OpenSSL fails.
bool ComputeMac(absl::string_view key, absl::string_view id, int64_t timestamp,
                absl::string_view body, unsigned char (&mac)[kMacBytes]) {
  if (key.size() > static_cast<size_t>(INT_MAX)) return false;
  const std::string content = absl::StrCat(id, ".", timestamp, ".", body);
  // A valid pointer even for an empty key: some OpenSSL 3.0 releases refuse a null key.
  static const unsigned char kNoKey = 0;
  const void* key_data = key.empty() ? &kNoKey : static_cast<const void*>(key.data());
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac,
           &mac_len) == nullptr) {
    return false;
  }
  return mac_len == kMacBytes;
}

}  // namespace

absl::StatusOr<std::string> DecodeWebhookSecret(absl::string_view secret) {
  absl::string_view encoded = secret;
  if (!absl::ConsumePrefix(&encoded, kWebhookSecretPrefix)) {
    return BadSecret(absl::StrCat("must start with \"", kWebhookSecretPrefix, "\""));
  }
  std::string key;
  // absl's decoder skips whitespace and ignores stray low bits of the last
  // character; a secret that is not exactly the encoding of its bytes (padded
  // or not) is refused instead, so one key has one spelling.
  bool canonical = absl::Base64Unescape(encoded, &key);
  if (canonical) {
    const std::string again = absl::Base64Escape(key);
    canonical = encoded == again || encoded == absl::StripSuffix(again, "==") ||
                encoded == absl::StripSuffix(again, "=");
  }
  if (!canonical) {
    return BadSecret(absl::StrCat("the part after \"", kWebhookSecretPrefix,
                                  "\" is not valid base64 (", encoded.size(), " characters)"));
  }
  if (key.size() < kMinWebhookKeyBytes || key.size() > kMaxWebhookKeyBytes) {
    return BadSecret(absl::StrCat("the key is ", key.size(), " bytes; it must be ",
                                  kMinWebhookKeyBytes, " to ", kMaxWebhookKeyBytes));
  }
  return key;
}

std::string NewWebhookSecret() {
  unsigned char key[kNewWebhookKeyBytes];
  if (RAND_bytes(key, sizeof(key)) != 1) {
    std::fputs("NewWebhookSecret: OpenSSL RAND_bytes failed; refusing to make a weak secret\n",
               stderr);
    std::abort();
  }
  std::string secret = absl::StrCat(
      kWebhookSecretPrefix,
      absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(key), sizeof(key))));
  OPENSSL_cleanse(key, sizeof(key));
  return secret;
}

std::string SignWebhook(absl::string_view key_bytes, absl::string_view id, int64_t timestamp,
                        absl::string_view body) {
  unsigned char mac[kMacBytes];
  if (!ComputeMac(key_bytes, id, timestamp, body, mac)) return std::string();
  return absl::StrCat(kSignatureVersion, absl::Base64Escape(absl::string_view(
                                             reinterpret_cast<const char*>(mac), sizeof(mac))));
}

bool VerifyWebhook(absl::string_view key_bytes, absl::string_view id, int64_t timestamp,
                   absl::string_view body, absl::string_view signature_header) {
  const std::string expected = SignWebhook(key_bytes, id, timestamp, body);
  if (expected.empty()) return false;
  for (absl::string_view candidate : absl::StrSplit(signature_header, ' ', absl::SkipEmpty())) {
    if (!absl::StartsWith(candidate, kSignatureVersion)) continue;
    // The length of a signature is public; only its content is compared in constant time.
    if (candidate.size() != expected.size()) continue;
    if (CRYPTO_memcmp(candidate.data(), expected.data(), expected.size()) == 0) return true;
  }
  return false;
}

}  // namespace suishin::notification
