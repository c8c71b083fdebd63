#include "common/config.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, config_test_port, 7, "an int flag for config_test");
ABSL_FLAG(std::string, config_test_name, "default-name", "a string flag for config_test");
ABSL_FLAG(bool, config_test_verbose, false, "a bool flag for config_test");
ABSL_FLAG(double, config_test_ratio, 0.5, "a double flag for config_test");

namespace suishin {
namespace {

constexpr const char* kPortVariable = "SUISHIN_CONFIG_TEST_PORT";
constexpr const char* kNameVariable = "SUISHIN_CONFIG_TEST_NAME";
constexpr const char* kVerboseVariable = "SUISHIN_CONFIG_TEST_VERBOSE";
constexpr const char* kRatioVariable = "SUISHIN_CONFIG_TEST_RATIO";

// Each test starts with the test flags at their defaults and none of their
// variables set, and leaves things that way.
class ApplyEnvironmentTest : public ::testing::Test {
 protected:
  void SetUp() override { UnsetAll(); }
  void TearDown() override { UnsetAll(); }

  static void UnsetAll() {
    for (const char* variable : {kPortVariable, kNameVariable, kVerboseVariable, kRatioVariable}) {
      unsetenv(variable);
    }
  }

 private:
  absl::FlagSaver flag_saver_;  // Restores every flag when the test ends.
};

TEST(EnvironmentVariableForTest, PrefixesAndUpperCasesTheFlagName) {
  EXPECT_EQ(EnvironmentVariableFor("listen"), "SUISHIN_LISTEN");
  EXPECT_EQ(EnvironmentVariableFor("redis_address"), "SUISHIN_REDIS_ADDRESS");
  EXPECT_EQ(EnvironmentVariableFor("plan_service2"), "SUISHIN_PLAN_SERVICE2");
  EXPECT_EQ(EnvironmentVariableFor("config_test_port"), kPortVariable);
}

TEST_F(ApplyEnvironmentTest, SetsAnIntFlagFromItsVariable) {
  setenv(kPortVariable, "50061", 1);
  ASSERT_EQ(ApplyEnvironmentToFlags(), absl::OkStatus());
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_port), 50061);
}

TEST_F(ApplyEnvironmentTest, SetsAStringFlagFromItsVariableKeepingUtf8) {
  setenv(kNameVariable, "道北 dashboard", 1);
  ASSERT_EQ(ApplyEnvironmentToFlags(), absl::OkStatus());
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_name), "道北 dashboard");
}

TEST_F(ApplyEnvironmentTest, SetsABoolAndADoubleFlag) {
  setenv(kVerboseVariable, "true", 1);
  setenv(kRatioVariable, "0.25", 1);
  ASSERT_EQ(ApplyEnvironmentToFlags(), absl::OkStatus());
  EXPECT_TRUE(absl::GetFlag(FLAGS_config_test_verbose));
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_ratio), 0.25);
}

TEST_F(ApplyEnvironmentTest, UnsetVariablesLeaveTheDefaults) {
  ASSERT_EQ(ApplyEnvironmentToFlags(), absl::OkStatus());
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_port), 7);
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_name), "default-name");
  EXPECT_FALSE(absl::GetFlag(FLAGS_config_test_verbose));
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_ratio), 0.5);
}

TEST_F(ApplyEnvironmentTest, AnEmptyVariableSetsAStringFlagToEmpty) {
  setenv(kNameVariable, "", 1);
  ASSERT_EQ(ApplyEnvironmentToFlags(), absl::OkStatus());
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_name), "");
}

TEST_F(ApplyEnvironmentTest, MalformedValueIsInvalidArgumentNamingVariableValueAndFlag) {
  struct Case {
    const char* variable;
    const char* value;
    const char* flag;
  };
  const std::vector<Case> cases = {
      {kPortVariable, "abc", "config_test_port"},
      {kPortVariable, "12abc", "config_test_port"},
      {kPortVariable, "99999999999", "config_test_port"},  // beyond int
      {kPortVariable, "", "config_test_port"},
      {kVerboseVariable, "maybe", "config_test_verbose"},
      {kRatioVariable, "half", "config_test_ratio"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.variable, "=", c.value));
    UnsetAll();
    setenv(c.variable, c.value, 1);
    const absl::Status status = ApplyEnvironmentToFlags();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), absl::StrCat(c.variable, "=\"", c.value, "\"")))
        << status;
    EXPECT_TRUE(absl::StrContains(status.message(), absl::StrCat("--", c.flag))) << status;
  }
}

