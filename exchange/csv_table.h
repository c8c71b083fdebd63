// The columns of suishinctl's CSV files and how their cells become service
// data and back, with no I/O so that tests can check every rule.
//
// Two kinds of file, one table each, both with one header line:
//
// - The KPI data file (export-csv --kpi, import-csv): one record per stored
//   figure of a KPI — 基準 (baseline), 目標 (target; a revised target has one
//   record per value, oldest first) and 実績 (actual) — with the columns of
//   KpiDataColumns(). import-csv finds columns by header name in any order,
//   accepts the aliases listed there (and full-width letters, a unit in
//   brackets: "値（カ所）"), ignores 備考 and refuses any other column.
// - The KPI table file (export-csv --table): the management table as of a
//   fiscal year, one record per KPI, region and year, with the columns of
//   KpiTableColumns(). It is for reading, not for import-csv.
//
// Example (import):
//   ASSIGN_OR_RETURN(KpiDataHeader header, KpiDataHeader::Parse(csv.records[0]));
//   CsvDirectory directory(regions, kpis);
//   absl::StatusOr<KpiDataRow> row = ToKpiDataRow(header, csv.records[1], directory);
//   // !row.ok(): CsvLocationOf(row.status()) names the line and the cell.
#ifndef SUISHIN_EXCHANGE_CSV_TABLE_H_
#define SUISHIN_EXCHANGE_CSV_TABLE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "exchange/csv_codec.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::exchange {

// A column of a KPI data file.
enum class KpiDataColumn {
  kKind,                 // 種別
  kKpiId,                // KPI ID
  kKpiName,              // KPI名
  kRegionId,             // 地域ID
  kRegionName,           // 地域名
  kLocalGovernmentCode,  // 全国地方公共団体コード
  kFiscalYear,           // 年度
  kEraYear,              // 和暦
  kValue,                // 値
  kUnit,                 // 単位
  kNumerator,            // 分子
  kDenominator,          // 分母
  kReportedBy,           // 報告者
  kReason,               // 理由
  kNote,                 // 備考: read and ignored, never written
};

// A column as the documentation lists it.
struct CsvColumnDoc {
  // The header export-csv writes.
  absl::string_view name;
  // Other headers import-csv takes for it (KPI data files only).
  std::vector<absl::string_view> aliases;
  // What it holds.
  absl::string_view description;
};

// The KPI data file's columns in the order export-csv writes them, then 備考
// (import only); index i is KpiDataColumn(i).
const std::vector<CsvColumnDoc>& KpiDataColumns();
// The KPI table file's columns in order.
const std::vector<CsvColumnDoc>& KpiTableColumns();
// The README's text on both files: a Markdown table per file.
std::string CsvColumnsMarkdown();

// The header line of a KPI data file: which cell holds each column.
class KpiDataHeader {
 public:
  // Reads `header`. Errors (INVALID_ARGUMENT with a CsvLocation): a column
  // that is not one of KpiDataColumns() (naming it), a column given twice,
  // and a missing required one: 値, the KPI (KPI ID or KPI名), the region
  // (地域ID, 地域名 or 全国地方公共団体コード) and the year (年度 or 和暦).
  // Cells with an empty header are ignored (a row with text in one is refused
  // by ToKpiDataRow).
  static absl::StatusOr<KpiDataHeader> Parse(const CsvRecord& header);

  // The cell of `column` in each record, or -1 when the file has none.
  int index(KpiDataColumn column) const;
  // How an error names cell `field`: its header text as the file has it
  // ("値"), or "column N" (from 1) past the header or for an empty header.
  std::string ColumnName(int field) const;
  // The cells with an empty header.
  const std::vector<int>& unnamed() const { return unnamed_; }

 private:
  std::vector<std::string> names_;
  std::map<KpiDataColumn, int> index_;
  std::vector<int> unnamed_;
};

// The regions and KPIs the rows of a file refer to, from plan-service's
// ListRegions and kpi-service's ListKpis, looked up as people write them.
class CsvDirectory {
 public:
  CsvDirectory(std::vector<plan::v1::Region> regions, std::vector<kpi::v1::Kpi> kpis);

  // The region a cell of `column` (kRegionId, kRegionName or
  // kLocalGovernmentCode) names: by id ("kamikawa", any case, full-width
  // letters too; a number there is tried as a code); by Japanese name ("上川",
  // also "上川総合振興局", "道北連携地域"); by 全国地方公共団体コード (six
  // digits with the check digit, or the first five). INVALID_ARGUMENT with a
  // message quoting the cell otherwise.
  absl::StatusOr<const plan::v1::Region*> FindRegion(KpiDataColumn column,
                                                     absl::string_view cell) const;
  // The KPI with this id (kKpiId) or name (kKpiName).
  absl::StatusOr<const kpi::v1::Kpi*> FindKpi(KpiDataColumn column, absl::string_view cell) const;
  // The region with id `id`, or nullptr.
  const plan::v1::Region* RegionById(absl::string_view id) const;

