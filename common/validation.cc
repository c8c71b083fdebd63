#include "common/validation.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "common/text.h"

namespace suishin {
namespace {

constexpr size_t kMaxIdLength = 63;

// Blank: only ASCII whitespace and the ideographic space U+3000.
bool IsBlank(absl::string_view text) {
  while (!text.empty()) {
    if (absl::ascii_isspace(static_cast<unsigned char>(text.front()))) {
      text.remove_prefix(1);
    } else if (absl::StartsWith(text, "\u3000")) {
      text.remove_prefix(3);
    } else {
      return false;
    }
  }
  return true;
}

// The first `max_chars` code points of well-formed UTF-8 `text`.
absl::string_view Utf8Prefix(absl::string_view text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && chars++ == max_chars) {
      return text.substr(0, i);
    }
  }
  return text;
}

// A C0 control other than tab and line breaks, DEL, or a C1 control
// (U+0080–U+009F, which terminals may take for escape sequences).
bool HasControlCharacter(absl::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::Status FieldError(absl::string_view field, absl::string_view value,
                        absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem, " (got \"", value, "\")"));
}

bool IsValidUtf8(absl::string_view text) { return !FirstInvalidUtf8(text).has_value(); }

size_t Utf8Length(absl::string_view text) {
  size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

absl::Status ValidateId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return FieldError(field, id, "is required");
  bool ok = id.size() <= kMaxIdLength && absl::ascii_islower(id.front()) && id.back() != '-';
  for (char c : id) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-');
  }
  if (!ok) {
    return FieldError(field, id,
                      "must be lower-case letters, digits and '-', starting with a letter, not "
                      "ending with '-', at most 63 characters");
  }
  return absl::OkStatus();
}

namespace {

absl::Status CheckText(absl::string_view field, absl::string_view text, size_t max_chars,
                       absl::string_view flag) {
  if (!IsValidUtf8(text)) return FieldError(field, "<invalid UTF-8>", "must be valid UTF-8");
  if (IsBlank(text)) return FieldError(field, text, "must not be empty");
  if (Utf8Length(text) > max_chars) {
    return FieldError(field, Utf8Prefix(text, 30),
                      absl::StrCat("must be at most ", max_chars, " characters",
                                   flag.empty() ? "" : absl::StrCat(" (", flag, ")"), ", has ",
                                   Utf8Length(text)));
  }
  if (HasControlCharacter(text)) {
    return FieldError(field, absl::CEscape(Utf8Prefix(text, 30)),
                      "must not contain control characters");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateText(absl::string_view field, absl::string_view text, size_t max_chars) {
  return CheckText(field, text, max_chars, "");
}

absl::Status ValidateName(absl::string_view field, absl::string_view text) {
  return CheckText(field, text, static_cast<size_t>(ProcessLimits().max_name_chars),
                   "--max_name_chars");
}

absl::Status ValidateLongText(absl::string_view field, absl::string_view text) {
  return CheckText(field, text, static_cast<size_t>(ProcessLimits().max_text_chars),
                   "--max_text_chars");
}

absl::Status ValidateListSize(absl::string_view field, size_t size) {
  const size_t limit = static_cast<size_t>(ProcessLimits().max_list_items);
  if (size <= limit) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ": has ", size, " items, at most ", limit,
                                                 " are allowed (--max_list_items)"));
}

absl::Status ValidateFinite(absl::string_view field, double value) {
  if (!std::isfinite(value))
    return FieldError(field, absl::StrCat(value), "must be a finite number");
  return absl::OkStatus();
}

absl::Status ValidateLocalGovernmentCode(absl::string_view field, absl::string_view code) {
  bool digits = code.size() == 6;
  for (char c : code) digits = digits && absl::ascii_isdigit(c);
  if (!digits) return FieldError(field, code, "must be six digits (全国地方公共団体コード)");
  int sum = 0;
  for (int i = 0; i < 5; ++i) sum += (code[i] - '0') * (6 - i);
  const int check = (11 - sum % 11) % 10;
  if (code[5] - '0' != check) {
    return FieldError(field, code, absl::StrCat("has a wrong check digit: expected ", check));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> EffectivePageSize(absl::string_view field, int requested) {
  if (requested == 0) return 100;
  if (requested < 0 || requested > 1000) {
    return FieldError(field, absl::StrCat(requested), "must be from 1 to 1000, or 0 for 100");
  }
  return requested;
}

}  // namespace suishin
