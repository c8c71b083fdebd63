// import-csv and export-csv (declared in commands.h): KPI figures exchanged
// as CSV files (exchange/csv_files.h), shown on a terminal.
#include <google/protobuf/struct.pb.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/channel.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "exchange/csv_codec.h"
#include "exchange/csv_files.h"
#include "tools/suishinctl/command_util.h"
#include "tools/suishinctl/commands.h"

namespace suishin::ctl {

// From the exchange library.
using exchange::CsvEncoding;
using exchange::CsvEncodingName;
namespace {

// Bad rows listed one per line before the error; the rest are counted.
constexpr size_t kMaxListedProblems = 100;

std::string SynopsisOf(absl::string_view command) {
  const CommandSpec* spec = FindCommand(command);
  return spec == nullptr ? std::string(command) : std::string(spec->synopsis);
}

// The --encoding flag (exchange::ParseCsvEncoding), a usage error when
// malformed.
absl::StatusOr<std::optional<CsvEncoding>> EncodingFlag(const Arguments& args, bool allow_auto) {
  absl::StatusOr<std::optional<CsvEncoding>> encoding =
      exchange::ParseCsvEncoding("--encoding", FlagValue(args, "encoding"), allow_auto);
  if (!encoding.ok()) return UsageError(encoding.status().message());
  return encoding;
}

absl::StatusOr<std::string> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return bytes.str();
}

// "import-csv: rows 500/1200" on a terminal's standard error, rewritten in
// place and erased when done; nothing unless env.progress.
class ProgressLine {
 public:
  explicit ProgressLine(const Environment& env) : env_(env) {}
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() { Clear(); }

  void Show(absl::string_view what, int64_t done, int64_t total) {
    if (!env_.progress || total == 0) return;
    *env_.err << "\r\033[Kimport-csv: " << what << " " << done << "/" << total;
    env_.err->flush();
    shown_ = true;
  }

  void Clear() {
    if (!shown_) return;
    *env_.err << "\r\033[K";
    env_.err->flush();
    shown_ = false;
  }

 private:
  const Environment& env_;
  bool shown_ = false;
};

std::string KindCounts(const std::map<kpi::v1::RowKind, int64_t>& kinds) {
  std::vector<std::string> parts;
  for (const auto& [kind, label] :
       {std::pair{kpi::v1::ROW_KIND_BASELINE, "基準"}, std::pair{kpi::v1::ROW_KIND_TARGET, "目標"},
        std::pair{kpi::v1::ROW_KIND_ACTUAL, "実績"}}) {
    const auto it = kinds.find(kind);
    if (it != kinds.end()) parts.push_back(absl::StrCat(label, " ", it->second));
  }
  return absl::StrJoin(parts, ", ");
}

void PrintImportSummary(const Environment& env, const std::string& path,
                        const exchange::CsvImport& summary) {
  const std::string encoding =
      absl::StrCat(CsvEncodingName(summary.encoding), summary.byte_order_mark ? " with BOM" : "");
  if (env.json) {
    google::protobuf::Struct json;
    auto& fields = *json.mutable_fields();
    fields["file"].set_string_value(path);
    fields["encoding"].set_string_value(encoding);
    fields["rows"].set_number_value(static_cast<double>(summary.rows));
    fields["rowsAlreadyStored"].set_number_value(static_cast<double>(summary.skipped));
    fields["rowsSent"].set_number_value(static_cast<double>(summary.sent));
    fields["rowsApplied"].set_number_value(static_cast<double>(summary.applied));
    fields["lastSequence"].set_number_value(static_cast<double>(summary.last_sequence));
    PrintJson(env, json);
    return;
  }
  *env.out << path << " (" << encoding << "): " << summary.rows
           << (summary.rows == 1 ? " row" : " rows");
  if (!summary.kinds.empty()) *env.out << " (" << KindCounts(summary.kinds) << ")";
  *env.out << "\n";
  if (summary.sent == 0) {
    *env.out << (summary.rows == 0 ? "nothing to import"
                                   : "every row is already stored; nothing changed")
             << "\n";
    return;
  }
  if (summary.last_sequence == 0) {
    // Every row sent was an actual kpi-service already had.
    *env.out << summary.sent << " sent; every figure is already stored; nothing changed\n";
    return;
  }
  *env.out << summary.applied << " applied in one transaction";
  if (summary.skipped > 0) *env.out << ", " << summary.skipped << " already stored (not sent)";
  *env.out << "; last change #" << summary.last_sequence << "\n";
}

}  // namespace

