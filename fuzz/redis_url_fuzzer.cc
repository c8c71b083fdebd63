// ParseRedisUrl (common/redis_client.h) on any bytes.
//
// Oracle: an accepted URL gives a non-empty host without spaces, control
// characters or brackets, a port in 1..65535 and a db >= 0, with the timeouts
// left at their defaults; written back as "redis://[user:password@]host:port/db"
// (the host in brackets when it holds a ':', user and password percent-encoded)
// it parses to the same options. A password never appears in what
// RedactRedisUrl makes of the written-back URL. A refusal is INVALID_ARGUMENT.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/redis_client.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using suishin::fuzz::Escaped;
  const absl::string_view url(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<suishin::RedisOptions> options = suishin::ParseRedisUrl(url);
  if (!options.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(options.status()), options.status().ToString());
    return 0;
  }
  const std::string got = absl::StrCat("\"", Escaped(url), "\" -> host \"", Escaped(options->host),
                                       "\" port ", options->port, " db ", options->db);
  FUZZ_CHECK(!options->host.empty(), got);
  for (const char c : options->host) {
    FUZZ_CHECK(!absl::ascii_isspace(static_cast<unsigned char>(c)) &&
                   !absl::ascii_iscntrl(static_cast<unsigned char>(c)) && c != '[' && c != ']',
               got);
  }
  FUZZ_CHECK(options->port >= 1 && options->port <= 65535, got);
  FUZZ_CHECK(options->db >= 0, got);
  const suishin::RedisOptions defaults;
  FUZZ_CHECK(options->connect_timeout == defaults.connect_timeout &&
                 options->command_timeout == defaults.command_timeout &&
                 options->reconnect_backoff == defaults.reconnect_backoff,
             got);

  const bool bracket = absl::StrContains(options->host, ':');
  auto encoded = [](const std::string& text) {
    std::string out;
    for (const char c : text) {
      if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
        out.push_back(c);
      } else {
        out += absl::StrFormat("%%%02X", static_cast<unsigned char>(c));
      }
    }
    return out;
  };
  const std::string user_info =
      options->password.empty()
          ? ""
          : absl::StrCat(encoded(options->user), ":", encoded(options->password), "@");
  const std::string again_url =
      absl::StrCat("redis://", user_info, bracket ? "[" : "", options->host, bracket ? "]" : "",
                   ":", options->port, "/", options->db);
  const absl::StatusOr<suishin::RedisOptions> again = suishin::ParseRedisUrl(again_url);
  if (!options->password.empty()) {
    FUZZ_CHECK(!absl::StrContains(suishin::RedactRedisUrl(again_url),
                                  absl::StrCat(":", encoded(options->password), "@")),
               got);
  }
  FUZZ_CHECK(again.ok() && again->host == options->host && again->port == options->port &&
                 again->db == options->db && again->user == options->user &&
                 again->password == options->password,
             got, "; written back as \"", Escaped(again_url), "\": ",
             again.ok() ? absl::StrCat(again->host, " ", again->port, " ", again->db)
                        : again.status().ToString());
  return 0;
}
