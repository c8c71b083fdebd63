#include "services/notification/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/http_receiver.h"

namespace suishin::notification {
namespace {

using ::suishin::testing::HttpReceiver;
using ::suishin::testing::ReceivedRequest;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr absl::Duration kTimeout = absl::Seconds(10);

// An alert as notification-service might send it, in Japanese as the seed writes it.
constexpr char kJapaneseBody[] =
    R"({"type":"alert.firing","data":{"rule":"LAGGING","severity":"CRITICAL",)"
    R"("kpi":"自主防災組織率","region":"留萌","rate":45.8,"pace":78.7,)"
    R"("note":"今年度の主な取組 — 遅れ"}})";

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HttpReceiver>> receiver = HttpReceiver::Start();
    ASSERT_TRUE(receiver.ok()) << receiver.status();
    receiver_ = *std::move(receiver);
    transport_ = NewCurlTransport(*TargetPolicy::Parse("127.0.0.1,::1"));
    ASSERT_NE(transport_, nullptr);
  }

  absl::StatusOr<HttpResult> Post(const std::string& url, const std::string& body = "{}",
                                  const Headers& headers = {}, absl::Duration timeout = kTimeout) {
    return transport_->Post(url, headers, body, timeout);
  }

  std::unique_ptr<HttpReceiver> receiver_;
  std::unique_ptr<WebhookTransport> transport_;
};

// A port nothing listens on for the test's duration: bound, never listened on,
// so connecting is refused at once.
class ClosedPort {
 public:
  ClosedPort() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    struct sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd_, reinterpret_cast<struct sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~ClosedPort() {
    if (fd_ >= 0) close(fd_);
  }
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;

  int port() const { return port_; }

 private:
  const int fd_;
  int port_ = 0;
};

TEST_F(HttpClientTest, HeadersAndBodyArriveIntact) {
  const Headers headers = {
      {"webhook-id", "evt_01HZX4K2"},
      {"webhook-timestamp", "1700000000"},
      {"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,bm9wZQ=="},
      {"X-Suishin-Endpoint", "ep_7"},
      {"X-Empty", ""},
  };
  absl::StatusOr<HttpResult> result =
      Post(receiver_->url("/hooks/alerts?tenant=dohoku"), kJapaneseBody, headers);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "OK\n");

  const std::vector<ReceivedRequest> requests = receiver_->requests();
  ASSERT_EQ(requests.size(), 1u);
  const ReceivedRequest& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/hooks/alerts?tenant=dohoku");
  EXPECT_EQ(r.version, "HTTP/1.1");
  EXPECT_EQ(r.body, kJapaneseBody);
  EXPECT_EQ(r.header("content-length"), absl::StrCat(sizeof(kJapaneseBody) - 1));
  EXPECT_EQ(r.header("webhook-id"), "evt_01HZX4K2");
  EXPECT_EQ(r.header("webhook-timestamp"), "1700000000");
  EXPECT_EQ(r.header("webhook-signature"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,bm9wZQ==");
  EXPECT_EQ(r.header("x-suishin-endpoint"), "ep_7");
  EXPECT_EQ(r.headers.count("x-empty"), 1u);
  EXPECT_EQ(r.header("x-empty"), "");
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.headers.count("expect"), 0u);
  EXPECT_TRUE(absl::StartsWith(r.header("user-agent"), "suishin-notification/"))
      << r.header("user-agent");
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpClientTest, KeepsTheCallersContentType) {
  absl::StatusOr<HttpResult> result =
      Post(receiver_->url(), "{}", {{"Content-Type", "application/cloudevents+json"}});
  ASSERT_TRUE(result.ok()) << result.status();
  const std::vector<ReceivedRequest> requests = receiver_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("content-type"), "application/cloudevents+json");
}

TEST_F(HttpClientTest, EmptyAndLargeBodiesArriveIntact) {
  std::string large;
  for (int i = 0; large.size() < 3 * 1024 * 1024; ++i) absl::StrAppend(&large, "留萌", i, ",");
  for (const std::string& body : {std::string(), large}) {
    absl::StatusOr<HttpResult> result = Post(receiver_->url(), body);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->status, 200);
  }
  const std::vector<ReceivedRequest> requests = receiver_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, "");
  EXPECT_EQ(requests[1].body.size(), large.size());
  EXPECT_TRUE(requests[1].body == large);
  EXPECT_EQ(requests[1].headers.count("expect"), 0u);
}

