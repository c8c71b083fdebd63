#include "common/fiscal_year.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/text.h"

namespace suishin {
namespace {

// The first Gregorian fiscal year of each era, minus one: era year n of 平成
// is 1988 + n, of 令和 2018 + n, of 昭和 1925 + n.
constexpr int kHeiseiOffset = 1988;
constexpr int kReiwaOffset = 2018;
constexpr int kShowaOffset = 1925;
// 平成31年度 (H31) is the last 平成 fiscal year; it is also R元.
constexpr int kLastHeiseiYear = 31;
// More significant digits than this cannot be any fiscal year, and keep the
// arithmetic below well inside int.
constexpr int kMaxSignificantDigits = 9;
// Longer inputs are cut in error messages.
constexpr int kMaxQuotedCodePoints = 40;

constexpr absl::string_view kExpected =
    "expected a year such as 2019, FY2019, 2019年度, R元, 令和元年度 or H30";

// Output uses 令和 from its first fiscal year (2019, R元 = H31) onwards.
bool IsReiwa(int year) { return year > kReiwaOffset; }

// The year within its era as output writes it: "元" for the first, else digits.
std::string EraNumber(int year) {
  const int number = year - (IsReiwa(year) ? kReiwaOffset : kHeiseiOffset);
  return number == 1 ? "元" : absl::StrCat(number);
}

// ---------------------------------------------------------------------------
// UTF-8 and the full-width forms.

constexpr char32_t kInvalidCodePoint = 0xFFFFFFFF;

// One code point decoded from UTF-8. `size` is the number of bytes it took;
// an invalid sequence yields kInvalidCodePoint and size 1, so the caller can
// step over one bad byte at a time.
struct Decoded {
  char32_t code_point;
  std::size_t size;
};

Decoded DecodeUtf8(absl::string_view text, std::size_t pos) {
  const Utf8Char c = DecodeUtf8At(text, pos);
  return {c.valid ? c.code_point : kInvalidCodePoint, c.size};
}

// Maps the full-width forms people type in Japanese input modes to ASCII and
// upper-cases Latin letters: ０–９ (U+FF10–U+FF19) → 0–9, Ａ–Ｚ and ａ–ｚ
// (U+FF21–U+FF3A, U+FF41–U+FF5A) → A–Z, the ideographic space U+3000 → ' '.
// Everything else is returned unchanged.
char32_t Normalize(char32_t c) {
  const char32_t folded = FoldFullWidth(c);
  const bool alnum = (folded >= U'0' && folded <= U'9') || (folded >= U'A' && folded <= U'Z') ||
                     (folded >= U'a' && folded <= U'z');
  if (alnum || folded == U' ') c = folded;
  if (c >= U'a' && c <= U'z') c -= U'a' - U'A';
  return c;
}

bool IsSpace(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == U'\v' || c == U'\f';
}

bool IsDigit(char32_t c) { return c >= U'0' && c <= U'9'; }

// A normalized code point and the bytes of the original text it came from,
// so that error messages can quote exactly what the caller wrote.
struct Char {
  char32_t c;
  std::size_t begin;
  std::size_t end;
};

// Decodes and normalizes `text`; returns false on invalid UTF-8.
bool DecodeNormalized(absl::string_view text, std::vector<Char>& out) {
  out.clear();
  for (std::size_t pos = 0; pos < text.size();) {
    const Decoded d = DecodeUtf8(text, pos);
    if (d.code_point == kInvalidCodePoint) return false;
    out.push_back({Normalize(d.code_point), pos, pos + d.size});
    pos += d.size;
  }
  return true;
}

// Returns `text` fit to stand between double quotes in an error message:
// valid UTF-8 is kept as written (Japanese stays readable), control
// characters, quotes, backslashes and invalid bytes are escaped, and long
// inputs are cut with "…".
std::string Quote(absl::string_view text) {
  std::string out;
  int code_points = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    if (code_points == kMaxQuotedCodePoints) {
      out += "…";
      break;
    }
    ++code_points;
    const Decoded d = DecodeUtf8(text, pos);
    if (d.code_point == kInvalidCodePoint || d.code_point < 0x20 || d.code_point == 0x7F) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(text[pos]));
    } else if (d.code_point == U'"' || d.code_point == U'\\') {
      out += '\\';
      out += text[pos];
    } else {
      out.append(text.data() + pos, d.size);
    }
    pos += d.size;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The grammar: [prefix] [spaces] number [spaces] [年度 | 年].

enum class Era { kGregorian, kShowa, kHeisei, kReiwa };

struct Prefix {
  std::u32string_view spelling;  // normalized: upper-case ASCII
  Era era;
};

// Longer spellings first where one begins another.
constexpr Prefix kPrefixes[] = {
    {U"FY", Era::kGregorian}, {U"H", Era::kHeisei}, {U"平成", Era::kHeisei}, {U"R", Era::kReiwa},
    {U"令和", Era::kReiwa},   {U"S", Era::kShowa},  {U"昭和", Era::kShowa},
};

// 年度 (fiscal year) and, as people also write it, 年; longer first.
constexpr std::u32string_view kSuffixes[] = {U"年度", U"年"};

bool MatchAt(const std::vector<Char>& chars, std::size_t pos, std::size_t end,
             std::u32string_view word) {
  if (end - pos < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (chars[pos + i].c != word[i]) return false;
  }
  return true;
}

// Parses the text once it has been decoded; `text` is the original input,
// quoted in every error.
class Parser {
 public:
  Parser(absl::string_view text, const std::vector<Char>& chars) : text_(text), chars_(chars) {}

