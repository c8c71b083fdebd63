#include "tools/suishinctl/terminal_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace suishin::ctl {
namespace {

struct Range {
  char32_t first;
  char32_t last;
};

// Characters that take no column: combining marks, zero-width spaces and
// joiners, variation selectors. Checked before kWide, which overlaps it
// (U+302A–302D and U+3099–309A sit inside wide blocks but combine).
constexpr Range kZeroWidth[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x200B, 0x200F}, {0x2028, 0x202E},
    {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0x302A, 0x302D}, {0x3099, 0x309A},
    {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

// East Asian Width W and F, for the blocks Japanese text uses (and their
// neighbours, so Korean and Chinese text lines up too). Sorted.
constexpr Range kWide[] = {
    {0x1100, 0x115F},    // Hangul Jamo initials
    {0x2E80, 0x303E},    // CJK radicals, Kangxi, CJK symbols and punctuation (U+3000–303E;
                         // U+303F HALF FILL SPACE is narrow)
    {0x3041, 0x33FF},    // Hiragana, Katakana, Bopomofo, Kanbun, enclosed CJK, CJK compatibility
    {0x3400, 0x4DBF},    // CJK Extension A
    {0x4E00, 0x9FFF},    // CJK Unified Ideographs
    {0xA000, 0xA4CF},    // Yi
    {0xA960, 0xA97F},    // Hangul Jamo Extended-A
    {0xAC00, 0xD7A3},    // Hangul syllables
    {0xF900, 0xFAFF},    // CJK Compatibility Ideographs
    {0xFE10, 0xFE19},    // vertical forms
    {0xFE30, 0xFE6F},    // CJK compatibility forms, small form variants
    {0xFF01, 0xFF60},    // full-width ASCII forms (Ａ, ２, （) and full-width brackets
    {0xFFE0, 0xFFE6},    // full-width signs (￠, ￡, ￥)
    {0x1F300, 0x1F64F},  // pictographs and emoticons
    {0x1F900, 0x1F9FF},  // supplemental pictographs
    {0x20000, 0x2FFFD},  // CJK Extensions B–F, compatibility supplement
    {0x30000, 0x3FFFD},  // CJK Extension G and later
};

template <size_t N>
bool InRanges(const Range (&ranges)[N], char32_t cp) {
  const Range* end = ranges + N;
  const Range* it =
      std::lower_bound(ranges, end, cp, [](const Range& r, char32_t c) { return r.last < c; });
  return it != end && it->first <= cp;
}

// Decodes the UTF-8 sequence at text[pos]. Returns its length in bytes (1 for
// a byte that does not start a valid, shortest-form sequence, with *cp set to
// U+FFFD).
size_t DecodeUtf8(absl::string_view text, size_t pos, char32_t* cp) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  char32_t value = 0;
  char32_t min = 0;
  if (lead < 0x80) {
    *cp = lead;
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, value = lead & 0x1F, min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, value = lead & 0x0F, min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, value = lead & 0x07, min = 0x10000;
  }
  if (length == 0 || pos + length > text.size()) {
    *cp = 0xFFFD;
    return 1;
  }
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) {
      *cp = 0xFFFD;
      return 1;
    }
    value = (value << 6) | (byte(i) & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    *cp = 0xFFFD;
    return 1;
  }
  *cp = value;
  return length;
}

// 禁則: characters that should not start a line (closing brackets, 、。, small
// kana, the long-vowel mark) and that should not end one (opening brackets).
constexpr absl::string_view kNoLineStart =
    "、。，．・：；？！ー）］｝」』】〕〉》’”々ゝゞヽヾぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
    ")]},.;:!?";
constexpr absl::string_view kNoLineEnd = "（［｛「『【〔〈《‘“([{";

bool Contains(absl::string_view set, absl::string_view character) {
  return !character.empty() && set.find(character) != absl::string_view::npos;
}

// Characters that make up an ASCII word or number, which wrapping keeps whole.
bool IsWordChar(char32_t cp) {
  if (cp >= 0x80) return false;
  const char c = static_cast<char>(cp);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         absl::string_view("._-/%:@#&?=+~',").find(c) != absl::string_view::npos;
}

