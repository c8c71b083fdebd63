// The gateway binary in front of the real suite (SuiteTest: the three
// services with TLS and tokens, a real Redis, the seed loaded), and an HTTP
// client to call it as a browser or another system would.
#ifndef SUISHIN_TESTS_SERVICES_GATEWAY_GATEWAY_FIXTURE_H_
#define SUISHIN_TESTS_SERVICES_GATEWAY_GATEWAY_FIXTURE_H_

#include <google/protobuf/message.h>
#include <httplib.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "tests/services/notification/suite_fixture.h"

namespace suishin::gateway::testing {

// One Server-Sent Event as a client reads it.
struct SseEvent {
  std::string id;
  std::string event;  // empty for the default "message"
  std::string data;
};

// Reads a Server-Sent Events stream on a thread of its own, keeping every
// event, until stopped (the gateway's keepalive comments wake the reader).
class SseReader {
 public:
  SseReader(int port, const std::string& path, const std::string& token,
            const std::string& last_event_id = "");
  ~SseReader();
  // Waits until at least `n` events arrived; false after `timeout`.
  bool WaitFor(size_t n, absl::Duration timeout = absl::Seconds(20));
  std::vector<SseEvent> events() const;
  // The HTTP status of the response (0 until headers arrived).
  int status() const;
  void Stop();

 private:
  mutable absl::Mutex mu_;
  std::vector<SseEvent> events_ ABSL_GUARDED_BY(mu_);
  std::string pending_ ABSL_GUARDED_BY(mu_);
  int status_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class GatewayTest : public notification::testing::SuiteTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts the gateway binary (again) with `flags` added to the fixture's:
  // HTTP on a free loopback port, the three services' addresses, their CA.
  void StartGateway(std::vector<std::string> flags = {});

  // A token of the test issuer with `roles` over all of Hokkaido.
  std::string TokenFor(const std::string& subject, std::vector<std::string> roles,
                       std::vector<std::string> regions = {"hokkaido"}) const;

  // HTTP calls with `token` as the bearer (none when empty).
  httplib::Result Get(const std::string& path, const std::string& token);
  httplib::Result Send(const std::string& method, const std::string& path, const std::string& body,
                       const std::string& token,
                       const std::string& content_type = "application/json");

  // The changes kpi-service holds to 宗谷's 自主防災組織率 for R元 (2019), a
  // value the seed leaves empty: what the tests write there, or refuse to.
  std::vector<kpi::v1::Change> JishuSoyaR1Changes();

  // `json` parsed into `message` (unknown fields refused); the parser's
  // message when it does not fit.
  static std::string ParseInto(const std::string& json, google::protobuf::Message* message);

  std::optional<suishin::testing::ChildProcess> gateway_;
  int gateway_port_ = 0;
  // Every role, all of Hokkaido.
  std::string operator_token_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace suishin::gateway::testing

#endif  // SUISHIN_TESTS_SERVICES_GATEWAY_GATEWAY_FIXTURE_H_
