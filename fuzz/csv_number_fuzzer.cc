// ParseCsvNumber (exchange/csv_table.h): figures as people type them,
// with full-width digits, thousands separators, minus signs and units.
//
// Input: the first byte picks the units (0: none, 1: カ所 and its spellings,
// 2: % and its spellings, 3: the text up to the first line feed is the unit,
// if it is valid UTF-8);
// the rest is the cell.
//
// Oracle: an accepted figure is finite, and FormatCsvNumber writes it so that
// ParseCsvNumber reads back the same double; a cell with a unit reads as the
// same figure as the cell without it (for the unit the cell ends in); a refusal
// is INVALID_ARGUMENT.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/validation.h"
#include "exchange/csv_table.h"
#include "fuzz/fuzz_check.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace {

using suishin::exchange::FormatCsvNumber;
using suishin::exchange::ParseCsvNumber;
using suishin::fuzz::Escaped;

std::vector<std::string> Units(int which, absl::string_view* rest) {
  suishin::kpi::v1::Kpi kpi;
  switch (which) {
    case 1:
      kpi.set_unit("カ所");
      kpi.set_value_kind(suishin::kpi::v1::VALUE_KIND_COUNT);
      return suishin::exchange::UnitSpellings(kpi);
    case 2:
      kpi.set_unit("%");
      kpi.set_value_kind(suishin::kpi::v1::VALUE_KIND_PERCENT);
      return suishin::exchange::UnitSpellings(kpi);
    case 3: {
      const size_t end = rest->find('\n');
      if (end == absl::string_view::npos) return {};
      // A KPI's unit is a protobuf string: valid UTF-8.
      if (!suishin::IsValidUtf8(rest->substr(0, end))) return {};
      kpi.set_unit(std::string(rest->substr(0, end)));
      rest->remove_prefix(end + 1);
      return suishin::exchange::UnitSpellings(kpi);
    }
    default:
      return {};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  absl::string_view cell(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::vector<std::string> units = Units(data[0] & 3, &cell);

  const absl::StatusOr<double> value = ParseCsvNumber(cell, units);
  if (!value.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(value.status()), value.status().ToString());
    return 0;
  }
  FUZZ_CHECK(std::isfinite(*value), "\"", Escaped(cell), "\" is ", *value);
  for (const auto kind :
       {suishin::kpi::v1::VALUE_KIND_AMOUNT, suishin::kpi::v1::VALUE_KIND_PERCENT}) {
    const std::string written = FormatCsvNumber(*value, kind);
    const absl::StatusOr<double> again = ParseCsvNumber(written);
    FUZZ_CHECK(again.ok() && *again == *value, "\"", Escaped(cell), "\" is ", *value,
               ", written \"", written, "\", read back ",
               again.ok() ? absl::StrCat(*again) : again.status().ToString());
    const absl::StatusOr<double> with_unit =
        ParseCsvNumber(absl::StrCat(written, units.empty() ? "" : units.front()), units);
    FUZZ_CHECK(with_unit.ok() && *with_unit == *value, "\"", written, "\" with unit \"",
               units.empty() ? "" : units.front(),
               "\": ", with_unit.ok() ? absl::StrCat(*with_unit) : with_unit.status().ToString());
  }
  return 0;
}
