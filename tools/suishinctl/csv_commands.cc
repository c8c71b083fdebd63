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
#include "common/channel.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "tools/suishinctl/command_util.h"
#include "tools/suishinctl/commands.h"
#include "tools/suishinctl/csv_codec.h"
#include "tools/suishinctl/csv_table.h"

namespace suishin::ctl {
namespace {

// Results per list call.
constexpr int kRegionPageSize = 1000;
constexpr int kKpiPageSize = 1000;
// Rows per ImportActualsRequest message of the stream.
constexpr size_t kRowsPerMessage = 500;
// The stream gets env.timeout plus this much per row.
constexpr absl::Duration kStreamTimePerRow = absl::Milliseconds(1);
// Bad rows listed one per line before the error; the rest are counted.
constexpr size_t kMaxListedProblems = 100;

std::string SynopsisOf(absl::string_view command) {
  const CommandSpec* spec = FindCommand(command);
  return spec == nullptr ? std::string(command) : std::string(spec->synopsis);
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

absl::StatusOr<std::vector<plan::v1::Region>> AllRegions(const Environment& env) {
  absl::StatusOr<std::vector<plan::v1::Region>> regions =
      ListAll(env, env.plan, plan::v1::ListRegionsRequest(), kRegionPageSize,
              &plan::v1::PlanService::StubInterface::ListRegions,
              &plan::v1::ListRegionsResponse::mutable_regions);
  if (!regions.ok()) {
    return absl::Status(regions.status().code(),
                        absl::StrCat("plan-service ListRegions: ", regions.status().message()));
  }
  return regions;
}

absl::StatusOr<std::vector<kpi::v1::Kpi>> AllKpis(const Environment& env) {
  absl::StatusOr<std::vector<kpi::v1::Kpi>> kpis = ListAll(
      env, env.kpi, kpi::v1::ListKpisRequest(), kKpiPageSize,
      &kpi::v1::KpiService::StubInterface::ListKpis, &kpi::v1::ListKpisResponse::mutable_kpis);
  if (!kpis.ok()) {
    return absl::Status(kpis.status().code(),
                        absl::StrCat("kpi-service ListKpis: ", kpis.status().message()));
  }
  return kpis;
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
  std::unique_ptr<grpc::ClientContext> context =
      NewClientContext(env.timeout + kStreamTimePerRow * static_cast<int64_t>(rows.size()));
  kpi::v1::ImportActualsResponse response;
  std::unique_ptr<grpc::ClientWriterInterface<kpi::v1::ImportActualsRequest>> writer =
      env.kpi->ImportActuals(context.get(), &response);
  for (size_t first = 0; first < rows.size(); first += kRowsPerMessage) {
    kpi::v1::ImportActualsRequest request;
    const size_t end = std::min(rows.size(), first + kRowsPerMessage);
    for (size_t i = first; i < end; ++i) *request.add_rows() = rows[i]->row;
    // A failed write means the call is over; Finish says why.
    if (!writer->Write(request)) break;
    progress.Show("rows sent", static_cast<int64_t>(end), static_cast<int64_t>(rows.size()));
  }
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  progress.Clear();
  if (status.ok()) return response;

  kpi::v1::ImportActualsResponse refused;
  if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT || status.error_details().empty() ||
      !refused.ParseFromString(status.error_details()) || refused.errors().empty()) {
    const absl::Status error = FromGrpcStatus(status);
    return absl::Status(error.code(), absl::StrCat("kpi-service ImportActuals: ", error.message()));
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
  ASSIGN_OR_RETURN(const std::optional<CsvEncoding> encoding,
                   ParseCsvEncoding("--encoding", FlagValue(args, "encoding"), true));
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
  ASSIGN_OR_RETURN(const std::optional<CsvEncoding> chosen,
                   ParseCsvEncoding("--encoding", FlagValue(args, "encoding"), false));
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
