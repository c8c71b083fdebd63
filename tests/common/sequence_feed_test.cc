// SequenceFeed: filtered waiters wake only for what they want, learn how far
// they may skip, and are woken off the publishing thread.
#include "common/sequence_feed.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/limits.h"

namespace suishin {
namespace {

FeedEntry Change(int64_t sequence, const std::string& kpi) {
  FeedEntry entry;
  entry.sequence = sequence;
  entry.kpi_id = kpi;
  return entry;
}

SequenceFeed::Wants KpiIs(const std::string& kpi) {
  return [kpi](const FeedEntry& entry) { return entry.kpi_id == kpi; };
}

TEST(SequenceFeedTest, AFilteredWaiterSleepsThroughOtherEntriesAndSkipsThem) {
  SequenceFeed feed(10);
  absl::Notification woken;
  int64_t skip_to = -1;
  ASSERT_TRUE(feed.WakeWhenPast(10, KpiIs("kodomoen"), [&](int64_t skip) {
    skip_to = skip;
    woken.Notify();
  }));
  feed.Published(12, {Change(11, "jishu-bousai")});
  feed.Published(13, {Change(13, "other")});
  EXPECT_FALSE(woken.WaitForNotificationWithTimeout(absl::Milliseconds(100)));
  EXPECT_EQ(feed.waiters(), 1u);
  feed.Published(16, {Change(14, "other"), Change(15, "kodomoen"), Change(16, "other")});
  ASSERT_TRUE(woken.WaitForNotificationWithTimeout(absl::Seconds(5)));
  // 11..14 are known not to be wanted: the reader may start after 14.
  EXPECT_EQ(skip_to, 14);
  EXPECT_EQ(feed.waiters(), 0u);
  EXPECT_EQ(feed.last(), 16);
}

TEST(SequenceFeedTest, AnUnfilteredWaiterWakesForAnything) {
  SequenceFeed feed(3);
  absl::Notification woken;
  int64_t skip_to = -1;
  ASSERT_TRUE(feed.WakeWhenPast(3, nullptr, [&](int64_t skip) {
    skip_to = skip;
    woken.Notify();
  }));
  feed.Published(4, {Change(4, "x")});
  ASSERT_TRUE(woken.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(skip_to, 3);
}

TEST(SequenceFeedTest, RefusesAWaiterThatIsAlreadyBehind) {
  SequenceFeed feed(5);
  EXPECT_FALSE(feed.WakeWhenPast(4, nullptr, [](int64_t) { ADD_FAILURE() << "kept"; }));
  EXPECT_EQ(feed.waiters(), 0u);
}

TEST(SequenceFeedTest, WakesOffThePublishingThread) {
  SequenceFeed feed(0);
  absl::Notification woken;
  std::thread::id woken_on;
  ASSERT_TRUE(feed.WakeWhenPast(0, nullptr, [&](int64_t) {
    woken_on = std::this_thread::get_id();
    woken.Notify();
  }));
  feed.Published(1, {Change(1, "k")});
  ASSERT_TRUE(woken.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_NE(woken_on, std::this_thread::get_id());
}

TEST(SequenceFeedTest, AnUnlabelledPublicationWakesEveryWaiterBehindIt) {
  SequenceFeed feed(7);
  absl::Notification woken;
  ASSERT_TRUE(feed.WakeWhenPast(7, KpiIs("never"), [&](int64_t skip) {
    EXPECT_EQ(skip, 7);  // nothing is known about 8: read from there
    woken.Notify();
  }));
  feed.Published(int64_t{8});
  EXPECT_TRUE(woken.WaitForNotificationWithTimeout(absl::Seconds(5)));
}

TEST(StreamSlotsTest, CountsPerClientAndInAllAndNamesTheLimit) {
  StreamSlots slots(/*per_client=*/2, /*total=*/3);
  auto a1 = slots.Acquire("ipv4:127.0.0.1:1000", "WatchChanges");
  auto a2 = slots.Acquire("ipv4:127.0.0.1:1001", "WatchChanges");  // same client, other port
  ASSERT_TRUE(a1.ok() && a2.ok());
  auto a3 = slots.Acquire("ipv4:127.0.0.1:1002", "WatchChanges");
  ASSERT_FALSE(a3.ok());
  EXPECT_EQ(a3.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(a3.status().message().find("--max_streams_per_client"), absl::string_view::npos);
  auto b1 = slots.Acquire("ipv4:10.0.0.2:5000", "Subscribe");
  ASSERT_TRUE(b1.ok());
  auto b2 = slots.Acquire("ipv4:10.0.0.2:5001", "Subscribe");
  ASSERT_FALSE(b2.ok());
  EXPECT_NE(b2.status().message().find("--max_streams)"), absl::string_view::npos) << b2.status();
  (*a1)();
  (*a1)();  // a second release changes nothing
  EXPECT_EQ(slots.open(), 2);
  EXPECT_TRUE(slots.Acquire("ipv4:10.0.0.2:5002", "Subscribe").ok());
  EXPECT_EQ(slots.open(), 3);
}

TEST(StreamSlotsTest, TellsClientsApartByAddressNotPort) {
  EXPECT_EQ(ClientOfPeer("ipv4:127.0.0.1:53211"), "ipv4:127.0.0.1");
  EXPECT_EQ(ClientOfPeer("ipv6:[::1]:4000"), "ipv6:[::1]");
  EXPECT_EQ(ClientOfPeer("unix:/tmp/s"), "unix:/tmp/s");
}

TEST(LimitsTest, RefusesALimitBelowOne) {
  Limits limits;
  EXPECT_TRUE(ValidateLimits(limits).ok());
  limits.max_streams = 0;
  const absl::Status status = ValidateLimits(limits);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("--max_streams=0"), absl::string_view::npos) << status;
}

}  // namespace
}  // namespace suishin
