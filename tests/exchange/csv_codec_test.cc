// CSV records and encodings: RFC 4180 splitting with physical line numbers,
// UTF-8 / UTF-8 with BOM / CP932 detection, bad bytes located by line and
// cell, and the writer's quoting, line ends and encodings.
#include "exchange/csv_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace suishin::exchange {
namespace {

using Fields = std::vector<std::string>;

std::string Cp932(absl::string_view utf8) {
  absl::StatusOr<std::string> bytes = Utf8ToCp932(utf8);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

CsvDocument MustRead(absl::string_view bytes, std::optional<CsvEncoding> encoding = std::nullopt) {
  absl::StatusOr<CsvDocument> csv = ReadCsv(bytes, encoding);
  EXPECT_TRUE(csv.ok()) << csv.status();
  return csv.ok() ? *csv : CsvDocument();
}

// The location of a failed read, checked to be there.
CsvLocation FailedAt(const absl::StatusOr<CsvDocument>& csv) {
  EXPECT_FALSE(csv.ok());
  EXPECT_EQ(csv.status().code(), absl::StatusCode::kInvalidArgument) << csv.status();
  const std::optional<CsvLocation> location = CsvLocationOf(csv.status());
  EXPECT_TRUE(location.has_value()) << csv.status();
  return location.value_or(CsvLocation{});
}

TEST(ReadCsvTest, SplitsQuotedCellsAsRfc4180Says) {
  const CsvDocument csv = MustRead("a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\r\n");
  ASSERT_EQ(csv.records.size(), 2u);
  EXPECT_EQ(csv.records[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(csv.records[1].fields, (Fields{"x,1", "say \"hi\"", ""}));
}

TEST(ReadCsvTest, KeepsSpacesAndTakesALastLineWithoutLineEnd) {
  const CsvDocument csv = MustRead("a\nplain, spaced ,\"\"");
  ASSERT_EQ(csv.records.size(), 2u);
  EXPECT_EQ(csv.records[1].fields, (Fields{"plain", " spaced ", ""}));
}

TEST(ReadCsvTest, LineNumbersArePhysicalLines) {
  // A quoted cell with two line breaks, then blank lines and a ",,," line
  // that spreadsheets leave: dropped, but the lines still count.
  const CsvDocument csv = MustRead("h1,h2\n\"one\ntwo\r\nthree\",x\n\n,,\r\nlast,y");
  ASSERT_EQ(csv.records.size(), 3u);
  EXPECT_EQ(csv.records[0].line, 1);
  EXPECT_EQ(csv.records[1].line, 2);
  EXPECT_EQ(csv.records[1].fields, (Fields{"one\ntwo\r\nthree", "x"}));
  EXPECT_EQ(csv.records[2].line, 7);
  EXPECT_EQ(csv.records[2].fields, (Fields{"last", "y"}));
}

TEST(ReadCsvTest, AcceptsCrLfAndCrLineEnds) {
  const CsvDocument csv = MustRead("a\rb\r\nc\n");
  ASSERT_EQ(csv.records.size(), 3u);
  EXPECT_EQ(csv.records[2].line, 3);
  EXPECT_EQ(csv.records[2].fields, (Fields{"c"}));
}

TEST(ReadCsvTest, QuoteNeverClosedNamesTheLineItOpensOn) {
  const absl::StatusOr<CsvDocument> csv = ReadCsv("a,b\n1,\"open\n2,3\n", std::nullopt);
  const CsvLocation at = FailedAt(csv);
  EXPECT_EQ(at.line, 2);
  EXPECT_EQ(at.field, 1);
  EXPECT_TRUE(absl::StrContains(csv.status().message(), "never closed")) << csv.status();
}

TEST(ReadCsvTest, TextAfterAClosingQuoteIsAnError) {
  const absl::StatusOr<CsvDocument> csv = ReadCsv("a,b\n1,\"x\"y\n", std::nullopt);
  const CsvLocation at = FailedAt(csv);
  EXPECT_EQ(at.line, 2);
  EXPECT_EQ(at.field, 1);
}

TEST(ReadCsvTest, ByteOrderMarkMeansUtf8) {
  const CsvDocument csv = MustRead("\xEF\xBB\xBF種別,値\n実績,3\n");
  EXPECT_EQ(csv.encoding, CsvEncoding::kUtf8);
  EXPECT_TRUE(csv.byte_order_mark);
  ASSERT_EQ(csv.records.size(), 2u);
  EXPECT_EQ(csv.records[0].fields, (Fields{"種別", "値"}));
}

TEST(ReadCsvTest, ValidUtf8WithoutMarkIsUtf8) {
  const CsvDocument csv = MustRead("種別,値\n実績,3\n");
  EXPECT_EQ(csv.encoding, CsvEncoding::kUtf8);
  EXPECT_FALSE(csv.byte_order_mark);
}

TEST(ReadCsvTest, DetectsAndDecodesCp932) {
  const std::string utf8 = "種別,地域名,値\n実績,上川,４１カ所\n目標,\"宗谷\n総合振興局\",６\n";
  const std::string bytes = Cp932(utf8);
  ASSERT_NE(bytes, utf8);
  const CsvDocument csv = MustRead(bytes);
  EXPECT_EQ(csv.encoding, CsvEncoding::kCp932);
  const CsvDocument expected = MustRead(utf8);
  ASSERT_EQ(csv.records.size(), expected.records.size());
  for (size_t i = 0; i < csv.records.size(); ++i) {
    EXPECT_EQ(csv.records[i].line, expected.records[i].line);
    EXPECT_EQ(csv.records[i].fields, expected.records[i].fields);
  }
  EXPECT_EQ(csv.records[2].fields, (Fields{"目標", "宗谷\n総合振興局", "６"}));
}

TEST(ReadCsvTest, Cp932TrailBytesThatLookLikeAsciiStayInTheirCharacter) {
  // 表 is 0x95 0x5C in CP932: its second byte is '\' in ASCII.
  const std::string bytes = Cp932("表,ソ\n");
  ASSERT_TRUE(absl::StrContains(bytes, "\x95\x5C"));
  EXPECT_EQ(MustRead(bytes, CsvEncoding::kCp932).records[0].fields, (Fields{"表", "ソ"}));
}

TEST(ReadCsvTest, BadCp932BytesAreLocatedByLineAndCell) {
  // Line 3, cell 1: 0x85 0x40 is no CP932 character.
  const std::string bytes = Cp932("a,b\n1,上川\n2,") + "x\x85\x40y\n";
  const absl::StatusOr<CsvDocument> csv = ReadCsv(bytes, CsvEncoding::kCp932);
  const CsvLocation at = FailedAt(csv);
  EXPECT_EQ(at.line, 3);
  EXPECT_EQ(at.field, 1);
  EXPECT_TRUE(absl::StrContains(csv.status().message(), "0x85 0x40")) << csv.status();
  EXPECT_TRUE(absl::StrContains(csv.status().message(), "after \"x\"")) << csv.status();
}

TEST(ReadCsvTest, Cp932CharacterCutOffByTheCellEnd) {
  const absl::StatusOr<CsvDocument> csv = ReadCsv("a,b\n\x82,1\n", std::nullopt);
  const CsvLocation at = FailedAt(csv);
  EXPECT_EQ(at.line, 2);
  EXPECT_EQ(at.field, 0);
  EXPECT_TRUE(absl::StrContains(csv.status().message(), "0x82")) << csv.status();
  EXPECT_TRUE(absl::StrContains(csv.status().message(), "read as CP932")) << csv.status();
}

TEST(ReadCsvTest, BadByteInAUtf8FileIsAUtf8Error) {
  // Mostly UTF-8 (and not CP932 either): the UTF-8 error is the one shown.
  const std::string bytes = "種別,地域名\n実績,上川\n実績,宗\xFF谷\n";
  const absl::StatusOr<CsvDocument> csv = ReadCsv(bytes, std::nullopt);
  const CsvLocation at = FailedAt(csv);
  EXPECT_EQ(at.line, 3);
  EXPECT_EQ(at.field, 1);
  EXPECT_TRUE(absl::StrContains(csv.status().message(), "0xFF")) << csv.status();
  EXPECT_TRUE(absl::StrContains(csv.status().message(), "not valid UTF-8")) << csv.status();
}

TEST(ReadCsvTest, ExplicitUtf8RefusesCp932Bytes) {
  const absl::StatusOr<CsvDocument> csv = ReadCsv(Cp932("a\n上川\n"), CsvEncoding::kUtf8);
  EXPECT_EQ(FailedAt(csv).line, 2);
}

TEST(ReadCsvTest, ByteOrderMarkWithCp932IsAnError) {
  const absl::StatusOr<CsvDocument> csv = ReadCsv(
      "\xEF\xBB\xBF"
      "a\n",
      CsvEncoding::kCp932);
  EXPECT_EQ(FailedAt(csv).line, 1);
}

TEST(ReadCsvTest, EmptyInputHasNoRecords) {
  EXPECT_TRUE(MustRead("").records.empty());
  EXPECT_TRUE(MustRead("\xEF\xBB\xBF").records.empty());
}

TEST(CsvWriterTest, Utf8HasAByteOrderMarkCrLfAndQuotesOnlyWhereNeeded) {
  CsvWriter writer(CsvEncoding::kUtf8);
  ASSERT_TRUE(writer.AddRecord({"種別", "KPI ID", "値"}).ok());
  ASSERT_TRUE(writer.AddRecord({"a,b", "say \"hi\"", "two\nlines"}).ok());
  ASSERT_TRUE(writer.AddRecord({" padded", "", "43.4"}).ok());
  EXPECT_EQ(writer.bytes(),
            "\xEF\xBB\xBF種別,KPI ID,値\r\n\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
            "\" padded\",,43.4\r\n");
  EXPECT_EQ(writer.records(), 3);
  // What it writes reads back the same.
  const CsvDocument csv = MustRead(writer.bytes());
  ASSERT_EQ(csv.records.size(), 3u);
  EXPECT_EQ(csv.records[1].fields, (Fields{"a,b", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ(csv.records[2].line, 4);
}

TEST(Cp932Test, KnownBytes) {
  // 上川４１ as Excel writes it.
  EXPECT_EQ(Cp932("上川４１"), "\x8F\xE3\x90\xEC\x82\x53\x82\x50");
  EXPECT_EQ(*Cp932ToUtf8("\x8F\xE3\x90\xEC\x82\x53\x82\x50"), "上川４１");
  size_t bad = 0;
  EXPECT_FALSE(Cp932ToUtf8("ab\x85\x40", &bad).ok());
  EXPECT_EQ(bad, 2u);
}

TEST(CsvWriterTest, Cp932WritesShiftJisBytesWithoutMark) {
  CsvWriter writer(CsvEncoding::kCp932);
  ASSERT_TRUE(writer.AddRecord({"地域名", "値"}).ok());
  ASSERT_TRUE(writer.AddRecord({"上川", "41"}).ok());
  EXPECT_EQ(writer.bytes(), Cp932("地域名,値\r\n上川,41\r\n"));
  const CsvDocument csv = MustRead(writer.bytes());
  EXPECT_EQ(csv.encoding, CsvEncoding::kCp932);
  EXPECT_EQ(csv.records[1].fields, (Fields{"上川", "41"}));
}

TEST(CsvWriterTest, Cp932RefusesACharacterItHasNoCodeFor) {
  CsvWriter writer(CsvEncoding::kCp932);
  ASSERT_TRUE(writer.AddRecord({"a", "b"}).ok());
  ASSERT_TRUE(writer.AddRecord({"x\ny", "z"}).ok());
  const absl::Status status = writer.AddRecord({"ok", "𠮷野家"});
  ASSERT_FALSE(status.ok());
  const std::optional<CsvLocation> at = CsvLocationOf(status);
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(at->line, 4);  // the record before spans lines 2 and 3
  EXPECT_EQ(at->field, 1);
  EXPECT_TRUE(absl::StrContains(status.message(), "𠮷")) << status;
  EXPECT_EQ(writer.records(), 2);
}

TEST(ParseCsvEncodingTest, NamesAndAuto) {
  EXPECT_EQ(*ParseCsvEncoding("--encoding", "UTF-8", true), CsvEncoding::kUtf8);
  EXPECT_EQ(*ParseCsvEncoding("--encoding", "utf8", false), CsvEncoding::kUtf8);
  EXPECT_EQ(*ParseCsvEncoding("--encoding", "cp932", false), CsvEncoding::kCp932);
  EXPECT_EQ(*ParseCsvEncoding("--encoding", "Shift_JIS", false), CsvEncoding::kCp932);
  EXPECT_EQ(*ParseCsvEncoding("--encoding", "auto", true), std::nullopt);
  EXPECT_EQ(*ParseCsvEncoding("--encoding", "", true), std::nullopt);
  EXPECT_EQ(*ParseCsvEncoding("--encoding", "", false), std::nullopt);
  const auto bad = ParseCsvEncoding("--encoding", "auto", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "--encoding")) << bad.status();
  EXPECT_FALSE(ParseCsvEncoding("--encoding", "latin1", true).ok());
}

}  // namespace
}  // namespace suishin::exchange
