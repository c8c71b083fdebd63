// suishinctl audit: the audit trails of the three services (DESIGN.md §7),
// newest first.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "tools/suishinctl/command_util.h"
#include "tools/suishinctl/commands.h"
#include "tools/suishinctl/kpi_views.h"

namespace suishin::ctl {

using common::v1::AuditRecord;

namespace {

// The request's ids as the table shows them: at most `limit` columns.
std::string Shortened(const std::string& text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return text.substr(0, cut) + "…";
}

}  // namespace

// A record a block: time, service, method, outcome and principal on its
// first line, what the request named and a refusal's reason indented below.
std::string FormatAuditRecords(const std::vector<std::pair<std::string, AuditRecord>>& records,
                               absl::TimeZone zone) {
  std::string out;
  for (const auto& [service, record] : records) {
    const size_t slash = record.method().rfind('/');
    absl::StrAppend(
        &out, absl::StrFormat(
                  "%s  %-12s  %-20s  %-17s  %s\n", FormatTimestamp(record.time(), zone),
                  absl::StripSuffix(service, "-service"),
                  slash == std::string::npos ? record.method() : record.method().substr(slash + 1),
                  record.outcome(), record.principal().empty() ? "-" : record.principal()));
    if (!record.target().empty())
      absl::StrAppend(&out, "    ", Shortened(record.target(), 160), "\n");
    if (!record.message().empty()) {
      absl::StrAppend(&out, "    ", Shortened(record.message(), 300), "\n");
    }
  }
  absl::StrAppend(&out, records.size(), records.size() == 1 ? " record" : " records",
                  " (peer addresses: --json)\n");
  return out;
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
  *env.out << FormatAuditRecords(records, env.time_zone);
  return absl::OkStatus();
}

}  // namespace suishin::ctl
