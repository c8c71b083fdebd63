// plan-service's one write path: writes arriving together are committed as
// one group, each caller answered with its own outcome; a write refused in
// the middle of a group (even one that had already written) leaves no trace
// and fails only its own caller.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/services/plan/plan_fixture.h"

namespace suishin::plan {
namespace {

// A store in front of the SQLite one that holds each group back while its
// gate is closed: what is submitted meanwhile queues in the writer, and goes
// in the next group. Reads pass straight through.
class GatedStore : public PlanStore {
 public:
  explicit GatedStore(PlanStore* inner) : inner_(inner) {}

  absl::Status RunGroup(const std::vector<const Body*>& bodies,
                        std::vector<absl::Status>* outcomes) override {
    {
      absl::MutexLock lock(&mu_);
      ++held_;
      mu_.Await(absl::Condition(&open_));
    }
    return inner_->RunGroup(bodies, outcomes);
  }

  absl::Status Read(const Body& body) override { return inner_->Read(body); }

  void SetOpen(bool open) {
    absl::MutexLock lock(&mu_);
    open_ = open;
  }

  // Groups that have reached the gate so far.
  int held() {
    absl::MutexLock lock(&mu_);
    return held_;
  }

  // Waits up to 10 s until `groups` groups have reached the gate in all.
  bool WaitForGroups(int groups) {
    absl::MutexLock lock(&mu_);
    wanted_ = groups;
    return mu_.AwaitWithTimeout(absl::Condition(this, &GatedStore::EnoughHeld), absl::Seconds(10));
  }

 private:
  bool EnoughHeld() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return held_ >= wanted_; }

  PlanStore* const inner_;
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int held_ ABSL_GUARDED_BY(mu_) = 0;
  int wanted_ ABSL_GUARDED_BY(mu_) = 0;
};

class PlanWritePathTest : public PlanServiceTest {
 protected:
  void SetUp() override {
    PlanServiceTest::SetUp();
    testing::PlanServerOptions options;
    options.wrap_store = [this](PlanStore* sqlite) {
      auto gated = std::make_unique<GatedStore>(sqlite);
      gate_ = gated.get();
      return gated;
    };
    StartServer(std::move(options));
  }

  // Waits up to 10 s until the catalog has handed `writes` writes to its
  // writer in all (a client's call has no other sign of having arrived).
  bool WaitForSubmitted(int64_t writes) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (server_->catalog().write_stats().submitted < writes) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return true;
  }

  // The write stats once every write handed to the writer is committed,
  // waiting up to 10 s (a caller is answered just before its group counts).
  PlanCatalog::WriteStats SettledStats() {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    PlanCatalog::WriteStats stats = server_->catalog().write_stats();
    while (stats.writes < stats.submitted && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
      stats = server_->catalog().write_stats();
    }
    return stats;
  }

  // Waits up to 10 s until the writer has finished `groups` groups in all.
  bool WaitForCommitted(int64_t groups) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (server_->catalog().write_stats().groups < groups) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return true;
  }

  // Runs `call` on a thread of its own.
  void Spawn(std::function<void()> call) { threads_.emplace_back(std::move(call)); }

  void JoinAll() {
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }

  GatedStore* gate_ = nullptr;
  std::vector<std::thread> threads_;
};

v1::CreateInitiativeRequest NewInitiative(const std::string& text) {
  v1::CreateInitiativeRequest request;
  v1::Initiative* initiative = request.mutable_initiative();
  initiative->set_project_id(kProject);
  initiative->set_pillar_id("bousai");
  initiative->mutable_fiscal_year()->set_year(2021);
  initiative->set_stage(v1::INITIATIVE_STAGE_NEXT);
  initiative->set_text(text);
  initiative->add_responsible_bodies("振興局");
  initiative->add_region_ids("soya");
  return request;
}

// An import that writes a new area and a project in it, then fails on its
// last initiative: refused only once it has written.
v1::ImportPlanRequest ImportFailingLate() {
  v1::ImportPlanRequest request;
  v1::PlanDataset* dataset = request.mutable_dataset();
  *dataset->add_regions() =
      MakeRegion("donan", common::v1::REGION_KIND_COOPERATION_AREA, "hokkaido");
  v1::Project* project = dataset->add_projects();
  project->set_id("donan-kurashi");
  project->set_area_id("donan");
  project->set_title("道南の暮らしプロジェクト");
  v1::Pillar* pillar = project->add_pillars();
  pillar->set_id("kurashi");
  pillar->set_title("■暮らし");
  v1::Initiative* initiative = dataset->add_initiatives();
  initiative->set_id("donan-kurashi-1");
  initiative->set_project_id("donan-kurashi");
  initiative->set_pillar_id("sangyo");  // not a pillar of the project
  initiative->mutable_fiscal_year()->set_year(2020);
  initiative->set_stage(v1::INITIATIVE_STAGE_NEXT);
  initiative->set_text("移住定住の促進");
  return request;
}

