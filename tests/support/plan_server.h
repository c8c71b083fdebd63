// plan-service running inside the test process on a free loopback port,
// against a real SQLite file, reachable over real gRPC.
//
// Built as plan-service's main builds it (SqlitePlanStore → PlanCatalog with
// its writer → PlanServiceImpl → ServiceHost), with two seams for tests: a
// store that may stand between the catalog and the SQLite store, and direct
// access to the SQLite store, to put in what the service itself would refuse
// (a damaged region tree).
#ifndef SUISHIN_TESTS_SUPPORT_PLAN_SERVER_H_
#define SUISHIN_TESTS_SUPPORT_PLAN_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/server.h"
#include "services/plan/plan_catalog.h"
#include "services/plan/plan_service.h"
#include "services/plan/plan_store.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "suishin/plan/v1/plan.grpc.pb.h"
#include "tests/support/seams.h"

namespace suishin::testing {

struct PlanServerOptions {
  // When set, the catalog uses the store this returns, given the SQLite one
  // (which outlives it), instead of the SQLite store itself.
  std::function<std::unique_ptr<plan::PlanStore>(plan::PlanStore* sqlite)> wrap_store;
  plan::PlanCatalog::Options catalog;
  // plan-service has no cache: only `seams.clock` is used (over catalog.clock).
  Seams seams;
};

class PlanServer {
 public:
  // Opens (or reopens) the store at `db_path` and serves it on 127.0.0.1:0.
  static absl::StatusOr<std::unique_ptr<PlanServer>> Start(const std::string& db_path);
  static absl::StatusOr<std::unique_ptr<PlanServer>> Start(const std::string& db_path,
                                                           PlanServerOptions options);

  // Stops serving (waiting for the calls in flight, writes included), then
  // commits what the writer still holds; the store file stays.
  ~PlanServer();

  // host:port to dial.
  std::string address() const { return host_->address(); }
  // A stub on a fresh channel to this server.
  std::unique_ptr<plan::v1::PlanService::Stub> NewStub() const;
  // Stops serving; the store file stays.
  void Stop();

  // The SQLite store itself, behind the catalog's back: what is written here
  // is not checked.
  plan::PlanStore& store() { return *store_; }
  const plan::PlanCatalog& catalog() const { return *catalog_; }

 private:
  PlanServer() = default;
  std::unique_ptr<plan::PlanStore> store_;
  std::unique_ptr<plan::PlanStore> wrapped_store_;
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
