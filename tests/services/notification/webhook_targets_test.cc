// Webhooks cannot be turned against the installation's own network: every
// spelling of a loopback, private, link-local, unique-local, CGNAT,
// multicast or unspecified address is refused when a webhook is registered
// (over gRPC, nothing stored) and again when it is sent (the address checked
// is the address connected to), unless --webhook_allow_targets names it.
#include "services/notification/webhook_targets.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/proto_util.h"
#include "services/notification/http_client.h"
#include "tests/services/notification/notification_server.h"
#include "tests/support/http_receiver.h"
#include "tests/support/temp_dir.h"

namespace suishin::notification {
namespace {

using ::suishin::testing::HttpReceiver;
using testing::AchievedSubject;
using testing::NotificationServer;
using testing::NotificationServerOptions;

std::string RangeOf(const std::string& text) {
  std::optional<IpAddress> address = IpAddress::Parse(text);
  if (!address) return "unparsed";
  return NonPublicRange(*address).value_or("public");
}

TEST(WebhookTargetsTest, EveryNonPublicRangeIsNamed) {
  EXPECT_EQ(RangeOf("127.0.0.1"), "loopback (127.0.0.0/8)");
  EXPECT_EQ(RangeOf("127.255.0.9"), "loopback (127.0.0.0/8)");
  EXPECT_EQ(RangeOf("10.1.2.3"), "private (10.0.0.0/8)");
  EXPECT_EQ(RangeOf("172.16.0.1"), "private (172.16.0.0/12)");
  EXPECT_EQ(RangeOf("172.31.255.255"), "private (172.16.0.0/12)");
  EXPECT_EQ(RangeOf("192.168.10.1"), "private (192.168.0.0/16)");
  EXPECT_EQ(RangeOf("169.254.169.254"), "link-local (169.254.0.0/16)");
  EXPECT_EQ(RangeOf("100.64.0.1"), "CGNAT (100.64.0.0/10)");
  EXPECT_EQ(RangeOf("100.127.255.255"), "CGNAT (100.64.0.0/10)");
  EXPECT_EQ(RangeOf("0.0.0.0"), "unspecified (0.0.0.0/8)");
  EXPECT_EQ(RangeOf("224.0.0.1"), "multicast (224.0.0.0/4)");
  EXPECT_EQ(RangeOf("255.255.255.255"), "reserved or broadcast (240.0.0.0/4)");
  EXPECT_EQ(RangeOf("::1"), "loopback (::1)");
  EXPECT_EQ(RangeOf("::"), "unspecified (::)");
  EXPECT_EQ(RangeOf("fe80::1"), "link-local (fe80::/10)");
  EXPECT_EQ(RangeOf("fc00::1"), "unique-local (fc00::/7)");
  EXPECT_EQ(RangeOf("fd12:3456::1"), "unique-local (fc00::/7)");
  EXPECT_EQ(RangeOf("ff02::1"), "multicast (ff00::/8)");
  // IPv6 forms that carry an IPv4 address are judged by it.
  EXPECT_EQ(RangeOf("::ffff:127.0.0.1"), "loopback (127.0.0.0/8)");
  EXPECT_EQ(RangeOf("::ffff:10.0.0.1"), "private (10.0.0.0/8)");
  EXPECT_EQ(RangeOf("::127.0.0.1"), "loopback (127.0.0.0/8) inside IPv4-compatible (::/96)");
  EXPECT_EQ(RangeOf("64:ff9b::192.168.0.1"),
            "private (192.168.0.0/16) inside NAT64 (64:ff9b::/96)");
  EXPECT_EQ(RangeOf("2002:7f00:1::1"), "loopback (127.0.0.0/8) inside 6to4 (2002::/16)");
  // Public addresses, also just beside the ranges.
  for (const char* text : {"8.8.8.8", "172.32.0.1", "100.128.0.1", "11.0.0.1", "192.169.0.1",
                           "2001:4860:4860::8888", "64:ff9b::8.8.8.8", "2002:808:808::1"}) {
    EXPECT_EQ(RangeOf(text), "public") << text;
  }
}

TEST(WebhookTargetsTest, EverySpellingOfALoopbackAddressIsRefused) {
  const TargetPolicy public_only;
  for (const char* url :
       {"http://127.0.0.1:6380/", "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.0.0.1/",
        "http://127.1/", "http://[::1]:50061/", "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/", "http://localhost:6380/", "http://LocalHost/x",
        "http://0.0.0.0/", "http://[::]/", "https://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/", "http://[fd00::1]/", "http://[fe80::1%25eth0]/"}) {
    const absl::Status status = public_only.CheckUrl("webhook.url", url);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << url << ": " << status;
    EXPECT_TRUE(absl::StartsWith(status.message(), "webhook.url: webhook target")) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), "--webhook_allow_targets")) << status;
  }
  EXPECT_TRUE(public_only.CheckUrl("webhook.url", "http://8.8.8.8/hook").ok());
  EXPECT_TRUE(public_only.CheckUrl("webhook.url", "https://[2001:4860:4860::8888]/").ok());
  // Not a URL, not http(s): INVALID_ARGUMENT.
  for (const char* url : {"http://", "ftp://8.8.8.8/", "http://exa mple.org/"}) {
    EXPECT_EQ(public_only.CheckUrl("webhook.url", url).code(), absl::StatusCode::kInvalidArgument)
        << url;
  }
  const absl::Status loopback = public_only.CheckUrl("webhook.url", "http://2130706433/");
  EXPECT_TRUE(absl::StrContains(loopback.message(), "is 127.0.0.1, loopback (127.0.0.0/8)"))
      << loopback;
}

