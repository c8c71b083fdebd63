#include "tools/suishinctl/terminal_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/text.h"

namespace suishin::ctl {
namespace {

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
    const Utf8Char decoded = DecodeUtf8At(text, pos);
    const char32_t cp = decoded.code_point;
    const size_t length = decoded.size;
    const int width = decoded.valid ? CodePointWidth(cp) : 1;
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
      const bool valid = decoded.valid;
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

int ChooseTerminalWidth(std::optional<int> terminal_columns,
                        std::optional<absl::string_view> columns_env, int fallback) {
  if (terminal_columns.has_value() && *terminal_columns > 0) return *terminal_columns;
  int width = 0;
  if (columns_env.has_value() && absl::SimpleAtoi(*columns_env, &width) && width > 0) return width;
  return fallback;
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
