// Webhook delivery through the real binaries, asserted on what a real HTTP
// receiver saw (Alertmanager's acceptance-test style): Standard Webhooks
// signatures, one webhook-id per event across retries, retries with the
// configured delays on 5xx, none on 4xx, dead letters and their replay.
//
// All run under the fixture's --now (a FixedClock for evaluation): deliveries
// and their retries must still run on real time.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/notification/webhook_signer.h"
#include "tests/services/notification/suite_fixture.h"
#include "tests/support/http_receiver.h"

namespace suishin::notification {
namespace {

using suishin::testing::HttpReceiver;
using suishin::testing::ReceivedRequest;
using testing::AlertKey;
using testing::Context;
using testing::Eventually;
using testing::KeyOf;
using testing::RecordActual;
using testing::SeedAlertKeys;
using testing::Subscriber;
using testing::SuiteTest;

// The fixture's --webhook_retry_delays.
const absl::Duration kRetryDelays[] = {absl::Milliseconds(50), absl::Milliseconds(100),
                                       absl::Milliseconds(200), absl::Milliseconds(400)};

// A webhook body: {"type": ..., "timestamp": ..., "data": <AlertEvent>}.
struct Body {
  std::string type;
  v1::AlertEvent event;
};

Body ParseBody(const std::string& json) {
  Body body;
  google::protobuf::Struct envelope;
  auto status = google::protobuf::util::JsonStringToMessage(json, &envelope);
  EXPECT_TRUE(status.ok()) << status.ToString() << ": " << json;
  if (!status.ok()) return body;
  body.type = envelope.fields().count("type") ? envelope.fields().at("type").string_value() : "";
  EXPECT_TRUE(envelope.fields().count("data")) << json;
  if (!envelope.fields().count("data")) return body;
  std::string data;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(envelope.fields().at("data"), &data).ok());
  status = google::protobuf::util::JsonStringToMessage(data, &body.event);
  EXPECT_TRUE(status.ok()) << status.ToString() << ": " << data;
  return body;
}

int64_t Timestamp(const ReceivedRequest& request) {
  int64_t seconds = 0;
  EXPECT_TRUE(absl::SimpleAtoi(request.header("webhook-timestamp"), &seconds))
      << "webhook-timestamp: \"" << request.header("webhook-timestamp") << "\"";
  return seconds;
}

// The attempts of each event, keyed by webhook-id, in arrival order.
std::map<std::string, std::vector<ReceivedRequest>> ByWebhookId(
    const std::vector<ReceivedRequest>& requests) {
  std::map<std::string, std::vector<ReceivedRequest>> groups;
  for (const ReceivedRequest& request : requests) {
    groups[request.header("webhook-id")].push_back(request);
  }
  return groups;
}

// Every request is a signed Standard Webhooks POST of one event, whose
// webhook-id is "evt_" + the event id in its body.
void ExpectSigned(const std::vector<ReceivedRequest>& requests, const std::string& key) {
  for (const ReceivedRequest& request : requests) {
    const std::string id = request.header("webhook-id");
    SCOPED_TRACE(id);
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.path, "/hook");
    EXPECT_TRUE(absl::StartsWith(request.header("content-type"), "application/json"));
    EXPECT_TRUE(VerifyWebhook(key, id, Timestamp(request), request.body,
                              request.header("webhook-signature")))
        << "signature \"" << request.header("webhook-signature") << "\" does not verify";
    EXPECT_EQ(id, absl::StrCat("evt_", ParseBody(request.body).event.id()));
  }
}

// "dl-3 (event 7), ..." for failure messages.
std::string DescribeLetters(const std::vector<v1::DeadLetter>& letters) {
  std::string text = absl::StrCat(letters.size(), " dead letter(s):");
  for (const v1::DeadLetter& letter : letters) {
    absl::StrAppend(&text, " ", letter.id(), " (event ", letter.event_id(), ")");
  }
  return text;
}

class WebhookTest : public SuiteTest {
 protected:
  void SetUp() override {
    SuiteTest::SetUp();
    auto receiver = HttpReceiver::Start();
    ASSERT_TRUE(receiver.ok()) << receiver.status();
    receiver_ = *std::move(receiver);
  }

  void TearDown() override {
    SuiteTest::TearDown();
    receiver_->Stop();
  }

