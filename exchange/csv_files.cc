#include "exchange/csv_files.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "clients/import_actuals.h"
#include "common/status_macros.h"
#include "exchange/csv_table.h"

namespace suishin::exchange {
namespace {

// The history of a KPI read per page of this many changes.
constexpr int kHistoryPageSize = 1000;

// The column `field` as `header` names it, or "" for none.
std::string ColumnOf(const CsvLocation& location, const KpiDataHeader* header) {
  if (location.field < 0) return "";
  return header != nullptr ? header->ColumnName(location.field) : absl::StrCat(location.field + 1);
}

CsvProblem Problem(absl::string_view name, const CsvLocation& location, const KpiDataHeader* header,
                   absl::string_view message) {
  CsvProblem problem;
  problem.line = location.line;
  problem.column = ColumnOf(location, header);
  problem.message = std::string(message);
  problem.text = absl::StrCat(
      name, ":", location.line, ": ",
      problem.column.empty() ? "" : absl::StrCat("column ", problem.column, ": "), message);
  return problem;
}

// An error of ReadCsv, located in the file. The header is read on its own
// to name the column when the error is further down.
absl::Status LocatedReadError(absl::string_view name, absl::string_view bytes,
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
  return CsvError(*location,
                  Problem(name, *location, header ? &*header : nullptr, status.message()).text);
}

// kpi-service's RowErrors of a refused import, located in the file: the
// line is the row's, the column the one the field was read from.
std::vector<CsvProblem> ServiceProblems(absl::string_view name, const KpiDataHeader& header,
                                        const std::vector<const KpiDataRow*>& rows,
                                        const kpi::v1::ImportActualsResponse& refused) {
  std::vector<CsvProblem> problems;
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
    problems.push_back(Problem(name, location, &header, absl::StrCat("kpi-service: ", message)));
  }
  return problems;
}

}  // namespace

absl::StatusOr<CsvImport> ImportKpiDataCsv(const clients::Services& services,
                                           absl::string_view name, absl::string_view bytes,
                                           std::optional<CsvEncoding> encoding,
                                           const CsvProgress& progress) {
  const auto show = [&](absl::string_view what, int64_t done, int64_t total) {
    if (progress) progress(what, done, total);
  };
  absl::StatusOr<CsvDocument> csv = ReadCsv(bytes, encoding);
  if (!csv.ok()) return LocatedReadError(name, bytes, csv.status(), encoding);
  if (csv->records.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name,
                     ": the file is empty; a KPI data file starts with a header line "
                     "(種別,KPI ID,地域ID,年度,値,…)"));
  }
  absl::StatusOr<KpiDataHeader> header = KpiDataHeader::Parse(csv->records[0]);
  if (!header.ok()) {
    const std::optional<CsvLocation> location = CsvLocationOf(header.status());
    return CsvError(location.value_or(CsvLocation{csv->records[0].line, -1}),
                    absl::StrCat(name, ":", location ? location->line : csv->records[0].line, ": ",
                                 header.status().message()));
  }

  CsvImport result;
  result.encoding = csv->encoding;
  result.byte_order_mark = csv->byte_order_mark;
  result.rows = static_cast<int64_t>(csv->records.size()) - 1;
  std::vector<KpiDataRow> rows;
  if (result.rows > 0) {
    ASSIGN_OR_RETURN(std::vector<plan::v1::Region> regions, clients::AllRegions(services));
    ASSIGN_OR_RETURN(std::vector<kpi::v1::Kpi> kpis, clients::AllKpis(services));
    const CsvDirectory directory(std::move(regions), std::move(kpis));
    RepeatedRows repeats;
    rows.reserve(static_cast<size_t>(result.rows));
    for (size_t i = 1; i < csv->records.size(); ++i) {
      const CsvRecord& record = csv->records[i];
      absl::StatusOr<KpiDataRow> row = ToKpiDataRow(*header, record, directory);
      if (row.ok()) {
        if (absl::Status repeated = repeats.Check(*header, *row); !repeated.ok()) {
          row = repeated;
        }
      }
      if (row.ok()) {
        ++result.kinds[row->row.kind()];
        rows.push_back(*std::move(row));
      } else {
        const std::optional<CsvLocation> location = CsvLocationOf(row.status());
        result.problems.push_back(Problem(name, location.value_or(CsvLocation{record.line, -1}),
                                          &*header, row.status().message()));
      }
      if (i % 1000 == 0) show("rows checked", static_cast<int64_t>(i), result.rows);
    }
    if (!result.problems.empty()) return result;
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
    RETURN_IF_ERROR(clients::Invoke(services, [&](grpc::ClientContext* context) {
      return services.kpi->GetKpi(context, request, &response);
    }));
  }
  const std::vector<bool> skip = RowsAlreadyStored(plain, stored);
  std::vector<const KpiDataRow*> to_send;
  std::vector<kpi::v1::ImportRow> import_rows;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (skip[i]) {
      ++result.skipped;
    } else {
      to_send.push_back(&rows[i]);
      import_rows.push_back(rows[i].row);
    }
  }
  result.sent = static_cast<int64_t>(to_send.size());
  if (to_send.empty()) return result;
  kpi::v1::ImportActualsResponse refused;
  absl::StatusOr<kpi::v1::ImportActualsResponse> response = clients::ImportActuals(
      services, import_rows, &refused,
      [&](int64_t sent) { show("rows sent", sent, static_cast<int64_t>(to_send.size())); });
  if (!response.ok()) {
    if (refused.errors().empty()) {
      return absl::Status(response.status().code(),
                          absl::StrCat("kpi-service ImportActuals: ", response.status().message()));
    }
    result.problems = ServiceProblems(name, *header, to_send, refused);
    result.applied = 0;
    return result;
  }
  result.applied = response->rows_applied();
  result.last_sequence = response->last_sequence();
  return result;
}