  absl::StatusOr<int> Parse() {
    std::size_t pos = 0;
    std::size_t end = chars_.size();
    while (pos < end && IsSpace(chars_[pos].c)) ++pos;
    while (end > pos && IsSpace(chars_[end - 1].c)) --end;
    if (pos == end) {
      return Error(absl::StrCat("the text is empty; ", kExpected));
    }
    const std::size_t begin = pos;

    // Prefix.
    Era era = Era::kGregorian;
    bool has_prefix = false;
    for (const Prefix& prefix : kPrefixes) {
      if (MatchAt(chars_, pos, end, prefix.spelling)) {
        era = prefix.era;
        has_prefix = true;
        pos += prefix.spelling.size();
        break;
      }
    }
    const std::size_t prefix_end = pos;
    if (has_prefix) {
      while (pos < end && IsSpace(chars_[pos].c)) ++pos;
      if (pos == end) {
        return Error(absl::StrCat("there is no year after \"", Original(begin, prefix_end), "\""));
      }
    }

    // Number: digits, or 元 for the first year of an era.
    const char32_t first = chars_[pos].c;
    if (!IsDigit(first) && first != U'元') {
      if (!has_prefix) {
        if (first == U'-') return Error("a fiscal year cannot be negative");
        return Error(std::string(kExpected));
      }
      return Error(absl::StrCat("expected a year number or 元 after \"",
                                Original(begin, prefix_end), "\", found \"", Original(pos, end),
                                "\""));
    }
    const std::size_t number_begin = pos;
    bool gannen = false;  // 元年: the first year of an era
    int number = 0;
    std::string digits;  // significant digits, ASCII
    if (first == U'元') {
      gannen = true;
      number = 1;
      ++pos;
    } else {
      for (; pos < end && IsDigit(chars_[pos].c); ++pos) {
        const char digit = static_cast<char>(chars_[pos].c);
        if (digits.empty() && digit == '0') continue;
        digits += digit;
        if (digits.size() <= kMaxSignificantDigits) number = number * 10 + (digit - '0');
      }
      if (digits.empty()) digits = "0";
    }
    const std::size_t number_end = pos;
    std::size_t parsed_end = pos;  // the end of the last part recognised

    // Suffix, then nothing else.
    while (pos < end && IsSpace(chars_[pos].c)) ++pos;
    for (std::u32string_view suffix : kSuffixes) {
      if (MatchAt(chars_, pos, end, suffix)) {
        pos += suffix.size();
        parsed_end = pos;
        break;
      }
    }
    if (pos != end) {
      while (IsSpace(chars_[pos].c)) ++pos;  // the trimmed end is not a space
      return Error(absl::StrCat("unexpected \"", Original(pos, end), "\" after \"",
                                Original(begin, parsed_end), "\""));
    }
    if (digits.size() > kMaxSignificantDigits) {
      return Error(absl::StrCat("\"", Original(number_begin, number_end),
                                "\" is far too large for a year; fiscal years are ", kMinFiscalYear,
                                "–", kMaxFiscalYear));
    }

    switch (era) {
      case Era::kGregorian:
        return Gregorian(gannen, number, digits);
      case Era::kShowa:
        return Showa(number);
      case Era::kHeisei:
        return Heisei(number);
      case Era::kReiwa:
        return Reiwa(number);
    }
    return Error(std::string(kExpected));  // unreachable
  }

