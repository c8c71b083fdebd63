#include "common/validation.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace suishin {
namespace {

constexpr absl::string_view kField = "region.id";

// Checks the one error form every validator promises:
//   INVALID_ARGUMENT "<field>: <problem> (got \"<quoted>\")".
void ExpectFieldError(const absl::Status& status, absl::string_view field,
                      absl::string_view quoted) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), absl::StrCat(field, ": "))) << status;
  EXPECT_TRUE(absl::EndsWith(status.message(), absl::StrCat(" (got \"", quoted, "\")"))) << status;
}

// ---------------------------------------------------------------- FieldError

TEST(FieldErrorTest, HasTheDocumentedForm) {
  EXPECT_EQ(FieldError("region.id", "Soya", "must be lower-case"),
            absl::InvalidArgumentError("region.id: must be lower-case (got \"Soya\")"));
}

// ---------------------------------------------------------------- ValidateId

TEST(ValidateIdTest, AcceptsWellFormedIds) {
  const std::vector<std::string> ids = {
      "dohoku", "a1-b", "a", "soya-2024", "a--b", std::string(63, 'z'),
  };
  for (const std::string& id : ids) {
    EXPECT_TRUE(ValidateId(kField, id).ok()) << id << ": " << ValidateId(kField, id);
  }
}

TEST(ValidateIdTest, RejectsMalformedIdsNamingFieldAndValue) {
  const std::vector<std::string> ids = {
      "",                     // empty
      "Soya",                 // upper case
      "1abc",                 // starts with a digit
      "-abc",                 // starts with '-'
      "a_b",                  // underscore
      "a b",                  // space
      "a.b",                  // dot
      "end-",                 // ends with '-'
      std::string(64, 'z'),   // one too long
      "道北",                 // not ASCII
      "dohoku\xe3\x80\x80",   // trailing ideographic space
      std::string("a\0b", 3)  // embedded NUL
  };
  for (const std::string& id : ids) {
    SCOPED_TRACE(absl::StrCat("id \"", id, "\""));
    ExpectFieldError(ValidateId(kField, id), kField, id);
  }
}

// ---------------------------------------------------------------- ValidateText

constexpr absl::string_view kTextField = "initiative.title";

TEST(ValidateTextTest, AcceptsOrdinaryText) {
  const std::vector<std::string> texts = {
      "道北地域の人口減少対策",
      "a",
      "line one\nline two",
      "windows\r\nline",
      " leading and trailing spaces ",
      "😀 four-byte characters",
  };
  for (const std::string& text : texts) {
    EXPECT_TRUE(ValidateText(kTextField, text, 100).ok()) << text;
  }
}

TEST(ValidateTextTest, RejectsBlankTextIncludingIdeographicSpace) {
  const std::vector<std::string> texts = {
      "", " ", "   ", "\n", "\t\r\n", "\u3000", "\u3000\u3000", " \u3000 ",
  };
  for (const std::string& text : texts) {
    const absl::Status status = ValidateText(kTextField, text, 100);
    SCOPED_TRACE(absl::StrCat("text \"", text, "\""));
    ExpectFieldError(status, kTextField, text);
    EXPECT_TRUE(absl::StrContains(status.message(), "must not be empty")) << status;
  }
}

TEST(ValidateTextTest, CountsLengthInCharactersNotBytes) {
  // Five Japanese characters are 15 bytes.
  EXPECT_TRUE(ValidateText(kTextField, "宗谷総合振", 5).ok());
  EXPECT_TRUE(ValidateText(kTextField, "abcde", 5).ok());
  EXPECT_TRUE(ValidateText(kTextField, "😀😀😀😀😀", 5).ok());
}

TEST(ValidateTextTest, RejectsTextOverTheLimitInCharacters) {
  const std::vector<std::string> texts = {"宗谷総合振興", "abcdef", "😀😀😀😀😀😀"};
  for (const std::string& text : texts) {
    const absl::Status status = ValidateText(kTextField, text, 5);
    SCOPED_TRACE(text);
    ExpectFieldError(status, kTextField, text);
    EXPECT_TRUE(absl::StrContains(status.message(), "at most 5 characters, has 6")) << status;
  }
}

