#include "common/fiscal_year.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace suishin {
namespace {

struct ParseCase {
  std::string input;
  int expected;
};

TEST(FiscalYearTest, ParsesEveryAcceptedForm) {
  const std::vector<ParseCase> cases = {
      // Gregorian.
      {"2019", 2019},
      {"1989", 1989},
      {"2100", 2100},
      {"02019", 2019},
      {"FY2019", 2019},
      {"FY 2019", 2019},
      {"fy2019", 2019},
      {"Fy2020", 2020},
      {"2019年度", 2019},
      {"2019 年度", 2019},
      {"2019年", 2019},
      {"FY2019年度", 2019},
      // 令和 (Reiwa): R元 = R1 = 2019.
      {"R元", 2019},
      {"r元", 2019},
      {"R1", 2019},
      {"R01", 2019},
      {"R2", 2020},
      {"R 2", 2020},
      {"R2年度", 2020},
      {"R82", 2100},
      {"令和元年度", 2019},
      {"令和元年", 2019},
      {"令和1年度", 2019},
      {"令和2年度", 2020},
      {"令和 2 年度", 2020},
      // 平成 (Heisei): H元 = 1989, H31 = R元 = 2019.
      {"H元", 1989},
      {"H1", 1989},
      {"H30", 2018},
      {"h30", 2018},
      {"H31", 2019},
      {"平成元年度", 1989},
      {"平成30年度", 2018},
      {"平成31年度", 2019},
      {"平成26年", 2014},
      // Full-width digits and letters, anywhere, mixed with ASCII.
      {"２０１９", 2019},
      {"20１9年", 2019},
      {"２０１９年度", 2019},
      {"ＦＹ２０１９", 2019},
      {"ｆｙ2019", 2019},
      {"FＹ　２０１９", 2019},
      {"Ｒ２", 2020},
      {"ｒ２", 2020},
      {"Ｒ元", 2019},
      {"Ｒ０１", 2019},
      {"令和２年度", 2020},
      {"Ｈ３０", 2018},
      {"平成３１年度", 2019},
      // Surrounding ASCII and full-width (U+3000) spaces are trimmed.
      {" 2019 ", 2019},
      {"\t2019\n", 2019},
      {"　令和元年度　", 2019},
      {" 　R2　 ", 2020},
  };
  for (const ParseCase& c : cases) {
    SCOPED_TRACE(c.input);
    const absl::StatusOr<int> year = ParseFiscalYear(c.input);
    ASSERT_TRUE(year.ok()) << year.status();
    EXPECT_EQ(*year, c.expected);
  }
}

struct ErrorCase {
  std::string input;
  // Every one of these must appear in the message.
  std::vector<std::string> says;
};

TEST(FiscalYearTest, RejectsWithAMessageThatQuotesTheInputAndSaysWhy) {
  const std::vector<ErrorCase> cases = {
      {"", {"empty"}},
      {"   ", {"empty"}},
      {"　", {"empty"}},
      {"abc", {"expected a year such as"}},
      {"2019.5", {"unexpected \".5\" after \"2019\""}},
      {"-2019", {"cannot be negative"}},
      {"+2019", {"expected a year such as"}},
      {"2019年度度", {"unexpected \"度\" after \"2019年度\""}},
      {"2019 5", {"unexpected \"5\" after \"2019\""}},
      {"FY", {"no year after \"FY\""}},
      {"ＦＹ　", {"no year after \"ＦＹ\""}},
      {"R", {"no year after \"R\""}},
      {"  FY ", {"no year after \"FY\""}},
      {"令和", {"no year after \"令和\""}},
      {"令和年度", {"expected a year number or 元 after \"令和\", found \"年度\""}},
      {"FYR2", {"expected a year number or 元 after \"FY\", found \"R2\""}},
      {"FY元", {"元 (the first year of an era) needs an era"}},
      {"元年度", {"needs an era"}},
      {"99999", {"99999 is outside 1989–2100"}},
      {"1988", {"1988 is outside 1989–2100"}},
      {"2101", {"2101 is outside 1989–2100"}},
      {"0", {"0 is outside 1989–2100"}},
      {"19", {"19 is outside 1989–2100", "in full"}},
      {"12345678901234567890", {"far too large"}},
      {"R83", {"R83 is 2101", "outside 1989–2100", "R82"}},
      {"令和83年度", {"R83 is 2101"}},
      {"R0", {"era years start at 元 (1)", "R元 (2019)"}},
      {"R00", {"era years start at 元 (1)"}},
      {"令和0年度", {"era years start at 元 (1)", "R元 (2019)"}},
      {"H0", {"era years start at 元 (1)", "H元 (1989)"}},
      {"H32", {"平成 ended with H31 (2019)", "H32 would be 2020", "R2"}},
      {"平成32年度", {"平成 ended with H31 (2019)", "R2 (令和2年度)"}},
      {"Ｈ３２", {"平成 ended with H31 (2019)", "R2"}},
      {"H200", {"平成 ended with H31 (2019)", "2188, outside 1989–2100"}},
      {"S63", {"昭和 (S) ended in January 1989", "H元 (1989)", "S63 is fiscal 1988"}},
      {"昭和63年度", {"昭和 (S) ended in January 1989", "S63 is fiscal 1988"}},
      {"S64", {"昭和 (S) ended in January 1989"}},
      {"T5", {"expected a year such as"}},
      {"FY2019x", {"unexpected \"x\" after \"FY2019\""}},
      {"　R2 x ", {"unexpected \"x\" after \"R2\""}},
      {"Ｒ２ｘ", {"unexpected \"ｘ\" after \"Ｒ２\""}},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.input);
    const absl::StatusOr<int> year = ParseFiscalYear(c.input);
    ASSERT_FALSE(year.ok()) << "parsed as " << *year;
    EXPECT_EQ(year.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(year.status().message());
    EXPECT_NE(message.find(absl::StrCat("\"", c.input, "\"")), std::string::npos) << message;
    for (const std::string& part : c.says) {
      EXPECT_NE(message.find(part), std::string::npos) << message << "\n  lacks: " << part;
    }
  }
}

TEST(FiscalYearTest, EscapesUnprintableAndInvalidBytesInTheMessage) {
  const absl::StatusOr<int> invalid = ParseFiscalYear("R\xff");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid.status().message(),
            "invalid fiscal year \"R\\xff\": the text is not valid UTF-8");

