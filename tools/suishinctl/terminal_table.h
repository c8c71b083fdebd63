// Text laid out for a terminal: display widths of UTF-8 text, wrapping, and
// aligned tables.
//
// A terminal gives each character one or two columns. Kanji, kana, the
// full-width forms (Ａ, ２, （) and CJK punctuation (、。【】) take two, as
// Unicode's East Asian Width property says for the "Wide" (W) and "Fullwidth"
// (F) classes; ASCII and half-width katakana take one; combining marks and
// zero-width characters take none. "Ambiguous" characters (■, ①, ×) are
// counted as one column, as wcwidth() does outside CJK legacy locales.
// Counting bytes or code points instead would misalign every Japanese column.
//
// Example:
//   TerminalTable table({"id", "年度", "取組"});
//   table.AddRow({"n04", "R2 (2020)", "都市部からの医療従事者の招へい…"});
//   std::cout << table.Render(/*max_width=*/100);  // last column wrapped to fit
//
// All functions are pure; a TerminalTable is a plain value (not thread-safe
// while being filled).
#ifndef SUISHIN_TOOLS_SUISHINCTL_TERMINAL_TABLE_H_
#define SUISHIN_TOOLS_SUISHINCTL_TERMINAL_TABLE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace suishin::ctl {

// Columns that code point `cp` takes in a terminal: 0, 1 or 2 (see above).
// Control characters count 0.
int CodePointWidth(char32_t cp);

// Columns that UTF-8 `text` takes. A byte that does not start a valid UTF-8
// sequence counts as one column (a terminal shows it as one replacement mark).
int DisplayWidth(absl::string_view text);

// Splits `text` into lines of at most `width` display columns each.
//
// - Lines break between characters, never inside a UTF-8 sequence, and a
//   zero-width character (a combining mark) stays with the one before it.
// - A run of ASCII letters and digits (a word, a number, a URL) is moved
//   whole to the next line when it fits there; otherwise it is split.
// - 禁則 (kinsoku): a line does not start with closing punctuation such as
//   、。」）】・ when the character before it can move down with it.
// - Spaces at a break are dropped; "\n" forces a break.
// - A character wider than `width` gets a line of its own (so `width` < 2
//   cannot loop forever). `width` <= 0 means no wrapping.
// Empty `text` gives one empty line.
std::vector<std::string> WrapText(absl::string_view text, int width);

// `text` followed by spaces up to `width` display columns (unchanged if wider).
std::string PadRight(absl::string_view text, int width);
// Spaces up to `width` display columns followed by `text`.
std::string PadLeft(absl::string_view text, int width);

// A table whose columns line up by display width: every cell of a column
// starts at the same terminal column. Columns are separated by two spaces;
// a header row is followed by a rule of '-'. Cells may hold several lines
// ("\n"); the last column is also wrapped to fit a maximum width.
class TerminalTable {
 public:
  enum class Align { kLeft, kRight };

  // `headers` fixes the number of columns. Empty header texts everywhere (or
  // no headers, with `columns`) mean no header row and no rule.
  explicit TerminalTable(std::vector<std::string> headers);
  static TerminalTable WithoutHeader(int columns);

  // Right-aligns column `column` (numbers). Columns are left-aligned by default.
  void SetAlign(int column, Align align);

  // Adds a row. Missing cells are empty; cells beyond the column count are dropped.
  void AddRow(std::vector<std::string> cells);

  int rows() const { return static_cast<int>(rows_.size()); }

  // The table as text, each line ending in "\n", without trailing spaces.
  // With `max_width` > 0 the last column is wrapped so that each line fits in
  // `max_width` columns; it keeps at least kMinLastColumnWidth columns even
  // when the others leave less room.
  std::string Render(int max_width = 0) const;

  static constexpr int kMinLastColumnWidth = 16;
  static constexpr absl::string_view kColumnGap = "  ";

 private:
  std::vector<std::string> headers_;
  std::vector<Align> aligns_;
  std::vector<std::vector<std::string>> rows_;
  bool has_header_ = false;
};

}  // namespace suishin::ctl

#endif  // SUISHIN_TOOLS_SUISHINCTL_TERMINAL_TABLE_H_
