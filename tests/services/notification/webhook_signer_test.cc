#include "services/notification/webhook_signer.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace suishin::notification {
namespace {

// The test vector the Standard Webhooks reference libraries check their
// signer against (standard-webhooks/standard-webhooks,
// libraries/go/webhook_test.go TestWebhookSign and
// libraries/javascript/src/webhook.test.ts "sign function works").
constexpr absl::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr absl::string_view kMsgId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTimestamp = 1614265330;
constexpr absl::string_view kPayload = R"({"test": 2432232314})";
constexpr absl::string_view kExpected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// A well-formed signature under some other key, as the reference tests use.
constexpr absl::string_view kOtherSignature = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";

std::string VectorKey() {
  absl::StatusOr<std::string> key = DecodeWebhookSecret(kSecret);
  EXPECT_TRUE(key.ok()) << key.status();
  return key.ok() ? *key : std::string();
}

std::string Secret(size_t key_bytes) {
  return absl::StrCat(kWebhookSecretPrefix, absl::Base64Escape(std::string(key_bytes, 'k')));
}

TEST(WebhookSignerTest, ReproducesThePublishedTestVector) {
  EXPECT_EQ(SignWebhook(VectorKey(), kMsgId, kTimestamp, kPayload), kExpected);
}

TEST(WebhookSignerTest, VerifiesThePublishedTestVector) {
  EXPECT_TRUE(VerifyWebhook(VectorKey(), kMsgId, kTimestamp, kPayload, kExpected));
}

TEST(WebhookSignerTest, DecodesTheVectorSecretToItsKeyBytes) {
  const std::string key = VectorKey();
  EXPECT_EQ(key.size(), 24u);
  EXPECT_EQ(absl::Base64Escape(key), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
}

TEST(WebhookSignerTest, TamperedBodyFailsVerification) {
  const std::string key = VectorKey();
  EXPECT_FALSE(VerifyWebhook(key, kMsgId, kTimestamp, R"({"test": 2432232315})", kExpected));
  EXPECT_FALSE(VerifyWebhook(key, kMsgId, kTimestamp, R"({"test":2432232314})", kExpected));
  EXPECT_FALSE(VerifyWebhook(key, kMsgId, kTimestamp, "", kExpected));
}

TEST(WebhookSignerTest, TamperedIdFailsVerification) {
  EXPECT_FALSE(
      VerifyWebhook(VectorKey(), "msg_p5jXN8AQM9LWM0D4loKWxJeK", kTimestamp, kPayload, kExpected));
}

TEST(WebhookSignerTest, TamperedTimestampFailsVerification) {
  const std::string key = VectorKey();
  EXPECT_FALSE(VerifyWebhook(key, kMsgId, kTimestamp + 1, kPayload, kExpected));
  EXPECT_FALSE(VerifyWebhook(key, kMsgId, kTimestamp - 1, kPayload, kExpected));
}

TEST(WebhookSignerTest, OtherKeyFailsVerification) {
  absl::StatusOr<std::string> other = DecodeWebhookSecret(NewWebhookSecret());
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(VerifyWebhook(*other, kMsgId, kTimestamp, kPayload, kExpected));
}

TEST(WebhookSignerTest, AcceptsAValidSignatureAmongSeveral) {
  // The reference libraries' "multi sig" case: other keys, another version, then ours.
  const std::string header =
      absl::StrJoin({std::string(kOtherSignature), absl::StrCat("v2,", kOtherSignature.substr(3)),
                     std::string(kExpected), std::string(kOtherSignature)},
                    " ");
  EXPECT_TRUE(VerifyWebhook(VectorKey(), kMsgId, kTimestamp, kPayload, header));
  EXPECT_TRUE(VerifyWebhook(VectorKey(), kMsgId, kTimestamp, kPayload,
                            absl::StrCat("  ", kOtherSignature, "   ", kExpected, " ")));
}

TEST(WebhookSignerTest, RejectsHeadersWithoutAValidV1Signature) {
  const std::string key = VectorKey();
  const std::string valid_base64(kExpected.substr(3));
  for (const std::string& header : {
           std::string(), std::string(" "), std::string("v1,"), std::string(kExpected.substr(0, 8)),
           std::string(kExpected.substr(0, kExpected.size() - 1)), absl::StrCat(kExpected, "A"),
           absl::StrCat(kOtherSignature, " ", kOtherSignature),
           absl::StrCat("v1a,", valid_base64),  // Right bytes, wrong scheme.
           absl::StrCat("v2,", valid_base64),
           valid_base64,  // No version.
           absl::StrCat("V1,", valid_base64),
           absl::StrCat("v1,", valid_base64.substr(0, valid_base64.size() - 1)),  // No padding.
       }) {
    EXPECT_FALSE(VerifyWebhook(key, kMsgId, kTimestamp, kPayload, header)) << header;
  }
}

TEST(WebhookSignerTest, SignsAndVerifiesWithANewSecret) {
  const std::string secret = NewWebhookSecret();
  EXPECT_TRUE(absl::StartsWith(secret, "whsec_")) << secret;
  absl::StatusOr<std::string> key = DecodeWebhookSecret(secret);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), kNewWebhookKeyBytes);

