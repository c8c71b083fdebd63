// Fiscal years (年度) as the promotion tables write them.
//
// A Japanese fiscal year runs from April to March and is stored everywhere as
// the Gregorian year it starts in: fiscal 2019 (令和元年度) is April 2019 to
// March 2020 and is stored as the int 2019. People write the same year many
// ways (`2019`, `FY2019`, `2019年度`, `R元`, `R1`, `令和元年度`, `H31`,
// `平成31年度`, with full-width digits and letters as often as not), so input
// goes through `ParseFiscalYear()`, and output goes through
// `FormatFiscalYear()`, which shows the era form and the Gregorian year side
// by side.
//
// Eras: 平成 (Heisei, H) 1 = 1989 … H31 = 2019; 令和 (Reiwa, R) 1 = 2019. H31
// and R1 both name fiscal 2019. Reiwa began on 1 May 2019, so fiscal 2019 is
// displayed as R元 (the first year of an era is written 元, "gannen"):
// output uses 令和 from 2019 onwards and 平成 for 1989–2018.
//
// Supported fiscal years are [kMinFiscalYear, kMaxFiscalYear], H元 to R82.
//
// Example:
//   absl::StatusOr<int> year = ParseFiscalYear("令和２年度");
//   if (!year.ok()) return year.status();  // INVALID_ARGUMENT, quotes the input
//   std::cout << FormatFiscalYear(*year);  // "R2 (2020)"
//
//   RETURN_IF_ERROR(ValidateFiscalYear("fiscal_year.year", request.year()));
//
// All functions are pure and safe to call from any thread.
#ifndef SUISHIN_COMMON_FISCAL_YEAR_H_
#define SUISHIN_COMMON_FISCAL_YEAR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace suishin {

// The first supported fiscal year: 平成元年度 (H元).
inline constexpr int kMinFiscalYear = 1989;
// The last supported fiscal year: 令和82年度 (R82).
inline constexpr int kMaxFiscalYear = 2100;

// Parses a fiscal year as people write it and returns the Gregorian year it
// starts in, within [kMinFiscalYear, kMaxFiscalYear].
//
// The grammar, after trimming ASCII and full-width (U+3000) spaces:
//
//   [prefix] [spaces] number [spaces] [年度 | 年]
//
// where prefix is `FY` (Gregorian), `H` or `平成`, `R` or `令和`, or nothing
// (Gregorian), and number is decimal digits or `元` (era prefixes only).
// Latin letters are case-insensitive; full-width digits (０–９) and letters
// (Ｈ, Ｒ, ＦＹ) are accepted anywhere, also mixed with ASCII ones.
// Accepted: `2019`, `FY 2019`, `2019年度`, `R元`, `R01`, `Ｒ２`, `R2年度`,
// `令和元年`, `令和２年度`, `H31`, `平成元年度`.
//
// Errors are INVALID_ARGUMENT with a message that quotes the input and says
// what is wrong with it: not a fiscal year at all, an era year of 0 (era
// years start at 元), a 平成 year after H31 (with the 令和 year to write
// instead), a 昭和 (S) year (before 1989), text left over after the year, or a
// year outside [kMinFiscalYear, kMaxFiscalYear].
absl::StatusOr<int> ParseFiscalYear(absl::string_view text);

// Returns OK if `year` (a Gregorian fiscal year) is within [kMinFiscalYear,
// kMaxFiscalYear]; otherwise INVALID_ARGUMENT naming `field` and the value,
// e.g. "fiscal_year.year: 1988 is outside 1989–2100".
absl::Status ValidateFiscalYear(absl::string_view field, int year);

// Returns the short era form of a Gregorian fiscal year: 1989 → "H元",
// 2018 → "H30", 2019 → "R元", 2020 → "R2". 令和 from 2019 onwards, 平成 for
// 1989–2018; a year before 1989 comes back as plain digits ("1988").
std::string EraFiscalYear(int year);

// Returns the display form used everywhere in output: the era form and the
// Gregorian year, "R元 (2019)", "H30 (2018)". A year before 1989 has no era
// form and comes back as plain digits ("1988").
std::string FormatFiscalYear(int year);

// Returns the Japanese long form as the seed document prints it:
// 2019 → "令和元年度", 2020 → "令和2年度", 2018 → "平成30年度" (ASCII
// digits). A year before 1989 comes back as "1988年度".
std::string JapaneseFiscalYear(int year);

}  // namespace suishin

#endif  // SUISHIN_COMMON_FISCAL_YEAR_H_
