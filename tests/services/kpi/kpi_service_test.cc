// kpi-service over real gRPC, checking projects with a real plan-service on
// loopback: accepted when it is up, UNAVAILABLE when it is down or silent.
#include "services/kpi/kpi_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/channel.h"
#include "common/clock.h"
#include "common/proto_util.h"
#include "common/server.h"
#include "services/kpi/kpi_catalog.h"
#include "services/kpi/kpi_writer.h"
#include "services/kpi/open_kpi_store.h"
#include "services/kpi/plan_directory.h"
#include "tests/support/plan_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace suishin::kpi {
namespace {

using ::suishin::testing::LoadSeedDataset;
using ::suishin::testing::PlanServer;
using ::suishin::testing::TempDir;

// A kpi-service in this process whose plan-service is at `plan_address`.
class KpiServer {
 public:
  KpiServer(const std::string& db_path, const std::string& plan_address, absl::Duration timeout) {
    auto store = OpenKpiStore(*suishin::testing::StoreFor(db_path));
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    plans_ = NewGrpcPlanDirectory(MakeChannel(plan_address), plan_address, timeout);
    reads_ = std::make_unique<ReadModel>(store_.get(), &cache_);
    auto writer = KpiWriter::Create(store_.get(), &cache_, reads_.get(), &feed_,
                                    KpiWriter::Options(), &clock_);
    EXPECT_TRUE(writer.ok()) << writer.status();
    writer_ = *std::move(writer);
    catalog_ = std::make_unique<KpiCatalog>(store_.get(), &cache_, reads_.get());
    service_ = std::make_unique<KpiServiceImpl>(catalog_.get(), writer_.get(), plans_.get(), &feed_,
                                                KpiServiceImpl::Options());
    auto host =
        ServiceHost::Start("127.0.0.1:0", {{v1::KpiService::service_full_name(), service_.get()}});
    EXPECT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
    stub_ = v1::KpiService::NewStub(MakeChannel(host_->address()));
  }
  v1::KpiService::Stub& stub() { return *stub_; }
  FixedClock& clock() { return clock_; }

 private:
  std::unique_ptr<KpiStore> store_;
  FixedClock clock_{absl::FromCivil(absl::CivilSecond(2020, 6, 30, 9, 0, 0), absl::UTCTimeZone())};
  FigureCache cache_{nullptr, FigureCache::Options()};
  std::unique_ptr<ReadModel> reads_;
  SequenceFeed feed_;
  std::unique_ptr<PlanDirectory> plans_;
  std::unique_ptr<KpiWriter> writer_;
  std::unique_ptr<KpiCatalog> catalog_;
  std::unique_ptr<KpiServiceImpl> service_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<v1::KpiService::Stub> stub_;
};

// A TCP port that accepts connections and never says a word.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(fd_, 16);
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { close(fd_); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int fd_;
  int port_;
};

class KpiServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("kpi-test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(*std::move(dir));
    auto seed = LoadSeedDataset();
    ASSERT_TRUE(seed.ok()) << seed.status();
    seed_ = *std::move(seed);
  }

