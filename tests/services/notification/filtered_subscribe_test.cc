// A filtered Subscribe never reads a stretch of the event log twice and is
// not woken for events it does not want: with a thousand events after its
// position that its filter refuses, the stream stays parked on the feed and
// reads nothing; the event it wants arrives at once, read alone. Counted
// through a store seam on an in-process server over real gRPC.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/time.h"
#include "services/notification/alert_filter.h"
#include "tests/services/notification/forwarding_store.h"
#include "tests/services/notification/notification_server.h"
#include "tests/services/notification/suite_fixture.h"
#include "tests/support/temp_dir.h"

namespace suishin::notification {
namespace {

using testing::AchievedSubject;
using testing::Eventually;
using testing::ForwardingStore;
using testing::ForwardingTransaction;
using testing::NotificationServer;
using testing::NotificationServerOptions;
using testing::Subscriber;

// What the readers have read of the event log.
struct ReadCounts {
  std::atomic<int64_t> reads{0};     // Events() calls in reads
  std::atomic<int64_t> examined{0};  // events they returned
};

class CountingTransaction : public ForwardingTransaction {
 public:
  CountingTransaction(NotificationTransaction& inner, ReadCounts* counts)
      : ForwardingTransaction(inner), counts_(counts) {}

  absl::StatusOr<std::vector<v1::AlertEvent>> Events(int64_t after_id, int limit) override {
    absl::StatusOr<std::vector<v1::AlertEvent>> events = inner_.Events(after_id, limit);
    ++counts_->reads;
    if (events.ok()) counts_->examined += static_cast<int64_t>(events->size());
    return events;
  }

 private:
  ReadCounts* counts_;
};

class FilteredSubscribeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = suishin::testing::TempDir::Create("notification-subscribe");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<suishin::testing::TempDir>(*std::move(dir));
    NotificationServerOptions options;
    options.wrap_store = [this](NotificationStore* sqlite) {
      return std::make_unique<ForwardingStore>(
          sqlite,
          [this](NotificationTransaction& tx,
                 bool write) -> std::unique_ptr<NotificationTransaction> {
            if (write) return std::make_unique<ForwardingTransaction>(tx);
            return std::make_unique<CountingTransaction>(tx, &counts_);
          });
    };
    auto server = NotificationServer::Start(dir_->File("notification.db"), std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }

  // Acknowledges the alert `n` times at once through the write path: n
  // events of that alert.
  void AcknowledgeTimes(const std::string& fingerprint, int n) {
    std::vector<std::unique_ptr<v1::AcknowledgeAlertRequest>> requests;
    std::vector<std::unique_ptr<v1::AcknowledgeAlertResponse>> responses;
    absl::BlockingCounter done(n);
    std::atomic<int> failed{0};
    for (int i = 0; i < n; ++i) {
      requests.push_back(std::make_unique<v1::AcknowledgeAlertRequest>());
      requests.back()->set_fingerprint(fingerprint);
      requests.back()->set_author(absl::StrCat("担当", i));
      responses.push_back(std::make_unique<v1::AcknowledgeAlertResponse>());
      server_->book().alerts().AcknowledgeAlert(*requests.back(), responses.back().get(),
                                                [&](absl::Status status) {
                                                  if (!status.ok()) ++failed;
                                                  done.DecrementCount();
                                                });
    }
    done.Wait();
    EXPECT_EQ(failed.load(), 0);
  }

