// The two backoff policies of notification-service, with times given by the
// test: WebhookCircuits (an endpoint's circuit opens after N failures in a
// row, waits with growing delays, lets one probe through, closes on a
// success) and SetAsideKpis (a KPI whose evaluation keeps failing waits
// longer each time, up to a cap).
#include <gtest/gtest.h>

#include <string>

#include "absl/time/time.h"
#include "common/proto_util.h"
#include "services/notification/set_aside_kpis.h"
#include "services/notification/webhook_circuits.h"
#include "services/notification/webhook_dispatcher.h"

namespace suishin::notification {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1800000000);

WebhookCircuits::Options CircuitOptions() {
  WebhookCircuits::Options options;
  options.failures_to_open = 3;
  options.base_delay = absl::Seconds(1);
  options.max_delay = absl::Seconds(4);
  return options;
}

TEST(WebhookCircuitsTest, OpensAfterFailuresInARowAndLetsOneProbeThroughWhenItsDelayIsOver) {
  WebhookCircuits circuits(CircuitOptions());
  absl::Time now = kStart;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(circuits.TryStart("w", now));
    circuits.Failed("w", now, "HTTP 503");
  }
  EXPECT_TRUE(circuits.Open().empty()) << "open after two failures of three";
  ASSERT_TRUE(circuits.TryStart("w", now));
  circuits.Failed("w", now, "HTTP 503");
  ASSERT_EQ(circuits.Open().size(), 1u);
  v1::WebhookCircuit open = circuits.Open()[0];
  EXPECT_EQ(open.webhook_id(), "w");
  EXPECT_EQ(open.state(), "open");
  EXPECT_EQ(open.failures(), 3);
  EXPECT_EQ(open.last_error(), "HTTP 503");
  EXPECT_EQ(FromProtoTimestamp(open.next_attempt_time()), now + absl::Seconds(1));
  EXPECT_EQ(circuits.OpenUntil("w"), now + absl::Seconds(1));

  // Closed to attempts until then; other endpoints are not affected.
  EXPECT_FALSE(circuits.Ready("w", now + absl::Milliseconds(999)));
  EXPECT_FALSE(circuits.TryStart("w", now + absl::Milliseconds(999)));
  EXPECT_TRUE(circuits.TryStart("other", now));
  // Then one probe, and no second attempt while it is in flight.
  now += absl::Seconds(1);
  EXPECT_TRUE(circuits.TryStart("w", now));
  EXPECT_EQ(circuits.Open()[0].state(), "half-open");
  EXPECT_FALSE(circuits.TryStart("w", now));
  EXPECT_EQ(circuits.OpenUntil("w"), std::nullopt);
}

TEST(WebhookCircuitsTest, AFailedProbeDoublesTheDelayUpToTheCapAndASuccessCloses) {
  WebhookCircuits circuits(CircuitOptions());
  absl::Time now = kStart;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(circuits.TryStart("w", now));
    circuits.Failed("w", now, "DEADLINE_EXCEEDED: timeout");
  }
  for (absl::Duration expected : {absl::Seconds(2), absl::Seconds(4), absl::Seconds(4)}) {
    SCOPED_TRACE(absl::FormatDuration(expected));
    now = *circuits.OpenUntil("w");
    ASSERT_TRUE(circuits.TryStart("w", now));
    circuits.Failed("w", now, "DEADLINE_EXCEEDED: timeout");
    EXPECT_EQ(circuits.OpenUntil("w"), now + expected);
  }
  now = *circuits.OpenUntil("w");
  ASSERT_TRUE(circuits.TryStart("w", now));
  circuits.Succeeded("w");
  EXPECT_TRUE(circuits.Open().empty());
  EXPECT_TRUE(circuits.Ready("w", now));
  // Closed means counting from zero again.
  ASSERT_TRUE(circuits.TryStart("w", now));
  circuits.Failed("w", now, "HTTP 502");
  EXPECT_TRUE(circuits.Open().empty());
}

TEST(WebhookCircuitsTest, AnAbandonedProbeMayBeTriedAgainAndDeletedEndpointsAreForgotten) {
  WebhookCircuits circuits(CircuitOptions());
  for (int i = 0; i < 3; ++i) circuits.Failed("w", kStart, "HTTP 503");
  const absl::Time due = *circuits.OpenUntil("w");
  ASSERT_TRUE(circuits.TryStart("w", due));
  circuits.Abandoned("w");
  EXPECT_TRUE(circuits.TryStart("w", due));
  circuits.Retain({"other"});
  EXPECT_TRUE(circuits.Open().empty());
}

// Found by the retry_delays fuzzer (fuzz/corpus/retry_delays/crash-*): an
// infinite delay kept a delivery in the outbox for ever, neither retried nor
// a dead letter. Delays are bounded now.
TEST(RetryDelaysTest, RefusesDelaysThatAreInfiniteOrBeyondADay) {
  absl::StatusOr<std::vector<absl::Duration>> delays =
      ParseRetryDelays("--webhook_retry_delays", "5s, 5m,2h ,24h");
  ASSERT_TRUE(delays.ok()) << delays.status();
  EXPECT_EQ(delays->size(), 4u);
  EXPECT_EQ(delays->back(), absl::Hours(24));
  for (const char* text : {"5s,inf", "99999999999999999999h", "25h", "5s,-1s", "soon"}) {
    const absl::Status status = ParseRetryDelays("--webhook_retry_delays", text).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(status.message().find("--webhook_retry_delays"), absl::string_view::npos) << status;
  }
}

TEST(SetAsideKpisTest, WaitsLongerWithEachFailureUpToTheCapAndClearsOnSuccess) {
  SetAsideKpis::Options options;
  options.base_delay = absl::Seconds(1);
  options.max_delay = absl::Seconds(5);
  SetAsideKpis list(options);
  EXPECT_EQ(list.NextAttempt(), std::nullopt);
  absl::Time now = kStart;
  for (absl::Duration expected :
       {absl::Seconds(1), absl::Seconds(2), absl::Seconds(4), absl::Seconds(5), absl::Seconds(5)}) {
    SCOPED_TRACE(absl::FormatDuration(expected));
    const v1::SetAsideKpi entry = list.Failed("bad", "GetProgress soya: INTERNAL: boom", now);
    EXPECT_EQ(FromProtoTimestamp(entry.next_attempt_time()), now + expected);
    EXPECT_EQ(list.NextAttempt(), now + expected);
    EXPECT_TRUE(list.Due(now + expected - absl::Milliseconds(1)).empty());
    EXPECT_EQ(list.Due(now + expected), std::vector<std::string>{"bad"});
    now += expected;
  }
  ASSERT_EQ(list.List().size(), 1u);
  EXPECT_EQ(list.List()[0].failures(), 5);
  EXPECT_EQ(list.List()[0].reason(), "GetProgress soya: INTERNAL: boom");
  EXPECT_TRUE(list.Contains("bad"));
  EXPECT_TRUE(list.Cleared("bad"));
  EXPECT_FALSE(list.Cleared("bad"));
  EXPECT_TRUE(list.List().empty());
  // Set aside again: from the first delay.
  EXPECT_EQ(FromProtoTimestamp(list.Failed("bad", "again", now).next_attempt_time()),
            now + absl::Seconds(1));
}

}  // namespace
}  // namespace suishin::notification
