// ParseFiscalYear on any bytes (common/fiscal_year.h).
//
// Oracle: an accepted year is within [kMinFiscalYear, kMaxFiscalYear], and the
// forms output writes it in (EraFiscalYear "R元", JapaneseFiscalYear
// "令和元年度", the plain digits) parse back to the same year, while
// FormatFiscalYear is the era form with the Gregorian year beside it. A refusal
// is INVALID_ARGUMENT with a message that is valid UTF-8 (it quotes the input,
// escaping what is not) and short; it says "not valid UTF-8" exactly when
// common/validation.h's IsValidUtf8 says so.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fiscal_year.h"
#include "common/validation.h"
#include "fuzz/fuzz_check.h"

namespace {

using suishin::fuzz::Escaped;

// A message quotes the input at most a few times, each cut at 40 characters.
constexpr size_t kMaxMessageBytes = 1024;

void CheckParsesBack(int year, const std::string& form) {
  const absl::StatusOr<int> again = suishin::ParseFiscalYear(form);
  FUZZ_CHECK(again.ok() && *again == year, year, " written as \"", form, "\" does not parse back: ",
             again.ok() ? absl::StrCat(*again) : again.status().ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<int> year = suishin::ParseFiscalYear(text);
  if (!year.ok()) {
    const absl::string_view message = year.status().message();
    FUZZ_CHECK(absl::IsInvalidArgument(year.status()), year.status().ToString());
    FUZZ_CHECK(suishin::IsValidUtf8(message), "message is not UTF-8: ", Escaped(message));
    FUZZ_CHECK(message.size() <= kMaxMessageBytes, message.size(), " bytes: ", Escaped(message));
    FUZZ_CHECK(
        absl::EndsWith(message, ": the text is not valid UTF-8") == !suishin::IsValidUtf8(text),
        "IsValidUtf8 and ParseFiscalYear disagree on \"", Escaped(text), "\": ", message);
    return 0;
  }
  FUZZ_CHECK(suishin::IsValidUtf8(text), "accepted invalid UTF-8 \"", Escaped(text), "\"");
  FUZZ_CHECK(*year >= suishin::kMinFiscalYear && *year <= suishin::kMaxFiscalYear, "\"",
             Escaped(text), "\" parsed as ", *year);
  FUZZ_CHECK(suishin::ValidateFiscalYear("year", *year).ok(), *year);
  CheckParsesBack(*year, suishin::EraFiscalYear(*year));
  CheckParsesBack(*year, suishin::JapaneseFiscalYear(*year));
  CheckParsesBack(*year, absl::StrCat(*year));
  CheckParsesBack(*year, absl::StrCat("FY", *year));
  const std::string display = suishin::FormatFiscalYear(*year);
  FUZZ_CHECK(display == absl::StrCat(suishin::EraFiscalYear(*year), " (", *year, ")"), display);
  return 0;
}
