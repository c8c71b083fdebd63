#include "tests/services/gateway/gateway_fixture.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace suishin::gateway::testing {

SseReader::SseReader(int port, const std::string& path, const std::string& token,
                     const std::string& last_event_id) {
  thread_ = std::thread([this, port, path, token, last_event_id] {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    httplib::Headers headers = {{"Accept", "text/event-stream"}};
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    if (!last_event_id.empty()) headers.emplace("Last-Event-ID", last_event_id);
    client.Get(
        path, headers,
        [this](const httplib::Response& response) {
          absl::MutexLock lock(&mu_);
          status_ = response.status;
          return !stop_;
        },
        [this](const char* data, size_t length) {
          absl::MutexLock lock(&mu_);
          pending_.append(data, length);
          // Events end with a blank line; a ':' line is a comment.
          for (size_t end; (end = pending_.find("\n\n")) != std::string::npos;) {
            SseEvent event;
            for (absl::string_view line : absl::StrSplit(pending_.substr(0, end), '\n')) {
              if (absl::ConsumePrefix(&line, "id: ")) event.id = std::string(line);
              if (absl::ConsumePrefix(&line, "event: ")) event.event = std::string(line);
              if (absl::ConsumePrefix(&line, "data: ")) event.data = std::string(line);
            }
            pending_.erase(0, end + 2);
            if (!event.data.empty()) events_.push_back(std::move(event));
          }
          return !stop_;
        });
  });
}

SseReader::~SseReader() { Stop(); }

bool SseReader::WaitFor(size_t n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto arrived = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return events_.size() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
}

std::vector<SseEvent> SseReader::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

int SseReader::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

void SseReader::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void GatewayTest::SetUp() {
  SuiteTest::SetUp();
  if (HasFatalFailure()) return;
  StartNotification();
  LoadSeed();
  operator_token_ = TokenFor("gateway-operator", {"viewer", "officer", "planner", "operator"});
  StartGateway();
}

void GatewayTest::TearDown() {
  if (gateway_.has_value() && gateway_->running()) (void)gateway_->Terminate(absl::Seconds(10));
  SuiteTest::TearDown();
}

void GatewayTest::StartGateway(std::vector<std::string> flags) {
  if (gateway_.has_value() && gateway_->running()) {
    ASSERT_TRUE(gateway_->Terminate(absl::Seconds(10)).ok());
  }
  const std::string port_file = dir_->File("gateway.port");
  std::remove(port_file.c_str());
  std::vector<std::string> argv = {std::string(SUISHIN_BINARY_DIR) + "/services/gateway/gateway",
                                   "--gateway_listen=127.0.0.1:0",
                                   "--port_file=" + port_file,
                                   "--plan_address=" + plan_address_,
                                   "--kpi_address=" + kpi_address_,
                                   "--notification_address=" + notification_address_,
                                   "--tls_ca=" + pki_.ca_file,
                                   "--gateway_stream_keepalive_ms=100"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  const std::string log = dir_->File(absl::StrCat("gateway.", ++starts_, ".log"));
  auto child = suishin::testing::ChildProcess::Start(argv, {}, log, log);
  ASSERT_TRUE(child.ok()) << child.status();
  gateway_.emplace(*std::move(child));
  auto text = gateway_->WaitForFile(port_file, absl::Seconds(20));
  ASSERT_TRUE(text.ok()) << text.status();
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &gateway_port_));
  http_ = std::make_unique<httplib::Client>("127.0.0.1", gateway_port_);
  http_->set_read_timeout(20, 0);
}

std::string GatewayTest::TokenFor(const std::string& subject, std::vector<std::string> roles,
                                  std::vector<std::string> regions) const {
  return pki_.Token(subject, std::move(roles), std::move(regions), absl::Hours(2));
}

httplib::Result GatewayTest::Get(const std::string& path, const std::string& token) {
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  return http_->Get(path.c_str(), headers);
}

httplib::Result GatewayTest::Send(const std::string& method, const std::string& path,
                                  const std::string& body, const std::string& token,
                                  const std::string& content_type) {
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  if (method == "POST") return http_->Post(path.c_str(), headers, body, content_type.c_str());
  if (method == "PATCH") return http_->Patch(path.c_str(), headers, body, content_type.c_str());
  if (method == "DELETE") return http_->Delete(path.c_str(), headers, body, content_type.c_str());
  return http_->Put(path.c_str(), headers, body, content_type.c_str());
}

std::vector<kpi::v1::Change> GatewayTest::JishuSoyaR1Changes() {
  kpi::v1::GetHistoryRequest history;
  history.set_kpi_id("jishu-bousai");
  history.set_region_id("soya");
  history.mutable_fiscal_year()->set_year(2019);
  kpi::v1::GetHistoryResponse changes;
  EXPECT_TRUE(
      kpi_stub_->GetHistory(notification::testing::Context().get(), history, &changes).ok());
  return {changes.changes().begin(), changes.changes().end()};
}

std::string GatewayTest::ParseInto(const std::string& json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, message, options);
  return parsed.ok() ? "" : parsed.ToString();
}

}  // namespace suishin::gateway::testing
