#include "tools/suishinctl/terminal_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace suishin::ctl {
namespace {

// True when `text` is well-formed UTF-8 (no cut sequence at either end).
bool IsValidUtf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = text[i];
    const size_t length = lead < 0x80   ? 1
                          : lead < 0xC2 ? 0
                          : lead < 0xE0 ? 2
                          : lead < 0xF0 ? 3
                          : lead < 0xF5 ? 4
                                        : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

struct WidthCase {
  const char* text;
  int width;
};

TEST(DisplayWidthTest, CountsWideCharactersAsTwoColumns) {
  const WidthCase cases[] = {
      {"", 0},
      {"abc", 3},
      {"R2 (2020)", 9},
      {"北海道", 6},                    // CJK ideographs
      {"ひらがな", 8},                  // Hiragana
      {"カタカナ", 8},                  // Katakana
      {"ー", 2},                        // long vowel mark (Katakana block)
      {"ＡＢＣ１２３", 12},             // full-width forms U+FF01–FF60
      {"令和２年度", 10},               // kanji and a full-width digit
      {"（）！～", 8},                  // full-width punctuation, U+FF5E
      {"￥￡", 4},                      // U+FFE5, U+FFE1
      {"、。「」【宗谷】　", 18},       // CJK punctuation U+3000–303E
      {"ｶﾀｶﾅ", 4},                      // half-width katakana stay narrow
      {"地域のPRと移住体験", 18},       // mixed: 8 wide + 2 ASCII
      {"施策展開: 5 KPIs", 16},         // mixed, with spaces
      {"\xE3\x81\x8B\xE3\x82\x99", 2},  // か + combining voiced mark = が
      {"e\xCC\x81", 1},                 // e + combining acute
      {"■", 1},                         // East Asian Ambiguous: narrow
      {"\x80x", 2},                     // a stray continuation byte counts one
      {"\xE5\x8C", 2},                  // a cut sequence: two stray bytes
  };
  for (const WidthCase& c : cases) {
    EXPECT_EQ(DisplayWidth(c.text), c.width) << "\"" << c.text << "\"";
  }
}

TEST(DisplayWidthTest, RangeBoundaries) {
  const std::pair<char32_t, int> cases[] = {
      {U'A', 1},   {0x00E9, 1}, {0x0007, 0}, {0x0301, 0},  {0x2FFF, 2}, {0x3000, 2},
      {0x303E, 2}, {0x303F, 1}, {0x3041, 2}, {0x3099, 0},  {0x30FF, 2}, {0x4E00, 2},
      {0x9FFF, 2}, {0xFF00, 1}, {0xFF01, 2}, {0xFF60, 2},  {0xFF61, 1}, {0xFFDF, 1},
      {0xFFE0, 2}, {0xFFE6, 2}, {0xFFE7, 1}, {0x20000, 2}, {0x200B, 0}, {0xFE0F, 0},
  };
  for (const auto& [cp, width] : cases) {
    EXPECT_EQ(CodePointWidth(cp), width) << std::hex << "U+" << static_cast<uint32_t>(cp);
  }
}

TEST(WrapTextTest, WrapsJapaneseAtTheDisplayWidth) {
  EXPECT_EQ(WrapText("少子高齢化が進むなか", 8),
            (std::vector<std::string>{"少子高齢", "化が進む", "なか"}));
}

TEST(WrapTextTest, LeavesAColumnEmptyRatherThanSplitAWideCharacter) {
  EXPECT_EQ(WrapText("あいうえ", 5), (std::vector<std::string>{"あい", "うえ"}));
}

TEST(WrapTextTest, FullWidthDigitsTakeTwoColumns) {
  EXPECT_EQ(WrapText("令和２年度ＦＹ２０２０", 6),
            (std::vector<std::string>{"令和２", "年度Ｆ", "Ｙ２０", "２０"}));
}

TEST(WrapTextTest, MixedTextCountsAsciiAsOneColumn) {
  // 管内への医療従事者を呼び込むための地域のPRと移住体験の促進 (from the seed).
  const std::vector<std::string> lines =
      WrapText("管内への医療従事者を呼び込むための地域のPRと移住体験の促進", 20);
  EXPECT_EQ(lines, (std::vector<std::string>{"管内への医療従事者を", "呼び込むための地域の",
                                             "PRと移住体験の促進"}));
}

TEST(WrapTextTest, KeepsAsciiWordsWhole) {
  EXPECT_EQ(WrapText("自主防災組織率 43.4% を達成", 16),
            (std::vector<std::string>{"自主防災組織率", "43.4% を達成"}));
  EXPECT_EQ(WrapText("see example.jp now", 12),
            (std::vector<std::string>{"see", "example.jp", "now"}));
}

TEST(WrapTextTest, SplitsAWordLongerThanTheWidth) {
  EXPECT_EQ(WrapText("abcdefghij", 4), (std::vector<std::string>{"abcd", "efgh", "ij"}));
}

TEST(WrapTextTest, DoesNotStartALineWithClosingPunctuation) {
  // Plain breaking would give "あいう" / "、えお": う moves down with 、.
  EXPECT_EQ(WrapText("あいう、えお", 6), (std::vector<std::string>{"あい", "う、え", "お"}));
  // Nor end one with an opening bracket: 「 moves down; え moves down with 」.
  EXPECT_EQ(WrapText("あい「うえ」", 6), (std::vector<std::string>{"あい", "「う", "え」"}));
}

TEST(WrapTextTest, DropsSpacesAtABreakAndKeepsForcedBreaks) {
  EXPECT_EQ(WrapText("hello world", 5), (std::vector<std::string>{"hello", "world"}));
  EXPECT_EQ(WrapText("上川\n留萌", 10), (std::vector<std::string>{"上川", "留萌"}));
}

TEST(WrapTextTest, EdgeCases) {
  EXPECT_EQ(WrapText("", 10), (std::vector<std::string>{""}));
  EXPECT_EQ(WrapText("漢字", 1), (std::vector<std::string>{"漢", "字"}));  // no endless loop
  EXPECT_EQ(WrapText("漢字かな", 0), (std::vector<std::string>{"漢字かな"}));
  // A combining mark stays with its base character.
  EXPECT_EQ(WrapText("か\xE3\x82\x99か\xE3\x82\x99", 2),
            (std::vector<std::string>{"か\xE3\x82\x99", "か\xE3\x82\x99"}));
}

TEST(WrapTextTest, NeverBreaksAUtf8SequenceAndLosesNothing) {
  const std::string text =
      "災害（地震、津波、大雨、火山等）に対する防災体制の強化等 (bousai) ＦＹ２０２０ R2年度";
  for (int width = 1; width <= 40; ++width) {
    const std::vector<std::string> lines = WrapText(text, width);
    std::string joined;
    for (const std::string& line : lines) {
      EXPECT_TRUE(IsValidUtf8(line)) << "width " << width << ": \"" << line << "\"";
      if (DisplayWidth(line) > 2) {  // A single wide character may exceed width 1.
        EXPECT_LE(DisplayWidth(line), width) << "width " << width << ": \"" << line << "\"";
      }
      joined += line;
    }
    std::string without_spaces = text;
    without_spaces.erase(std::remove(without_spaces.begin(), without_spaces.end(), ' '),
                         without_spaces.end());
    joined.erase(std::remove(joined.begin(), joined.end(), ' '), joined.end());
    EXPECT_EQ(joined, without_spaces) << "width " << width;
  }
}

// The display column at which each of `cells` starts in `line`, found left to right.
std::vector<int> CellStarts(const std::string& line, const std::vector<std::string>& cells) {
  std::vector<int> starts;
  size_t from = 0;
  for (const std::string& cell : cells) {
    const size_t at = line.find(cell, from);
    if (at == std::string::npos) return {};
    starts.push_back(DisplayWidth(line.substr(0, at)));
    from = at + cell.size();
  }
  return starts;
}

TEST(TerminalTableTest, EveryColumnStartsAtTheSameDisplayColumn) {
  const std::vector<std::string> headers = {"id", "名称", "区分", "地域", "取組"};
  const std::vector<std::vector<std::string>> rows = {
      {"hokkaido", "北海道", "都道府県", "連携地域", "a"},
      {"soya", "宗谷", "振興局", "【宗谷】", "都市部からの医療従事者の招へい"},
      {"n01", "ＡＢＣ１２３", "x", "【上川】【宗谷】", "PRと移住"},
      {"a-much-longer-ascii-id", "ｶﾀｶﾅ", "次年度", "-", "z"},
  };
  TerminalTable table(headers);
  for (const auto& row : rows) table.AddRow(row);
  const std::string text = table.Render();
  const std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), rows.size() + 2) << text;

  const std::vector<int> expected = CellStarts(lines[0], headers);
  ASSERT_EQ(expected.size(), headers.size()) << lines[0];
  for (size_t r = 0; r < rows.size(); ++r) {
    EXPECT_EQ(CellStarts(lines[r + 2], rows[r]), expected) << "row " << r << ":\n" << text;
  }
  // The rule's dashes cover each column exactly, separated by the gap.
  EXPECT_EQ(CellStarts(lines[1], {"-", "  -", "  -", "  -", "  -"}).size(), 5u);
  for (const std::string& line : lines) {
    EXPECT_NE(line.back(), ' ') << "trailing space in \"" << line << "\"";
  }
}

