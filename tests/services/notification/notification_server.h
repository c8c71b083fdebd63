// notification-service running inside the test process on a free loopback
// port, against a real SQLite file, reachable over real gRPC.
//
// Built as notification-service's main builds it (SqliteNotificationStore →
// AlertBook with its writer → NotificationServiceImpl → ServiceHost), with
// the webhook dispatcher and the KPI follower when asked for, and with seams
// for tests: a store that may stand between the book and the SQLite store,
// a settable clock, and direct access to every part.
#ifndef SUISHIN_TESTS_SERVICES_NOTIFICATION_NOTIFICATION_SERVER_H_
#define SUISHIN_TESTS_SERVICES_NOTIFICATION_NOTIFICATION_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/redis_client.h"
#include "common/server.h"
#include "common/work_signal.h"
#include "services/notification/alert_book.h"
#include "services/notification/http_client.h"
#include "services/notification/kpi_follower.h"
#include "services/notification/notification_service.h"
#include "services/notification/notification_store.h"
#include "services/notification/webhook_dispatcher.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "suishin/notification/v1/notification.grpc.pb.h"
#include "tests/support/seams.h"

namespace suishin::notification::testing {

// The time the suite's notification-service runs at (its --now).
absl::Time SuiteNow();

// AlertBook's defaults, with webhooks allowed to reach 127.0.0.1 and ::1.
AlertBook::Options LoopbackWebhooks();

struct NotificationServerOptions {
  // When set, the book uses the store this returns, given the SQLite one
  // (which outlives it), instead of the SQLite store itself.
  std::function<std::unique_ptr<NotificationStore>(NotificationStore* sqlite)> wrap_store;
  // Webhooks may reach the loopback address, where the tests' receivers are.
  AlertBook::Options book = LoopbackWebhooks();
  // Redis for the mirror; empty for none.
  std::string redis_url;
  // A clock in place of the server's FixedClock (clock() then is not the
  // one used), a cache in place of a RedisClient of `redis_url`.
  suishin::testing::Seams seams;
  // Starts a WebhookDispatcher (real libcurl transport, real time).
  bool deliver_webhooks = false;
  WebhookDispatcher::Options dispatch;
  // Starts a KpiFollower of the kpi-service there when not empty.
  std::string kpi_address;
  KpiFollower::Options follow;
};

class NotificationServer {
 public:
  // Opens (or reopens) the store at `db_path` and serves it on 127.0.0.1:0.
  static absl::StatusOr<std::unique_ptr<NotificationServer>> Start(
      const std::string& db_path, NotificationServerOptions options = {});

  // Stops serving, then the follower and the dispatcher, then commits what
  // the writer still holds; the store file stays.
  ~NotificationServer();

  std::string address() const { return host_->address(); }
  // A stub on a fresh channel to this server.
  std::unique_ptr<v1::NotificationService::Stub> NewStub() const;

  // The clock evaluation and the RPCs use, at SuiteNow() to begin with.
  FixedClock& clock() { return clock_; }
  AlertBook& book() { return *book_; }
  // The SQLite store itself, behind the book's back.
  NotificationStore& store() { return *store_; }
  NotificationServiceImpl& service() { return *service_; }
  // Null unless asked for.
  WebhookDispatcher* dispatcher() { return dispatcher_.get(); }
  KpiFollower* follower() { return follower_.get(); }

 private:
  NotificationServer() : clock_(SuiteNow()) {}

  FixedClock clock_;
  RealClock delivery_clock_;
  std::unique_ptr<NotificationStore> store_;
  std::unique_ptr<NotificationStore> wrapped_store_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<WebhookTransport> transport_;
  WorkSignal outbox_added_;
  WorkSignal evaluate_again_;
  std::unique_ptr<AlertBook> book_;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
  std::unique_ptr<kpi::v1::KpiService::Stub> kpi_stub_;
  std::unique_ptr<KpiFollower> follower_;
  std::unique_ptr<NotificationServiceImpl> service_;
  std::unique_ptr<ServiceHost> host_;
};

// What kpi-service's GetProgress answers for a KPI that reached its target
// in `region_id` in H30: enough for the ACHIEVED rule alone to fire.
kpi::v1::GetProgressResponse AchievedProgress(const kpi::v1::Kpi& kpi,
                                              const std::string& region_id);
// A KPI in one region ("r-<id>") as kpi-service defines it.
kpi::v1::Kpi TestKpi(const std::string& id, const std::string& region_id);
// A subject whose evaluation fires ACHIEVED for `kpi_id` in `region_id`.
Subject AchievedSubject(const std::string& kpi_id, const std::string& region_id);

}  // namespace suishin::notification::testing

#endif  // SUISHIN_TESTS_SERVICES_NOTIFICATION_NOTIFICATION_SERVER_H_
