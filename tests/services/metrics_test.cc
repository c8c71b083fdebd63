// Prometheus metrics from the real binaries: each serves /metrics at
// --metrics_listen, with every call it handled counted and timed by method
// and status, and what each service adds: kpi-service's change-log head and
// cache lookups, notification-service's follower, outbox, dead letters and
// leadership, the stores' connections.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/channel.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"

namespace suishin {
namespace {

using ::suishin::testing::ServiceProcess;
using ::suishin::testing::TempDir;

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

// The text Prometheus would scrape from 127.0.0.1:`port`/metrics ("" when
// it cannot be fetched).
std::string Scrape(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  httplib::Result result = client.Get("/metrics");
  if (!result || result->status != 200) return "";
  return result->body;
}

// The value of the sample whose line starts with `series` (name and
// labels exactly as printed); nullopt when there is none.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) return value;
  }
  return std::nullopt;
}

TEST(MetricsTest, EachServiceServesItsCallsAndItsOwnFigures) {
  absl::StatusOr<TempDir> dir = TempDir::Create("metrics");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const int plan_metrics = testing::PickUnusedPort();
  const int kpi_metrics = testing::PickUnusedPort();
  const int notification_metrics = testing::PickUnusedPort();
  std::optional<ServiceProcess> plan, kpi, notification;
  ASSERT_NO_FATAL_FAILURE(
      testing::StartService(*dir, "plan",
                            {testing::kPlanServiceBinary, "--plan_listen=127.0.0.1:0",
                             "--plan_db=" + dir->File("plan.db"),
                             absl::StrCat("--metrics_listen=127.0.0.1:", plan_metrics)},
                            &plan));
  ASSERT_NO_FATAL_FAILURE(testing::StartService(
      *dir, "kpi",
      {testing::kKpiServiceBinary, "--kpi_listen=127.0.0.1:0", "--kpi_db=" + dir->File("kpi.db"),
       "--plan_address=" + plan->address(),
       "--redis_url=", absl::StrCat("--metrics_listen=127.0.0.1:", kpi_metrics)},
      &kpi));
  ASSERT_NO_FATAL_FAILURE(testing::StartService(
      *dir, "notification",
      {testing::kNotificationServiceBinary, "--notification_listen=127.0.0.1:0",
       "--notification_db=" + dir->File("notification.db"), "--kpi_address=" + kpi->address(),
       "--redis_url=", absl::StrCat("--metrics_listen=127.0.0.1:", notification_metrics)},
      &notification));
  testing::RunResult run = testing::RunSuishinctl(
      testing::SuishinctlArgv({"import", SUISHIN_SOURCE_DIR "/data/seed/dohoku-2019.json"},
                              plan->address(), kpi->address()),
      {}, dir->path());
  ASSERT_EQ(run.exit_code, 0) << run.err;

  // Five reads of a method nobody else calls here (notification-service's
  // follower reads progress): counted under their method and OK, each
  // timed; one refused, under its code.
  auto stub = kpi::v1::KpiService::NewStub(MakeChannel(kpi->address()));
  const std::string method = "method=\"/suishin.kpi.v1.KpiService/GetAggregate\"";
  const std::string ok = "suishin_grpc_server_handled_total{code=\"OK\"," + method + "}";
  const std::string timed =
      "suishin_grpc_server_handling_seconds_count{code=\"OK\"," + method + "}";
  const std::string before = Scrape(kpi_metrics);
  for (int i = 0; i < 5; ++i) {
    kpi::v1::GetAggregateRequest request;
    request.set_kpi_id("kodomoen");
    request.set_area_id("dohoku");
    request.mutable_fiscal_year()->set_year(2019);
    kpi::v1::GetAggregateResponse response;
    ASSERT_TRUE(stub->GetAggregate(Context().get(), request, &response).ok());
  }
  kpi::v1::GetAggregateRequest unknown;
  unknown.set_kpi_id("no-such-kpi");
  unknown.set_area_id("dohoku");
  unknown.mutable_fiscal_year()->set_year(2019);
  kpi::v1::GetAggregateResponse response;
  ASSERT_FALSE(stub->GetAggregate(Context().get(), unknown, &response).ok());
  const std::string text = Scrape(kpi_metrics);
  ASSERT_FALSE(text.empty()) << kpi->Log();
  EXPECT_EQ(Sample(text, ok).value_or(0) - Sample(before, ok).value_or(0), 5) << text;
  EXPECT_EQ(Sample(text, "suishin_grpc_server_handled_total{code=\"NOT_FOUND\"," + method + "}"),
            1);
  EXPECT_EQ(Sample(text, timed).value_or(0) - Sample(before, timed).value_or(0), 5);
  // The log's head is the last change the import made.
  std::optional<double> head = Sample(text, "suishin_change_log_head");
  ASSERT_TRUE(head.has_value());
  EXPECT_GT(*head, 0);
  std::optional<double> hits = Sample(text, "suishin_cache_requests_total{result=\"hit\"}");
  std::optional<double> misses = Sample(text, "suishin_cache_requests_total{result=\"miss\"}");
  ASSERT_TRUE(hits.has_value() && misses.has_value()) << text;
  EXPECT_GE(*hits + *misses, 1);
  EXPECT_TRUE(Sample(text, "suishin_store_connections{state=\"idle\"}").has_value());

  // notification-service: one process leads; the follower catches up with
  // the head (a lag of 0 once it has).
  std::string alerts;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    alerts = Scrape(notification_metrics);
    if (Sample(alerts, "suishin_follower_evaluated_through").value_or(0) >= *head) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Sample(alerts, "suishin_follower_evaluated_through"), *head) << alerts;
  EXPECT_EQ(Sample(alerts, "suishin_follower_lag_changes"), 0);
  EXPECT_EQ(Sample(alerts, "suishin_leader"), 1);
  EXPECT_EQ(Sample(alerts, "suishin_outbox_depth"), 0);
  EXPECT_EQ(Sample(alerts, "suishin_dead_letters"), 0);

  // plan-service answered kpi-service's and suishinctl's calls.
  const std::string plans = Scrape(plan_metrics);
  EXPECT_TRUE(absl::StrContains(plans, "suishin_grpc_server_handled_total{code=\"OK\"")) << plans;

  for (std::optional<ServiceProcess>* service : {&notification, &kpi, &plan}) {
    testing::StopService(service);
  }
}

// A metrics address that cannot be had stops the service with a message.
TEST(MetricsTest, AMetricsAddressThatCannotBeHadStopsTheServiceWithAMessage) {
  absl::StatusOr<TempDir> dir = TempDir::Create("metrics");
  ASSERT_TRUE(dir.ok()) << dir.status();
  absl::StatusOr<ServiceProcess> plan = ServiceProcess::Start(
      *dir, "plan",
      {testing::kPlanServiceBinary, "--plan_listen=127.0.0.1:0",
       "--plan_db=" + dir->File("plan.db"), "--metrics_listen=192.0.2.1:9461"},
      absl::Seconds(5));
  ASSERT_FALSE(plan.ok());
  EXPECT_TRUE(absl::StrContains(plan.status().message(), "--metrics_listen")) << plan.status();
}

}  // namespace
}  // namespace suishin
