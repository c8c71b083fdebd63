// Text laid out for a terminal: display widths of UTF-8 text, wrapping, and
// aligned tables.
//
// A terminal gives each character one or two columns (common/text.h says
// which); counting bytes or code points instead would misalign every
// Japanese column.
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

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/text.h"

namespace suishin::ctl {

// Display widths are common/text.h's.
using ::suishin::CodePointWidth;
using ::suishin::DisplayWidth;

// The width tables are laid out for: the terminal's own column count when
// standard output is one (`terminal_columns`, from ioctl TIOCGWINSZ; unset or
// 0 when it is not a terminal or does not say), else $COLUMNS
// (`columns_env`, unset when the variable is not set; shells set it without
// exporting it, so it is often missing), else `fallback`. A value that is
// not a positive whole number is skipped.
int ChooseTerminalWidth(std::optional<int> terminal_columns,
                        std::optional<absl::string_view> columns_env, int fallback);

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