TEST(TerminalTableTest, WrapsTheLastColumnUnderItself) {
  TerminalTable table({"id", "地域", "取組"});
  table.AddRow({"n04", "【宗谷】",
                "都市部からの医療従事者の招へいに向けた地域からの情報発信等を行い、"
                "医療従事者の移住定住を促進"});
  table.AddRow({"n03", "【留萌】", "管内への医療従事者を呼び込むための地域のPRと移住体験の促進"});
  constexpr int kMaxWidth = 40;
  const std::string text = table.Render(kMaxWidth);
  const std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  ASSERT_GT(lines.size(), 4u) << text;

  const int text_column = CellStarts(lines[0], {"id", "地域", "取組"}).back();
  for (size_t i = 2; i < lines.size(); ++i) {
    EXPECT_LE(DisplayWidth(lines[i]), kMaxWidth) << lines[i];
    const bool continuation = lines[i][0] == ' ';
    if (continuation) {
      EXPECT_EQ(lines[i].find_first_not_of(' '), static_cast<size_t>(text_column)) << lines[i];
    }
  }
}

TEST(TerminalTableTest, RightAlignsNumbers) {
  TerminalTable table({"種類", "created"});
  table.SetAlign(1, TerminalTable::Align::kRight);
  table.AddRow({"取組", "45"});
  table.AddRow({"地域", "5"});
  EXPECT_EQ(table.Render(),
            "種類  created\n"
            "----  -------\n"
            "取組       45\n"
            "地域        5\n");
}