TEST_F(HttpClientTest, HttpStatusesAreResultsNotErrors) {
  const struct {
    int status;
    absl::string_view body;
  } kCases[] = {
      {200, "OK\n"},
      {204, ""},
      {301, "Moved Permanently\n"},
      {400, "Bad Request\n"},
      {404, "Not Found\n"},
      {410, "Gone\n"},
      {429, "Too Many Requests\n"},
      {500, "Internal Server Error\n"},
      {503, "Service Unavailable\n"},
  };
  for (const auto& c : kCases) {
    receiver_->SetPolicy(HttpReceiver::Always(c.status));
    absl::StatusOr<HttpResult> result = Post(receiver_->url());
    ASSERT_TRUE(result.ok()) << c.status << ": " << result.status();
    EXPECT_EQ(result->status, c.status);
    EXPECT_EQ(result->body, c.body) << c.status;
  }
  EXPECT_EQ(receiver_->requests().size(), std::size(kCases));
}

TEST_F(HttpClientTest, RedirectsAreNotFollowed) {
  receiver_->SetPolicy([](const ReceivedRequest& r) { return r.path == "/hook" ? 302 : 200; });
  absl::StatusOr<HttpResult> result = Post(receiver_->url());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, 302);
  EXPECT_EQ(receiver_->requests().size(), 1u);
}

TEST_F(HttpClientTest, ReceiverFailFirstPolicyFailsThenSucceeds) {
  receiver_->SetPolicy(HttpReceiver::FailFirst(2, 503));
  std::vector<int> statuses;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<HttpResult> result =
        Post(receiver_->url(), absl::StrCat(R"({"attempt":)", i, "}"));
    ASSERT_TRUE(result.ok()) << result.status();
    statuses.push_back(result->status);
  }
  EXPECT_EQ(statuses, (std::vector<int>{503, 503, 200, 200}));
  const std::vector<ReceivedRequest> requests = receiver_->requests();
  ASSERT_EQ(requests.size(), 4u);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].status, statuses[i]);
    EXPECT_EQ(requests[i].body, absl::StrCat(R"({"attempt":)", i, "}"));
    if (i > 0) {
      EXPECT_LE(requests[i - 1].arrival, requests[i].arrival);
    }
  }
}

TEST_F(HttpClientTest, ConnectionCloseIsHonoured) {
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResult> result = Post(receiver_->url(), "{}", {{"Connection", "close"}});
    ASSERT_TRUE(result.ok()) << i << ": " << result.status();
    EXPECT_EQ(result->status, 200);
  }
  const std::vector<ReceivedRequest> requests = receiver_->requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const ReceivedRequest& r : requests) EXPECT_EQ(r.header("connection"), "close");
}