TEST_F(PlanWritePathTest, CommitsConcurrentWritesAsOneGroupAndARefusalFailsOnlyItself) {
  ImportSeed();
  constexpr int kWrites = 64;
  // What the calls answer; declared before the cleanup that joins them.
  std::vector<grpc::Status> statuses(kWrites);
  std::vector<v1::CreateInitiativeResponse> responses(kWrites);
  grpc::Status plug_status, taken_status, import_status;
  v1::CreateInitiativeResponse plug, taken;
  v1::ImportPlanResponse imported;

  const PlanCatalog::WriteStats before = SettledStats();
  // Closed: the first write below reaches the gate and holds the writer, so
  // everything after it queues up behind.
  const int held = gate_->held();
  gate_->SetOpen(false);
  absl::Cleanup open_and_join = [this] {
    gate_->SetOpen(true);
    JoinAll();
  };
  auto create = [&](int i) {
    Spawn([&, i] {
      statuses[i] =
          stub_->CreateInitiative(Context(std::chrono::seconds(30)).get(),
                                  NewInitiative(absl::StrCat("防災訓練 ", i)), &responses[i]);
    });
  };
  Spawn([&] {
    plug_status = stub_->CreateInitiative(Context(std::chrono::seconds(30)).get(),
                                          NewInitiative("先頭"), &plug);
  });
  ASSERT_TRUE(gate_->WaitForGroups(held + 1));
  for (int i = 0; i < kWrites / 2; ++i) create(i);
  ASSERT_TRUE(WaitForSubmitted(before.submitted + 1 + kWrites / 2));

  // In the middle: one write refused before it writes (an id taken), one
  // refused after it has written (an import failing on its last line).
  Spawn([&] {
    v1::CreateInitiativeRequest request = NewInitiative("上書きの試み");
    request.mutable_initiative()->set_id("dohoku-anzen-anshin-n01");
    taken_status =
        stub_->CreateInitiative(Context(std::chrono::seconds(30)).get(), request, &taken);
  });
  Spawn([&] {
    import_status =
        stub_->ImportPlan(Context(std::chrono::seconds(30)).get(), ImportFailingLate(), &imported);
  });
  ASSERT_TRUE(WaitForSubmitted(before.submitted + 3 + kWrites / 2));
  for (int i = kWrites / 2; i < kWrites; ++i) create(i);
  ASSERT_TRUE(WaitForSubmitted(before.submitted + 3 + kWrites));

  std::move(open_and_join).Invoke();
  ASSERT_TRUE(WaitForCommitted(before.groups + 2));

  EXPECT_TRUE(plug_status.ok()) << plug_status.error_message();
  std::set<std::string> ids;
  for (int i = 0; i < kWrites; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
    EXPECT_EQ(responses[i].initiative().version(), 1);
    ids.insert(responses[i].initiative().id());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kWrites));
  ExpectRefused(taken_status, grpc::StatusCode::ALREADY_EXISTS, "initiative.id",
                "dohoku-anzen-anshin-n01");
  ExpectRefused(import_status, grpc::StatusCode::INVALID_ARGUMENT,
                "dataset.initiatives[0].pillar_id", "sangyo");

  // The plug alone, then everything else together.
  const PlanCatalog::WriteStats after = server_->catalog().write_stats();
  EXPECT_EQ(after.groups - before.groups, 2);
  EXPECT_EQ(after.writes - before.writes, kWrites + 3);

  // Every accepted write stored; nothing of the refused ones.
  EXPECT_EQ(CountInitiatives(), seed_.plan().initiatives_size() + kWrites + 1);
  v1::GetRegionRequest region;
  region.set_id("donan");
  v1::GetRegionResponse found_region;
  EXPECT_EQ(stub_->GetRegion(Context().get(), region, &found_region).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::GetProjectRequest project;
  project.set_id("donan-kurashi");
  v1::GetProjectResponse found_project;
  EXPECT_EQ(stub_->GetProject(Context().get(), project, &found_project).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The initiative whose id the refused write tried to take is as it was.
  auto text_of = [](const auto& initiatives, const std::string& id) {
    for (const v1::Initiative& initiative : initiatives) {
      if (initiative.id() == id) return initiative.text();
    }
    return std::string("<missing>");
  };
  EXPECT_EQ(text_of(ListAll({}), "dohoku-anzen-anshin-n01"),
            text_of(seed_.plan().initiatives(), "dohoku-anzen-anshin-n01"));
}

TEST_F(PlanWritePathTest, ReadsDoNotWaitForAWriteInProgress) {
  ImportSeed();
  grpc::Status held_status;
  v1::CreateInitiativeResponse held_response;
  const int held = gate_->held();
  gate_->SetOpen(false);
  absl::Cleanup open_and_join = [this] {
    gate_->SetOpen(true);
    JoinAll();
  };
  Spawn([&] {
    held_status = stub_->CreateInitiative(Context(std::chrono::seconds(30)).get(),
                                          NewInitiative("保留中"), &held_response);
  });
  ASSERT_TRUE(gate_->WaitForGroups(held + 1));
  // The writer is held; reads answer within 1 s all the same, and do not
  // see the write that has not committed.
  EXPECT_EQ(TreeWithin1s("dohoku").size(), 4u);
  v1::ListInitiativesResponse page;
  v1::ListInitiativesRequest list;
  list.set_page_size(1000);
  ASSERT_TRUE(stub_->ListInitiatives(Context(std::chrono::seconds(1)).get(), list, &page).ok());
  EXPECT_EQ(page.initiatives_size(), seed_.plan().initiatives_size());
  std::move(open_and_join).Invoke();
  EXPECT_TRUE(held_status.ok()) << held_status.error_message();
  EXPECT_EQ(CountInitiatives(), seed_.plan().initiatives_size() + 1);
}

}  // namespace
}  // namespace suishin::plan
