// KPI CSV files in and out through the services: the whole of
// `suishinctl import-csv` and `export-csv` without a terminal or a file
// system, so that every front end (suishinctl, the gateway's upload and
// download) reads and writes the same files by the same rules
// (csv_table.h: the columns; csv_codec.h: the encodings).
//
// Contract: input and output are bytes; the services are called through
// clients::Services (its deadline and metadata, e.g. the caller's token).
// An import is all or nothing: every row is checked here first, then the
// rows not already stored go to kpi-service in one ImportActuals stream,
// applied in one transaction or refused. A refused file comes back as
// problems, one per bad row with its line and column, and nothing is stored.
// Messages name the file as `name` says ("actuals.csv:12: column 値: …").
//
// Example:
//   ASSIGN_OR_RETURN(CsvImport done, ImportKpiDataCsv(services, "actuals.csv", bytes));
//   if (!done.problems.empty()) return Show(done.problems);  // nothing stored
#ifndef SUISHIN_EXCHANGE_CSV_FILES_H_
#define SUISHIN_EXCHANGE_CSV_FILES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/services.h"
#include "exchange/csv_codec.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::exchange {

// One bad row of a refused file.
struct CsvProblem {
  // The record's line in the file.
  int64_t line = 0;
  // The column as the file heads it ("値", or "column 7"); empty when the
  // problem is the whole row's.
  std::string column;
  // What is wrong, quoting the cell; from kpi-service starting "kpi-service: ".
  std::string message;
  // All of it: "NAME:LINE: column 値: message".
  std::string text;
};

// What an import did.
struct CsvImport {
  // How the file was read.
  CsvEncoding encoding = CsvEncoding::kUtf8;
  bool byte_order_mark = false;
  // Records after the header, by kind (基準, 目標, 実績).
  int64_t rows = 0;
  std::map<kpi::v1::RowKind, int64_t> kinds;
  // Rows kpi-service already holds, not sent (importing a file twice stores
  // nothing twice); rows sent; rows it applied; its last change.
  int64_t skipped = 0;
  int64_t sent = 0;
  int64_t applied = 0;
  int64_t last_sequence = 0;
  // Not empty: the file was refused and nothing stored. Every bad row in
  // file order.
  std::vector<CsvProblem> problems;
};

// Progress of a long import: `what` is "rows checked" or "rows sent".
using CsvProgress = std::function<void(absl::string_view what, int64_t done, int64_t total)>;

// Reads `bytes` as a KPI data file (`encoding`, or detected when nullopt),
// checks every row, and imports those not already stored (see above). A file
// that cannot be read as one (a bad byte, a quote never closed, an empty
// file, an unknown or missing column) is INVALID_ARGUMENT "NAME:LINE: …"
// carrying its CsvLocation; a failed call, its status naming the service.
absl::StatusOr<CsvImport> ImportKpiDataCsv(const clients::Services& services,
                                           absl::string_view name, absl::string_view bytes,
                                           std::optional<CsvEncoding> encoding = std::nullopt,
                                           const CsvProgress& progress = nullptr);

// The error for a refused file: with one problem, that problem; with
// several, "NAME: N of M rows refused (lines 3, 7, …)" listing at most
// `max_listed` lines. Ends "; nothing stored".
std::string RefusalMessage(absl::string_view name, const CsvImport& import, size_t max_listed);

// The KPI data file of one KPI (every stored figure), header first.
absl::StatusOr<std::vector<std::vector<std::string>>> KpiDataCsvRecords(
    const clients::Services& services, const std::string& kpi_id);
// The KPI table file of a project as of a fiscal year, header first.
absl::StatusOr<std::vector<std::vector<std::string>>> KpiTableCsvRecords(
    const clients::Services& services, const std::string& project_id, int fiscal_year);

// `records` as the bytes of a CSV file in `encoding`. A cell the encoding
// cannot hold is INVALID_ARGUMENT "--encoding cp932: line N, column X: …".
absl::StatusOr<std::string> CsvBytes(const std::vector<std::vector<std::string>>& records,
                                     CsvEncoding encoding);

}  // namespace suishin::exchange

#endif  // SUISHIN_EXCHANGE_CSV_FILES_H_
