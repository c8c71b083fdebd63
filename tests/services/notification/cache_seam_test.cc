// notification-service's two seams, taken as every service's harness takes
// them (tests/support/seams.h): with its shared cache down at every call, a
// one-region listing (which the Redis mirror answers when it can) comes from
// SQLite unchanged and the failures are counted; the clock handed in stamps
// what evaluation writes.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "common/proto_util.h"
#include "tests/services/notification/notification_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/unavailable_cache.h"

namespace suishin::notification {
namespace {

using testing::AchievedSubject;
using testing::NotificationServer;
using testing::NotificationServerOptions;

class NotificationCacheSeamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = suishin::testing::TempDir::Create("notification-seams");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<suishin::testing::TempDir>(*std::move(dir));
  }

  void Start(suishin::testing::Seams seams) {
    NotificationServerOptions options;
    options.seams = seams;
    auto server = NotificationServer::Start(dir_->File("notification.db"), std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // The firing alerts of one region, through the gRPC API.
  v1::ListAlertsResponse RegionAlerts(const std::string& region_id) {
    v1::ListAlertsRequest request;
    request.mutable_filter()->add_region_ids(region_id);
    v1::ListAlertsResponse response;
    grpc::ClientContext context;
    grpc::Status status = server_->NewStub()->ListAlerts(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::unique_ptr<suishin::testing::TempDir> dir_;
  std::unique_ptr<NotificationServer> server_;
};

TEST_F(NotificationCacheSeamTest, WithTheCacheDownARegionsAlertsComeFromTheStore) {
  suishin::testing::UnavailableCache down;
  Start({/*clock=*/nullptr, &down});
  ASSERT_TRUE(
      server_->book()
          .alerts()
          .Evaluate({AchievedSubject("kpi-a", "rumoi"), AchievedSubject("kpi-b", "soya")}, 0)
          .ok());
  const v1::ListAlertsResponse rumoi = RegionAlerts("rumoi");
  ASSERT_EQ(rumoi.alerts_size(), 1);
  EXPECT_EQ(rumoi.alerts(0).kpi_id(), "kpi-a");
  EXPECT_EQ(rumoi.alerts(0).rule(), v1::RULE_KIND_ACHIEVED);
  const v1::ListAlertsResponse soya = RegionAlerts("soya");
  ASSERT_EQ(soya.alerts_size(), 1);
  EXPECT_EQ(soya.alerts(0).kpi_id(), "kpi-b");
  EXPECT_EQ(RegionAlerts("kamikawa").alerts_size(), 0);
  // The mirror tried (refill at start, the evaluation's update, the
  // listings) and each failure was counted.
  EXPECT_GT(down.calls(), 0);
  EXPECT_GT(server_->book().redis_errors(), 0);
}

TEST_F(NotificationCacheSeamTest, TheClockHandedInStampsWhatEvaluationWrites) {
  const absl::Time noon =
      absl::FromCivil(absl::CivilSecond(2020, 6, 30, 12, 0, 0), absl::FixedTimeZone(9 * 3600));
  FixedClock clock(noon);
  Start({&clock, /*cache=*/nullptr});
  ASSERT_TRUE(server_->book().alerts().Evaluate({AchievedSubject("kpi-a", "rumoi")}, 0).ok());
  const v1::ListAlertsResponse rumoi = RegionAlerts("rumoi");
  ASSERT_EQ(rumoi.alerts_size(), 1);
  EXPECT_EQ(FromProtoTimestamp(rumoi.alerts(0).start_time()), noon);
  EXPECT_NE(FromProtoTimestamp(rumoi.alerts(0).start_time()), server_->clock().Now());
}

}  // namespace
}  // namespace suishin::notification
