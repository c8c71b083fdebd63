#include "common/config.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth.h"
#include "common/limits.h"
#include "common/tls.h"

namespace suishin {

std::string EnvironmentVariableFor(absl::string_view flag_name) {
  return absl::StrCat("SUISHIN_", absl::AsciiStrToUpper(flag_name));
}

absl::Status ApplyEnvironmentToFlags() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::string variable = EnvironmentVariableFor(name);
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat(variable, "=\"", value, "\" is not a valid --", name, ": ", error));
    }
  }
  return absl::OkStatus();
}

std::vector<char*> InitFlags(int argc, char** argv, absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  // --help lists every flag the binary accepts: its main file's and those of
  // the libraries it links (common/: limits, TLS, tokens, logging), not
  // Abseil's own. By default Abseil lists only flags defined in a file named
  // like the program, which none of ours is ("No flags matched.").
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view path) {
    return !absl::StrContains(path, "absl/");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  // "services/kpi/main.cc", not the checkout's whole path.
  config.normalize_filename = [](absl::string_view path) {
    for (absl::string_view top : {"common/", "services/", "tools/", "clients/"}) {
      const size_t at = path.rfind(top);
      if (at != absl::string_view::npos && (at == 0 || path[at - 1] == '/')) {
        return std::string(path.substr(at));
      }
    }
    return std::string(path);
  };
  absl::SetFlagsUsageConfig(config);
  if (absl::Status status = ApplyEnvironmentToFlags(); !status.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], std::string(status.message()).c_str());
    std::exit(2);
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  const Limits limits = LimitsFromFlags();
  if (absl::Status status = ValidateLimits(limits); !status.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], std::string(status.message()).c_str());
    std::exit(2);
  }
  SetProcessLimits(limits);
  absl::StatusOr<TlsSettings> tls = TlsFromFlags();
  if (!tls.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], std::string(tls.status().message()).c_str());
    std::exit(2);
  }
  SetProcessTls(*std::move(tls));
  absl::StatusOr<AuthSettings> auth = AuthFromFlags();
  if (!auth.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], std::string(auth.status().message()).c_str());
    std::exit(2);
  }
  SetProcessAuth(*std::move(auth));
  // absl::Mutex's deadlock detection (on in this Abseil build) costs a graph
  // update on every lock; tests keep it, running services do not need it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return positional;
}

absl::Status ValidateAddress(absl::string_view field, absl::string_view address) {
  const size_t colon = address.rfind(':');
  int port = -1;
  const absl::string_view digits =
      colon == absl::string_view::npos ? absl::string_view() : address.substr(colon + 1);
  const bool plain_digits = !digits.empty() && digits.size() <= 5 &&
                            std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit);
  if (!plain_digits || !absl::SimpleAtoi(digits, &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", address, "\" is not host:port with a port from 0 to 65535"));
  }
  return absl::OkStatus();
}

}  // namespace suishin
