// The fixture plan-service's tests share: an in-process plan-service
// (tests/support/plan_server.h) on a real SQLite file in a fresh directory,
// a stub over real gRPC, the seed dataset, and helpers to read back what is
// stored.
#ifndef SUISHIN_TESTS_SERVICES_PLAN_PLAN_FIXTURE_H_
#define SUISHIN_TESTS_SERVICES_PLAN_PLAN_FIXTURE_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/plan_server.h"
#include "tests/support/temp_dir.h"

namespace suishin::plan {

inline constexpr char kProject[] = "dohoku-anzen-anshin";

class PlanServiceTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // (Re)starts the server on the same file; stops the running one first.
  void StartServer(testing::PlanServerOptions options = {});

  // A context whose deadline is `deadline` from now.
  static std::unique_ptr<grpc::ClientContext> Context(
      std::chrono::milliseconds deadline = std::chrono::seconds(10));

  void ImportSeed();

  // Every initiative matching `request`, following page tokens.
  std::vector<v1::Initiative> ListAll(v1::ListInitiativesRequest request);

  int CountRegions();
  int CountInitiatives() { return static_cast<int>(ListAll({}).size()); }

  // "id<parent_id:kind" of every region under `root_id` (all when empty), in
  // tree order, asked with a deadline of 1 s: the bound within which
  // ListRegions must answer whatever the store holds. Fails the test when it
  // does not answer OK.
  std::vector<std::string> TreeWithin1s(const std::string& root_id = "");

  // The seed's initiatives for which `keep` holds, in file order.
  template <typename Predicate>
  std::vector<std::string> SeedTexts(Predicate keep) {
    std::vector<std::string> texts;
    for (const v1::Initiative& initiative : seed_.plan().initiatives()) {
      if (keep(initiative)) texts.push_back(initiative.text());
    }
    return texts;
  }

  static std::vector<std::string> Texts(const std::vector<v1::Initiative>& initiatives);

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::PlanServer> server_;
  std::unique_ptr<v1::PlanService::Stub> stub_;
  dataset::v1::Dataset seed_;
};

// Asserts a refused call: its code, and a message naming the field and value.
void ExpectRefused(const grpc::Status& status, grpc::StatusCode code, const std::string& field,
                   const std::string& value);

// A region, for building requests.
v1::Region MakeRegion(const std::string& id, common::v1::RegionKind kind,
                      const std::string& parent_id);

}  // namespace suishin::plan

#endif  // SUISHIN_TESTS_SERVICES_PLAN_PLAN_FIXTURE_H_
