#include "tests/services/kpi/kpi_fixture.h"

#include "common/channel.h"
#include "common/status_macros.h"
#include "exchange/dataset_rows.h"
#include "services/kpi/open_kpi_store.h"
#include "tests/support/test_store.h"

namespace suishin::kpi::testing {

absl::StatusOr<std::unique_ptr<KpiServer>> KpiServer::Start(
    const std::string& db_path, const std::string& plan_address, const std::string& redis_url,
    bool cache, KpiServiceImpl::Options service, suishin::testing::Seams seams) {
  std::unique_ptr<KpiServer> server(new KpiServer);
  ASSIGN_OR_RETURN(const std::string location, ::suishin::testing::StoreFor(db_path));
  ASSIGN_OR_RETURN(server->store_, OpenKpiStore(location));
  if (!redis_url.empty()) {
    ASSIGN_OR_RETURN(RedisOptions options, ParseRedisUrl(redis_url));
    server->redis_ = std::make_unique<RedisClient>(options);
  }
  FigureCache::Options options;
  options.enabled = cache;
  SharedCache* shared = seams.cache != nullptr ? seams.cache : server->redis_.get();
  server->cache_ = std::make_unique<FigureCache>(shared, options);
  server->feed_ = std::make_unique<SequenceFeed>();
  server->plans_ = NewGrpcPlanDirectory(MakeChannel(plan_address), plan_address, absl::Seconds(5));
  server->reads_ = std::make_unique<ReadModel>(server->store_.get(), server->cache_.get());
  ASSIGN_OR_RETURN(
      server->writer_,
      KpiWriter::Create(server->store_.get(), server->cache_.get(), server->reads_.get(),
                        server->feed_.get(), KpiWriter::Options(),
                        seams.clock != nullptr ? seams.clock : SystemClock()));
  server->catalog_ = std::make_unique<KpiCatalog>(server->store_.get(), server->cache_.get(),
                                                  server->reads_.get());
  server->replicas_ = FollowReplicas(
      server->store_.get(), server->cache_.get(), server->reads_.get(), server->feed_.get(),
      server->writer_.get(), server->catalog_.get(), ReplicaSync::Options());
  server->service_ =
      std::make_unique<KpiServiceImpl>(server->catalog_.get(), server->writer_.get(),
                                       server->plans_.get(), server->feed_.get(), service);
  ASSIGN_OR_RETURN(server->host_,
                   ServiceHost::Start("127.0.0.1:0", {{v1::KpiService::service_full_name(),
                                                       server->service_.get()}}));
  return server;
}

KpiServer::~KpiServer() { Stop(); }

std::unique_ptr<v1::KpiService::Stub> KpiServer::NewStub() const {
  return v1::KpiService::NewStub(MakeChannel(address()));
}

void KpiServer::Stop() {
  if (host_) host_->Shutdown(absl::Seconds(1));
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

v1::RecordActualRequest ActualRequest(const std::string& kpi, const std::string& region, int year,
                                      double value) {
  v1::RecordActualRequest request;
  v1::Actual* actual = request.mutable_actual();
  actual->set_kpi_id(kpi);
  actual->set_region_id(region);
  actual->mutable_fiscal_year()->set_year(year);
  actual->set_value(value);
  actual->set_reported_by("テスト振興局");
  return request;
}

v1::ImportRow Row(int64_t line, const std::string& kpi, const std::string& region, int year,
                  double value) {
  v1::ImportRow row;
  row.set_line(line);
  row.set_kind(v1::ROW_KIND_ACTUAL);
  row.set_kpi_id(kpi);
  row.set_region_id(region);
  row.mutable_fiscal_year()->set_year(year);
  row.set_value(value);
  row.set_reported_by("インポート");
  return row;
}

void KpiTest::SetUp() {
  auto dir = suishin::testing::TempDir::Create("kpi-test");
  ASSERT_TRUE(dir.ok()) << dir.status();
  dir_ = std::make_unique<suishin::testing::TempDir>(*std::move(dir));
  auto redis = suishin::testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  redis_ = *std::move(redis);
  auto seed = suishin::testing::LoadSeedDataset();
  ASSERT_TRUE(seed.ok()) << seed.status();
  seed_ = *std::move(seed);
  auto plan = suishin::testing::PlanServer::Start(dir_->File("plan.db"));
  ASSERT_TRUE(plan.ok()) << plan.status();
  plan_ = *std::move(plan);
  plan::v1::ImportPlanRequest request;
  *request.mutable_dataset() = seed_.plan();
  plan::v1::ImportPlanResponse response;
  ASSERT_TRUE(plan_->NewStub()->ImportPlan(Context().get(), request, &response).ok());
  StartKpiService();
}

void KpiTest::StartKpiService(bool cache, KpiServiceImpl::Options options) {
  stub_.reset();
  kpi_.reset();
  auto kpi =
      KpiServer::Start(dir_->File("kpi.db"), plan_->address(), redis_->url(), cache, options);
  ASSERT_TRUE(kpi.ok()) << kpi.status();
  kpi_ = *std::move(kpi);
  stub_ = kpi_->NewStub();
}

void KpiTest::LoadSeedKpis() {
  for (const v1::KpiRecord& record : seed_.kpi().kpis()) {
    v1::CreateKpiRequest create;
    *create.mutable_kpi() = record.kpi();
    v1::CreateKpiResponse created;
    grpc::Status status = stub_->CreateKpi(Context().get(), create, &created);
    ASSERT_TRUE(status.ok()) << status.error_message();

    auto context = Context();
    v1::ImportActualsResponse imported;
    auto writer = stub_->ImportActuals(context.get(), &imported);
    v1::ImportActualsRequest batch;
    for (v1::ImportRow& row : exchange::RowsOf(record)) *batch.add_rows() = std::move(row);
    ASSERT_TRUE(writer->Write(batch));
    ASSERT_TRUE(writer->WritesDone());
    status = writer->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(imported.rows_applied(), batch.rows_size());
  }
}

}  // namespace suishin::kpi::testing