TEST(TerminalTableTest, WithoutHeaderHasNoRule) {
  TerminalTable table = TerminalTable::WithoutHeader(2);
  table.AddRow({"連携地域", "道北 (dohoku)"});
  table.AddRow({"id", "dohoku-anzen-anshin"});
  EXPECT_EQ(table.Render(),
            "連携地域  道北 (dohoku)\n"
            "id        dohoku-anzen-anshin\n");
}

TEST(ChooseTerminalWidthTest, TheTerminalFirstThenColumnsThenTheDefault) {
  struct Case {
    std::optional<int> terminal;
    std::optional<absl::string_view> columns;
    int expected;
  };
  for (const Case& c : {
           Case{132, "80", 132},                   // the terminal's own width wins
           Case{std::nullopt, "80", 80},           // not a terminal: $COLUMNS
           Case{0, "90", 90},                      // a terminal that does not say
           Case{std::nullopt, std::nullopt, 100},  // neither: the default
           Case{std::nullopt, "wide", 100},        // a malformed $COLUMNS is skipped
           Case{std::nullopt, "-5", 100},
           Case{std::nullopt, "", 100},
       }) {
    EXPECT_EQ(ChooseTerminalWidth(c.terminal, c.columns, 100), c.expected)
        << c.terminal.value_or(-1) << " " << c.columns.value_or("(unset)");
  }
}

}  // namespace
}  // namespace suishin::ctl
