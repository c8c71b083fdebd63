// Webhook delivery that no receiver and no store hiccup can hold up or turn
// into a loop, asserted on what real HTTP receivers saw:
//  - with the real binaries, a receiver that never answers next to a
//    healthy one: the healthy one gets each event within a second, and the
//    hanging one's circuit opens and shows in GetStatus;
//  - in process, a store that refuses to remove a delivered event (a full
//    disk): the event is sent once, not in a loop, the endpoint's next event
//    waits behind it, and the outbox empties once the store works again.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/notification/webhook_signer.h"
#include "tests/services/notification/forwarding_store.h"
#include "tests/services/notification/notification_server.h"
#include "tests/services/notification/suite_fixture.h"
#include "tests/support/http_receiver.h"
#include "tests/support/temp_dir.h"

namespace suishin::notification {
namespace {

using suishin::testing::HttpReceiver;
using suishin::testing::ReceivedRequest;
using testing::AchievedSubject;
using testing::Context;
using testing::Eventually;
using testing::ForwardingStore;
using testing::ForwardingTransaction;
using testing::NotificationServer;
using testing::NotificationServerOptions;
using testing::RecordActual;
using testing::SeedAlertKeys;
using testing::Subscriber;
using testing::SuiteTest;

std::unique_ptr<HttpReceiver> StartReceiver() {
  auto receiver = HttpReceiver::Start();
  EXPECT_TRUE(receiver.ok()) << receiver.status();
  return receiver.ok() ? *std::move(receiver) : nullptr;
}

std::string CreateWebhook(v1::NotificationService::Stub* stub, const std::string& url) {
  v1::CreateWebhookRequest request;
  request.mutable_webhook()->set_url(url);
  v1::CreateWebhookResponse response;
  grpc::Status status = stub->CreateWebhook(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.webhook().id();
}

std::vector<std::string> WebhookIds(const std::vector<ReceivedRequest>& requests) {
  std::vector<std::string> ids;
  for (const ReceivedRequest& request : requests) ids.push_back(request.header("webhook-id"));
  return ids;
}

// ------------------------------------------------- a receiver that hangs

class HangingReceiverTest : public SuiteTest {
 protected:
  void SetUp() override {
    SuiteTest::SetUp();
    healthy_ = StartReceiver();
    hanging_ = StartReceiver();
    ASSERT_NE(healthy_, nullptr);
    ASSERT_NE(hanging_, nullptr);
    hanging_->SetPolicy(HttpReceiver::Always(HttpReceiver::kNoAnswer));
  }

  void TearDown() override {
    SuiteTest::TearDown();
    if (healthy_) healthy_->Stop();
    if (hanging_) hanging_->Stop();
  }

  std::unique_ptr<HttpReceiver> healthy_;
  std::unique_ptr<HttpReceiver> hanging_;
};

TEST_F(HangingReceiverTest, ItDelaysNoOtherEndpointAndItsCircuitOpens) {
  // Each attempt to the hanging endpoint holds a worker for a second: as
  // long as a sequential delivery would have made the healthy one wait.
  notification_flags_ = {"--webhook_timeout_ms=1000", "--webhook_circuit_failures=2"};
  LoadSeed();
  StartNotification();
  Subscriber subscriber(notification_stub_.get(), 0);
  const size_t seed_events = SeedAlertKeys().size();
  ASSERT_TRUE(subscriber.WaitFor(seed_events));
  const std::string hanging_id = CreateWebhook(notification_stub_.get(), hanging_->url("/hook"));
  const std::string healthy_id = CreateWebhook(notification_stub_.get(), healthy_->url("/hook"));

  // 留萌 自主防災組織率 H30 corrected back and forth: DECLINING resolves and
  // fires again, one event each time.
  constexpr int kEvents = 6;
  absl::Duration slowest;
  for (int i = 0; i < kEvents; ++i) {
    SCOPED_TRACE(i);
    const absl::Time sent = absl::Now();
    grpc::Status status =
        RecordActual(kpi_stub_.get(), "jishu-bousai", "rumoi", 2018, i % 2 == 0 ? 40.0 : 37.1);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_TRUE(subscriber.WaitFor(seed_events + i + 1));
    ASSERT_TRUE(healthy_->WaitForRequests(i + 1, absl::Seconds(5)));
    const ReceivedRequest request = healthy_->requests()[i];
    EXPECT_EQ(request.header("webhook-id"),
              absl::StrCat("evt_", subscriber.events()[seed_events + i].id()));
    EXPECT_LT(request.arrival - sent, absl::Seconds(1))
        << "the healthy endpoint got its event " << absl::FormatDuration(request.arrival - sent)
        << " after the change";
    slowest = std::max(slowest, request.arrival - sent);
  }
  std::cout << "healthy endpoint: slowest of " << kEvents << " events arrived "
            << absl::FormatDuration(slowest) << " after its change; the hanging one had "
            << hanging_->requests().size() << " attempts" << std::endl;
  EXPECT_EQ(healthy_->requests().size(), static_cast<size_t>(kEvents));
  EXPECT_GE(hanging_->requests().size(), 1u);

  // The hanging endpoint's circuit opens (two timeouts in a row) and shows.
  v1::GetStatusResponse status;
  ASSERT_TRUE(Eventually([&] {
    status.Clear();
    if (!notification_stub_->GetStatus(Context().get(), {}, &status).ok()) return false;
    for (const v1::WebhookCircuit& circuit : status.open_circuits()) {
      if (circuit.webhook_id() == hanging_id) return true;
    }
    return false;
  })) << status.DebugString();
  for (const v1::WebhookCircuit& circuit : status.open_circuits()) {
    EXPECT_NE(circuit.webhook_id(), healthy_id);
    if (circuit.webhook_id() != hanging_id) continue;
    EXPECT_GE(circuit.failures(), 2);
    EXPECT_TRUE(circuit.state() == "open" || circuit.state() == "half-open") << circuit.state();
    EXPECT_TRUE(absl::StrContains(circuit.last_error(), "DEADLINE_EXCEEDED"))
        << circuit.last_error();
    EXPECT_TRUE(circuit.has_next_attempt_time());
  }
}

// ------------------------------------------- a store that cannot delete

// Whether the store refuses to remove outbox entries, and how often it did.
struct DeleteFailures {
  std::atomic<bool> failing{false};
  std::atomic<int> refused{0};
};

class FailingDeletes : public ForwardingTransaction {
 public:
  FailingDeletes(NotificationTransaction& inner, DeleteFailures* failures)
      : ForwardingTransaction(inner), failures_(failures) {}

  absl::Status DeleteDelivery(int64_t id) override {
    if (failures_->failing) {
      ++failures_->refused;
      return absl::ResourceExhaustedError("database or disk is full");
    }
    return inner_.DeleteDelivery(id);
  }

 private:
  DeleteFailures* failures_;
};

TEST(WebhookStoreErrorTest, ADeliveredEventIsSentOnceAndLeavesTheOutboxOnceTheStoreWorks) {
  auto dir = suishin::testing::TempDir::Create("notification-store-error");
  ASSERT_TRUE(dir.ok()) << dir.status();
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  DeleteFailures failures;
  NotificationServerOptions options;
  options.wrap_store = [&failures](NotificationStore* sqlite) {
    return std::make_unique<ForwardingStore>(
        sqlite,
        [&failures](NotificationTransaction& tx,
                    bool write) -> std::unique_ptr<NotificationTransaction> {
          if (!write) return std::make_unique<ForwardingTransaction>(tx);
          return std::make_unique<FailingDeletes>(tx, &failures);
        });
  };
  options.deliver_webhooks = true;
  options.dispatch.retry_delays = {absl::Milliseconds(50), absl::Milliseconds(100)};
  options.dispatch.timeout = absl::Seconds(2);
  options.dispatch.store_retry_delay = absl::Milliseconds(10);
  options.dispatch.max_store_retry_delay = absl::Milliseconds(40);
  auto server = NotificationServer::Start(dir->File("notification.db"), std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();
  ASSERT_FALSE(CreateWebhook(stub.get(), receiver->url("/hook")).empty());

  failures.failing = true;
  ASSERT_TRUE((*server)->book().alerts().Evaluate({AchievedSubject("kpi-a", "r-1")}, 0).ok());
  ASSERT_TRUE(receiver->WaitForRequests(1, absl::Seconds(10)));
  EXPECT_EQ(receiver->requests()[0].status, 200);
  // The removal is refused again and again; the POST is not repeated.
  ASSERT_TRUE(Eventually([&] { return failures.refused >= 5; }, absl::Seconds(10)))
      << failures.refused << " refusals";
  EXPECT_EQ(receiver->requests().size(), 1u);
  EXPECT_EQ((*server)->dispatcher()->unstored(), 1);

  // The endpoint's next event waits behind it: one delivery at a time, in
  // order.
  ASSERT_TRUE((*server)->book().alerts().Evaluate({AchievedSubject("kpi-b", "r-1")}, 0).ok());
  const int refused = failures.refused;
  ASSERT_TRUE(Eventually([&] { return failures.refused >= refused + 3; }, absl::Seconds(10)));
  EXPECT_EQ(receiver->requests().size(), 1u);

  // The store works again: the first is removed without being sent again,
  // then the second goes.
  failures.failing = false;
  ASSERT_TRUE(receiver->WaitForRequests(2, absl::Seconds(10)));
  ASSERT_TRUE(Eventually([&] {
    bool empty = false;
    absl::Status read = (*server)->store().Read([&](NotificationTransaction& tx) {
      absl::StatusOr<std::vector<std::pair<std::string, absl::Time>>> waiting =
          tx.SoonestByWebhook();
      if (!waiting.ok()) return waiting.status();
      empty = waiting->empty();
      return absl::OkStatus();
    });
    return read.ok() && empty && (*server)->dispatcher()->unstored() == 0;
  })) << "the outbox still holds a delivered event";
  EXPECT_EQ(WebhookIds(receiver->requests()), (std::vector<std::string>{"evt_1", "evt_2"}));
  EXPECT_TRUE((*server)->dispatcher()->circuits().Open().empty());
  receiver->Stop();
}

}  // namespace
}  // namespace suishin::notification
