// `cmake --install` of this build into a temporary prefix: the four services
// and suishinctl, the web page, the systemd units and their configuration
// land where deploy/CMakeLists.txt says, and what the units and the
// configuration name is real: each unit starts an installed binary with
// flags that binary accepts (its --help lists them), and each SUISHIN_<FLAG>
// of the configuration is a flag of at least one service.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace suishin {
namespace {

using testing::ReadWholeFile;
using testing::RunToCompletion;
using testing::TempDir;

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("install");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(*std::move(dir));
    prefix_ = dir_->File("prefix");
    auto run = RunToCompletion(
        {SUISHIN_CMAKE_COMMAND, "--install", SUISHIN_BINARY_DIR, "--prefix", prefix_}, {},
        dir_->path(), absl::Seconds(120));
    ASSERT_TRUE(run.ok()) << run.status();
    ASSERT_EQ(run->exit_code, 0) << run->out << run->err;
  }

  // What `binary --help` prints (the flags it accepts).
  std::string Help(const std::string& binary) {
    auto run = RunToCompletion({binary, "--help"}, {}, dir_->path(), absl::Seconds(20));
    EXPECT_TRUE(run.ok()) << binary << ": " << run.status();
    return run.ok() ? run->out + run->err : "";
  }

  std::unique_ptr<TempDir> dir_;
  std::string prefix_;
};

TEST_F(InstallTest, PutsTheBinariesThePageTheUnitsAndTheirConfigurationUnderThePrefix) {
  namespace fs = std::filesystem;
  for (const char* binary :
       {"plan-service", "kpi-service", "notification-service", "gateway", "suishinctl"}) {
    const fs::path path = fs::path(prefix_) / "bin" / binary;
    EXPECT_TRUE(fs::exists(path)) << path;
    EXPECT_NE(fs::status(path).permissions() & fs::perms::owner_exec, fs::perms::none) << path;
  }
  for (const char* page : {"index.html", "app.js", "style.css"}) {
    EXPECT_TRUE(fs::exists(fs::path(prefix_) / "share/suishin/web" / page)) << page;
  }
  for (const char* unit : {"plan", "kpi", "notification", "gateway"}) {
    EXPECT_TRUE(fs::exists(fs::path(prefix_) /
                           absl::StrCat("lib/systemd/system/suishin-", unit, ".service")))
        << unit;
  }
  EXPECT_TRUE(fs::exists(fs::path(prefix_) / "etc/suishin/suishin.env"));
}

TEST_F(InstallTest, EachUnitStartsAnInstalledBinaryWithFlagsItAccepts) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> help;  // installed binary → its --help
  for (const fs::directory_entry& entry :
       fs::directory_iterator(fs::path(prefix_) / "lib/systemd/system")) {
    const std::string unit = entry.path().filename();
    auto text = ReadWholeFile(entry.path());
    ASSERT_TRUE(text.ok()) << text.status();
    std::vector<std::string> exec;
    bool has_environment_file = false;
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      if (absl::ConsumePrefix(&line, "ExecStart=")) exec = absl::StrSplit(line, ' ');
      if (absl::StartsWith(line, "EnvironmentFile=")) has_environment_file = true;
    }
    ASSERT_FALSE(exec.empty()) << unit << " has no ExecStart";
    EXPECT_TRUE(has_environment_file) << unit;
    // The unit names the configured prefix's path; the binary of that name
    // is the one installed here.
    const std::string binary = (fs::path(prefix_) / "bin" / fs::path(exec[0]).filename());
    ASSERT_TRUE(fs::exists(binary)) << unit << ": " << exec[0];
    help[binary] = Help(binary);
    for (size_t i = 1; i < exec.size(); ++i) {
      const std::string flag = exec[i].substr(0, exec[i].find('='));
      ASSERT_TRUE(absl::StartsWith(flag, "--")) << unit << ": " << exec[i];
      EXPECT_NE(help[binary].find(absl::StrCat(flag, " (")), std::string::npos)
          << unit << ": " << exec[0] << " does not accept " << flag;
    }
    if (absl::EndsWith(exec[0], "/gateway")) {
      // The page is served from where it was installed.
      EXPECT_TRUE(absl::StrContains(*text, "--web_root=")) << *text;
    }
  }
  ASSERT_EQ(help.size(), 4u);

  // Every setting of the configuration, commented or not, is a flag of a service.
  auto env = ReadWholeFile(fs::path(prefix_) / "etc/suishin/suishin.env");
  ASSERT_TRUE(env.ok()) << env.status();
  int settings = 0;
  for (absl::string_view line : absl::StrSplit(*env, '\n')) {
    absl::ConsumePrefix(&line, "#");
    if (!absl::ConsumePrefix(&line, "SUISHIN_")) continue;
    const std::string flag =
        absl::StrCat("--", absl::AsciiStrToLower(line.substr(0, line.find('='))), " (");
    bool accepted = false;
    for (const auto& [binary, text] : help) accepted = accepted || absl::StrContains(text, flag);
    EXPECT_TRUE(accepted) << "no service accepts " << flag << " (from \"" << line << "\")";
    ++settings;
  }
  EXPECT_GE(settings, 8);
}

}  // namespace
}  // namespace suishin
