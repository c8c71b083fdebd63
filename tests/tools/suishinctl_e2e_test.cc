// End to end: the real suishinctl binary against the real plan-service
// binary, started on port 0 with a database in a temp dir.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/proto_util.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tools/suishinctl/commands.h"

namespace suishin::testing {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(20);
constexpr absl::Duration kRunTimeout = absl::Seconds(30);
constexpr absl::Duration kStopTimeout = absl::Seconds(10);

const std::string kSuishinctl = SUISHIN_BINARY_DIR "/tools/suishinctl/suishinctl";
const std::string kPlanService = SUISHIN_BINARY_DIR "/services/plan/plan-service";
const std::string kSeedDataset = SUISHIN_SOURCE_DIR "/data/seed/dohoku-2019.json";
constexpr char kProject[] = "dohoku-anzen-anshin";

// Wide enough that no initiative text is wrapped, so a text can be found whole.
const std::vector<std::string> kEnv = {"COLUMNS=1000"};

int CountOccurrences(absl::string_view haystack, absl::string_view needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != absl::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

class SuishinctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("suishinctl-e2e");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_.emplace(*std::move(dir));

    absl::StatusOr<ChildProcess> server = ChildProcess::Start(
        {kPlanService, "--plan_listen=127.0.0.1:0", "--plan_db=" + dir_->File("plan.db"),
         "--port_file=" + dir_->File("plan.port")},
        {}, dir_->File("plan.log"), dir_->File("plan.log"));
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(*std::move(server));

    absl::StatusOr<std::string> port = server_->WaitForFile(dir_->File("plan.port"), kStartTimeout);
    ASSERT_TRUE(port.ok()) << port.status() << "\n" << ServerLog();
    int number = 0;
    ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(*port), &number)) << *port;
    plan_address_ = absl::StrCat("127.0.0.1:", number);
  }

  void TearDown() override {
    if (server_ && server_->running()) {
      absl::StatusOr<int> status = server_->Terminate(kStopTimeout);
      ASSERT_TRUE(status.ok()) << status.status() << "\n" << ServerLog();
      EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
          << "wait status " << *status << "\n"
          << ServerLog();
    }
  }

  // Runs suishinctl with `args` against the test's plan-service.
  RunResult Suishinctl(std::vector<std::string> args) {
    args.insert(args.begin(), kSuishinctl);
    args.push_back("--plan_address=" + plan_address_);
    absl::StatusOr<RunResult> result = RunToCompletion(args, kEnv, dir_->path(), kRunTimeout);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : RunResult{};
  }

  std::string ServerLog() const {
    absl::StatusOr<std::string> log = ReadWholeFile(dir_->File("plan.log"));
    return log.ok() ? *log : std::string(log.status().message());
  }

  std::optional<TempDir> dir_;
  std::optional<ChildProcess> server_;
  std::string plan_address_;
};