TEST_F(ApplyEnvironmentTest, MalformedValueLeavesTheFlagAtItsDefault) {
  setenv(kPortVariable, "abc", 1);
  ASSERT_FALSE(ApplyEnvironmentToFlags().ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_port), 7);
}

// InitFlags sets the program usage message, which Abseil allows once per
// process, and exits on failure, so each case runs in a child process (the
// EXPECT_EXIT statement), which reports through its exit status.

// Child: environment and command line both set --config_test_port.
void InitFlagsWithCommandLineAndEnvironment() {
  setenv(kPortVariable, "8", 1);
  setenv(kNameVariable, "from-env", 1);
  std::vector<std::string> args = {"config_test", "--config_test_port=9", "positional"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  const std::vector<char*> rest =
      InitFlags(static_cast<int>(argv.size()), argv.data(), "config_test");
  const bool ok = absl::GetFlag(FLAGS_config_test_port) == 9 &&
                  absl::GetFlag(FLAGS_config_test_name) == "from-env" && rest.size() == 2 &&
                  std::string(rest[0]) == "config_test" && std::string(rest[1]) == "positional";
  std::fprintf(stderr, ok ? "flags as expected\n" : "flags wrong\n");
  std::exit(ok ? 0 : 1);
}

// Child: a malformed environment value; InitFlags should not return.
void InitFlagsWithMalformedEnvironment() {
  setenv(kPortVariable, "abc", 1);
  std::string program = "config_test";
  std::vector<char*> argv = {program.data()};
  InitFlags(1, argv.data(), "config_test");
  std::exit(0);
}

TEST_F(ApplyEnvironmentTest, InitFlagsLetsTheCommandLineWinOverTheEnvironment) {
  EXPECT_EXIT(InitFlagsWithCommandLineAndEnvironment(), ::testing::ExitedWithCode(0),
              "flags as expected");
}

TEST_F(ApplyEnvironmentTest, InitFlagsExitsWithStatusTwoNamingAMalformedVariable) {
  EXPECT_EXIT(InitFlagsWithMalformedEnvironment(), ::testing::ExitedWithCode(2),
              "SUISHIN_CONFIG_TEST_PORT=\"abc\"");
}

// ---------------------------------------------------------------- ValidateAddress

TEST(ValidateAddressTest, AcceptsHostAndPort) {
  const std::vector<std::string> addresses = {
      "127.0.0.1:50061",  "[::1]:0", "localhost:6380", "0.0.0.0:65535",
      ":50061",  // any interface
      "redis.internal:1",
  };
  for (const std::string& address : addresses) {
    EXPECT_EQ(ValidateAddress("listen", address), absl::OkStatus()) << address;
  }
}

TEST(ValidateAddressTest, RejectsMalformedAddressesNamingFieldAndValue) {
  const std::vector<std::string> addresses = {
      "",         "127.0.0.1", "localhost",  "host:99999", "host:65536", "host:-1",
      "host:abc", "host:",     "host:80abc", "[::1]",      "host:1.5",
  };
  for (const std::string& address : addresses) {
    const absl::Status status = ValidateAddress("listen", address);
    SCOPED_TRACE(address);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StartsWith(status.message(), absl::StrCat("listen: \"", address, "\"")))
        << status;
  }
}

TEST(ValidateAddressTest, RejectsPortsThatAreNotPlainDigits) {
  for (const char* address : {"host:80 ", "host: 80", "host:+80", "host:\t80"}) {
    EXPECT_EQ(ValidateAddress("listen", address).code(), absl::StatusCode::kInvalidArgument)
        << "\"" << address << "\"";
  }
}

}  // namespace
}  // namespace suishin
