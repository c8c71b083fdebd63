// What suishinctl's command files share: the typed clients' call and list
// helpers (clients/services.h), and the reading of command-flag values
// (fiscal years, numbers) into usage errors that name the flag.
//
// Internal to suishinctl_lib (commands.cc and kpi_commands.cc); the public
// surface is commands.h.
#ifndef SUISHIN_TOOLS_SUISHINCTL_COMMAND_UTIL_H_
#define SUISHIN_TOOLS_SUISHINCTL_COMMAND_UTIL_H_

#include <google/protobuf/message.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "clients/services.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "tools/suishinctl/commands.h"
#include "tools/suishinctl/kpi_views.h"

namespace suishin::ctl {

// The typed clients' call and list helpers, as the command files name them.
using clients::Invoke;
using clients::ListAll;

// Items per page of a paged list (GetHistory, the alert lists): the most a
// service sends in one.
inline constexpr int kHistoryPageSize = 1000;
using clients::kListPageSize;

// How a command flag is written on the command line: "as_of" → "--as-of".
// Writes `bytes` to `path` through a temporary file renamed into place, so a
// failed write never leaves half a file. The error names the path and the
// system's reason ("out.csv: cannot be written: No such file or directory"):
// NOT_FOUND for a missing folder, PERMISSION_DENIED, RESOURCE_EXHAUSTED for a
// full disk, INTERNAL otherwise.
absl::Status WriteOutputFile(const std::string& path, const std::string& bytes);

std::string FlagName(absl::string_view name);

// The value of command flag `name`, or "" when it was not given.
std::string FlagValue(const Arguments& args, absl::string_view name);

// The value of a required flag; a usage error naming the flag and the
// command's synopsis when it is missing or empty.
absl::StatusOr<std::string> RequiredFlag(const Arguments& args, absl::string_view name,
                                         absl::string_view synopsis);

// Flag `name` read as a fiscal year in any form ParseFiscalYear takes; unset
// when not given; a usage error ("--year: …") when malformed.
absl::StatusOr<std::optional<int>> YearFlag(const Arguments& args, absl::string_view name);

// Flag `name` read as a decimal number; unset when not given; a usage error
// when it is not a number. Range checks are the service's.
absl::StatusOr<std::optional<double>> NumberFlag(const Arguments& args, absl::string_view name);

// Flag `name` read as a whole number; unset when not given.
absl::StatusOr<std::optional<int64_t>> IntegerFlag(const Arguments& args, absl::string_view name);

// Loads `dataset`, read from `path` (which the output names), as `import`
// does (see RunImport in commands.h): the plan part with ImportPlan, then the
// KPI part with exchange::ImportKpis; prints the counts on env.out, or with env.json
// one JSON object for a complete import.
absl::Status ImportDataset(const Environment& env, absl::string_view path,
                           const dataset::v1::Dataset& dataset);

// Prints `message` in the protobuf JSON mapping (indented) and a newline.
void PrintJson(const Environment& env, const google::protobuf::Message& message);

}  // namespace suishin::ctl

#endif  // SUISHIN_TOOLS_SUISHINCTL_COMMAND_UTIL_H_
