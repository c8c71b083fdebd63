// A KPI data file as import-csv reads it (exchange/csv_table.h): the
// bytes through ReadCsv (detecting the encoding), the first record through
// KpiDataHeader::Parse, every other record through ToKpiDataRow and
// RepeatedRows, against the seed's regions and KPIs (data/seed/dohoku-2019.json)
// plus 旭川市 (012041), tracked by 認定こども園設置数, so that codes resolve.
//
// Oracle, for every row ToKpiDataRow accepts: its line is the record's; its
// KPI and region are in the directory and the KPI tracks the region; its year
// is within 1989–2100; its value is finite and not negative, whole for a count,
// at most 100 for a percentage; 分子 and 分母 come together, finite and not
// negative; the cells it names (kpi_field, region_field, year_field) are cells
// of the header. Every refusal is INVALID_ARGUMENT with a CsvLocation on the
// record's line (the header's for the header).
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/fiscal_year.h"
#include "exchange/csv_codec.h"
#include "exchange/csv_table.h"
#include "fuzz/fuzz_check.h"
#include "suishin/dataset/v1/dataset.pb.h"

namespace {

using suishin::exchange::CsvDirectory;
using suishin::exchange::CsvDocument;
using suishin::exchange::CsvLocation;
using suishin::exchange::KpiDataHeader;
using suishin::exchange::KpiDataRow;
using suishin::kpi::v1::Kpi;
using suishin::plan::v1::Region;

struct Directory {
  std::vector<Region> regions;
  std::vector<Kpi> kpis;
};

// The seed's regions and KPIs; aborts if the seed cannot be read, since every
// input would then exercise nothing.
const Directory& Seed() {
  static const Directory* const kDirectory = [] {
    const std::string path = SUISHIN_SOURCE_DIR "/data/seed/dohoku-2019.json";
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    suishin::dataset::v1::Dataset dataset;
    const auto status = google::protobuf::util::JsonStringToMessage(text.str(), &dataset);
    FUZZ_CHECK(status.ok() && dataset.kpi().kpis_size() > 0, path, ": ", status.ToString());
    auto* directory = new Directory;
    directory->regions.assign(dataset.plan().regions().begin(), dataset.plan().regions().end());
    Region asahikawa;
    asahikawa.set_id("asahikawa");
    asahikawa.set_name("旭川市");
    asahikawa.set_parent_id("kamikawa");
    asahikawa.set_local_government_code("012041");
    directory->regions.push_back(asahikawa);
    for (const auto& record : dataset.kpi().kpis()) {
      Kpi kpi = record.kpi();
      if (kpi.id() == "kodomoen") kpi.add_region_ids("asahikawa");
      directory->kpis.push_back(kpi);
    }
    return directory;
  }();
  return *kDirectory;
}

void CheckRefusal(const absl::Status& status, int64_t line) {
  FUZZ_CHECK(absl::IsInvalidArgument(status), status.ToString());
  const std::optional<CsvLocation> at = suishin::exchange::CsvLocationOf(status);
  FUZZ_CHECK(at.has_value() && at->line == line && at->field >= -1, "line ", line, ": ",
             status.ToString());
}

bool NamesACell(int field, size_t cells) {
  return field >= 0 && static_cast<size_t>(field) < cells;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Directory& seed = Seed();
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<CsvDocument> csv = suishin::exchange::ReadCsv(bytes, std::nullopt);
  if (!csv.ok() || csv->records.empty()) return 0;

  const absl::StatusOr<KpiDataHeader> header = KpiDataHeader::Parse(csv->records[0]);
  if (!header.ok()) {
    CheckRefusal(header.status(), csv->records[0].line);
    return 0;
  }
  const size_t header_cells = csv->records[0].fields.size();
  const CsvDirectory directory(seed.regions, seed.kpis);
  suishin::exchange::RepeatedRows repeated;
  for (size_t i = 1; i < csv->records.size(); ++i) {
    const suishin::exchange::CsvRecord& record = csv->records[i];
    const absl::StatusOr<KpiDataRow> parsed = ToKpiDataRow(*header, record, directory);
    if (!parsed.ok()) {
      CheckRefusal(parsed.status(), record.line);
      continue;
    }
    const suishin::kpi::v1::ImportRow& row = parsed->row;
    FUZZ_CHECK(row.line() == record.line, row.line(), " vs ", record.line);
    const Kpi* kpi = nullptr;
    for (const Kpi& k : seed.kpis) {
      if (k.id() == row.kpi_id()) kpi = &k;
    }
    FUZZ_CHECK(kpi != nullptr, "unknown KPI ", row.kpi_id());
    FUZZ_CHECK(std::find(kpi->region_ids().begin(), kpi->region_ids().end(), row.region_id()) !=
                   kpi->region_ids().end(),
               row.kpi_id(), " does not track ", row.region_id());
    FUZZ_CHECK(suishin::ValidateFiscalYear("year", row.fiscal_year().year()).ok(),
               row.fiscal_year().year());
    const double value = row.value();
    FUZZ_CHECK(std::isfinite(value) && value >= 0, "line ", record.line, ": value ", value);
    if (kpi->value_kind() == suishin::kpi::v1::VALUE_KIND_COUNT) {
      FUZZ_CHECK(value == std::floor(value), "count ", value);
    }
    if (kpi->value_kind() == suishin::kpi::v1::VALUE_KIND_PERCENT) {
      FUZZ_CHECK(value <= 100, "percentage ", value);
    }
    FUZZ_CHECK(row.has_numerator() == row.has_denominator(), "line ", record.line);
    if (row.has_numerator()) {
      FUZZ_CHECK(std::isfinite(row.numerator()) && row.numerator() >= 0, row.numerator());
      FUZZ_CHECK(std::isfinite(row.denominator()) && row.denominator() >= 0, row.denominator());
    }
    FUZZ_CHECK(NamesACell(parsed->kpi_field, header_cells) &&
                   NamesACell(parsed->region_field, header_cells) &&
                   NamesACell(parsed->year_field, header_cells),
               "fields ", parsed->kpi_field, ", ", parsed->region_field, ", ", parsed->year_field,
               " of ", header_cells);
    const absl::Status again = repeated.Check(*header, *parsed);
    if (!again.ok()) CheckRefusal(again, record.line);
    for (const char* field : {"value", "actual.value", "region_id", "fiscal_year.year", "kind",
                              "numerator", "reason", "unknown"}) {
      const int cell = suishin::exchange::FieldOfServiceError(*header, *parsed, field);
      FUZZ_CHECK(cell == -1 || NamesACell(cell, header_cells), field, " -> ", cell);
    }
  }
  return 0;
}