TEST(WebhookTargetsTest, TheAllowListNamesAddressesRangesAndHosts) {
  absl::StatusOr<TargetPolicy> one = TargetPolicy::Parse("127.0.0.1");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_TRUE(one->CheckUrl("u", "http://127.0.0.1:9/").ok());
  EXPECT_TRUE(one->CheckUrl("u", "http://2130706433/").ok()) << "the same address";
  EXPECT_FALSE(one->CheckUrl("u", "http://127.0.0.2/").ok());
  EXPECT_FALSE(one->CheckUrl("u", "http://[::1]/").ok());
  EXPECT_FALSE(one->CheckUrl("u", "http://10.0.0.1/").ok());

  absl::StatusOr<TargetPolicy> ranges = TargetPolicy::Parse(" 127.0.0.0/8 , fd00::/8");
  ASSERT_TRUE(ranges.ok()) << ranges.status();
  EXPECT_TRUE(ranges->CheckUrl("u", "http://127.9.9.9/").ok());
  EXPECT_TRUE(ranges->CheckUrl("u", "http://[fd00::5]/").ok());
  EXPECT_FALSE(ranges->CheckUrl("u", "http://[fc00::5]/").ok());

  absl::StatusOr<TargetPolicy> host = TargetPolicy::Parse("LocalHost");
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_TRUE(host->CheckUrl("u", "http://localhost:8080/").ok());
  EXPECT_FALSE(host->CheckUrl("u", "http://127.0.0.1:8080/").ok()) << "the name, not its address";

  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/x", "hooks.local/8", "a b", "_x"}) {
    const absl::StatusOr<TargetPolicy> refused = TargetPolicy::Parse(bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(refused.status().message(),
                                 absl::StrCat("--webhook_allow_targets: \"", bad, "\"")))
        << refused.status();
  }
}

// The transport checks the address it is about to connect to, whatever the
// name resolved to when the webhook was registered.
TEST(WebhookTargetsTest, TheTransportRefusesToConnectToWhatIsNotAllowed) {
  absl::StatusOr<std::unique_ptr<HttpReceiver>> receiver = HttpReceiver::Start();
  ASSERT_TRUE(receiver.ok()) << receiver.status();
  const std::string port = absl::StrCat((*receiver)->port());
  std::unique_ptr<WebhookTransport> public_only = NewCurlTransport(TargetPolicy());
  for (const std::string& url : {absl::StrCat("http://127.0.0.1:", port, "/hook"),
                                 absl::StrCat("http://localhost:", port, "/hook"),
                                 absl::StrCat("http://2130706433:", port, "/hook")}) {
    absl::StatusOr<HttpResult> result = public_only->Post(url, {}, "{}", absl::Seconds(5));
    ASSERT_FALSE(result.ok()) << url;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kPermissionDenied) << result.status();
    EXPECT_TRUE(absl::StrContains(result.status().message(), "loopback")) << result.status();
    EXPECT_FALSE(absl::StrContains(result.status().message(), "/hook"))
        << "a URL may carry a token: it stays out of errors";
  }
  EXPECT_TRUE((*receiver)->requests().empty()) << "nothing reached the receiver";

  // Allowed by address: "localhost" reaches it through 127.0.0.1.
  std::unique_ptr<WebhookTransport> allowed = NewCurlTransport(*TargetPolicy::Parse("127.0.0.1"));
  absl::StatusOr<HttpResult> result =
      allowed->Post(absl::StrCat("http://localhost:", port, "/h"), {}, "{}", absl::Seconds(5));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ((*receiver)->requests().size(), 1u);
}

class WebhookTargetsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = suishin::testing::TempDir::Create("webhook-targets");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<suishin::testing::TempDir>(*std::move(dir));
    absl::StatusOr<std::unique_ptr<HttpReceiver>> receiver = HttpReceiver::Start();
    ASSERT_TRUE(receiver.ok()) << receiver.status();
    receiver_ = *std::move(receiver);
    NotificationServerOptions options;
    options.book.webhooks.targets = TargetPolicy();  // public addresses only, as by default
    options.deliver_webhooks = true;
    options.dispatch.retry_delays = {absl::Milliseconds(10)};
    auto server = NotificationServer::Start(dir_->File("notification.db"), std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }

  std::vector<v1::Webhook> Webhooks() {
    grpc::ClientContext context;
    v1::ListWebhooksResponse response;
    EXPECT_TRUE(stub_->ListWebhooks(&context, {}, &response).ok());
    return {response.webhooks().begin(), response.webhooks().end()};
  }

  std::unique_ptr<suishin::testing::TempDir> dir_;
  std::unique_ptr<HttpReceiver> receiver_;
  std::unique_ptr<NotificationServer> server_;
  std::unique_ptr<v1::NotificationService::Stub> stub_;
};

TEST_F(WebhookTargetsServiceTest, CreateWebhookRefusesEveryInternalSpellingAndStoresNothing) {
  const std::string port = absl::StrCat(receiver_->port());
  for (const std::string& url :
       {absl::StrCat("http://127.0.0.1:", port, "/"), std::string("http://127.0.0.1:6380/"),
        std::string("http://[::1]:50061/"), std::string("http://2130706433:6380/"),
        std::string("http://0177.0.0.1/"), std::string("http://[::ffff:127.0.0.1]/"),
        absl::StrCat("http://localhost:", port, "/"), std::string("http://192.168.1.1/"),
        std::string("http://169.254.169.254/")}) {
    v1::CreateWebhookRequest request;
    request.mutable_webhook()->set_url(url);
    v1::CreateWebhookResponse response;
    grpc::ClientContext context;
    const grpc::Status status = stub_->CreateWebhook(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << url;
    EXPECT_TRUE(absl::StartsWith(status.error_message(), "webhook.url: webhook target"))
        << status.error_message();
  }
  EXPECT_TRUE(Webhooks().empty());
}

// A webhook whose name pointed elsewhere when it was registered, and now
// points inside (stored here behind the book's back): never delivered, and
// its dead letter names the address refused.
TEST_F(WebhookTargetsServiceTest, AWebhookThatNowPointsInsideIsNeverDelivered) {
  v1::Webhook webhook;
  webhook.set_id("webhook-rebound");
  webhook.set_url(absl::StrCat("http://localhost:", receiver_->port(), "/hook"));
  webhook.set_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  *webhook.mutable_create_time() = ToProtoTimestamp(absl::Now());
  ASSERT_TRUE(server_->store()
                  .Run([&](NotificationTransaction& tx) { return tx.PutWebhook(webhook); })
                  .ok());
  ASSERT_TRUE(server_->book().alerts().Evaluate({AchievedSubject("kpi-1", "r-1")}, 0).ok());
  v1::ListDeadLettersResponse letters;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (letters.dead_letters().empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    grpc::ClientContext context;
    letters.Clear();
    ASSERT_TRUE(stub_->ListDeadLetters(&context, {}, &letters).ok());
  }
  ASSERT_EQ(letters.dead_letters_size(), 1);
  EXPECT_TRUE(absl::StartsWith(letters.dead_letters(0).last_error(), "PERMISSION_DENIED: "))
      << letters.dead_letters(0).last_error();
  EXPECT_TRUE(absl::StrContains(letters.dead_letters(0).last_error(), "loopback"))
      << letters.dead_letters(0).last_error();
  EXPECT_TRUE(receiver_->requests().empty());
}

}  // namespace
}  // namespace suishin::notification