TEST(ValidateTextTest, TooLongMessageQuotesTheStartOfTheValue) {
  const std::string text(200, 'x');
  const absl::Status status = ValidateText(kTextField, text, 100);
  ExpectFieldError(status, kTextField, std::string(30, 'x'));
}

TEST(ValidateTextTest, TooLongMessageIsValidUtf8) {
  std::string text = "a";  // Shifts the 3-byte characters so byte 30 falls inside one.
  for (int i = 0; i < 20; ++i) text += "道";
  const absl::Status status = ValidateText(kTextField, text, 5);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(IsValidUtf8(status.message())) << status;
}

TEST(ValidateTextTest, RejectsInvalidUtf8) {
  const std::vector<std::string> texts = {
      "\xff",              // never valid
      "\x80",              // lone continuation byte
      "\xc0\xaf",          // overlong '/'
      "\xc1\xbf",          // overlong
      "\xe0\x80\xaf",      // overlong 3-byte '/'
      "\xf0\x80\x80\xaf",  // overlong 4-byte '/'
      "\xed\xa0\x80",      // lone high surrogate U+D800
      "\xed\xbf\xbf",      // lone low surrogate U+DFFF
      "\xf4\x90\x80\x80",  // U+110000, beyond Unicode
      "\xe3\x81",          // truncated 3-byte sequence
      "\xe3\x81"
      "a",                             // continuation replaced by ASCII
      "valid start \xff",              // invalid after valid text
      "\xe9\x81\x93\xe5\x8c\x97\xff",  // 道北 then junk
  };
  for (const std::string& text : texts) {
    const absl::Status status = ValidateText(kTextField, text, 100);
    SCOPED_TRACE(absl::CEscape(text));
    // The value itself cannot go into a UTF-8 message, so it is replaced by a
    // placeholder; the message must stay valid UTF-8.
    ExpectFieldError(status, kTextField, "<invalid UTF-8>");
    EXPECT_TRUE(IsValidUtf8(status.message())) << absl::CEscape(status.message());
  }
}

TEST(ValidateTextTest, RejectsAsciiControlCharacters) {
  const std::vector<std::string> texts = {
      "bell\a",
      "esc\x1b[31m",
      "back\bspace",
      "vertical\vtab",
      "form\ffeed",
      "unit\x1fsep",
      std::string("nul\0inside", 10),
  };
  for (const std::string& text : texts) {
    const absl::Status status = ValidateText(kTextField, text, 100);
    SCOPED_TRACE(absl::CEscape(text));
    // Control characters are quoted C-escaped, so the message stays printable.
    ExpectFieldError(status, kTextField, absl::CEscape(text));
    EXPECT_TRUE(absl::StrContains(status.message(), "control characters")) << status;
  }
}

TEST(ValidateTextTest, RejectsDelAndC1ControlCharacters) {
  const std::vector<std::string> texts = {"del\x7f",
                                          "csi\xc2\x9b"
                                          "31m"};
  for (const std::string& text : texts) {
    EXPECT_EQ(ValidateText(kTextField, text, 100).code(), absl::StatusCode::kInvalidArgument)
        << absl::CEscape(text);
  }
}

// ---------------------------------------------------------------- ValidateFinite

TEST(ValidateFiniteTest, AcceptsFiniteNumbers) {
  const std::vector<double> values = {
      0.0,
      -0.0,
      -1.5,
      123456.789,
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::lowest(),
      std::numeric_limits<double>::denorm_min(),
  };
  for (double value : values) {
    EXPECT_TRUE(ValidateFinite("kpi.target", value).ok()) << value;
  }
}

TEST(ValidateFiniteTest, RejectsNanAndInfinitiesNamingFieldAndValue) {
  struct Case {
    double value;
    std::string quoted;
  };
  const std::vector<Case> cases = {
      {std::numeric_limits<double>::quiet_NaN(), "nan"},
      {std::numeric_limits<double>::infinity(), "inf"},
      {-std::numeric_limits<double>::infinity(), "-inf"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.quoted);
    ExpectFieldError(ValidateFinite("kpi.target", c.value), "kpi.target", c.quoted);
  }
}

// ---------------------------------------------------------------- ValidateLocalGovernmentCode

constexpr absl::string_view kCodeField = "municipality.code";

