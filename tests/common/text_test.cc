#include "common/text.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace suishin {
namespace {

TEST(DecodeUtf8AtTest, DecodesOneToFourBytes) {
  struct Case {
    std::string text;
    char32_t code_point;
    size_t size;
  };
  for (const Case& c :
       {Case{"A", U'A', 1}, Case{"é", 0xE9, 2}, Case{"元", 0x5143, 3}, Case{"𠮷", 0x20BB7, 4}}) {
    const Utf8Char decoded = DecodeUtf8At(c.text, 0);
    EXPECT_TRUE(decoded.valid) << c.text;
    EXPECT_EQ(decoded.code_point, c.code_point) << c.text;
    EXPECT_EQ(decoded.size, c.size) << c.text;
  }
}

TEST(DecodeUtf8AtTest, RefusesMalformedSequencesOneByteAtATime) {
  for (const std::string text :
       {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe5\x85", "\x80"}) {
    const Utf8Char decoded = DecodeUtf8At(text, 0);
    EXPECT_FALSE(decoded.valid);
    EXPECT_EQ(decoded.size, 1u);
    EXPECT_EQ(decoded.code_point, kReplacementCharacter);
  }
}

TEST(AppendUtf8Test, RoundTripsThroughDecode) {
  for (char32_t cp : {U'a', char32_t{0xE9}, char32_t{0x5143}, char32_t{0x20BB7}}) {
    std::string text;
    AppendUtf8(cp, &text);
    EXPECT_EQ(DecodeUtf8At(text, 0).code_point, cp);
    EXPECT_EQ(DecodeUtf8At(text, 0).size, text.size());
  }
}

TEST(FirstInvalidUtf8Test, NamesTheFirstBadByte) {
  EXPECT_EQ(FirstInvalidUtf8("令和元年度"), std::nullopt);
  EXPECT_EQ(FirstInvalidUtf8(""), std::nullopt);
  EXPECT_EQ(FirstInvalidUtf8("ab\xff"), std::optional<size_t>(2));
  EXPECT_EQ(FirstInvalidUtf8("元\x82\xa0"), std::optional<size_t>(3));  // CP932 あ
}

TEST(FoldFullWidthTest, FoldsFullWidthAsciiAndTheIdeographicSpace) {
  EXPECT_EQ(FoldFullWidth(U'２'), U'2');
  EXPECT_EQ(FoldFullWidth(U'Ｒ'), U'R');
  EXPECT_EQ(FoldFullWidth(U'％'), U'%');
  EXPECT_EQ(FoldFullWidth(char32_t{0x3000}), U' ');
  EXPECT_EQ(FoldFullWidth(U'元'), U'元');
  EXPECT_EQ(FoldFullWidth("ＫＰＩ　２０１９（実績）"), "KPI 2019(実績)");
  EXPECT_EQ(FoldFullWidth("ab\xff１"),
            "ab\xff"
            "1");
}

TEST(DisplayWidthTest, CountsWideNarrowAndZeroWidthCharacters) {
  struct Case {
    std::string text;
    int width;
  };
  for (const Case& c :
       {Case{"", 0}, Case{"R1 (2019)", 9}, Case{"R元 (2019)", 10}, Case{"ＫＰＩ", 6},
        Case{"ｶﾀｶﾅ", 4}, Case{"e\u0301", 1}, Case{"■①×", 3}, Case{"a\xff", 2}}) {
    EXPECT_EQ(DisplayWidth(c.text), c.width) << c.text;
  }
  EXPECT_EQ(CodePointWidth(U'\n'), 0);
  EXPECT_EQ(CodePointWidth(U'【'), 2);
}

}  // namespace
}  // namespace suishin