// A character as wrapping sees it: a base code point with the zero-width
// characters that follow it.
struct Cluster {
  absl::string_view bytes;
  int width = 0;
  bool newline = false;
  bool space = false;
  bool word = false;
  bool no_start = false;
  bool no_end = false;
};

std::vector<Cluster> SplitClusters(absl::string_view text) {
  std::vector<Cluster> clusters;
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    const size_t length = DecodeUtf8(text, pos, &cp);
    const int width = cp == 0xFFFD && length == 1 ? 1 : CodePointWidth(cp);
    if (width == 0 && cp != '\n' && !clusters.empty() && !clusters.back().newline) {
      // Attach to the previous character; the bytes are contiguous.
      Cluster& previous = clusters.back();
      previous.bytes = absl::string_view(previous.bytes.data(), previous.bytes.size() + length);
    } else {
      Cluster cluster;
      cluster.bytes = text.substr(pos, length);
      cluster.width = width;
      cluster.newline = cp == '\n';
      cluster.space = cp == ' ';
      cluster.word = IsWordChar(cp);
      // A stray byte could match part of a multi-byte entry of the sets.
      const bool valid = !(cp == 0xFFFD && length == 1);
      cluster.no_start = valid && Contains(kNoLineStart, cluster.bytes);
      cluster.no_end = valid && Contains(kNoLineEnd, cluster.bytes);
      clusters.push_back(cluster);
    }
    pos += length;
  }
  return clusters;
}

std::vector<std::string> SplitLines(const std::string& cell) { return absl::StrSplit(cell, '\n'); }

}  // namespace

int CodePointWidth(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return 0;
  if (cp < 0x300) return 1;  // Latin: the common case, no table lookups.
  if (InRanges(kZeroWidth, cp)) return 0;
  if (InRanges(kWide, cp)) return 2;
  return 1;
}

int DisplayWidth(absl::string_view text) {
  int width = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    const size_t length = DecodeUtf8(text, pos, &cp);
    width += cp == 0xFFFD && length == 1 ? 1 : CodePointWidth(cp);
    pos += length;
  }
  return width;
}

std::vector<std::string> WrapText(absl::string_view text, int width) {
  const std::vector<Cluster> clusters = SplitClusters(text);
  std::vector<std::string> lines;
  std::vector<size_t> line;  // Indices into `clusters`.
  int line_width = 0;
  bool after_soft_break = false;

  const auto width_of = [&](const std::vector<size_t>& part) {
    int w = 0;
    for (size_t i : part) w += clusters[i].width;
    return w;
  };
  const auto emit = [&](std::vector<size_t> part) {
    while (!part.empty() && clusters[part.back()].space) part.pop_back();
    std::string out;
    for (size_t i : part) out.append(clusters[i].bytes.data(), clusters[i].bytes.size());
    lines.push_back(std::move(out));
  };

  for (size_t i = 0; i < clusters.size(); ++i) {
    const Cluster& c = clusters[i];
    if (c.newline) {
      emit(std::move(line));
      line.clear();
      line_width = 0;
      after_soft_break = false;
      continue;
    }
    if (line.empty() && after_soft_break && c.space) continue;  // No leading space after a wrap.
    if (width <= 0 || line.empty() || line_width + c.width <= width) {
      line.push_back(i);
      line_width += c.width;
      continue;
    }
    if (c.space) {  // Break at the space and drop it.
      emit(std::move(line));
      line.clear();
      line_width = 0;
      after_soft_break = true;
      continue;
    }
    // `c` does not fit: choose how much of the line moves down with it.
    size_t split = line.size();
    if (c.word && clusters[line.back()].word) {
      size_t start = line.size();
      while (start > 0 && clusters[line[start - 1]].word) --start;
      int word_width = 0;
      for (size_t k = start; k < line.size(); ++k) word_width += clusters[line[k]].width;
      for (size_t k = i; k < clusters.size() && clusters[k].word; ++k) {
        word_width += clusters[k].width;
      }
      if (start > 0 && word_width <= width) split = start;
    } else if (c.no_start) {
      size_t j = line.size() - 1;
      while (j > 0 && clusters[line[j]].no_start) --j;
      if (j > 0) split = j;
    }
    while (split > 1 && clusters[line[split - 1]].no_end) --split;
    std::vector<size_t> moved(line.begin() + split, line.end());
    if (width_of(moved) + c.width > width) {
      split = line.size();
      moved.clear();
    }
    line.resize(split);
    emit(std::move(line));
    line = std::move(moved);
    line.push_back(i);
    line_width = width_of(line);
    after_soft_break = true;
  }
  if (!line.empty() || lines.empty() || (!clusters.empty() && clusters.back().newline)) {
    emit(std::move(line));
  }
  return lines;
}

