// What suishinctl's command files share: one call with a deadline, a list
// call followed page after page, and the reading of command-flag values
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
#include "common/channel.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "tools/suishinctl/commands.h"
#include "tools/suishinctl/kpi_views.h"

namespace suishin::ctl {

// Makes one call with a fresh deadline of env.timeout and returns its status
// as absl::Status. `call` takes the grpc::ClientContext* and returns the
// call's grpc::Status.
template <typename Call>
absl::Status Invoke(const Environment& env, Call call) {
  std::unique_ptr<grpc::ClientContext> context = NewClientContext(env.timeout);
  return FromGrpcStatus(call(context.get()));
}

// Calls a List method of `stub` page after page until the last one and
// returns every item; each page is a call with its own deadline. The
// request's page_size is set to `page_size`.
template <typename Item, typename Stub, typename Request, typename Response>
absl::StatusOr<std::vector<Item>> ListAll(
    const Environment& env, Stub* stub, Request request, int page_size,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    google::protobuf::RepeatedPtrField<Item>* (Response::*items)()) {
  std::vector<Item> all;
  request.set_page_size(page_size);
  do {
    Response response;
    RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
      return (stub->*method)(context, request, &response);
    }));
    for (Item& item : *(response.*items)()) all.push_back(std::move(item));
    if (!response.next_page_token().empty() && response.next_page_token() == request.page_token()) {
      return absl::InternalError("the service returned the same page token twice");
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return all;
}

// Items per page of a paged list (GetHistory, the alert lists): the most a
// service sends in one.
inline constexpr int kHistoryPageSize = 1000;
inline constexpr int kListPageSize = 1000;

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

// Prints `message` in the protobuf JSON mapping (indented) and a newline.
void PrintJson(const Environment& env, const google::protobuf::Message& message);

// Loads the KPI part of a dataset file into kpi-service (see RunImport in
// commands.h): for each KPI, CreateKpi, then its rows (RowsOf) in one
// ImportActuals stream unless it was already present with values. Appends
// one entry per KPI handled to `results`, also when it fails part-way, so
// the caller can report what was done. When ImportActuals refuses rows,
// prints every bad row to env.err ("line N: field: message") and returns the
// refusal. With env.progress, shows "rows sent / total" on env.err.
absl::Status ImportKpis(const Environment& env, const kpi::v1::KpiDataset& dataset,
                        std::vector<KpiImportResult>* results);

}  // namespace suishin::ctl

#endif  // SUISHIN_TOOLS_SUISHINCTL_COMMAND_UTIL_H_
