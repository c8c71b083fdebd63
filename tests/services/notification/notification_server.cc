#include "tests/services/notification/notification_server.h"

#include <utility>

#include "common/channel.h"
#include "common/status_macros.h"
#include "services/notification/open_notification_store.h"
#include "tests/support/test_store.h"

namespace suishin::notification::testing {

AlertBook::Options LoopbackWebhooks() {
  AlertBook::Options options;
  options.webhooks.targets = *TargetPolicy::Parse("127.0.0.1,::1");
  return options;
}

absl::Time SuiteNow() {
  absl::Time now;
  std::string error;
  (void)absl::ParseTime(absl::RFC3339_full, "2026-11-29T12:00:00+09:00", &now, &error);
  return now;
}

absl::StatusOr<std::unique_ptr<NotificationServer>> NotificationServer::Start(
    const std::string& db_path, NotificationServerOptions options) {
  std::unique_ptr<NotificationServer> server(new NotificationServer);
  // The same key for every start on this file, as main.cc's default does.
  ASSIGN_OR_RETURN(SecretSealer sealer, SecretSealer::LoadOrCreate(db_path + ".secret-key"));
  ASSIGN_OR_RETURN(const std::string location, ::suishin::testing::StoreFor(db_path));
  ASSIGN_OR_RETURN(server->store_, OpenNotificationStore(location, std::move(sealer)));
  NotificationStore* store = server->store_.get();
  if (options.wrap_store) {
    server->wrapped_store_ = options.wrap_store(store);
    store = server->wrapped_store_.get();
  }
  if (!options.redis_url.empty()) {
    ASSIGN_OR_RETURN(RedisOptions redis, ParseRedisUrl(options.redis_url));
    server->redis_ = std::make_unique<RedisClient>(redis);
  }
  const Clock* clock = options.seams.clock != nullptr ? options.seams.clock : &server->clock_;
  SharedCache* cache = options.seams.cache != nullptr ? options.seams.cache : server->redis_.get();
  ASSIGN_OR_RETURN(
      server->book_,
      AlertBook::Create(store, clock, cache, {&server->outbox_added_, &server->evaluate_again_},
                        options.book));
  AlertBook* book = server->book_.get();
  NotificationServiceImpl::StatusSources sources;
  if (options.deliver_webhooks) {
    server->transport_ = NewCurlTransport(options.book.webhooks.targets);
    server->dispatcher_ = std::make_unique<WebhookDispatcher>(
        store,
        [book](NotificationStore::Body body) { return book->writer().Write(std::move(body)); },
        &server->outbox_added_, server->transport_.get(), &server->delivery_clock_,
        options.dispatch);
    sources.circuits = &server->dispatcher_->circuits();
    server->dispatcher_->Start();
  }
  if (!options.kpi_address.empty()) {
    server->kpi_stub_ = kpi::v1::KpiService::NewStub(MakeChannel(options.kpi_address));
    server->follower_ = std::make_unique<KpiFollower>(server->kpi_stub_.get(), book,
                                                      &server->evaluate_again_, options.follow);
    sources.follower = server->follower_.get();
    server->follower_->Start();
  }
  server->service_ = std::make_unique<NotificationServiceImpl>(book, sources);
  ASSIGN_OR_RETURN(server->host_,
                   ServiceHost::Start("127.0.0.1:0", {{v1::NotificationService::service_full_name(),
                                                       server->service_.get()}}));
  return server;
}

NotificationServer::~NotificationServer() {
  // The host first: its calls finish through the book's writer.
  host_.reset();
  if (follower_) follower_->Stop();
  if (dispatcher_) dispatcher_->Stop();
  service_.reset();
  book_.reset();
}

std::unique_ptr<v1::NotificationService::Stub> NotificationServer::NewStub() const {
  return v1::NotificationService::NewStub(MakeChannel(address()));
}

kpi::v1::Kpi TestKpi(const std::string& id, const std::string& region_id) {
  kpi::v1::Kpi kpi;
  kpi.set_id(id);
  kpi.set_project_id("test-project");
  kpi.set_name(id);
  kpi.set_unit("カ所");
  kpi.set_value_kind(kpi::v1::VALUE_KIND_COUNT);
  kpi.set_direction(kpi::v1::DIRECTION_INCREASE);
  kpi.set_aggregation(kpi::v1::AGGREGATION_RULE_REPORTED);
  kpi.set_progress_method(kpi::v1::PROGRESS_METHOD_ACHIEVEMENT);
  kpi.set_area_id(region_id);
  kpi.add_region_ids(region_id);
  return kpi;
}

kpi::v1::GetProgressResponse AchievedProgress(const kpi::v1::Kpi& kpi,
                                              const std::string& region_id) {
  kpi::v1::GetProgressResponse progress;
  *progress.mutable_kpi() = kpi;
  progress.set_region_id(region_id);
  kpi::v1::ProgressPoint& point = *progress.add_points();
  point.mutable_fiscal_year()->set_year(2018);
  point.set_value(10);
  point.set_rate(100);
  point.set_rate_display("100.0%");
  point.set_status(kpi::v1::PROGRESS_STATUS_ACHIEVED);
  return progress;
}

Subject AchievedSubject(const std::string& kpi_id, const std::string& region_id) {
  Subject subject;
  subject.kpi = std::make_shared<const kpi::v1::Kpi>(TestKpi(kpi_id, region_id));
  subject.region_id = region_id;
  subject.progress = AchievedProgress(*subject.kpi, region_id);
  return subject;
}

}  // namespace suishin::notification::testing