TEST_F(SuishinctlTest, ImportsTheSeedAndListsSoyasInitiativeForFY2020) {
  dataset::v1::Dataset dataset;
  ASSERT_TRUE(ReadJsonFile(kSeedDataset, &dataset).ok());
  std::vector<std::string> soya_2020;  // What the filter should find.
  std::vector<std::string> others;     // Every other initiative text.
  for (const auto& initiative : dataset.plan().initiatives()) {
    const bool soya = std::find(initiative.region_ids().begin(), initiative.region_ids().end(),
                                "soya") != initiative.region_ids().end();
    (soya && initiative.fiscal_year().year() == 2020 ? soya_2020 : others)
        .push_back(initiative.text());
  }
  ASSERT_EQ(soya_2020.size(), 1u) << "the seed has one 【宗谷】 line for R2";

  const RunResult import = Suishinctl({"import", kSeedDataset});
  ASSERT_EQ(import.exit_code, 0) << import.err;
  EXPECT_TRUE(absl::StrContains(import.out, "取組 (initiatives)")) << import.out;
  EXPECT_TRUE(absl::StrContains(import.out,
                                absl::StrCat("KPI part has ", dataset.kpi().kpis_size(), " KPIs")))
      << import.out;

  const RunResult list =
      Suishinctl({"initiatives", "--project", kProject, "--year", "R2", "--region", "soya"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.err, "");
  EXPECT_EQ(CountOccurrences(list.out, soya_2020[0]), 1) << list.out;
  for (const std::string& text : others) {
    EXPECT_FALSE(absl::StrContains(list.out, text)) << "unexpected: " << text;
  }
  EXPECT_TRUE(absl::StrContains(list.out, "【宗谷】")) << list.out;
  EXPECT_TRUE(absl::StrContains(list.out, "R2 (2020)")) << list.out;
  EXPECT_TRUE(absl::EndsWith(list.out, "\n1 initiative\n")) << list.out;
}

TEST_F(SuishinctlTest, ImportTwiceLeavesEverythingUnchanged) {
  ASSERT_EQ(Suishinctl({"import", kSeedDataset}).exit_code, 0);
  const RunResult again = Suishinctl({"import", kSeedDataset, "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(absl::StrContains(again.out, "\"unchanged\": 45")) << again.out;
  EXPECT_FALSE(absl::StrContains(again.out, "\"created\"")) << again.out;
}

TEST_F(SuishinctlTest, UnknownProjectIsNotFound) {
  ASSERT_EQ(Suishinctl({"import", kSeedDataset}).exit_code, 0);
  const RunResult list = Suishinctl({"initiatives", "--project", "no-such-project"});
  EXPECT_EQ(list.exit_code, 1);
  EXPECT_EQ(list.out, "");
  EXPECT_TRUE(absl::StartsWith(list.err, "suishinctl: initiatives: NOT_FOUND: ")) << list.err;
  EXPECT_TRUE(absl::StrContains(list.err, "\"no-such-project\"")) << list.err;
  EXPECT_EQ(CountOccurrences(list.err, "\n"), 1) << "one line: " << list.err;
}

TEST_F(SuishinctlTest, HealthReportsEachServiceAndFailsUnlessAllServe) {
  const std::string kpi = absl::StrCat("127.0.0.1:", PickUnusedPort());
  const std::string notification = absl::StrCat("127.0.0.1:", PickUnusedPort());
  const RunResult health =
      Suishinctl({"health", "--kpi_address=" + kpi, "--notification_address=" + notification});
  EXPECT_EQ(health.exit_code, 1) << health.out << health.err;
  const std::vector<std::string> lines = absl::StrSplit(health.out, '\n');
  const auto line_of = [&](absl::string_view service) -> std::string {
    for (const std::string& line : lines) {
      if (absl::StartsWith(line, service)) return line;
    }
    return "";
  };
  EXPECT_TRUE(absl::StrContains(line_of("plan-service"), plan_address_)) << health.out;
  EXPECT_TRUE(absl::StrContains(line_of("plan-service"), " SERVING")) << health.out;
  EXPECT_TRUE(absl::StrContains(line_of("kpi-service"), kpi)) << health.out;
  EXPECT_TRUE(absl::StrContains(line_of("kpi-service"), "unreachable")) << health.out;
  EXPECT_TRUE(absl::StrContains(line_of("notification-service"), "unreachable")) << health.out;
  EXPECT_TRUE(absl::StartsWith(health.err, "suishinctl: health: UNAVAILABLE: ")) << health.err;
}

// Usage errors need no server.
struct UsageCase {
  std::vector<std::string> args;
  std::string stderr_part;
};

TEST(SuishinctlUsageTest, BadUsageExitsWithStatus2) {
  absl::StatusOr<TempDir> dir = TempDir::Create("suishinctl-usage");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const UsageCase cases[] = {
      {{"frobnicate"}, "unknown command \"frobnicate\""},
      {{"initiatives", "--project", kProject, "--year", "R2x"}, "--year: "},
      {{"initiatives", "--project", kProject, "--year", "H35"}, "H35"},
      {{"initiatives", "--project", kProject, "--stage", "soon"}, "--stage: \"soon\""},
      {{"initiatives"}, "--project is required"},
      {{"regions", "--year", "R2"}, "--year is not a flag of regions"},
      {{"regions", "--no_such_flag"}, "unknown flag --no_such_flag"},
      {{"project"}, "usage: suishinctl project ID"},
      {{}, "usage: suishinctl COMMAND"},
  };
  for (const UsageCase& c : cases) {
    std::vector<std::string> argv = {kSuishinctl};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    absl::StatusOr<RunResult> run = RunToCompletion(argv, kEnv, dir->path(), kRunTimeout);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->exit_code, 2) << absl::StrJoin(c.args, " ") << "\n" << run->err;
    EXPECT_TRUE(absl::StrContains(run->err, c.stderr_part)) << absl::StrJoin(c.args, " ") << "\n"
                                                            << run->err;
  }
}

TEST(SuishinctlUsageTest, HelpListsEveryCommand) {
  absl::StatusOr<TempDir> dir = TempDir::Create("suishinctl-usage");
  ASSERT_TRUE(dir.ok()) << dir.status();
  absl::StatusOr<RunResult> run =
      RunToCompletion({kSuishinctl, "help"}, kEnv, dir->path(), kRunTimeout);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 0) << run->err;
  for (const ctl::CommandSpec& spec : ctl::AllCommands()) {
    EXPECT_TRUE(absl::StrContains(run->out, spec.synopsis)) << spec.name;
  }
}

}  // namespace
}  // namespace suishin::testing
