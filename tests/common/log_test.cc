#include "common/log.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/validation.h"
#include "gtest/gtest.h"

namespace suishin {
namespace {

// Parses `line` as a JSON object with protobuf's parser, which rejects
// malformed JSON and undoes the escaping, so a test can compare the decoded
// values with what went in.
google::protobuf::Struct ParseJson(const std::string& line) {
  google::protobuf::Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(line, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << line;
  return parsed;
}

std::string StringField(const google::protobuf::Struct& object, const std::string& key) {
  const auto it = object.fields().find(key);
  if (it == object.fields().end()) return "<missing>";
  return it->second.string_value();
}

// Everything after the "ts" member, which is the only part that varies.
std::string AfterTimestamp(const std::string& line) {
  const size_t level = line.find(",\"level\":");
  return level == std::string::npos ? line : line.substr(level);
}

class FormatLogLineTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLogService("test-service"); }
  void TearDown() override { SetLogService("suishin"); }
};

TEST_F(FormatLogLineTest, WritesMembersInOrderOnOneLine) {
  const std::string line =
      FormatLogLine("info", "listening", {{"address", "127.0.0.1:50061"}, {"pid", "42"}});
  EXPECT_TRUE(absl::StartsWith(line, "{\"ts\":\"")) << line;
  EXPECT_EQ(AfterTimestamp(line),
            ",\"level\":\"info\",\"service\":\"test-service\",\"event\":\"listening\","
            "\"address\":\"127.0.0.1:50061\",\"pid\":\"42\"}");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST_F(FormatLogLineTest, IsValidJson) {
  const google::protobuf::Struct parsed =
      ParseJson(FormatLogLine("warning", "slow_call", {{"method", "GetProgress"}}));
  EXPECT_EQ(parsed.fields().size(), 5u);
  EXPECT_EQ(StringField(parsed, "level"), "warning");
  EXPECT_EQ(StringField(parsed, "service"), "test-service");
  EXPECT_EQ(StringField(parsed, "event"), "slow_call");
  EXPECT_EQ(StringField(parsed, "method"), "GetProgress");
}

TEST_F(FormatLogLineTest, WithoutFieldsEndsAfterTheEvent) {
  const std::string line = FormatLogLine("error", "shutdown", {});
  EXPECT_EQ(AfterTimestamp(line),
            ",\"level\":\"error\",\"service\":\"test-service\",\"event\":\"shutdown\"}");
  ParseJson(line);
}

TEST_F(FormatLogLineTest, TimestampIsRfc3339UtcWithMillisecondsAndNow) {
  const absl::Time before = absl::Now() - absl::Milliseconds(1);
  const std::string line = FormatLogLine("info", "tick", {});
  const absl::Time after = absl::Now() + absl::Milliseconds(1);
  const std::string ts = StringField(ParseJson(line), "ts");
  // 2026-11-29T12:00:00.000Z
  ASSERT_EQ(ts.size(), 24u) << ts;
  EXPECT_EQ(ts[4], '-');
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts[23], 'Z');
  absl::Time parsed;
  std::string error;
  ASSERT_TRUE(absl::ParseTime("%Y-%m-%dT%H:%M:%E3SZ", ts, absl::UTCTimeZone(), &parsed, &error))
      << ts << ": " << error;
  EXPECT_GE(parsed, before - absl::Milliseconds(1)) << ts;  // The stamp truncates to ms.
  EXPECT_LE(parsed, after) << ts;
}

TEST_F(FormatLogLineTest, SetLogServiceNamesTheProcess) {
  SetLogService("plan-service");
  EXPECT_EQ(StringField(ParseJson(FormatLogLine("info", "x", {})), "service"), "plan-service");
}

TEST_F(FormatLogLineTest, EscapesQuotesBackslashesAndLineBreaks) {
  const std::string value = "say \"hi\"\\path\nnext\rline\ttab";
  const std::string line = FormatLogLine("info", "e", {{"k\"ey", value}});
  EXPECT_TRUE(absl::EndsWith(line, ",\"k\\\"ey\":\"say \\\"hi\\\"\\\\path\\nnext\\rline\\ttab\"}"))
      << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(StringField(ParseJson(line), "k\"ey"), value);
}

TEST_F(FormatLogLineTest, EscapesOtherControlCharactersAsUnicodeEscapes) {
  static constexpr char kRaw[] = "nul\0bell\a esc\x1b unit\x1f";
  const std::string value(kRaw, sizeof(kRaw) - 1);
  const std::string line = FormatLogLine("info", "e", {{"k", value}});
  EXPECT_TRUE(absl::EndsWith(line, "\"k\":\"nul\\u0000bell\\u0007 esc\\u001b unit\\u001f\"}"))
      << line;
  for (char c : line) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character in " << line;
  }
  EXPECT_EQ(StringField(ParseJson(line), "k"), value);
}

TEST_F(FormatLogLineTest, EscapesTheEventAndTheServiceToo) {
  SetLogService("svc\"1\n");
  const std::string line = FormatLogLine("info", "ev\\ent\x01", {});
  const google::protobuf::Struct parsed = ParseJson(line);
  EXPECT_EQ(StringField(parsed, "service"), "svc\"1\n");
  EXPECT_EQ(StringField(parsed, "event"), "ev\\ent\x01");
}

TEST_F(FormatLogLineTest, KeepsJapaneseAsUtf8) {
  const std::string line =
      FormatLogLine("info", "取組更新", {{"地域", "宗谷総合振興局"}, {"emoji", "😀"}});
  EXPECT_TRUE(absl::StrContains(line, "\"event\":\"取組更新\"")) << line;
  EXPECT_TRUE(absl::EndsWith(line, ",\"地域\":\"宗谷総合振興局\",\"emoji\":\"😀\"}")) << line;
  EXPECT_FALSE(absl::StrContains(line, "\\u")) << line;
  EXPECT_TRUE(IsValidUtf8(line));
  EXPECT_EQ(StringField(ParseJson(line), "地域"), "宗谷総合振興局");
}

}  // namespace
}  // namespace suishin
