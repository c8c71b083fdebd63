#include "common/page_token.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace suishin {
namespace {

constexpr absl::string_view kField = "page_token";

void ExpectRejected(absl::string_view token) {
  const absl::StatusOr<int64_t> key = DecodePageToken(kField, token);
  ASSERT_FALSE(key.ok()) << "token \"" << token << "\" decoded to " << *key;
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << key.status();
  EXPECT_TRUE(absl::StartsWith(key.status().message(), "page_token: ")) << key.status();
  EXPECT_TRUE(absl::EndsWith(key.status().message(), absl::StrCat("(got \"", token, "\")")))
      << key.status();
}

TEST(PageTokenTest, RoundTripsPositiveKeys) {
  for (int64_t last_key : {int64_t{1}, int64_t{2}, int64_t{42}, int64_t{1000000},
                           int64_t{4294967296}, std::numeric_limits<int64_t>::max()}) {
    const absl::StatusOr<int64_t> key = DecodePageToken(kField, EncodePageToken(last_key));
    ASSERT_TRUE(key.ok()) << last_key << ": " << key.status();
    EXPECT_EQ(*key, last_key);
  }
}

TEST(PageTokenTest, DifferentKeysGiveDifferentTokens) {
  EXPECT_NE(EncodePageToken(1), EncodePageToken(2));
  EXPECT_NE(EncodePageToken(12), EncodePageToken(21));
}

TEST(PageTokenTest, TokensAreWebSafe) {
  for (int64_t last_key :
       {int64_t{1}, int64_t{63}, int64_t{999999999}, std::numeric_limits<int64_t>::max()}) {
    const std::string token = EncodePageToken(last_key);
    EXPECT_FALSE(token.empty());
    for (char c : token) {
      EXPECT_TRUE(absl::ascii_isalnum(c) || c == '-' || c == '_') << token;
    }
  }
}

TEST(PageTokenTest, EmptyTokenMeansTheFirstPage) {
  const absl::StatusOr<int64_t> key = DecodePageToken(kField, "");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, 0);
}

TEST(PageTokenTest, RejectsGarbageNamingTheField) {
  const std::vector<std::string> tokens = {
      "!!!!",      // not base64 at all
      "abc def",   // space
      "a",         // impossible base64 length
      "42",        // a bare number
      "after:42",  // the plain text, not encoded
      "道北",      // not ASCII
  };
  for (const std::string& token : tokens) {
    SCOPED_TRACE(token);
    ExpectRejected(token);
  }
}

TEST(PageTokenTest, RejectsTokensWithTheWrongContent) {
  const std::vector<std::string> raw = {
      "before:42",                   // wrong prefix
      "AFTER:42",                    // prefix is case-sensitive
      "after:",                      // no key
      "after:4x2",                   // not a number
      "after:42 junk",               // trailing text
      "after:1.5",                   // not an integer
      "after:99999999999999999999",  // beyond int64
  };
  for (const std::string& text : raw) {
    const std::string token = absl::WebSafeBase64Escape(text);
    SCOPED_TRACE(absl::StrCat(text, " -> ", token));
    ExpectRejected(token);
  }
}

// Tokens are not signed: editing one into another well-formed token (say,
// base64 of "after:43") is accepted by design. Edits that break the base64
// or the "after:" prefix must not be.
TEST(PageTokenTest, RejectsATamperedToken) {
  const std::string token = EncodePageToken(42);
  ASSERT_EQ(token[0], 'Y');  // base64 of "a..."
  std::string changed_prefix = token;
  changed_prefix[0] = 'Z';  // "after:" becomes "eftar:"-like bytes
  ExpectRejected(changed_prefix);
  ExpectRejected(absl::StrCat(token, "!"));
  ExpectRejected(absl::StrCat("x", token));
  ExpectRejected(absl::StrCat(token, token));
}

TEST(PageTokenTest, RejectsNonCanonicalNumbers) {
  for (const char* text : {"after:+42", "after: 42", "after:042", "after:42 "}) {
    SCOPED_TRACE(text);
    ExpectRejected(absl::WebSafeBase64Escape(text));
  }
}

TEST(PageTokenTest, RejectsNonPositiveKeys) {
  for (int64_t last_key : {int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::min()}) {
    SCOPED_TRACE(last_key);
    ExpectRejected(EncodePageToken(last_key));
  }
}

}  // namespace
}  // namespace suishin