absl::Status RunImportCsv(const Environment& env, const Arguments& args) {
  const std::string& path = args.positional.at(0);
  ASSIGN_OR_RETURN(const std::optional<CsvEncoding> encoding, EncodingFlag(args, true));
  ASSIGN_OR_RETURN(const std::string bytes, ReadFileBytes(path));
  ProgressLine progress(env);
  ASSIGN_OR_RETURN(
      const exchange::CsvImport import,
      exchange::ImportKpiDataCsv(env, path, bytes, encoding,
                                 [&](absl::string_view what, int64_t done, int64_t total) {
                                   progress.Show(what, done, total);
                                 }));
  progress.Clear();
  if (!import.problems.empty()) {
    // With several, each on its own line first.
    if (import.problems.size() > 1) {
      for (size_t i = 0; i < import.problems.size() && i < kMaxListedProblems; ++i) {
        *env.err << import.problems[i].text << "\n";
      }
      if (import.problems.size() > kMaxListedProblems) {
        *env.err << "… and " << import.problems.size() - kMaxListedProblems << " more\n";
      }
      env.err->flush();
    }
    return absl::InvalidArgumentError(exchange::RefusalMessage(path, import, kMaxListedProblems));
  }
  PrintImportSummary(env, path, import);
  return absl::OkStatus();
}

absl::Status RunExportCsv(const Environment& env, const Arguments& args) {
  const std::string synopsis = SynopsisOf("export-csv");
  const std::string kpi_id = FlagValue(args, "kpi");
  const std::string project_id = FlagValue(args, "table");
  if (kpi_id.empty() == project_id.empty()) {
    return UsageError(absl::StrCat(
        kpi_id.empty() ? "give --kpi ID or --table PROJECT" : "give --kpi or --table, not both",
        "; usage: suishinctl ", synopsis));
  }
  ASSIGN_OR_RETURN(const std::optional<int> year, YearFlag(args, "year"));
  if (!kpi_id.empty() && year) {
    return UsageError("--year goes with --table; --kpi writes every stored figure of the KPI");
  }
  if (!project_id.empty() && !year) {
    return UsageError(
        absl::StrCat("--year is required with --table; usage: suishinctl ", synopsis));
  }
  ASSIGN_OR_RETURN(const std::optional<CsvEncoding> chosen, EncodingFlag(args, false));
  const CsvEncoding encoding = chosen.value_or(CsvEncoding::kUtf8);

  std::vector<std::vector<std::string>> records;
  std::string what;
  if (!kpi_id.empty()) {
    ASSIGN_OR_RETURN(records, exchange::KpiDataCsvRecords(env, kpi_id));
    what = absl::StrCat("KPI ", kpi_id);
  } else {
    ASSIGN_OR_RETURN(records, exchange::KpiTableCsvRecords(env, project_id, *year));
    what = absl::StrCat("the KPI table of ", project_id, " as of ", *year);
  }
  ASSIGN_OR_RETURN(const std::string bytes, exchange::CsvBytes(records, encoding));

  const std::string output = FlagValue(args, "o");
  if (output.empty() || output == "-") {
    env.out->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    env.out->flush();
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(WriteOutputFile(output, bytes));
  const int64_t rows = static_cast<int64_t>(records.size()) - 1;
  if (env.json) {
    google::protobuf::Struct json;
    auto& fields = *json.mutable_fields();
    fields["file"].set_string_value(output);
    fields["encoding"].set_string_value(std::string(CsvEncodingName(encoding)));
    fields["rows"].set_number_value(static_cast<double>(rows));
    PrintJson(env, json);
  } else {
    *env.out << output << ": " << rows << (rows == 1 ? " row" : " rows") << " of " << what << " ("
             << CsvEncodingName(encoding) << ")\n";
  }
  return absl::OkStatus();
}

}  // namespace suishin::ctl