TEST(ValidateLocalGovernmentCodeTest, AcceptsRealCodes) {
  struct Case {
    std::string code;
    std::string name;
  };
  const std::vector<Case> cases = {
      {"010006", "北海道"},
      {"011002", "札幌市"},
      {"012041", "旭川市"},
      {"012149", "稚内市"},
      {"012122", "留萌市"},
      {"130001", "東京都"},
      // Weighted sums ≡ 1 and ≡ 0 (mod 11): the check digit's two edge cases.
      {"090000", "栃木県"},
      {"110001", "埼玉県"},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(ValidateLocalGovernmentCode(kCodeField, c.code).ok())
        << c.name << " " << c.code << ": " << ValidateLocalGovernmentCode(kCodeField, c.code);
  }
}

TEST(ValidateLocalGovernmentCodeTest, RejectsAWrongCheckDigitSayingWhichIsRight) {
  // 稚内市 is 012149; every other last digit is wrong.
  for (char last = '0'; last <= '9'; ++last) {
    if (last == '9') continue;
    const std::string code = absl::StrCat("01214", std::string(1, last));
    const absl::Status status = ValidateLocalGovernmentCode(kCodeField, code);
    SCOPED_TRACE(code);
    ExpectFieldError(status, kCodeField, code);
    EXPECT_TRUE(absl::StrContains(status.message(), "expected 9")) << status;
  }
}

TEST(ValidateLocalGovernmentCodeTest, RejectsAnythingButSixAsciiDigits) {
  const std::vector<std::string> codes = {
      "",       "01214",  "0121490", "01214a", "abcdef",
      "01 149", " 12149", "-12149",  "+12149", "０１２１４９",  // full-width digits
  };
  for (const std::string& code : codes) {
    const absl::Status status = ValidateLocalGovernmentCode(kCodeField, code);
    SCOPED_TRACE(code);
    ExpectFieldError(status, kCodeField, code);
    EXPECT_TRUE(absl::StrContains(status.message(), "six digits")) << status;
  }
}

// ---------------------------------------------------------------- EffectivePageSize

TEST(EffectivePageSizeTest, ZeroMeansTheDefaultOfOneHundred) {
  const absl::StatusOr<int> size = EffectivePageSize("page_size", 0);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 100);
}

TEST(EffectivePageSizeTest, KeepsSizesFromOneToOneThousand) {
  for (int requested : {1, 2, 99, 100, 101, 999, 1000}) {
    const absl::StatusOr<int> size = EffectivePageSize("page_size", requested);
    ASSERT_TRUE(size.ok()) << requested << ": " << size.status();
    EXPECT_EQ(*size, requested);
  }
}

TEST(EffectivePageSizeTest, RejectsNegativeAndOverLargeSizesNamingFieldAndValue) {
  for (int requested :
       {-1, -100, 1001, 100000, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()}) {
    SCOPED_TRACE(requested);
    ExpectFieldError(EffectivePageSize("page_size", requested).status(), "page_size",
                     absl::StrCat(requested));
  }
}

// ---------------------------------------------------------------- UTF-8 helpers

TEST(Utf8Test, LengthCountsCodePoints) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("道北"), 2u);
  EXPECT_EQ(Utf8Length("é"), 1u);
  EXPECT_EQ(Utf8Length("😀"), 1u);
  EXPECT_EQ(Utf8Length("a道😀"), 3u);
}

TEST(Utf8Test, AcceptsTheBoundaryCodePoints) {
  const std::vector<std::string> texts = {
      "",
      std::string("\0", 1),  // U+0000 is well-formed UTF-8
      "\x7f",                // U+007F
      "\xc2\x80",            // U+0080
      "\xdf\xbf",            // U+07FF
      "\xe0\xa0\x80",        // U+0800
      "\xed\x9f\xbf",        // U+D7FF, just below the surrogates
      "\xee\x80\x80",        // U+E000, just above them
      "\xef\xbf\xbf",        // U+FFFF
      "\xf0\x90\x80\x80",    // U+10000
      "\xf4\x8f\xbf\xbf",    // U+10FFFF
  };
  for (const std::string& text : texts) {
    EXPECT_TRUE(IsValidUtf8(text)) << absl::CEscape(text);
  }
}

}  // namespace
}  // namespace suishin
