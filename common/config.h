// Configuration: absl flags, with environment variables as fallbacks.
//
// Every flag `--foo_bar` may also come from the environment variable
// `SUISHIN_FOO_BAR`; a value on the command line wins over the environment,
// which wins over the flag's default. Values are checked at start-up: a
// malformed one stops the process with a message naming the flag or the
// variable and the value.
//
// Example:
//   ABSL_FLAG(std::string, listen, "127.0.0.1:50061", "address to serve on");
//   int main(int argc, char** argv) {
//     suishin::InitFlags(argc, argv, "plan-service: projects and initiatives");
//     ...
//   }
#ifndef SUISHIN_COMMON_CONFIG_H_
#define SUISHIN_COMMON_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace suishin {

// The environment variable that feeds flag `flag_name`: "SUISHIN_" + upper case.
std::string EnvironmentVariableFor(absl::string_view flag_name);

// Sets every registered flag whose environment variable is set. On a value the
// flag cannot parse, returns INVALID_ARGUMENT naming the variable and value.
absl::Status ApplyEnvironmentToFlags();

// ApplyEnvironmentToFlags, then absl::ParseCommandLine. Exits with status 2
// and a message on standard error when either fails. Returns the positional
// arguments (argv[0] first).
std::vector<char*> InitFlags(int argc, char** argv, absl::string_view usage);

// A host:port to listen on or connect to. INVALID_ARGUMENT naming `field`
// unless it has a host (or is ":port") and a port from 0 to 65535.
absl::Status ValidateAddress(absl::string_view field, absl::string_view address);

}  // namespace suishin

#endif  // SUISHIN_COMMON_CONFIG_H_