  // Starts plan-service with the seed's plan loaded.
  void StartPlanService() {
    auto plan = PlanServer::Start(dir_->File("plan.db"));
    ASSERT_TRUE(plan.ok()) << plan.status();
    plan_ = *std::move(plan);
    plan::v1::ImportPlanRequest request;
    *request.mutable_dataset() = seed_.plan();
    plan::v1::ImportPlanResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(plan_->NewStub()->ImportPlan(&context, request, &response).ok());
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  // The seed's first KPI (認定こども園設置数) as a CreateKpi request.
  v1::CreateKpiRequest SeedKpi() const {
    v1::CreateKpiRequest request;
    *request.mutable_kpi() = seed_.kpi().kpis(0).kpi();
    return request;
  }

  static int CountKpis(KpiServer& kpi) {
    v1::ListKpisResponse response;
    EXPECT_TRUE(kpi.stub().ListKpis(Context().get(), {}, &response).ok());
    return response.kpis_size();
  }

  std::unique_ptr<TempDir> dir_;
  dataset::v1::Dataset seed_;
  std::unique_ptr<PlanServer> plan_;
};

TEST_F(KpiServiceTest, AcceptsAKpiOfAKnownProject) {
  StartPlanService();
  KpiServer kpi(dir_->File("kpi.db"), plan_->address(), absl::Seconds(2));
  v1::CreateKpiResponse created;
  grpc::Status status = kpi.stub().CreateKpi(Context().get(), SeedKpi(), &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.kpi().name(), "認定こども園設置数");
  EXPECT_EQ(created.kpi().version(), 1);

  v1::GetKpiRequest get;
  get.set_id(created.kpi().id());
  v1::GetKpiResponse stored;
  ASSERT_TRUE(kpi.stub().GetKpi(Context().get(), get, &stored).ok());
  EXPECT_EQ(stored.kpi().project_id(), "dohoku-anzen-anshin");
  EXPECT_EQ(stored.kpi().aggregation(), v1::AGGREGATION_RULE_SUM);
  EXPECT_EQ(stored.kpi().region_ids_size(), 4);

  grpc::Status again = kpi.stub().CreateKpi(Context().get(), SeedKpi(), &created);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS) << again.error_message();
}