  ReadCounts counts_;
  std::unique_ptr<suishin::testing::TempDir> dir_;
  std::unique_ptr<NotificationServer> server_;
  std::unique_ptr<v1::NotificationService::Stub> stub_;
};

TEST_F(FilteredSubscribeTest,
       AThousandUnwantedEventsNeitherWakeNorAreReadAndTheWantedOneComesAtOnce) {
  // Event 1 in rumoi, event 2 in soya.
  ASSERT_TRUE(
      server_->book()
          .alerts()
          .Evaluate({AchievedSubject("kpi-a", "rumoi"), AchievedSubject("kpi-b", "soya")}, 0)
          .ok());
  const std::string rumoi = Fingerprint(v1::RULE_KIND_ACHIEVED, "kpi-a", "rumoi");
  const std::string soya = Fingerprint(v1::RULE_KIND_ACHIEVED, "kpi-b", "soya");
  v1::AlertFilter filter;
  filter.add_region_ids("soya");
  Subscriber subscriber(stub_.get(), 0, filter);
  ASSERT_TRUE(subscriber.WaitFor(1));
  EXPECT_EQ(subscriber.events()[0].alert().fingerprint(), soya);
  // Drained, it waits on the feed.
  ASSERT_TRUE(Eventually([&] { return server_->book().events().feed().waiters() == 1; }));
  const int64_t reads_before = counts_.reads;
  const int64_t examined_before = counts_.examined;

  const NotificationWriter::Stats before = server_->book().writer().stats();
  const absl::Time start = absl::Now();
  AcknowledgeTimes(rumoi, 1000);  // events 3 to 1002, all in rumoi
  const NotificationWriter::Stats after = server_->book().writer().stats();
  std::cout << "1000 acknowledgements at once: " << after.writes - before.writes << " writes in "
            << after.groups - before.groups << " groups, "
            << absl::FormatDuration(absl::Now() - start) << std::endl;
  EXPECT_EQ(server_->book().events().feed().last(), 1002);
  // Published, and the stream was not woken: still parked, no read at all.
  EXPECT_EQ(server_->book().events().feed().waiters(), 1u);
  EXPECT_EQ(counts_.reads - reads_before, 0);
  EXPECT_EQ(counts_.examined - examined_before, 0);

  // The one it wants arrives at once, read from where the feed said to skip.
  const absl::Time sent = absl::Now();
  AcknowledgeTimes(soya, 1);
  ASSERT_TRUE(subscriber.WaitFor(2, absl::Seconds(5)));
  const absl::Duration took = absl::Now() - sent;
  EXPECT_LT(took, absl::Seconds(1));
  const v1::AlertEvent event = subscriber.events()[1];
  EXPECT_EQ(event.id(), 1003);
  EXPECT_EQ(event.kind(), v1::EVENT_KIND_ACKNOWLEDGED);
  EXPECT_EQ(event.alert().fingerprint(), soya);
  ASSERT_TRUE(Eventually([&] { return server_->book().events().feed().waiters() == 1; }));
  EXPECT_LE(counts_.examined - examined_before, 2) << "the unwanted events were read";
  EXPECT_EQ(subscriber.events().size(), 2u);
}

TEST_F(FilteredSubscribeTest, AReadExaminesABoundedStretchAndSaysHowFarItLooked) {
  ASSERT_TRUE(server_->book().alerts().Evaluate({AchievedSubject("kpi-a", "rumoi")}, 0).ok());
  AcknowledgeTimes(Fingerprint(v1::RULE_KIND_ACHIEVED, "kpi-a", "rumoi"), 999);  // events 2..1000
  v1::AlertFilter nothing;
  nothing.add_region_ids("soya");
  int64_t after = 0;
  for (int64_t expected : {300, 600, 900, 1000}) {
    const int64_t examined_before = counts_.examined;
    absl::StatusOr<LogBatch<v1::AlertEvent>> batch =
        server_->book().events().ReadEvents(after, nothing, /*limit=*/100, /*max_examined=*/300);
    ASSERT_TRUE(batch.ok()) << batch.status();
    EXPECT_TRUE(batch->entries.empty());
    EXPECT_EQ(batch->scanned_through, expected);
    EXPECT_LE(counts_.examined - examined_before, 300);
    after = batch->scanned_through;
  }
  // Unfiltered, a read stops at its limit.
  absl::StatusOr<LogBatch<v1::AlertEvent>> all = server_->book().events().ReadEvents(
      0, v1::AlertFilter(), /*limit=*/100, /*max_examined=*/300);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->entries.size(), 100u);
  EXPECT_EQ(all->entries.front().id(), 1);
  EXPECT_EQ(all->scanned_through, 100);
}

}  // namespace
}  // namespace suishin::notification
