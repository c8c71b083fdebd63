// A kpi-service in the test process, on a free loopback port, with a real
// SQLite file, a real redis-server and a real plan-service holding the seed's
// plan; and helpers to load the seed's KPI part through the API.
#ifndef SUISHIN_TESTS_SERVICES_KPI_KPI_FIXTURE_H_
#define SUISHIN_TESTS_SERVICES_KPI_KPI_FIXTURE_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/redis_client.h"
#include "common/sequence_feed.h"
#include "common/server.h"
#include "services/kpi/figure_cache.h"
#include "services/kpi/kpi_catalog.h"
#include "services/kpi/kpi_service.h"
#include "services/kpi/kpi_store.h"
#include "services/kpi/kpi_writer.h"
#include "services/kpi/plan_directory.h"
#include "services/kpi/replica_sync.h"
#include "tests/support/plan_server.h"
#include "tests/support/redis_server.h"
#include "tests/support/seams.h"
#include "tests/support/temp_dir.h"

namespace suishin::kpi::testing {

// kpi-service's parts wired as main.cc wires them.
class KpiServer {
 public:
  static absl::StatusOr<std::unique_ptr<KpiServer>> Start(
      const std::string& db_path, const std::string& plan_address, const std::string& redis_url,
      bool cache = true, KpiServiceImpl::Options options = KpiServiceImpl::Options(),
      suishin::testing::Seams seams = {});
  ~KpiServer();

  std::string address() const { return host_->address(); }
  std::unique_ptr<v1::KpiService::Stub> NewStub() const;
  FigureCache::Stats cache_stats() const { return cache_->stats(); }
  BatchWriter<KpiTransaction>::Stats writer_stats() const { return writer_->stats(); }
  SequenceFeed& feed() { return *feed_; }
  void Stop();

 private:
  KpiServer() = default;
  std::unique_ptr<KpiStore> store_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<FigureCache> cache_;
  std::unique_ptr<ReadModel> reads_;
  std::unique_ptr<SequenceFeed> feed_;
  std::unique_ptr<PlanDirectory> plans_;
  // With a PostgreSQL store (the suite's second pass), as main wires it;
  // destroyed after the writer, which calls it.
  std::unique_ptr<ReplicaSync> replicas_;
  std::unique_ptr<KpiWriter> writer_;
  std::unique_ptr<KpiCatalog> catalog_;
  std::unique_ptr<KpiServiceImpl> service_;
  std::unique_ptr<ServiceHost> host_;
};

// A deadline 10 s away.
std::unique_ptr<grpc::ClientContext> Context();

// A RecordActualRequest, reported by テスト振興局.
v1::RecordActualRequest ActualRequest(const std::string& kpi, const std::string& region, int year,
                                      double value);

// An actual's ImportRow on `line`, reported by インポート.
v1::ImportRow Row(int64_t line, const std::string& kpi, const std::string& region, int year,
                  double value);

// Seed data on a fresh plan-service, Redis and kpi-service.
class KpiTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // Starts (or restarts) kpi-service on the same SQLite file.
  void StartKpiService(bool cache = true,
                       KpiServiceImpl::Options options = KpiServiceImpl::Options());
  // CreateKpi and ImportActuals for every KPI of the seed dataset.
  void LoadSeedKpis();

  std::unique_ptr<suishin::testing::TempDir> dir_;
  std::unique_ptr<suishin::testing::RedisServer> redis_;
  std::unique_ptr<suishin::testing::PlanServer> plan_;
  std::unique_ptr<KpiServer> kpi_;
  std::unique_ptr<v1::KpiService::Stub> stub_;
  dataset::v1::Dataset seed_;
};

}  // namespace suishin::kpi::testing

#endif  // SUISHIN_TESTS_SERVICES_KPI_KPI_FIXTURE_H_