// Writes are stamped by the Clock kpi-service is given (common/clock.h, the
// one time seam of every service), not by the system clock.
TEST_F(KpiServiceTest, StampsWritesWithTheClockItIsGiven) {
  StartPlanService();
  KpiServer kpi(dir_->File("kpi.db"), plan_->address(), absl::Seconds(2));
  const absl::Time created_at = kpi.clock().Now();
  v1::CreateKpiResponse created;
  ASSERT_TRUE(kpi.stub().CreateKpi(Context().get(), SeedKpi(), &created).ok());
  EXPECT_EQ(FromProtoTimestamp(created.kpi().create_time()), created_at);

  kpi.clock().Advance(absl::Hours(24));
  v1::RecordActualRequest record;
  record.mutable_actual()->set_kpi_id(created.kpi().id());
  record.mutable_actual()->set_region_id("soya");
  record.mutable_actual()->mutable_fiscal_year()->set_year(2019);
  record.mutable_actual()->set_value(4);
  v1::RecordActualResponse recorded;
  grpc::Status status = kpi.stub().RecordActual(Context().get(), record, &recorded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(FromProtoTimestamp(recorded.actual().report_time()), created_at + absl::Hours(24));
}

TEST_F(KpiServiceTest, FillsDefaultsFromKindAndDirection) {
  StartPlanService();
  KpiServer kpi(dir_->File("kpi.db"), plan_->address(), absl::Seconds(2));
  v1::CreateKpiRequest request;
  request.mutable_kpi()->set_id("taiki-jido");
  request.mutable_kpi()->set_project_id("dohoku-anzen-anshin");
  request.mutable_kpi()->set_name("待機児童数");
  request.mutable_kpi()->set_unit("人");
  request.mutable_kpi()->set_value_kind(v1::VALUE_KIND_COUNT);
  request.mutable_kpi()->set_direction(v1::DIRECTION_DECREASE);
  request.mutable_kpi()->add_region_ids("dohoku");
  v1::CreateKpiResponse created;
  ASSERT_TRUE(kpi.stub().CreateKpi(Context().get(), request, &created).ok());
  EXPECT_EQ(created.kpi().area_id(), "dohoku");
  EXPECT_EQ(created.kpi().progress_method(), v1::PROGRESS_METHOD_GAP_CLOSURE);
  EXPECT_EQ(created.kpi().aggregation(), v1::AGGREGATION_RULE_SUM);
}

TEST_F(KpiServiceTest, UnavailableWhenPlanServiceIsDown) {
  // Nothing listens on this port: plan-service is down.
  const std::string address = absl::StrCat("127.0.0.1:", testing::PickUnusedPort());
  KpiServer kpi(dir_->File("kpi.db"), address, absl::Seconds(2));
  v1::CreateKpiResponse created;
  grpc::Status status = kpi.stub().CreateKpi(Context().get(), SeedKpi(), &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_NE(status.error_message().find("plan-service at " + address), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("dohoku-anzen-anshin"), std::string::npos);
  EXPECT_EQ(CountKpis(kpi), 0);
}

TEST_F(KpiServiceTest, UnavailableWithinTheDeadlineWhenPlanServiceHangs) {
  SilentListener silent;
  KpiServer kpi(dir_->File("kpi.db"), silent.address(), absl::Milliseconds(300));
  v1::CreateKpiResponse created;
  const auto start = std::chrono::steady_clock::now();
  grpc::Status status = kpi.stub().CreateKpi(Context().get(), SeedKpi(), &created);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  // The 300 ms deadline, not the caller's 10 s, bounds the wait.
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_EQ(CountKpis(kpi), 0);
}

TEST_F(KpiServiceTest, RefusesAnUnknownProject) {
  StartPlanService();
  KpiServer kpi(dir_->File("kpi.db"), plan_->address(), absl::Seconds(2));
  v1::CreateKpiRequest request = SeedKpi();
  request.mutable_kpi()->set_project_id("sangyo-shinko");
  v1::CreateKpiResponse created;
  grpc::Status status = kpi.stub().CreateKpi(Context().get(), request, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_NE(status.error_message().find("kpi.project_id"), std::string::npos);
  EXPECT_NE(status.error_message().find("sangyo-shinko"), std::string::npos);
  EXPECT_EQ(CountKpis(kpi), 0);
}

TEST_F(KpiServiceTest, RefusesBadDefinitionsAndStoresNothing) {
  StartPlanService();
  KpiServer kpi(dir_->File("kpi.db"), plan_->address(), absl::Seconds(2));
  struct Case {
    std::function<void(v1::Kpi&)> spoil;
    std::string field, value;
  };
  const std::vector<Case> cases = {
      {[](v1::Kpi& k) { k.set_id("Kodomoen"); }, "kpi.id", "Kodomoen"},
      {[](v1::Kpi& k) { k.set_name(""); }, "kpi.name", "must not be empty"},
      {[](v1::Kpi& k) { k.clear_value_kind(); }, "kpi.value_kind", "0"},
      {[](v1::Kpi& k) { k.set_direction(static_cast<v1::Direction>(7)); }, "kpi.direction", "7"},
      {[](v1::Kpi& k) { k.set_region_ids(2, "kamikawa"); }, "kpi.region_ids[2]", "kamikawa"},
      {[](v1::Kpi& k) { k.set_region_ids(3, "hokkaido"); }, "kpi.region_ids[3]", "hokkaido"},
      {[](v1::Kpi& k) { k.set_area_id("kamikawa"); }, "kpi.area_id", "kamikawa"},
      {[](v1::Kpi& k) {
         k.set_value_kind(v1::VALUE_KIND_PERCENT);
         k.set_aggregation(v1::AGGREGATION_RULE_SUM);
       },
       "kpi.aggregation", "SUM"},
  };
  for (const Case& c : cases) {
    v1::CreateKpiRequest request = SeedKpi();
    c.spoil(*request.mutable_kpi());
    v1::CreateKpiResponse created;
    grpc::Status status = kpi.stub().CreateKpi(Context().get(), request, &created);
    SCOPED_TRACE(c.field);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_NE(status.error_message().find(c.field), std::string::npos) << status.error_message();
    EXPECT_NE(status.error_message().find(c.value), std::string::npos) << status.error_message();
  }
  EXPECT_EQ(CountKpis(kpi), 0);
}

}  // namespace
}  // namespace suishin::kpi
