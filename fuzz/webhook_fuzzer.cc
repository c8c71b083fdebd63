// Webhook secrets and signatures (services/notification/webhook_signer.h) on
// fuzzed secrets, ids, timestamps, bodies and signature headers.
//
// Oracle:
//   - DecodeWebhookSecret accepts only "whsec_" + the canonical base64 of 24 to
//     64 bytes (padded or not), and a refusal never repeats the secret (it is
//     one of three messages that differ only in their numbers);
//   - SignWebhook gives "v1," + 44 base64 characters, which VerifyWebhook
//     accepts, alone or among other entries of the header;
//   - VerifyWebhook refuses the signature with any one character changed, and
//     the right signature for another timestamp, body or key;
//   - VerifyWebhook on a fuzzed header never crashes, and accepts it only if it
//     holds the signature as an entry.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "fuzz/fuzz_check.h"
#include "services/notification/webhook_signer.h"

namespace {

namespace n = suishin::notification;
using suishin::fuzz::Escaped;

constexpr size_t kSignatureSize = 3 + 44;  // "v1," + base64 of 32 bytes

// `message` with each run of digits as "#": what is left may not depend on
// the secret.
std::string WithoutNumbers(absl::string_view message) {
  std::string out;
  for (size_t i = 0; i < message.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(message[i]))) {
      out += message[i];
    } else if (i == 0 || !absl::ascii_isdigit(static_cast<unsigned char>(message[i - 1]))) {
      out += '#';
    }
  }
  return out;
}

void CheckSecret(absl::string_view secret) {
  const absl::StatusOr<std::string> key = n::DecodeWebhookSecret(secret);
  if (!key.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(key.status()), key.status().ToString());
    // The refusals say what is wrong and give sizes, never the secret.
    const std::string shape = WithoutNumbers(key.status().message());
    FUZZ_CHECK(shape == "webhook.secret: must start with \"whsec_\"" ||
                   shape ==
                       "webhook.secret: the part after \"whsec_\" is not valid base# (# "
                       "characters)" ||
                   shape == "webhook.secret: the key is # bytes; it must be # to #",
               "unexpected refusal of \"", Escaped(secret),
               "\": ", Escaped(key.status().message()));
    return;
  }
  FUZZ_CHECK(key->size() >= n::kMinWebhookKeyBytes && key->size() <= n::kMaxWebhookKeyBytes,
             key->size(), " key bytes from \"", Escaped(secret), "\"");
  const std::string canonical = absl::Base64Escape(*key);
  FUZZ_CHECK(secret == absl::StrCat(n::kWebhookSecretPrefix, canonical) ||
                 secret == absl::StrCat(n::kWebhookSecretPrefix,
                                        absl::StripSuffix(absl::StripSuffix(canonical, "="), "=")),
             "\"", Escaped(secret), "\" is not the canonical spelling of its key, ", canonical);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string secret = in.ConsumeRandomLengthString(128);
  const std::string id = in.ConsumeRandomLengthString(64);
  const int64_t timestamp = in.ConsumeIntegral<int64_t>();
  const std::string header = in.ConsumeRandomLengthString(256);
  const std::string body = in.ConsumeRemainingBytesAsString();

  CheckSecret(secret);
  // Sign with the decoded key when the secret is good, else with its raw bytes:
  // signing and verifying take any key.
  const absl::StatusOr<std::string> decoded = n::DecodeWebhookSecret(secret);
  const std::string key = decoded.ok() ? *decoded : secret;

  const std::string signature = n::SignWebhook(key, id, timestamp, body);
  FUZZ_CHECK(signature.size() == kSignatureSize && absl::StartsWith(signature, "v1,"), signature);
  FUZZ_CHECK(n::VerifyWebhook(key, id, timestamp, body, signature), signature);
  FUZZ_CHECK(
      n::VerifyWebhook(key, id, timestamp, body, absl::StrCat("v1a,x ", signature, "  v1,AAAA")),
      signature);

  std::string changed = signature;
  const size_t at = 3 + static_cast<size_t>(timestamp & 0x3F) % 44;
  changed[at] = changed[at] == 'A' ? 'B' : 'A';
  FUZZ_CHECK(!n::VerifyWebhook(key, id, timestamp, body, changed), changed);
  FUZZ_CHECK(!n::VerifyWebhook(key, id, timestamp, body, signature.substr(0, kSignatureSize - 1)),
             signature);
  if (timestamp != INT64_MAX) {
    FUZZ_CHECK(!n::VerifyWebhook(key, id, timestamp + 1, body, signature), signature);
  }
  FUZZ_CHECK(!n::VerifyWebhook(key, id, timestamp, absl::StrCat(body, "x"), signature), signature);
  FUZZ_CHECK(!n::VerifyWebhook(absl::StrCat(key, "k"), id, timestamp, body, signature), signature);

  const bool holds = [&] {
    for (absl::string_view entry : absl::StrSplit(header, ' ', absl::SkipEmpty())) {
      if (entry == signature) return true;
    }
    return false;
  }();
  FUZZ_CHECK(n::VerifyWebhook(key, id, timestamp, body, header) == holds, "header \"",
             Escaped(header), "\" vs ", signature);
  return 0;
}