 private:
  std::vector<plan::v1::Region> regions_;
  std::vector<kpi::v1::Kpi> kpis_;
};

// One record of a KPI data file, ready for ImportActuals.
struct KpiDataRow {
  // line is the record's physical line in the file.
  kpi::v1::ImportRow row;
  // The cells the KPI, the region and the year were read from, so that an
  // error from kpi-service can name the column the file used.
  int kpi_field = -1;
  int region_field = -1;
  int year_field = -1;
};

// Reads one record. The cells, after trimming spaces (also U+3000):
// 種別 実績/基準/目標 (or actual/baseline/target, 実績値/基準値/目標値; blank
// or no column: 実績); the KPI by id or name (both must agree); the region by
// any of its three columns (all given must agree; it must be one the KPI
// tracks); 年度 and 和暦 in any form ParseFiscalYear takes (both given must
// agree); 値, 分子 and 分母 as numbers with full-width digits, thousands
// separators and, for 値, the KPI's unit ("１，２３４カ所", "43.4％");
// 単位, when given, the KPI's unit; 分子 and 分母 both or neither. A negative
// figure, a count that is not whole and a percentage over 100 are refused
// here. Errors are INVALID_ARGUMENT with the CsvLocation of the cell, the
// message starting with the cell's text in quotes.
absl::StatusOr<KpiDataRow> ToKpiDataRow(const KpiDataHeader& header, const CsvRecord& record,
                                        const CsvDirectory& directory);

// Refuses a record that repeats an earlier one of the same file: a second
// 実績 for the same KPI, region and year, or a second 基準 for the same KPI
// and region (目標 may repeat: the values of a revised target, oldest first).
// Not thread-safe.
class RepeatedRows {
 public:
  // OK, or INVALID_ARGUMENT with the CsvLocation of the row's year cell
  // (region cell for 基準) naming the line of the first.
  absl::Status Check(const KpiDataHeader& header, const KpiDataRow& row);

 private:
  std::map<std::string, int64_t> first_line_;
};

// The cell a field named by kpi-service in a RowError ("value",
// "fiscal_year.year", "region_id", …) refers to in `row`, or -1.
int FieldOfServiceError(const KpiDataHeader& header, const KpiDataRow& row,
                        absl::string_view field);

// Parses a figure as people type it: full-width digits, signs and points,
// thousands separators in groups of three, a leading minus (-, −, －, △, ▲),
// and, when `units` is not empty, one of `units` at the end. INVALID_ARGUMENT
// quoting the cell otherwise.
absl::StatusOr<double> ParseCsvNumber(absl::string_view cell,
                                      const std::vector<std::string>& units = {});

// The spellings of a KPI's unit in a cell: the unit itself, and its variants
// (カ所: ヵ所, ヶ所, ケ所, か所, 箇所, 個所; %: ％, パーセント).
std::vector<std::string> UnitSpellings(const kpi::v1::Kpi& kpi);

// A figure as a CSV cell: the shortest decimal that reads back as the same
// double, without exponent or separators ("43", "47.2"), with ".0" for a
// whole percentage ("81.0").
std::string FormatCsvNumber(double value, kpi::v1::ValueKind kind);

// Which of `rows` (in file order) would change nothing in kpi-service given
// what it holds (`stored`, GetKpi by KPI id), so that importing the same file
// twice stores nothing twice: a baseline equal to the stored one, and of the
// target rows of one KPI and region, all of them when the last equals the
// current target (year and value), else those that repeat the start of the
// stored targets (earlier revisions oldest first, then the current one).
// Actual rows are never skipped here: kpi-service takes an unchanged actual
// as a no-op.
std::vector<bool> RowsAlreadyStored(const std::vector<kpi::v1::ImportRow>& rows,
                                    const std::map<std::string, kpi::v1::GetKpiResponse>& stored);

// A KPI's stored figures as the records of a KPI data file, header first:
// its baselines, then its targets (each earlier value oldest first, then the
// current one, with who set each and why), then its actuals by region and
// year (the latest value of each, with the reporter and the reason of the
// last change). `history` is GetHistory's answer for the KPI; `regions` give
// names and codes (a region not among them gets the KPI's region name).
std::vector<std::vector<std::string>> KpiDataRecords(const kpi::v1::GetKpiResponse& kpi,
                                                     const std::vector<kpi::v1::Change>& history,
                                                     const std::vector<plan::v1::Region>& regions);

// A project's KPI table (GetKpiTable) as the records of a KPI table file,
// header first: for each KPI, each region and each column year up to the
// as-of year, the actual, its 進捗率, the expected rate and gap, the status,
// the baseline, the target and how an area's figure is computed, with a note
// where a figure is missing or cannot be computed.
std::vector<std::vector<std::string>> KpiTableRecords(const kpi::v1::GetKpiTableResponse& table,
                                                      const std::vector<plan::v1::Region>& regions);

}  // namespace suishin::exchange

#endif  // SUISHIN_EXCHANGE_CSV_TABLE_H_