  // Registers the receiver's /hook with `secret` and returns the webhook's id.
  std::string CreateWebhook(const std::string& secret, v1::AlertFilter filter = {}) {
    v1::CreateWebhookRequest request;
    request.mutable_webhook()->set_url(receiver_->url("/hook"));
    request.mutable_webhook()->set_secret(secret);
    *request.mutable_webhook()->mutable_filter() = std::move(filter);
    v1::CreateWebhookResponse response;
    grpc::Status status = notification_stub_->CreateWebhook(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_FALSE(response.webhook().id().empty());
    // A secret the caller chose is never echoed back.
    EXPECT_TRUE(response.webhook().secret().empty());
    return response.webhook().id();
  }

  std::vector<v1::DeadLetter> DeadLetters(const std::string& webhook_id) {
    v1::ListDeadLettersRequest request;
    request.set_webhook_id(webhook_id);
    v1::ListDeadLettersResponse response;
    grpc::Status status = notification_stub_->ListDeadLetters(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.dead_letters().begin(), response.dead_letters().end()};
  }

  std::unique_ptr<HttpReceiver> receiver_;
};

// The seed's correction of 留萌 自主防災組織率 H30 (37.1 → 40.0) resolves
// DECLINING: one more event, used to know that everything before it was sent.
void ResolveRumoiDeclining(kpi::v1::KpiService::Stub* kpi) {
  grpc::Status status = RecordActual(kpi, "jishu-bousai", "rumoi", 2018, 40.0);
  ASSERT_TRUE(status.ok()) << status.error_message();
}

TEST_F(WebhookTest, EveryEventArrivesOnceSignedAfterTheReceiverRecovers) {
  StartNotification();
  constexpr size_t kRefused = 30;  // more than one pass over the seventeen events
  receiver_->SetPolicy(HttpReceiver::FailFirst(kRefused, 503));
  const std::string secret = NewWebhookSecret();
  absl::StatusOr<std::string> key = DecodeWebhookSecret(secret);
  ASSERT_TRUE(key.ok()) << key.status();
  CreateWebhook(secret);
  Subscriber subscriber(notification_stub_.get(), 0);
  LoadSeed();
  const size_t seed_events = SeedAlertKeys().size();
  ASSERT_TRUE(subscriber.WaitFor(seed_events)) << subscriber.events().size() << " events";
  ASSERT_TRUE(receiver_->WaitForRequests(kRefused + seed_events, absl::Seconds(20)))
      << receiver_->requests().size() << " requests";
  // One event more: once it has arrived, nothing earlier is still on its way.
  ResolveRumoiDeclining(kpi_stub_.get());
  ASSERT_TRUE(subscriber.WaitFor(seed_events + 1));
  ASSERT_TRUE(receiver_->WaitForRequests(kRefused + seed_events + 1, absl::Seconds(20)));

  const std::vector<v1::AlertEvent> events = subscriber.events();
  ASSERT_EQ(events.size(), seed_events + 1);
  const std::vector<ReceivedRequest> requests = receiver_->requests();
  EXPECT_EQ(requests.size(), kRefused + seed_events + 1) << "a delivery was sent more than needed";
  ExpectSigned(requests, *key);

  const auto groups = ByWebhookId(requests);
  std::set<std::string> expected_ids;
  for (const v1::AlertEvent& event : events) expected_ids.insert(absl::StrCat("evt_", event.id()));
  std::set<std::string> delivered_ids;
  for (const auto& [id, attempts] : groups) delivered_ids.insert(id);
  EXPECT_EQ(delivered_ids, expected_ids);

  size_t refused = 0;
  size_t retried_events = 0;
  for (const auto& [id, attempts] : groups) {
    SCOPED_TRACE(id);
    ASSERT_FALSE(attempts.empty());
    // Each event: 503s first, then exactly one 200, and nothing after it.
    for (size_t i = 0; i + 1 < attempts.size(); ++i) EXPECT_EQ(attempts[i].status, 503);
    EXPECT_EQ(attempts.back().status, 200);
    if (attempts.size() > 1) ++retried_events;
    refused += attempts.size() - 1;
    // The retries resend the same body, after at least the configured delay.
    for (size_t i = 1; i < attempts.size(); ++i) {
      EXPECT_EQ(attempts[i].body, attempts[0].body);
      ASSERT_LE(i, std::size(kRetryDelays));
      EXPECT_GE(attempts[i].arrival - attempts[i - 1].arrival, kRetryDelays[i - 1])
          << "attempt " << i + 1;
    }
    const Body body = ParseBody(attempts.back().body);
    const v1::AlertEvent& event = events.at(body.event.id() - 1);
    ASSERT_EQ(event.id(), body.event.id());
    EXPECT_EQ(body.event.kind(), event.kind());
    EXPECT_EQ(body.event.alert().fingerprint(), event.alert().fingerprint());
    EXPECT_EQ(body.type, event.kind() == v1::EVENT_KIND_FIRED ? "alert.fired" : "alert.resolved");
  }
  EXPECT_EQ(refused, kRefused);
  EXPECT_GT(retried_events, seed_events / 2);

  // What was delivered is the seed's alerts, then the resolution.
  std::set<AlertKey> fired;
  for (const auto& [id, attempts] : groups) {
    const Body body = ParseBody(attempts.back().body);
    if (body.event.kind() == v1::EVENT_KIND_FIRED) fired.insert(KeyOf(body.event.alert()));
  }
  EXPECT_EQ(fired, SeedAlertKeys());
  EXPECT_TRUE(DeadLetters("").empty());
}

TEST_F(WebhookTest, ServiceGeneratedSecretSignsDeliveries) {
  StartNotification();
  v1::CreateWebhookRequest request;
  request.mutable_webhook()->set_url(receiver_->url("/hook"));
  request.mutable_webhook()->mutable_filter()->add_region_ids("rumoi");
  request.mutable_webhook()->mutable_filter()->add_rules(v1::RULE_KIND_DECLINING);
  v1::CreateWebhookResponse created;
  grpc::Status status = notification_stub_->CreateWebhook(Context().get(), request, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Shown once, in this answer; never listed.
  absl::StatusOr<std::string> key = DecodeWebhookSecret(created.webhook().secret());
  ASSERT_TRUE(key.ok()) << key.status();
  v1::ListWebhooksResponse listed;
  ASSERT_TRUE(
      notification_stub_->ListWebhooks(Context().get(), v1::ListWebhooksRequest(), &listed).ok());
  ASSERT_EQ(listed.webhooks_size(), 1);
  EXPECT_EQ(listed.webhooks(0).id(), created.webhook().id());
  EXPECT_TRUE(listed.webhooks(0).secret().empty());

  LoadSeed();
  // The filter lets one of the seventeen through: 留萌 DECLINING.
  ASSERT_TRUE(receiver_->WaitForRequests(1, absl::Seconds(20)));
  ResolveRumoiDeclining(kpi_stub_.get());
  ASSERT_TRUE(receiver_->WaitForRequests(2, absl::Seconds(20)));
  const std::vector<ReceivedRequest> requests = receiver_->requests();
  ASSERT_EQ(requests.size(), 2u);
  ExpectSigned(requests, *key);
  EXPECT_EQ(KeyOf(ParseBody(requests[0].body).event.alert()),
            AlertKey("DECLINING", "jishu-bousai", "rumoi", "WARNING"));
  EXPECT_EQ(ParseBody(requests[0].body).type, "alert.fired");
  EXPECT_EQ(ParseBody(requests[1].body).type, "alert.resolved");
  // Signed with this secret and no other.
  const std::string other = *DecodeWebhookSecret(NewWebhookSecret());
  EXPECT_FALSE(VerifyWebhook(other, requests[0].header("webhook-id"), Timestamp(requests[0]),
                             requests[0].body, requests[0].header("webhook-signature")));
}

// 宗谷 認定こども園 R元 = 6 reaches the target: MISSING, LAGGING and
// STAGNANT resolve and ACHIEVED fires, four events in one unit of work (so
// their deliveries enter the outbox together).
constexpr size_t kSoyaReachesTargetEvents = 4;
void SoyaReachesTarget(kpi::v1::KpiService::Stub* kpi) {
  grpc::Status status = RecordActual(kpi, "kodomoen", "soya", 2019, 6);
  ASSERT_TRUE(status.ok()) << status.error_message();
}

TEST_F(WebhookTest, A4xxIsNotRetriedAndItsDeadLetterReplaysWithTheSameId) {
  LoadSeed();
  StartNotification();
  Subscriber subscriber(notification_stub_.get(), 0);
  const size_t seed_events = SeedAlertKeys().size();
  ASSERT_TRUE(subscriber.WaitFor(seed_events));
  receiver_->SetPolicy(HttpReceiver::Always(400));
  const std::string secret = NewWebhookSecret();
  const std::string key = *DecodeWebhookSecret(secret);
  const std::string webhook_id = CreateWebhook(secret);
  SoyaReachesTarget(kpi_stub_.get());
  const size_t events = kSoyaReachesTargetEvents;
  ASSERT_TRUE(subscriber.WaitFor(seed_events + events));
  ASSERT_TRUE(receiver_->WaitForRequests(events, absl::Seconds(20)));
  // A dead letter is written once the 400 has come back.
  ASSERT_TRUE(Eventually([&] { return DeadLetters(webhook_id).size() >= events; }))
      << DescribeLetters(DeadLetters(webhook_id));

  // Exactly one attempt per event: a dead letter leaves nothing to retry.
  const std::vector<ReceivedRequest> refused = receiver_->requests();
  ASSERT_EQ(refused.size(), events);
  ExpectSigned(refused, key);
  std::map<std::string, ReceivedRequest> refused_by_id;
  for (const ReceivedRequest& request : refused) {
    EXPECT_EQ(request.status, 400);
    EXPECT_TRUE(refused_by_id.emplace(request.header("webhook-id"), request).second)
        << request.header("webhook-id") << " sent twice";
  }
  std::set<std::string> expected_ids;
  for (size_t i = seed_events + 1; i <= seed_events + events; ++i) {
    expected_ids.insert(absl::StrCat("evt_", i));
  }
  std::set<std::string> refused_ids;
  for (const auto& [id, request] : refused_by_id) refused_ids.insert(id);
  EXPECT_EQ(refused_ids, expected_ids);
  const std::vector<v1::DeadLetter> letters = DeadLetters(webhook_id);
  ASSERT_EQ(letters.size(), events) << DescribeLetters(letters);
  for (const v1::DeadLetter& letter : letters) {
    SCOPED_TRACE(letter.id());
    EXPECT_EQ(letter.webhook_id(), webhook_id);
    EXPECT_EQ(letter.attempts(), 1);
    EXPECT_TRUE(absl::StrContains(letter.last_error(), "400")) << letter.last_error();
    auto sent = refused_by_id.find(absl::StrCat("evt_", letter.event_id()));
    ASSERT_NE(sent, refused_by_id.end());
    EXPECT_EQ(letter.payload(), sent->second.body);
  }

  // The endpoint is fixed: replaying each dead letter delivers it, with the
  // webhook-id of the refused attempt, and removes it.
  receiver_->SetPolicy(HttpReceiver::Always(200));
  for (const v1::DeadLetter& letter : letters) {
    v1::ReplayDeadLetterRequest replay;
    replay.set_id(letter.id());
    v1::ReplayDeadLetterResponse replayed;
    grpc::Status status = notification_stub_->ReplayDeadLetter(Context().get(), replay, &replayed);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_TRUE(receiver_->WaitForRequests(2 * events, absl::Seconds(20)))
      << receiver_->requests().size() << " requests";
  EXPECT_TRUE(DeadLetters(webhook_id).empty());
  const std::vector<ReceivedRequest> all = receiver_->requests();
  const std::vector<ReceivedRequest> replays(all.begin() + events, all.end());
  ExpectSigned(replays, key);
  std::set<std::string> replayed_ids;
  for (const ReceivedRequest& request : replays) {
    const std::string id = request.header("webhook-id");
    SCOPED_TRACE(id);
    EXPECT_EQ(request.status, 200);
    EXPECT_TRUE(replayed_ids.insert(id).second) << "replayed twice";
    auto sent = refused_by_id.find(id);
    ASSERT_NE(sent, refused_by_id.end()) << "not the id of a refused attempt";
    EXPECT_EQ(request.body, sent->second.body);
  }
  EXPECT_EQ(replayed_ids, expected_ids);

  // A dead letter is replayed once: the second time it is gone.
  v1::ReplayDeadLetterRequest again;
  again.set_id(letters[0].id());
  v1::ReplayDeadLetterResponse response;
  grpc::Status status = notification_stub_->ReplayDeadLetter(Context().get(), again, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "id")) << status.error_message();
}

// Regression: dead letters were named after the outbox row, whose id restarts
// once the outbox is empty, so a later dead letter overwrote an earlier one.
TEST_F(WebhookTest, EveryRefusedEventKeepsItsOwnDeadLetter) {
  LoadSeed();
  StartNotification();
  Subscriber subscriber(notification_stub_.get(), 0);
  const size_t seed_events = SeedAlertKeys().size();
  ASSERT_TRUE(subscriber.WaitFor(seed_events));
  receiver_->SetPolicy(HttpReceiver::Always(400));
  const std::string webhook_id = CreateWebhook(NewWebhookSecret());
  SoyaReachesTarget(kpi_stub_.get());
  ASSERT_TRUE(Eventually([&] { return DeadLetters(webhook_id).size() >= 4; }));
  // The outbox is empty now; one more refused event.
  ResolveRumoiDeclining(kpi_stub_.get());
  ASSERT_TRUE(receiver_->WaitForRequests(5, absl::Seconds(20)));
  EXPECT_TRUE(Eventually([&] { return DeadLetters(webhook_id).size() == 5; }, absl::Seconds(5)))
      << DescribeLetters(DeadLetters(webhook_id));
  std::set<int64_t> letter_events;
  for (const v1::DeadLetter& letter : DeadLetters(webhook_id)) {
    letter_events.insert(letter.event_id());
  }
  EXPECT_EQ(letter_events, (std::set<int64_t>{18, 19, 20, 21, 22}));
}

TEST_F(WebhookTest, RetriesRunOutIntoADeadLetterAfterTheLastDelay) {
  StartNotification();
  receiver_->SetPolicy(HttpReceiver::Always(503));
  const std::string secret = NewWebhookSecret();
  const std::string key = *DecodeWebhookSecret(secret);
  // One event only: 宗谷 認定こども園 STAGNANT.
  v1::AlertFilter filter;
  filter.add_region_ids("soya");
  filter.add_rules(v1::RULE_KIND_STAGNANT);
  const std::string webhook_id = CreateWebhook(secret, filter);
  Subscriber subscriber(notification_stub_.get(), 0);
  LoadSeed();
  ASSERT_TRUE(subscriber.WaitFor(SeedAlertKeys().size()));
  int64_t event_id = 0;
  for (const v1::AlertEvent& event : subscriber.events()) {
    if (KeyOf(event.alert()) == AlertKey("STAGNANT", "kodomoen", "soya", "WARNING")) {
      event_id = event.id();
    }
  }
  ASSERT_GT(event_id, 0);
  constexpr size_t kAttempts = 1 + std::size(kRetryDelays);
  ASSERT_TRUE(receiver_->WaitForRequests(kAttempts, absl::Seconds(20)))
      << receiver_->requests().size() << " requests";
  ASSERT_TRUE(Eventually([&] { return !DeadLetters(webhook_id).empty(); }));

  const std::vector<ReceivedRequest> requests = receiver_->requests();
  ASSERT_EQ(requests.size(), kAttempts) << "retried more often than there are delays";
  ExpectSigned(requests, key);
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(requests[i].status, 503);
    EXPECT_EQ(requests[i].header("webhook-id"), absl::StrCat("evt_", event_id));
    EXPECT_EQ(requests[i].body, requests[0].body);
    if (i > 0) {
      EXPECT_GE(requests[i].arrival - requests[i - 1].arrival, kRetryDelays[i - 1]);
    }
  }
  const std::vector<v1::DeadLetter> letters = DeadLetters(webhook_id);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].webhook_id(), webhook_id);
  EXPECT_EQ(letters[0].event_id(), event_id);
  EXPECT_EQ(letters[0].attempts(), static_cast<int>(kAttempts));
  EXPECT_TRUE(absl::StrContains(letters[0].last_error(), "503")) << letters[0].last_error();
  EXPECT_EQ(letters[0].payload(), requests[0].body);
}

// Regression: the dispatcher scheduled retries on the --now FixedClock, so
// none ever came due.
TEST_F(WebhookTest, RetriesHappenWhileTheEvaluationClockIsFixed) {
  StartNotification();  // the fixture's --now=2026-11-29T12:00:00+09:00
  receiver_->SetPolicy(HttpReceiver::FailFirst(1, 503));
  v1::AlertFilter filter;
  filter.add_region_ids("soya");
  filter.add_rules(v1::RULE_KIND_STAGNANT);
  CreateWebhook(NewWebhookSecret(), filter);
  LoadSeed();
  ASSERT_TRUE(receiver_->WaitForRequests(1, absl::Seconds(20)));
  // The retry is due 50 ms after the 503.
  ASSERT_TRUE(receiver_->WaitForRequests(2, absl::Seconds(5)))
      << "the 503 was never retried: " << receiver_->requests().size() << " request(s)";
  EXPECT_EQ(receiver_->requests()[1].status, 200);
  EXPECT_EQ(receiver_->requests()[1].header("webhook-id"),
            receiver_->requests()[0].header("webhook-id"));
}

}  // namespace
}  // namespace suishin::notification