std::string PadRight(absl::string_view text, int width) {
  std::string out(text);
  const int pad = width - DisplayWidth(text);
  if (pad > 0) out.append(pad, ' ');
  return out;
}

std::string PadLeft(absl::string_view text, int width) {
  const int pad = width - DisplayWidth(text);
  std::string out(pad > 0 ? pad : 0, ' ');
  out.append(text.data(), text.size());
  return out;
}

TerminalTable::TerminalTable(std::vector<std::string> headers)
    : headers_(std::move(headers)), aligns_(headers_.size(), Align::kLeft) {
  has_header_ = std::any_of(headers_.begin(), headers_.end(),
                            [](const std::string& h) { return !h.empty(); });
}

TerminalTable TerminalTable::WithoutHeader(int columns) {
  return TerminalTable(std::vector<std::string>(columns));
}

void TerminalTable::SetAlign(int column, Align align) {
  if (column >= 0 && column < static_cast<int>(aligns_.size())) aligns_[column] = align;
}

void TerminalTable::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string TerminalTable::Render(int max_width) const {
  const size_t columns = headers_.size();
  if (columns == 0) return "";
  const size_t last = columns - 1;
  const int gap = static_cast<int>(kColumnGap.size());

  std::vector<int> widths(columns, 0);
  const auto measure = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < columns; ++c) {
      for (const std::string& line : SplitLines(cells[c])) {
        widths[c] = std::max(widths[c], DisplayWidth(line));
      }
    }
  };
  if (has_header_) measure(headers_);
  for (const auto& row : rows_) measure(row);

  // Room for the last column, and whether its cells need wrapping.
  int wrap_width = 0;
  if (max_width > 0) {
    int others = 0;
    for (size_t c = 0; c < last; ++c) others += widths[c] + gap;
    const int room = std::max(max_width - others, kMinLastColumnWidth);
    if (widths[last] > room) {
      wrap_width = room;
      widths[last] = room;
    }
  }

  std::string out;
  const auto render_row = [&](const std::vector<std::string>& cells, bool wrap) {
    std::vector<std::vector<std::string>> lines(columns);
    size_t height = 1;
    for (size_t c = 0; c < columns; ++c) {
      if (c == last && wrap && wrap_width > 0) {
        for (const std::string& line : SplitLines(cells[c])) {
          for (std::string& piece : WrapText(line, wrap_width)) {
            lines[c].push_back(std::move(piece));
          }
        }
      } else {
        lines[c] = SplitLines(cells[c]);
      }
      height = std::max(height, lines[c].size());
    }
    for (size_t h = 0; h < height; ++h) {
      std::string text;
      for (size_t c = 0; c < columns; ++c) {
        const std::string cell = h < lines[c].size() ? lines[c][h] : "";
        if (c > 0) text.append(kColumnGap.data(), kColumnGap.size());
        text += aligns_[c] == Align::kRight ? PadLeft(cell, widths[c]) : PadRight(cell, widths[c]);
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text;
      out += '\n';
    }
  };

  if (has_header_) {
    render_row(headers_, /*wrap=*/false);
    std::vector<std::string> rule;
    for (size_t c = 0; c < columns; ++c) rule.push_back(std::string(widths[c], '-'));
    out += absl::StrJoin(rule, kColumnGap);
    out += '\n';
  }
  for (const auto& row : rows_) render_row(row, /*wrap=*/true);
  return out;
}

}  // namespace suishin::ctl
