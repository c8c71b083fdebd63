// The CP932 codecs of exchange/csv_codec.h, Cp932ToUtf8 and
// Utf8ToCp932, on any bytes.
//
// Oracle:
//   - Cp932ToUtf8 either gives valid UTF-8 (IsValidUtf8) that encodes back to
//     CP932 and decodes again to the same text, or refuses with
//     INVALID_ARGUMENT and a bad offset inside the input.
//   - Utf8ToCp932 refuses every input IsValidUtf8 refuses; what it encodes
//     decodes to UTF-8 that encodes to the same bytes again (several Unicode
//     characters share one CP932 code, so text → CP932 → text need not be the
//     identity, but it is from the second round on).
//   - Every message is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/validation.h"
#include "exchange/csv_codec.h"
#include "fuzz/fuzz_check.h"

namespace {

using suishin::IsValidUtf8;
using suishin::exchange::Cp932ToUtf8;
using suishin::exchange::Utf8ToCp932;
using suishin::fuzz::Escaped;

void CheckDecode(absl::string_view bytes) {
  size_t bad = 0;
  const absl::StatusOr<std::string> text = Cp932ToUtf8(bytes, &bad);
  if (!text.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(text.status()), text.status().ToString());
    FUZZ_CHECK(bad < bytes.size(), "bad offset ", bad, " of ", bytes.size());
    FUZZ_CHECK(IsValidUtf8(text.status().message()), Escaped(text.status().message()));
    return;
  }
  FUZZ_CHECK(IsValidUtf8(*text), "\"", Escaped(bytes), "\" decodes to invalid UTF-8 \"",
             Escaped(*text), "\"");
  const absl::StatusOr<std::string> encoded = Utf8ToCp932(*text);
  FUZZ_CHECK(encoded.ok(), "\"", Escaped(bytes), "\" decodes to \"", Escaped(*text),
             "\", which does not encode: ", encoded.status().ToString());
  const absl::StatusOr<std::string> again = Cp932ToUtf8(*encoded);
  FUZZ_CHECK(again.ok() && *again == *text, "\"", Escaped(bytes), "\" -> \"", Escaped(*text),
             "\" -> \"", Escaped(*encoded), "\" -> ",
             again.ok() ? Escaped(*again) : again.status().ToString());
}

void CheckEncode(absl::string_view text) {
  const absl::StatusOr<std::string> bytes = Utf8ToCp932(text);
  if (!bytes.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(bytes.status()), bytes.status().ToString());
    // The message quotes the character CP932 lacks, or names a bad byte in hex.
    FUZZ_CHECK(IsValidUtf8(bytes.status().message()), Escaped(bytes.status().message()));
    return;
  }
  FUZZ_CHECK(IsValidUtf8(text), "encoded invalid UTF-8 \"", Escaped(text), "\"");
  const absl::StatusOr<std::string> decoded = Cp932ToUtf8(*bytes);
  FUZZ_CHECK(decoded.ok(), "\"", Escaped(text), "\" encodes to \"", Escaped(*bytes),
             "\", which does not decode: ", decoded.status().ToString());
  const absl::StatusOr<std::string> again = Utf8ToCp932(*decoded);
  FUZZ_CHECK(again.ok() && *again == *bytes, "\"", Escaped(text), "\" -> \"", Escaped(*bytes),
             "\" -> \"", Escaped(*decoded), "\" -> ",
             again.ok() ? Escaped(*again) : again.status().ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  CheckDecode(bytes);
  CheckEncode(bytes);
  return 0;
}