TEST_F(HttpClientTest, ClosedPortIsUnavailable) {
  ClosedPort closed;
  ASSERT_NE(closed.port(), 0);
  absl::StatusOr<HttpResult> result =
      Post(absl::StrCat("http://127.0.0.1:", closed.port(), "/hook"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
  EXPECT_TRUE(absl::StrContains(result.status().message(), "onnect")) << result.status();
}

TEST_F(HttpClientTest, StoppedReceiverIsUnavailable) {
  // The first request leaves a kept-alive connection in the transport's pool.
  ASSERT_TRUE(Post(receiver_->url()).ok());
  const std::string url = receiver_->url();
  receiver_->Stop();
  absl::StatusOr<HttpResult> result = Post(url);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
}

TEST_F(HttpClientTest, SilentReceiverIsDeadlineExceededWithinTheTimeout) {
  receiver_->SetPolicy(HttpReceiver::Always(HttpReceiver::kNoAnswer));
  const absl::Duration timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpResult> result = Post(receiver_->url(), "{}", {}, timeout);
  const absl::Duration elapsed = absl::Now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded) << result.status();
  EXPECT_GE(elapsed, timeout - absl::Milliseconds(5));
  EXPECT_LT(elapsed, timeout + absl::Seconds(2));
  // The request did arrive: only the answer is missing.
  ASSERT_TRUE(receiver_->WaitForRequests(1, kTimeout));
  EXPECT_EQ(receiver_->requests()[0].status, HttpReceiver::kNoAnswer);
}

TEST_F(HttpClientTest, StopReleasesUnansweredRequests) {
  receiver_->SetPolicy(HttpReceiver::Always(HttpReceiver::kNoAnswer));
  absl::StatusOr<HttpResult> result;
  std::thread client([&] { result = Post(receiver_->url(), "{}", {}, absl::Seconds(30)); });
  ASSERT_TRUE(receiver_->WaitForRequests(1, kTimeout));
  const absl::Time start = absl::Now();
  receiver_->Stop();
  client.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
}

TEST_F(HttpClientTest, ConnectionClosedWithoutAnswerIsUnavailable) {
  receiver_->SetPolicy(HttpReceiver::Always(HttpReceiver::kCloseWithoutAnswer));
  absl::StatusOr<HttpResult> result = Post(receiver_->url());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
}

TEST_F(HttpClientTest, HttpsToAPlainHttpServerIsUnavailable) {
  absl::StatusOr<HttpResult> result = Post(
      absl::StrCat("https://127.0.0.1:", receiver_->port(), "/hook"), "{}", {}, absl::Seconds(5));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
}

TEST_F(HttpClientTest, RejectsBadArgumentsWithoutSending) {
  const std::string url = receiver_->url();
  const struct {
    std::string url;
    Headers headers;
    absl::Duration timeout;
    absl::string_view field;
  } kCases[] = {
      {"", {}, kTimeout, "url"},
      {"ftp://127.0.0.1/hook", {}, kTimeout, "url"},
      {"file:///etc/passwd", {}, kTimeout, "url"},
      {"127.0.0.1/hook", {}, kTimeout, "url"},
      {"http://[::1/hook", {}, kTimeout, "url"},
      {url, {}, absl::ZeroDuration(), "timeout"},
      {url, {}, -absl::Seconds(1), "timeout"},
      {url, {}, absl::InfiniteDuration(), "timeout"},
      {url, {{"", "x"}}, kTimeout, "headers"},
      {url, {{"Bad Name", "x"}}, kTimeout, "headers"},
      {url, {{"X-Colon:", "x"}}, kTimeout, "headers"},
      {url, {{"X-Injected", "a\r\nX-Evil: 1"}}, kTimeout, "headers"},
      {url, {{"X-Nul", std::string("a\0b", 3)}}, kTimeout, "headers"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<HttpResult> result = Post(c.url, "{}", c.headers, c.timeout);
    ASSERT_FALSE(result.ok()) << c.url;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
        << c.url << ": " << result.status();
    EXPECT_TRUE(absl::StartsWith(result.status().message(), c.field)) << result.status();
  }
  EXPECT_TRUE(receiver_->requests().empty());
}

TEST_F(HttpClientTest, ErrorMessagesDoNotRepeatTheUrl) {
  ClosedPort closed;
  const std::string url = absl::StrCat("http://127.0.0.1:", closed.port(), "/hook/T0KEN-s3cret");
  absl::StatusOr<HttpResult> result = Post(url);
  ASSERT_FALSE(result.ok());
  EXPECT_FALSE(absl::StrContains(result.status().message(), "T0KEN-s3cret")) << result.status();
  result = Post("gopher://example.invalid/T0KEN-s3cret");
  ASSERT_FALSE(result.ok());
  EXPECT_FALSE(absl::StrContains(result.status().message(), "T0KEN-s3cret")) << result.status();
}

TEST_F(HttpClientTest, ConcurrentPostsAllArrive) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<HttpResult> result =
            Post(receiver_->url(), absl::StrCat(R"({"thread":)", t, R"(,"i":)", i, "}"));
        if (!result.ok() || result->status != 200) ++failures[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, std::vector<int>(kThreads, 0));
  std::set<std::string> bodies;
  for (const ReceivedRequest& r : receiver_->requests()) bodies.insert(r.body);
  EXPECT_EQ(bodies.size(), static_cast<size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace suishin::notification
