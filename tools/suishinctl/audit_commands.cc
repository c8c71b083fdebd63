// suishinctl audit: the audit trails of the three services (DESIGN.md §7),
// newest first.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "tools/suishinctl/command_util.h"
#include "tools/suishinctl/commands.h"
#include "tools/suishinctl/kpi_views.h"
#include "tools/suishinctl/terminal_table.h"

namespace suishin::ctl {

using common::v1::AuditRecord;

std::string FormatAuditRecords(const std::vector<std::pair<std::string, AuditRecord>>& records,
                               absl::TimeZone zone, int width) {
  TerminalTable table({"時刻", "service", "principal", "peer", "method", "結果", "対象"});
  for (const auto& [service, record] : records) {
    const size_t slash = record.method().rfind('/');
    std::string outcome = record.outcome();
    if (!record.message().empty()) absl::StrAppend(&outcome, ": ", record.message());
    table.AddRow({FormatTimestamp(record.time(), zone), service,
                  record.principal().empty() ? "-" : record.principal(),
                  record.peer().empty() ? "-" : record.peer(),
                  slash == std::string::npos ? record.method() : record.method().substr(slash + 1),
                  outcome, record.target()});
  }
  return absl::StrCat(table.Render(width), records.size(),
                      records.size() == 1 ? " record\n" : " records\n");
}

absl::Status RunAudit(const Environment& env, const Arguments& args) {
  const std::string service = FlagValue(args, "service");
  int limit = 50;
  if (const std::string text = FlagValue(args, "limit"); !text.empty()) {
    if (!absl::SimpleAtoi(text, &limit) || limit < 1 || limit > 1000) {
      return absl::InvalidArgumentError(
          absl::StrCat("--limit: \"", text, "\" is not a number from 1 to 1000"));
    }
  }
  common::v1::ListAuditRecordsRequest request;
  request.set_principal(FlagValue(args, "subject"));
  request.set_method(FlagValue(args, "method"));
  request.set_refused_only(FlagValue(args, "refused") == "true");
  request.set_page_size(limit);
  std::vector<std::pair<std::string, AuditRecord>> records;
  bool known = service.empty();
  for (const AuditTarget& target : env.audit) {
    if (!service.empty() && target.name != service &&
        target.name != absl::StrCat(service, "-service")) {
      continue;
    }
    known = true;
    common::v1::ListAuditRecordsResponse response;
    RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
      return target.stub->ListAuditRecords(context, request, &response);
    }));
    for (AuditRecord& record : *response.mutable_records()) {
      records.emplace_back(target.name, std::move(record));
    }
  }
  if (!known) {
    return absl::InvalidArgumentError(
        absl::StrCat("--service: \"", service, "\" is not plan, kpi or notification"));
  }
  std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    const auto& x = a.second.time();
    const auto& y = b.second.time();
    return x.seconds() != y.seconds() ? x.seconds() > y.seconds() : x.nanos() > y.nanos();
  });
  if (records.size() > static_cast<size_t>(limit)) records.resize(limit);
  if (env.json) {
    common::v1::ListAuditRecordsResponse all;
    for (const auto& entry : records) *all.add_records() = entry.second;
    PrintJson(env, all);
    return absl::OkStatus();
  }
  *env.out << FormatAuditRecords(records, env.time_zone, env.width);
  return absl::OkStatus();
}

}  // namespace suishin::ctl
