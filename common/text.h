// UTF-8 text as Japanese users write it and as terminals show it: decoding
// and encoding code points, finding bytes that are not UTF-8, folding the
// full-width forms (Ａ, ２, ％, the ideographic space) to ASCII, and the
// display width of text (East Asian Width).
//
// The one place these rules live: the fiscal-year parser, field validation,
// the CSV codec and column model, and the terminal tables all use them, so
// that a character is decoded, folded and measured the same way everywhere.
//
// Display width: a terminal gives each character one or two columns. Kanji,
// kana, the full-width forms (Ａ, ２, （) and CJK punctuation (、。【】) take
// two, as Unicode's East Asian Width property says for the "Wide" (W) and
// "Fullwidth" (F) classes; ASCII and half-width katakana take one; combining
// marks and zero-width characters take none. "Ambiguous" characters (■, ①,
// ×) count as one column, as wcwidth() does outside CJK legacy locales.
//
// Example:
//   DisplayWidth("R元 (2019)")        // 11
//   FoldFullWidth("ＫＰＩ　２０１９")  // "KPI 2019"
//   FirstInvalidUtf8("ab\xff")        // 2
//
// All functions are pure and safe from any thread.
#ifndef SUISHIN_COMMON_TEXT_H_
#define SUISHIN_COMMON_TEXT_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace suishin {

// The replacement character, what an undecodable byte stands for.
inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// One code point decoded from UTF-8.
struct Utf8Char {
  // The code point; kReplacementCharacter when !valid.
  char32_t code_point = kReplacementCharacter;
  // Bytes it takes: 1–4; 1 for a byte that starts no well-formed sequence,
  // so that a caller can step over bad bytes one at a time.
  size_t size = 1;
  // False for a byte that does not start a well-formed, shortest-form
  // sequence (overlong forms, surrogates, values above U+10FFFF, truncated
  // sequences).
  bool valid = false;
};

// Decodes the code point starting at text[pos] (pos < text.size()).
Utf8Char DecodeUtf8At(absl::string_view text, size_t pos);

// Appends code point `cp` (at most U+10FFFF, not a surrogate) as UTF-8.
void AppendUtf8(char32_t cp, std::string* out);

// The offset of the first byte of `text` that does not start a well-formed
// UTF-8 sequence, or nullopt when all of it is UTF-8.
std::optional<size_t> FirstInvalidUtf8(absl::string_view text);

// The full-width form of an ASCII character (U+FF01–U+FF5E: Ａ, ２, ％, （)
// as that character, the ideographic space U+3000 as ' '; any other code
// point unchanged.
char32_t FoldFullWidth(char32_t cp);
// `text` with every character folded by FoldFullWidth; bytes that are not
// UTF-8 are kept as they are.
std::string FoldFullWidth(absl::string_view text);

// Columns that code point `cp` takes in a terminal: 0, 1 or 2 (see above).
// Control characters count 0.
int CodePointWidth(char32_t cp);
// Columns that UTF-8 `text` takes. A byte that does not start a valid UTF-8
// sequence counts as one column (a terminal shows it as one replacement mark).
int DisplayWidth(absl::string_view text);

}  // namespace suishin

#endif  // SUISHIN_COMMON_TEXT_H_
