// Identity from signed tokens (common/auth.h): a token of the configured
// issuer and audience, signed by a configured key and in its time, names
// its principal; every other token is UNAUTHENTICATED with the reason, and
// the shared-secret and unsigned forms never pass, even when "signed" with
// the public key itself.
#include "common/auth.h"

#include <gtest/gtest.h>
#include <jwt.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace suishin {
namespace {

using ::suishin::testing::TempDir;
using ::suishin::testing::TestPki;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A token libjwt makes with `alg` and `key` (for the forms that must fail).
std::string RawToken(jwt_alg_t alg, const std::string& key) {
  jwt_t* jwt = nullptr;
  EXPECT_EQ(jwt_new(&jwt), 0);
  jwt_add_grant(jwt, "iss", testing::kTestIssuer);
  jwt_add_grant(jwt, "aud", "suishin");
  jwt_add_grant(jwt, "sub", "mallory");
  jwt_add_grant_int(jwt, "exp", absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  jwt_add_grants_json(jwt, R"({"roles":["operator"]})");
  jwt_set_alg(jwt, alg, key.empty() ? nullptr : reinterpret_cast<const unsigned char*>(key.data()),
              static_cast<int>(key.size()));
  char* encoded = jwt_encode_str(jwt);
  std::string token = encoded == nullptr ? "" : encoded;
  std::free(encoded);
  jwt_free(jwt);
  return token;
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("auth");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(*std::move(dir));
    absl::StatusOr<TestPki> ours = TestPki::Make(dir_->File("ours"));
    absl::StatusOr<TestPki> theirs = TestPki::Make(dir_->File("theirs"));
    ASSERT_TRUE(ours.ok() && theirs.ok());
    ours_ = *ours;
    theirs_ = *theirs;
  }

  absl::Status Refusal(const std::string& token) {
    return TokenVerifier(ours_.Auth()).Verify(token, absl::Now()).status();
  }

  std::unique_ptr<TempDir> dir_;
  TestPki ours_;
  TestPki theirs_;
};

TEST_F(AuthTest, AGoodTokenNamesItsPrincipal) {
  TokenClaims claims;
  claims.issuer = testing::kTestIssuer;
  claims.subject = "kamikawa-officer";
  claims.name = "上川総合振興局";
  claims.roles = {"officer"};
  claims.regions = {"kamikawa"};
  absl::StatusOr<std::string> token = IssueToken(Read(ours_.signing_key_file), claims);
  ASSERT_TRUE(token.ok()) << token.status();
  TokenVerifier verifier(ours_.Auth());
  absl::StatusOr<Principal> principal = verifier.Verify(*token, absl::Now());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, "kamikawa-officer");
  EXPECT_EQ(principal->name, "上川総合振興局");
  EXPECT_EQ(principal->roles, std::vector<std::string>{"officer"});
  EXPECT_EQ(principal->regions, std::vector<std::string>{"kamikawa"});
  // Kept verified until it expires, and not after.
  EXPECT_TRUE(verifier.Verify(*token, absl::Now() + absl::Hours(11)).ok());
  EXPECT_EQ(verifier.Verify(*token, absl::Now() + absl::Hours(13)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthTest, EveryOtherTokenIsUnauthenticatedWithItsReason) {
  struct Case {
    std::string token;
    std::string reason;
  };
  AuthSettings other_audience = ours_.Auth();
  other_audience.audience = "another-system";
  TokenClaims no_subject;
  no_subject.issuer = testing::kTestIssuer;
  no_subject.subject = "x";
  TokenClaims wrong_issuer = no_subject;
  wrong_issuer.issuer = "someone-else";
  const std::vector<Case> cases = {
      {ours_.Token("a", {"viewer"}, {}, absl::Hours(1), absl::Now() - absl::Hours(2)), "expired"},
      {ours_.Token("a", {"viewer"}, {}, absl::Hours(1), absl::Now() + absl::Hours(1)),
       "not valid yet"},
      {theirs_.Token("a", {"operator"}), "not signed by a configured key"},
      {*IssueToken(Read(ours_.signing_key_file), wrong_issuer), "issuer \"someone-else\""},
      {"not.a.token", "not signed by a configured key"},
      {"", "not signed by a configured key"},
      // Signed with the public key as an HMAC secret: the classic confusion.
      {RawToken(JWT_ALG_HS256, Read(ours_.signing_pub_file)), "algorithm HS256 is not accepted"},
      {RawToken(JWT_ALG_NONE, ""), "not signed by a configured key"},
  };
  for (const Case& c : cases) {
    const absl::Status status = Refusal(c.token);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << c.reason;
    EXPECT_TRUE(absl::StrContains(status.message(), c.reason)) << status;
    if (!c.token.empty()) {
      EXPECT_FALSE(absl::StrContains(status.message(), c.token));
    }
  }
  const absl::Status audience =
      TokenVerifier(other_audience).Verify(ours_.Token("a", {"viewer"}), absl::Now()).status();
  EXPECT_EQ(audience.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(audience.message(), "audience \"another-system\"")) << audience;
}

TEST_F(AuthTest, AKeysFileMayHoldSeveralKeysAndATokenOfAnyOfThemPasses) {
  absl::StatusOr<std::vector<std::string>> keys =
      SplitPublicKeys(Read(ours_.signing_pub_file) + Read(theirs_.signing_pub_file));
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  AuthSettings both = ours_.Auth();
  both.public_keys = *keys;
  TokenVerifier verifier(both);
  EXPECT_TRUE(verifier.Verify(ours_.Token("a", {"viewer"}), absl::Now()).ok());
  EXPECT_TRUE(verifier.Verify(theirs_.Token("b", {"viewer"}), absl::Now()).ok());
  EXPECT_FALSE(SplitPublicKeys("no keys here").ok());
}

}  // namespace
}  // namespace suishin
