// Page tokens (common/page_token.h) from any bytes, and from any key.
//
// Oracle: DecodePageToken never crashes; what it accepts is a positive key
// whose EncodePageToken is exactly the token (one key, one spelling), or 0 for
// the empty token; anything else is INVALID_ARGUMENT naming the field. The
// first 8 bytes as a key k: DecodePageToken(EncodePageToken(k)) is k for every
// k > 0 and refused for k <= 0 (keys are row sequences from 1), and the token is
// web-safe (letters, digits, '-', '_').
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/page_token.h"
#include "fuzz/fuzz_check.h"

namespace {
constexpr absl::string_view kField = "page_token";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using suishin::fuzz::Escaped;
  const absl::string_view token(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<int64_t> key = suishin::DecodePageToken(kField, token);
  if (key.ok()) {
    if (token.empty()) {
      FUZZ_CHECK(*key == 0, "the empty token gave ", *key);
    } else {
      FUZZ_CHECK(*key > 0, "\"", Escaped(token), "\" gave ", *key);
      FUZZ_CHECK(suishin::EncodePageToken(*key) == token, "\"", Escaped(token), "\" is not how ",
                 *key, " is encoded: ", suishin::EncodePageToken(*key));
    }
  } else {
    FUZZ_CHECK(absl::IsInvalidArgument(key.status()), key.status().ToString());
    FUZZ_CHECK(absl::StartsWith(key.status().message(), kField), key.status().ToString());
  }

  if (size >= sizeof(int64_t)) {
    int64_t k;
    std::memcpy(&k, data, sizeof(k));
    const std::string encoded = suishin::EncodePageToken(k);
    FUZZ_CHECK(!encoded.empty(), k);
    for (const char c : encoded) {
      FUZZ_CHECK(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_', k,
                 " encodes as ", encoded);
    }
    const absl::StatusOr<int64_t> decoded = suishin::DecodePageToken(kField, encoded);
    if (k > 0) {
      FUZZ_CHECK(decoded.ok() && *decoded == k, k, " -> ", encoded, " -> ",
                 decoded.ok() ? absl::StrCat(*decoded) : decoded.status().ToString());
    } else {
      FUZZ_CHECK(!decoded.ok(), k, " -> ", encoded, " was accepted");
    }
  }
  return 0;
}
