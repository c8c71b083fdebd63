// import-csv and export-csv (declared in commands.h): KPI figures exchanged
// as CSV files, the columns in csv_table.h, the encodings in csv_codec.h.
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
#include "clients/import_actuals.h"
#include "common/channel.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "exchange/csv_codec.h"
#include "exchange/csv_table.h"
#include "tools/suishinctl/command_util.h"
#include "tools/suishinctl/commands.h"

namespace suishin::ctl {

// From the exchange library.
using exchange::CsvDirectory;
using exchange::CsvDocument;
using exchange::CsvEncoding;
using exchange::CsvEncodingName;
using exchange::CsvLocation;
using exchange::CsvLocationOf;
using exchange::CsvRecord;
using exchange::CsvWriter;
using exchange::FieldOfServiceError;
using exchange::KpiDataHeader;
using exchange::KpiDataRecords;
using exchange::KpiDataRow;
using exchange::KpiTableRecords;
using exchange::ReadCsv;
using exchange::RepeatedRows;
using exchange::RowsAlreadyStored;
using exchange::ToKpiDataRow;
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

// "FILE:LINE: column 値: " for an error at `location`; the column is named
// by `header` when known, else by its number.
std::string Where(const std::string& path, const CsvLocation& location,
                  const KpiDataHeader* header) {
  std::string out = absl::StrCat(path, ":", location.line, ": ");
  if (location.field >= 0) {
    absl::StrAppend(
        &out, "column ",
        header != nullptr ? header->ColumnName(location.field) : absl::StrCat(location.field + 1),
        ": ");
  }
  return out;
}

// An error of ReadCsv, located in the file. The header is read on its own
// to name the column when the error is further down.
absl::Status LocatedReadError(const std::string& path, absl::string_view bytes,
                              const absl::Status& status, std::optional<CsvEncoding> encoding) {
  const std::optional<CsvLocation> location = CsvLocationOf(status);
  if (!location) return status;
  std::optional<KpiDataHeader> header;
  if (location->line > 1 && location->field >= 0) {
    const size_t end = bytes.find_first_of("\r\n");
    absl::StatusOr<CsvDocument> first = ReadCsv(bytes.substr(0, end), encoding);
    if (first.ok() && !first->records.empty()) {
      absl::StatusOr<KpiDataHeader> parsed = KpiDataHeader::Parse(first->records[0]);
      if (parsed.ok()) header = *std::move(parsed);
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(Where(path, *location, header ? &*header : nullptr), status.message()));
}

// The error for rows refused (by this program or by kpi-service): with one
// problem, that problem; with several, each on env.err first.
absl::Status RefuseRows(const Environment& env, const std::string& path,
                        const std::vector<std::pair<int64_t, std::string>>& problems,
                        int64_t rows) {
  if (problems.size() == 1) {
    return absl::InvalidArgumentError(absl::StrCat(problems[0].second, "; nothing stored"));
  }
  std::vector<std::string> lines;
  for (size_t i = 0; i < problems.size(); ++i) {
    if (i < kMaxListedProblems) {
      *env.err << problems[i].second << "\n";
      lines.push_back(absl::StrCat(problems[i].first));
    }
  }
  if (problems.size() > kMaxListedProblems) {
    *env.err << "… and " << problems.size() - kMaxListedProblems << " more\n";
  }
  env.err->flush();
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", problems.size(), " of ", rows, " rows refused (lines ",
                   absl::StrJoin(lines, ", "), problems.size() > kMaxListedProblems ? ", …" : "",
                   "); nothing stored"));
}

// What one import did.
struct ImportSummary {
  int64_t rows = 0;
  int64_t sent = 0;
  int64_t skipped = 0;
  int64_t applied = 0;
  int64_t last_sequence = 0;
  std::map<kpi::v1::RowKind, int64_t> kinds;
};

// Sends `rows` in one ImportActuals stream. When kpi-service refuses them,
// maps each RowError back to its line and column of the file.
absl::StatusOr<kpi::v1::ImportActualsResponse> SendRows(
    const Environment& env, const std::string& path, const KpiDataHeader& header,
    const std::vector<const KpiDataRow*>& rows, int64_t total_rows, ProgressLine& progress) {
  std::vector<kpi::v1::ImportRow> import_rows;
  import_rows.reserve(rows.size());
  for (const KpiDataRow* row : rows) import_rows.push_back(row->row);
  kpi::v1::ImportActualsResponse refused;
  absl::StatusOr<kpi::v1::ImportActualsResponse> response = clients::ImportActuals(
      env, import_rows, &refused,
      [&](int64_t sent) { progress.Show("rows sent", sent, static_cast<int64_t>(rows.size())); });
  progress.Clear();
  if (response.ok()) return response;
  if (refused.errors().empty()) {
    return absl::Status(response.status().code(),
                        absl::StrCat("kpi-service ImportActuals: ", response.status().message()));
  }
  std::vector<std::pair<int64_t, std::string>> problems;
  for (const kpi::v1::RowError& error : refused.errors()) {
    const auto it = std::lower_bound(
        rows.begin(), rows.end(), error.line(),
        [](const KpiDataRow* row, int64_t line) { return row->row.line() < line; });
    CsvLocation location{error.line(), -1};
    if (it != rows.end() && (*it)->row.line() == error.line()) {
      location.field = FieldOfServiceError(header, **it, error.field());
    }
    absl::string_view message = error.message();
    // The service's message starts with the field it names; the column says it.
    if (location.field >= 0 && !error.field().empty()) {
      absl::ConsumePrefix(&message, absl::StrCat(error.field(), ": "));
    }
    problems.emplace_back(error.line(),
                          absl::StrCat(Where(path, location, &header), "kpi-service: ", message));
  }
  return RefuseRows(env, path, problems, total_rows);
}

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

void PrintImportSummary(const Environment& env, const std::string& path, const CsvDocument& csv,
                        const ImportSummary& summary) {
  const std::string encoding =
      absl::StrCat(CsvEncodingName(csv.encoding), csv.byte_order_mark ? " with BOM" : "");
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

// The records of --kpi ID: its stored figures.
absl::StatusOr<std::vector<std::vector<std::string>>> KpiRecordsOf(
    const Environment& env, const std::string& kpi_id,
    const std::vector<plan::v1::Region>& regions) {
  kpi::v1::GetKpiRequest get;
  get.set_id(kpi_id);
  kpi::v1::GetKpiResponse kpi;
  RETURN_IF_ERROR(Invoke(
      env, [&](grpc::ClientContext* context) { return env.kpi->GetKpi(context, get, &kpi); }));
  kpi::v1::GetHistoryRequest history_request;
  history_request.set_kpi_id(kpi_id);
  ASSIGN_OR_RETURN(const std::vector<kpi::v1::Change> changes,
                   ListAll(env, env.kpi, history_request, kHistoryPageSize,
                           &kpi::v1::KpiService::StubInterface::GetHistory,
                           &kpi::v1::GetHistoryResponse::mutable_changes));
  return KpiDataRecords(kpi, changes, regions);
}

}  // namespace

absl::Status RunImportCsv(const Environment& env, const Arguments& args) {
  const std::string& path = args.positional.at(0);
  ASSIGN_OR_RETURN(const std::optional<CsvEncoding> encoding, EncodingFlag(args, true));
  ASSIGN_OR_RETURN(const std::string bytes, ReadFileBytes(path));
  absl::StatusOr<CsvDocument> csv = ReadCsv(bytes, encoding);
  if (!csv.ok()) return LocatedReadError(path, bytes, csv.status(), encoding);
  if (csv->records.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     ": the file is empty; a KPI data file starts with a header line "
                     "(種別,KPI ID,地域ID,年度,値,…)"));
  }
  absl::StatusOr<KpiDataHeader> header = KpiDataHeader::Parse(csv->records[0]);
  if (!header.ok()) {
    const std::optional<CsvLocation> location = CsvLocationOf(header.status());
    return absl::InvalidArgumentError(absl::StrCat(path, ":",
                                                   location ? location->line : csv->records[0].line,
                                                   ": ", header.status().message()));
  }

  ImportSummary summary;
  summary.rows = static_cast<int64_t>(csv->records.size()) - 1;
  std::vector<KpiDataRow> rows;
  if (summary.rows > 0) {
    ASSIGN_OR_RETURN(std::vector<plan::v1::Region> regions, AllRegions(env));
    ASSIGN_OR_RETURN(std::vector<kpi::v1::Kpi> kpis, AllKpis(env));
    const CsvDirectory directory(std::move(regions), std::move(kpis));
    std::vector<std::pair<int64_t, std::string>> problems;
    RepeatedRows repeats;
    ProgressLine progress(env);
    rows.reserve(static_cast<size_t>(summary.rows));
    for (size_t i = 1; i < csv->records.size(); ++i) {
      const CsvRecord& record = csv->records[i];
      absl::StatusOr<KpiDataRow> row = ToKpiDataRow(*header, record, directory);
      if (row.ok()) {
        if (absl::Status repeated = repeats.Check(*header, *row); !repeated.ok()) {
          row = repeated;
        }
      }
      if (row.ok()) {
        ++summary.kinds[row->row.kind()];
        rows.push_back(*std::move(row));
      } else {
        const std::optional<CsvLocation> location = CsvLocationOf(row.status());
        problems.emplace_back(
            record.line,
            absl::StrCat(Where(path, location.value_or(CsvLocation{record.line, -1}), &*header),
                         row.status().message()));
      }
      if (i % 1000 == 0) progress.Show("rows checked", static_cast<int64_t>(i), summary.rows);
    }
    progress.Clear();
    if (!problems.empty()) return RefuseRows(env, path, problems, summary.rows);
  }

  // What kpi-service already holds, so that a file imported twice stores
  // nothing twice.
  std::map<std::string, kpi::v1::GetKpiResponse> stored;
  std::vector<kpi::v1::ImportRow> plain;
  plain.reserve(rows.size());
  for (const KpiDataRow& row : rows) {
    plain.push_back(row.row);
    if (stored.count(row.row.kpi_id()) > 0) continue;
    kpi::v1::GetKpiRequest request;
    request.set_id(row.row.kpi_id());
    kpi::v1::GetKpiResponse& response = stored[row.row.kpi_id()];
    RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
      return env.kpi->GetKpi(context, request, &response);
    }));
  }
  const std::vector<bool> skip = RowsAlreadyStored(plain, stored);
  std::vector<const KpiDataRow*> to_send;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (skip[i]) {
      ++summary.skipped;
    } else {
      to_send.push_back(&rows[i]);
    }
  }
  summary.sent = static_cast<int64_t>(to_send.size());
  if (!to_send.empty()) {
    ProgressLine progress(env);
    ASSIGN_OR_RETURN(const kpi::v1::ImportActualsResponse response,
                     SendRows(env, path, *header, to_send, summary.rows, progress));
    summary.applied = response.rows_applied();
    summary.last_sequence = response.last_sequence();
  }
  PrintImportSummary(env, path, *csv, summary);
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

  ASSIGN_OR_RETURN(const std::vector<plan::v1::Region> regions, AllRegions(env));
  std::vector<std::vector<std::string>> records;
  std::string what;
  if (!kpi_id.empty()) {
    ASSIGN_OR_RETURN(records, KpiRecordsOf(env, kpi_id, regions));
    what = absl::StrCat("KPI ", kpi_id);
  } else {
    kpi::v1::GetKpiTableRequest request;
    request.set_project_id(project_id);
    request.mutable_as_of()->set_year(*year);
    kpi::v1::GetKpiTableResponse table;
    RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
      return env.kpi->GetKpiTable(context, request, &table);
    }));
    records = KpiTableRecords(table, regions);
    what = absl::StrCat("the KPI table of ", project_id, " as of ", *year);
  }

  CsvWriter writer(encoding);
  for (const std::vector<std::string>& record : records) {
    if (absl::Status status = writer.AddRecord(record); !status.ok()) {
      const std::optional<CsvLocation> location = CsvLocationOf(status);
      std::string column;
      if (location && location->field >= 0 &&
          static_cast<size_t>(location->field) < records[0].size()) {
        column = absl::StrCat(", column ", records[0][static_cast<size_t>(location->field)]);
      }
      return absl::InvalidArgumentError(
          absl::StrCat("--encoding ", absl::AsciiStrToLower(CsvEncodingName(encoding)), ": line ",
                       location ? location->line : 0, column, ": ", status.message()));
    }
  }

  const std::string output = FlagValue(args, "o");
  if (output.empty() || output == "-") {
    env.out->write(writer.bytes().data(), static_cast<std::streamsize>(writer.bytes().size()));
    env.out->flush();
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(WriteOutputFile(output, writer.bytes()));
  const int64_t rows = writer.records() - 1;
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