  const std::string body = R"({"kpi":"自主防災組織率","region":"留萌","rate":45.8})";
  const std::string signature = SignWebhook(*key, "evt_1", 1700000000, body);
  EXPECT_TRUE(absl::StartsWith(signature, "v1,")) << signature;
  EXPECT_EQ(signature.size(), 3u + 44u) << signature;
  EXPECT_TRUE(VerifyWebhook(*key, "evt_1", 1700000000, body, signature));
  EXPECT_FALSE(VerifyWebhook(VectorKey(), "evt_1", 1700000000, body, signature));
}

TEST(WebhookSignerTest, NewSecretsDiffer) { EXPECT_NE(NewWebhookSecret(), NewWebhookSecret()); }

TEST(WebhookSignerTest, AcceptsKeysOfTheAllowedLengths) {
  for (size_t bytes : {size_t{24}, size_t{25}, size_t{26}, size_t{32}, size_t{64}}) {
    absl::StatusOr<std::string> key = DecodeWebhookSecret(Secret(bytes));
    ASSERT_TRUE(key.ok()) << bytes << ": " << key.status();
    EXPECT_EQ(*key, std::string(bytes, 'k'));
  }
}

TEST(WebhookSignerTest, AcceptsUnpaddedBase64) {
  std::string secret = Secret(25);  // Ends in "==".
  ASSERT_TRUE(absl::EndsWith(secret, "==")) << secret;
  secret.resize(secret.size() - 2);
  absl::StatusOr<std::string> key = DecodeWebhookSecret(secret);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, std::string(25, 'k'));
}

TEST(WebhookSignerTest, RejectsBadSecrets) {
  std::string stray_bits = Secret(25);  // "...aw==": 'w' leaves four low bits zero; 'x' does not.
  ASSERT_TRUE(absl::EndsWith(stray_bits, "w==")) << stray_bits;
  stray_bits[stray_bits.size() - 3] = 'x';

  const struct {
    std::string secret;
    absl::string_view why;
  } kCases[] = {
      {"", "empty"},
      {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "no prefix"},
      {"WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "prefix in capitals"},
      {"whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "asymmetric prefix"},
      {"whsec_", "no key"},
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", "not base64"},
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS_", "URL-safe alphabet"},
      {"whsec_MfKQ9r8G KYqrTwjUPD8ILPZIo2LaLaSw", "whitespace inside"},
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", "trailing newline"},
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=", "bad padding"},
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "truncated"},
      {stray_bits, "non-canonical last character"},
      {Secret(16), "16-byte key"},
      {Secret(23), "23-byte key"},
      {Secret(65), "65-byte key"},
      {Secret(128), "128-byte key"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<std::string> key = DecodeWebhookSecret(c.secret);
    ASSERT_FALSE(key.ok()) << c.why;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << c.why;
    EXPECT_TRUE(absl::StartsWith(key.status().message(), "webhook.secret: "))
        << c.why << ": " << key.status();
    const absl::string_view encoded = absl::string_view(c.secret).substr(
        absl::StartsWith(c.secret, "whsec_") ? kWebhookSecretPrefix.size() : 0);
    if (encoded.size() >= 8) {
      EXPECT_FALSE(absl::StrContains(key.status().message(), encoded))
          << c.why << ": the message repeats the secret: " << key.status();
    }
  }
}

}  // namespace
}  // namespace suishin::notification
