// ParseRetryDelays (services/notification/webhook_dispatcher.h), the webhook
// retry schedule flag ("5s,5m,30m,2h"), on any bytes.
//
// Oracle: every delay of an accepted schedule is non-negative and finite (an
// infinite delay would park a delivery for ever), there is at most one delay
// per comma-separated part, and each delay formats (absl::FormatDuration) to a
// duration that parses back to itself. A refusal is INVALID_ARGUMENT naming the
// field.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "fuzz/fuzz_check.h"
#include "services/notification/webhook_dispatcher.h"

namespace {
constexpr absl::string_view kField = "webhook_retry_delays";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using suishin::fuzz::Escaped;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<std::vector<absl::Duration>> delays =
      suishin::notification::ParseRetryDelays(kField, text);
  if (!delays.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(delays.status()), delays.status().ToString());
    FUZZ_CHECK(absl::StartsWith(delays.status().message(), kField), delays.status().ToString());
    return 0;
  }
  const size_t parts = static_cast<size_t>(std::count(text.begin(), text.end(), ',')) + 1;
  FUZZ_CHECK(delays->size() <= parts, delays->size(), " delays from \"", Escaped(text), "\"");
  for (const absl::Duration delay : *delays) {
    const std::string shown = absl::FormatDuration(delay);
    FUZZ_CHECK(delay >= absl::ZeroDuration(), "\"", Escaped(text), "\" has delay ", shown);
    FUZZ_CHECK(delay != absl::InfiniteDuration(), "\"", Escaped(text), "\" has delay ", shown);
    absl::Duration again;
    FUZZ_CHECK(absl::ParseDuration(shown, &again) && again == delay, shown);
  }
  return 0;
}