 private:
  absl::StatusOr<int> Gregorian(bool gannen, int number, const std::string& digits) const {
    if (gannen) {
      return Error(
          "元 (the first year of an era) needs an era before it: R元 (2019) or H元 (1989)");
    }
    if (number < kMinFiscalYear || number > kMaxFiscalYear) {
      std::string message =
          absl::StrCat("the year ", digits, " is outside ", kMinFiscalYear, "–", kMaxFiscalYear);
      if (number < 100) {
        absl::StrAppend(&message,
                        "; write the Gregorian year in full (e.g. 2019) or with its era "
                        "(e.g. R1, H30)");
      }
      return Error(message);
    }
    return number;
  }

  absl::StatusOr<int> Showa(int number) const {
    std::string message = "昭和 (S) ended in January 1989, before the earliest supported fiscal ";
    absl::StrAppend(&message, "year H元 (", kMinFiscalYear, ")");
    if (number >= 1 && number < kMinFiscalYear - kShowaOffset) {
      absl::StrAppend(&message, "; S", number, " is fiscal ", kShowaOffset + number, ", outside ",
                      kMinFiscalYear, "–", kMaxFiscalYear);
    }
    return Error(message);
  }

  absl::StatusOr<int> Heisei(int number) const {
    if (number == 0) {
      return Error(absl::StrCat("era years start at 元 (1); the first year of 平成 is H元 (",
                                kHeiseiOffset + 1, ")"));
    }
    if (number > kLastHeiseiYear) {
      const int year = kHeiseiOffset + number;
      std::string message =
          absl::StrCat("平成 ended with H", kLastHeiseiYear, " (", kHeiseiOffset + kLastHeiseiYear,
                       "); H", number, " would be ", year);
      if (year <= kMaxFiscalYear) {
        absl::StrAppend(&message, ", which is R", year - kReiwaOffset, " (",
                        JapaneseFiscalYear(year), ")");
      } else {
        absl::StrAppend(&message, ", outside ", kMinFiscalYear, "–", kMaxFiscalYear);
      }
      return Error(message);
    }
    return kHeiseiOffset + number;
  }

  absl::StatusOr<int> Reiwa(int number) const {
    if (number == 0) {
      return Error(absl::StrCat("era years start at 元 (1); the first year of 令和 is R元 (",
                                kReiwaOffset + 1, ")"));
    }
    const int year = kReiwaOffset + number;
    if (year > kMaxFiscalYear) {
      return Error(absl::StrCat("R", number, " is ", year, ", outside ", kMinFiscalYear, "–",
                                kMaxFiscalYear, " (the last supported is R",
                                kMaxFiscalYear - kReiwaOffset, ")"));
    }
    return year;
  }

  // The original text behind chars_[begin, end), as Quote() makes it fit
  // for a message.
  std::string Original(std::size_t begin, std::size_t end) const {
    if (begin >= end) return std::string();
    return Quote(text_.substr(chars_[begin].begin, chars_[end - 1].end - chars_[begin].begin));
  }

  absl::Status Error(absl::string_view detail) const {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid fiscal year \"", Quote(text_), "\": ", detail));
  }

  absl::string_view text_;
  const std::vector<Char>& chars_;
};

}  // namespace

absl::StatusOr<int> ParseFiscalYear(absl::string_view text) {
  std::vector<Char> chars;
  if (!DecodeNormalized(text, chars)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid fiscal year \"", Quote(text), "\": the text is not valid UTF-8"));
  }
  return Parser(text, chars).Parse();
}

absl::Status ValidateFiscalYear(absl::string_view field, int year) {
  if (year < kMinFiscalYear || year > kMaxFiscalYear) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", year, " is outside ", kMinFiscalYear, "–", kMaxFiscalYear));
  }
  return absl::OkStatus();
}

std::string EraFiscalYear(int year) {
  if (year < kMinFiscalYear) return absl::StrCat(year);
  return absl::StrCat(IsReiwa(year) ? "R" : "H", EraNumber(year));
}

std::string FormatFiscalYear(int year) {
  if (year < kMinFiscalYear) return absl::StrCat(year);
  return absl::StrCat(EraFiscalYear(year), " (", year, ")");
}

std::string JapaneseFiscalYear(int year) {
  if (year < kMinFiscalYear) return absl::StrCat(year, "年度");
  return absl::StrCat(IsReiwa(year) ? "令和" : "平成", EraNumber(year), "年度");
}

}  // namespace suishin
