#include "common/text.h"

#include <algorithm>

namespace suishin {
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

// The full-width forms of ASCII: U+FF01 (！) to U+FF5E (～), each U+FEE0
// above its ASCII character.
constexpr char32_t kFullWidthFirst = 0xFF01;
constexpr char32_t kFullWidthLast = 0xFF5E;
constexpr char32_t kFullWidthOffset = 0xFEE0;
constexpr char32_t kIdeographicSpace = 0x3000;

}  // namespace

Utf8Char DecodeUtf8At(absl::string_view text, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {lead, 1, true};
  size_t length = 0;
  char32_t value = 0;
  char32_t min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, value = lead & 0x1F, min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, value = lead & 0x0F, min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, value = lead & 0x07, min = 0x10000;
  }
  const Utf8Char invalid;
  if (length == 0 || pos + length > text.size()) return invalid;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return invalid;
    value = (value << 6) | (byte(i) & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return invalid;
  return {value, length, true};
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::optional<size_t> FirstInvalidUtf8(absl::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeUtf8At(text, pos);
    if (!c.valid) return pos;
    pos += c.size;
  }
  return std::nullopt;
}

char32_t FoldFullWidth(char32_t cp) {
  if (cp >= kFullWidthFirst && cp <= kFullWidthLast) return cp - kFullWidthOffset;
  if (cp == kIdeographicSpace) return U' ';
  return cp;
}

std::string FoldFullWidth(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeUtf8At(text, pos);
    const char32_t folded = c.valid ? FoldFullWidth(c.code_point) : c.code_point;
    if (c.valid && folded != c.code_point) {
      AppendUtf8(folded, &out);
    } else {
      out.append(text.data() + pos, c.size);
    }
    pos += c.size;
  }
  return out;
}

int CodePointWidth(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return 0;
  if (cp < 0x300) return 1;  // Latin: the common case, no table lookups.
  if (InRanges(kZeroWidth, cp)) return 0;
  if (InRanges(kWide, cp)) return 2;
  return 1;
}

int DisplayWidth(absl::string_view text) {
  int width = 0;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeUtf8At(text, pos);
    width += c.valid ? CodePointWidth(c.code_point) : 1;
    pos += c.size;
  }
  return width;
}

}  // namespace suishin