std::string RefusalMessage(absl::string_view name, const CsvImport& import, size_t max_listed) {
  if (import.problems.size() == 1) {
    return absl::StrCat(import.problems[0].text, "; nothing stored");
  }
  std::vector<std::string> lines;
  for (size_t i = 0; i < import.problems.size() && i < max_listed; ++i) {
    lines.push_back(absl::StrCat(import.problems[i].line));
  }
  return absl::StrCat(name, ": ", import.problems.size(), " of ", import.rows,
                      " rows refused (lines ", absl::StrJoin(lines, ", "),
                      import.problems.size() > max_listed ? ", …" : "", "); nothing stored");
}

absl::StatusOr<std::vector<std::vector<std::string>>> KpiDataCsvRecords(
    const clients::Services& services, const std::string& kpi_id) {
  ASSIGN_OR_RETURN(const std::vector<plan::v1::Region> regions, clients::AllRegions(services));
  kpi::v1::GetKpiRequest get;
  get.set_id(kpi_id);
  kpi::v1::GetKpiResponse kpi;
  RETURN_IF_ERROR(clients::Invoke(services, [&](grpc::ClientContext* context) {
    return services.kpi->GetKpi(context, get, &kpi);
  }));
  kpi::v1::GetHistoryRequest history_request;
  history_request.set_kpi_id(kpi_id);
  ASSIGN_OR_RETURN(const std::vector<kpi::v1::Change> changes,
                   clients::ListAll(services, services.kpi, history_request, kHistoryPageSize,
                                    &kpi::v1::KpiService::StubInterface::GetHistory,
                                    &kpi::v1::GetHistoryResponse::mutable_changes));
  return KpiDataRecords(kpi, changes, regions);
}

absl::StatusOr<std::vector<std::vector<std::string>>> KpiTableCsvRecords(
    const clients::Services& services, const std::string& project_id, int fiscal_year) {
  ASSIGN_OR_RETURN(const std::vector<plan::v1::Region> regions, clients::AllRegions(services));
  kpi::v1::GetKpiTableRequest request;
  request.set_project_id(project_id);
  request.mutable_as_of()->set_year(fiscal_year);
  kpi::v1::GetKpiTableResponse table;
  RETURN_IF_ERROR(clients::Invoke(services, [&](grpc::ClientContext* context) {
    return services.kpi->GetKpiTable(context, request, &table);
  }));
  return KpiTableRecords(table, regions);
}

absl::StatusOr<std::string> CsvBytes(const std::vector<std::vector<std::string>>& records,
                                     CsvEncoding encoding) {
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
  return writer.bytes();
}

}  // namespace suishin::exchange