  const absl::StatusOr<int> control = ParseFiscalYear(
      "20\x01"
      "19");
  ASSERT_FALSE(control.ok());
  EXPECT_NE(control.status().message().find("\"20\\x0119\""), absl::string_view::npos)
      << control.status();
}

TEST(FiscalYearTest, CutsLongInputsInTheMessage) {
  const std::string input(1000, '9');
  const absl::StatusOr<int> year = ParseFiscalYear(input);
  ASSERT_FALSE(year.ok());
  EXPECT_LT(year.status().message().size(), 200u) << year.status();
  EXPECT_NE(year.status().message().find("…"), absl::string_view::npos) << year.status();
}

TEST(FiscalYearTest, ParsesReiwaGannen) {
  EXPECT_EQ(*ParseFiscalYear("R元"), 2019);
  EXPECT_EQ(*ParseFiscalYear("令和元年度"), 2019);
}

TEST(FiscalYearTest, H31AndR1AreTheSameYear) {
  EXPECT_EQ(*ParseFiscalYear("H31"), *ParseFiscalYear("R1"));
  EXPECT_EQ(*ParseFiscalYear("平成31年度"), *ParseFiscalYear("令和元年度"));
}

struct FormatCase {
  int year;
  std::string era;
  std::string display;
  std::string japanese;
};

TEST(FiscalYearTest, FormatsEraDisplayAndJapaneseForms) {
  const std::vector<FormatCase> cases = {
      {1989, "H元", "H元 (1989)", "平成元年度"}, {1990, "H2", "H2 (1990)", "平成2年度"},
      {2014, "H26", "H26 (2014)", "平成26年度"}, {2018, "H30", "H30 (2018)", "平成30年度"},
      {2019, "R元", "R元 (2019)", "令和元年度"}, {2020, "R2", "R2 (2020)", "令和2年度"},
      {2100, "R82", "R82 (2100)", "令和82年度"},
  };
  for (const FormatCase& c : cases) {
    SCOPED_TRACE(c.year);
    EXPECT_EQ(EraFiscalYear(c.year), c.era);
    EXPECT_EQ(FormatFiscalYear(c.year), c.display);
    EXPECT_EQ(JapaneseFiscalYear(c.year), c.japanese);
  }
}

TEST(FiscalYearTest, FormatsYearsBefore1989AsPlainDigits) {
  EXPECT_EQ(EraFiscalYear(1988), "1988");
  EXPECT_EQ(FormatFiscalYear(1988), "1988");
  EXPECT_EQ(JapaneseFiscalYear(1988), "1988年度");
}

TEST(FiscalYearTest, ValidateAcceptsTheSupportedRange) {
  EXPECT_TRUE(ValidateFiscalYear("fiscal_year.year", kMinFiscalYear).ok());
  EXPECT_TRUE(ValidateFiscalYear("fiscal_year.year", 2019).ok());
  EXPECT_TRUE(ValidateFiscalYear("fiscal_year.year", kMaxFiscalYear).ok());
}

TEST(FiscalYearTest, ValidateNamesFieldAndValue) {
  const absl::Status low = ValidateFiscalYear("fiscal_year.year", 1988);
  EXPECT_EQ(low.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(low.message(), "fiscal_year.year: 1988 is outside 1989–2100");

  const absl::Status high = ValidateFiscalYear("target.fiscal_year", 2101);
  EXPECT_EQ(high.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(high.message(), "target.fiscal_year: 2101 is outside 1989–2100");

  const absl::Status negative = ValidateFiscalYear("baseline.fiscal_year", -1);
  EXPECT_EQ(negative.message(), "baseline.fiscal_year: -1 is outside 1989–2100");
}

TEST(FiscalYearTest, EveryFormattedYearParsesBack) {
  for (int year = kMinFiscalYear; year <= kMaxFiscalYear; ++year) {
    SCOPED_TRACE(year);
    for (const std::string& text :
         {EraFiscalYear(year), JapaneseFiscalYear(year), absl::StrCat(year)}) {
      const absl::StatusOr<int> parsed = ParseFiscalYear(text);
      ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
      EXPECT_EQ(*parsed, year) << text;
    }
  }
}

}  // namespace
}  // namespace suishin
