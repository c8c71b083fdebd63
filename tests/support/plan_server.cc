#include "tests/support/plan_server.h"

#include "common/channel.h"
#include "common/proto_util.h"
#include "common/status_macros.h"

namespace suishin::testing {

absl::StatusOr<std::unique_ptr<PlanServer>> PlanServer::Start(const std::string& db_path) {
  std::unique_ptr<PlanServer> server(new PlanServer);
  ASSIGN_OR_RETURN(server->store_, plan::SqlitePlanStore::Open(db_path));
  server->catalog_ = std::make_unique<plan::PlanCatalog>(server->store_.get());
  server->service_ = std::make_unique<plan::PlanServiceImpl>(server->catalog_.get());
  ASSIGN_OR_RETURN(server->host_,
                   ServiceHost::Start("127.0.0.1:0", {{plan::v1::PlanService::service_full_name(),
                                                       server->service_.get()}}));
  return server;
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
