// WorkSignal: what producers raise reaches the one consumer once, a wait
// ends when something is raised, at its deadline or when the signal closes,
// and nothing raised while the consumer works is lost.
#include "common/work_signal.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace suishin {
namespace {

TEST(WorkSignalTest, TakesWhatWasRaisedOnceAndMergesRepeats) {
  WorkSignal signal;
  signal.Raise("kpi-a");
  signal.Raise("kpi-b");
  signal.Raise("kpi-a");
  WorkSignal::Raised raised = signal.Take();
  EXPECT_FALSE(raised.all);
  EXPECT_FALSE(raised.closed);
  EXPECT_EQ(raised.keys, (std::set<std::string>{"kpi-a", "kpi-b"}));
  // Taken: nothing waits any more.
  raised = signal.Take();
  EXPECT_TRUE(raised.keys.empty());
  EXPECT_FALSE(raised.all);
}

TEST(WorkSignalTest, AnEmptyKeyMeansEverything) {
  WorkSignal signal;
  signal.Raise("");
  signal.Raise("kpi-a");
  WorkSignal::Raised raised = signal.Take();
  EXPECT_TRUE(raised.all);
  EXPECT_EQ(raised.keys, (std::set<std::string>{"kpi-a"}));
  EXPECT_FALSE(signal.Take().all);
}

TEST(WorkSignalTest, AWaitEndsAtItsDeadlineWhenNothingIsRaised) {
  WorkSignal signal;
  const absl::Time start = absl::Now();
  WorkSignal::Raised raised = signal.WaitUntil(start + absl::Milliseconds(50));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_TRUE(raised.keys.empty());
  EXPECT_FALSE(raised.closed);
}

TEST(WorkSignalTest, ARaiseFromAnotherThreadWakesTheWaiterBeforeItsDeadline) {
  WorkSignal signal;
  std::thread producer([&] {
    absl::SleepFor(absl::Milliseconds(20));
    signal.Raise("kpi-a");
  });
  const absl::Time start = absl::Now();
  WorkSignal::Raised raised = signal.WaitUntil(start + absl::Seconds(30));
  producer.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(raised.keys, (std::set<std::string>{"kpi-a"}));
}

TEST(WorkSignalTest, AWakeMadeWhileTheConsumerWorksEndsItsNextWaitAtOnce) {
  WorkSignal signal;
  signal.Wake();  // the consumer was busy when new work arrived
  const absl::Time start = absl::Now();
  WorkSignal::Raised raised = signal.WaitUntil(start + absl::Seconds(30));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_TRUE(raised.keys.empty());
  EXPECT_FALSE(raised.closed);
  // Woken once: the next wait sleeps to its deadline.
  raised = signal.WaitUntil(absl::Now() + absl::Milliseconds(20));
  EXPECT_TRUE(raised.keys.empty());
}

TEST(WorkSignalTest, CloseEndsEveryLaterWaitAtOnce) {
  WorkSignal signal;
  std::thread closer([&] {
    absl::SleepFor(absl::Milliseconds(20));
    signal.Close();
  });
  EXPECT_TRUE(signal.WaitUntil(absl::Now() + absl::Seconds(30)).closed);
  closer.join();
  const absl::Time start = absl::Now();
  EXPECT_TRUE(signal.WaitUntil(start + absl::Seconds(30)).closed);
  EXPECT_TRUE(signal.WaitUntil(start + absl::Seconds(30)).closed);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace suishin
