// ReadCsv (exchange/csv_codec.h) on any bytes, as UTF-8, as CP932 and
// detecting the encoding.
//
// Oracle:
//   - A document's cells are valid UTF-8, its records start on increasing
//     physical lines from 1, none is all blank, and a byte order mark means
//     UTF-8. Written again with CsvWriter in the encoding it was read as, it
//     reads back to the same cells.
//   - A refusal is INVALID_ARGUMENT carrying a CsvLocation within the file
//     (line 1 to the number of lines, cell -1 or more), with a message that is
//     valid UTF-8.
//   - Asked to detect, it reads the same cells as when told the encoding it
//     detected.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "common/validation.h"
#include "exchange/csv_codec.h"
#include "fuzz/fuzz_check.h"

namespace {

using suishin::exchange::CsvDocument;
using suishin::exchange::CsvEncoding;
using suishin::exchange::CsvLocation;
using suishin::exchange::CsvRecord;
using suishin::fuzz::Escaped;

// Physical lines, counting CRLF, CR and LF once each, plus the last.
int64_t Lines(absl::string_view bytes) {
  int64_t lines = 1;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n' || (bytes[i] == '\r' && (i + 1 >= bytes.size() || bytes[i + 1] != '\n'))) {
      ++lines;
    }
  }
  return lines;
}

// Only ASCII white space and ideographic spaces (U+3000).
bool IsBlank(absl::string_view cell) {
  while (!cell.empty()) {
    if (absl::ConsumePrefix(&cell, "\xE3\x80\x80")) continue;
    if (!absl::ascii_isspace(static_cast<unsigned char>(cell.front()))) return false;
    cell.remove_prefix(1);
  }
  return true;
}

bool SameCells(const std::vector<CsvRecord>& a, const std::vector<CsvRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].fields != b[i].fields) return false;
  }
  return true;
}

std::string Name(std::optional<CsvEncoding> encoding) {
  return encoding ? std::string(suishin::exchange::CsvEncodingName(*encoding)) : "auto";
}

absl::StatusOr<CsvDocument> Check(absl::string_view bytes, std::optional<CsvEncoding> encoding) {
  const absl::StatusOr<CsvDocument> csv = suishin::exchange::ReadCsv(bytes, encoding);
  if (!csv.ok()) {
    const absl::Status& status = csv.status();
    FUZZ_CHECK(absl::IsInvalidArgument(status), Name(encoding), ": ", status.ToString());
    const std::optional<CsvLocation> at = suishin::exchange::CsvLocationOf(status);
    FUZZ_CHECK(at.has_value(), Name(encoding), ": no location in ", status.ToString());
    FUZZ_CHECK(at->line >= 1 && at->line <= Lines(bytes) && at->field >= -1, Name(encoding),
               ": line ", at->line, " of ", Lines(bytes), ", cell ", at->field, ": ",
               status.ToString());
    FUZZ_CHECK(suishin::IsValidUtf8(status.message()), Escaped(status.message()));
    return csv;
  }
  if (encoding) FUZZ_CHECK(csv->encoding == *encoding, Name(encoding));
  if (csv->byte_order_mark) FUZZ_CHECK(csv->encoding == CsvEncoding::kUtf8, Name(encoding));
  int64_t previous = 0;
  for (const CsvRecord& record : csv->records) {
    FUZZ_CHECK(record.line > previous && record.line <= Lines(bytes), Name(encoding), ": line ",
               record.line, " after ", previous);
    previous = record.line;
    bool blank = true;
    for (const std::string& cell : record.fields) {
      FUZZ_CHECK(suishin::IsValidUtf8(cell), Name(encoding), ": cell \"", Escaped(cell),
                 "\" on line ", record.line);
      blank = blank && IsBlank(cell);
    }
    FUZZ_CHECK(!blank, Name(encoding), ": record on line ", record.line, " is blank");
  }

  suishin::exchange::CsvWriter writer(csv->encoding);
  for (const CsvRecord& record : csv->records) {
    const absl::Status added = writer.AddRecord(record.fields);
    FUZZ_CHECK(added.ok(), Name(encoding), ": line ", record.line, " read as ",
               suishin::exchange::CsvEncodingName(csv->encoding),
               " does not write back: ", added.ToString());
  }
  const absl::StatusOr<CsvDocument> again =
      suishin::exchange::ReadCsv(writer.bytes(), csv->encoding);
  FUZZ_CHECK(again.ok(), Name(encoding),
             ": what CsvWriter wrote does not read: ", again.status().ToString(),
             "\n  wrote: ", Escaped(writer.bytes()));
  FUZZ_CHECK(SameCells(csv->records, again->records), Name(encoding),
             ": written and read again, the cells differ; wrote: ", Escaped(writer.bytes()));
  return csv;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<CsvDocument> detected = Check(bytes, std::nullopt);
  const absl::StatusOr<CsvDocument> utf8 = Check(bytes, CsvEncoding::kUtf8);
  const absl::StatusOr<CsvDocument> cp932 = Check(bytes, CsvEncoding::kCp932);
  if (detected.ok()) {
    const absl::StatusOr<CsvDocument>& told =
        detected->encoding == CsvEncoding::kUtf8 ? utf8 : cp932;
    FUZZ_CHECK(told.ok() && SameCells(detected->records, told->records), "detected ",
               suishin::exchange::CsvEncodingName(detected->encoding),
               " but reading it as that gives ",
               told.ok() ? "other cells" : told.status().ToString());
  }
  return 0;
}
