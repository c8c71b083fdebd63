// plan-service running inside the test process on a free loopback port,
// against a real SQLite file, reachable over real gRPC.
#ifndef SUISHIN_TESTS_SUPPORT_PLAN_SERVER_H_
#define SUISHIN_TESTS_SUPPORT_PLAN_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/server.h"
#include "services/plan/plan_catalog.h"
#include "services/plan/plan_service.h"
#include "services/plan/sqlite_plan_store.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "suishin/plan/v1/plan.grpc.pb.h"

namespace suishin::testing {

class PlanServer {
 public:
  // Opens (or reopens) the store at `db_path` and serves it on 127.0.0.1:0.
  static absl::StatusOr<std::unique_ptr<PlanServer>> Start(const std::string& db_path);

  // host:port to dial.
  std::string address() const { return host_->address(); }
  // A stub on a fresh channel to this server.
  std::unique_ptr<plan::v1::PlanService::Stub> NewStub() const;
  // Stops serving; the store file stays.
  void Stop();

 private:
  PlanServer() = default;
  std::unique_ptr<plan::SqlitePlanStore> store_;
  std::unique_ptr<plan::PlanCatalog> catalog_;
  std::unique_ptr<plan::PlanServiceImpl> service_;
  std::unique_ptr<ServiceHost> host_;
};

// The seed dataset file (data/seed/dohoku-2019.json), parsed.
absl::StatusOr<dataset::v1::Dataset> LoadSeedDataset();

// Path of the seed dataset file in the source tree.
std::string SeedDatasetPath();

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_PLAN_SERVER_H_
