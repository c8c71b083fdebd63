#include "tests/support/plan_server.h"

#include <utility>

#include "common/channel.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "services/plan/open_plan_store.h"
#include "tests/support/test_store.h"

namespace suishin::testing {

absl::StatusOr<std::unique_ptr<PlanServer>> PlanServer::Start(const std::string& db_path) {
  return Start(db_path, PlanServerOptions());
}

absl::StatusOr<std::unique_ptr<PlanServer>> PlanServer::Start(const std::string& db_path,
                                                              PlanServerOptions options) {
  std::unique_ptr<PlanServer> server(new PlanServer);
  ASSIGN_OR_RETURN(const std::string location, StoreFor(db_path));
  ASSIGN_OR_RETURN(server->store_, plan::OpenPlanStore(location));
  plan::PlanStore* store = server->store_.get();
  if (options.wrap_store) {
    server->wrapped_store_ = options.wrap_store(store);
    store = server->wrapped_store_.get();
  }
  if (options.seams.clock != nullptr) options.catalog.clock = options.seams.clock;
  server->catalog_ = std::make_unique<plan::PlanCatalog>(store, std::move(options.catalog));
  server->service_ = std::make_unique<plan::PlanServiceImpl>(server->catalog_.get());
  ASSIGN_OR_RETURN(server->host_,
                   ServiceHost::Start("127.0.0.1:0", {{plan::v1::PlanService::service_full_name(),
                                                       server->service_.get()}}));
  return server;
}

PlanServer::~PlanServer() {
  // The host first: its calls finish through the catalog's writer.
  host_.reset();
  service_.reset();
  catalog_.reset();
}

std::unique_ptr<plan::v1::PlanService::Stub> PlanServer::NewStub() const {
  return plan::v1::PlanService::NewStub(MakeChannel(address()));
}

void PlanServer::Stop() { host_->Shutdown(absl::Seconds(1)); }

std::string SeedDatasetPath() {
  return std::string(SUISHIN_SOURCE_DIR) + "/data/seed/dohoku-2019.json";
}

absl::StatusOr<dataset::v1::Dataset> LoadSeedDataset() {
  dataset::v1::Dataset dataset;
  RETURN_IF_ERROR(ReadJsonFile(SeedDatasetPath(), &dataset));
  return dataset;
}

}  // namespace suishin::testing
