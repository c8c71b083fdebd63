// CSV files as Suishin reads and writes them (suishinctl's import-csv and
// export-csv, a gateway's uploads and downloads): RFC 4180 records in UTF-8
// (with or without a byte order mark) or in CP932, the Shift_JIS that Excel
// writes in Japan.
//
// Reading works on the file's bytes: the records are split first (the bytes
// that delimit them, `"` `,` CR and LF, never occur inside a CP932 or UTF-8
// multibyte character), then each cell is decoded to UTF-8, so a bad byte is
// reported with the physical line it is on and the cell it is in. Every
// error is INVALID_ARGUMENT and carries a CsvLocation (read it back with
// CsvLocationOf) so that a caller who knows the header can name the column.
//
// Writing produces what the national open-data guidance asks for: a header
// and one record per line, CRLF line ends, cells quoted only when they must
// be, UTF-8 with a byte order mark (so Excel opens it as UTF-8) or CP932.
//
// Example:
//   absl::StatusOr<CsvDocument> csv = ReadCsv(bytes, std::nullopt);  // detect
//   if (!csv.ok()) {
//     std::optional<CsvLocation> at = CsvLocationOf(csv.status());  // line 7, field 2
//     ...
//   }
//   for (const CsvRecord& record : csv->records) Use(record.line, record.fields);
//
//   CsvWriter writer(CsvEncoding::kCp932);
//   RETURN_IF_ERROR(writer.AddRecord({"種別", "KPI ID"}));
//   WriteFile(path, writer.bytes());
//
// Everything here is pure computation (iconv is used for CP932); the
// functions are safe to call from any thread, a CsvWriter from one at a time.
#ifndef SUISHIN_EXCHANGE_CSV_CODEC_H_
#define SUISHIN_EXCHANGE_CSV_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace suishin::exchange {

// The character encodings of the CSV files Suishin exchanges.
enum class CsvEncoding {
  kUtf8,
  // Microsoft's Shift_JIS (Windows-31J), with the NEC and IBM extensions
  // (①, ㈱, 髙): what Excel writes in Japan.
  kCp932,
};

// "UTF-8" or "CP932".
absl::string_view CsvEncodingName(CsvEncoding encoding);

// The value of an --encoding flag, in any case: "utf-8" or "utf8"; "cp932",
// "sjis", "shift_jis", "shift-jis", "windows-31j" or "ms932"; "" (the flag
// not given) for nullopt, the command's default; and, when `allow_auto`,
// "auto" for nullopt too: detect. INVALID_ARGUMENT naming `flag` otherwise.
absl::StatusOr<std::optional<CsvEncoding>> ParseCsvEncoding(absl::string_view flag,
                                                            absl::string_view text,
                                                            bool allow_auto);

// Where in a CSV file something is wrong.
struct CsvLocation {
  // The physical line, from 1 (the header is line 1 of a file with one).
  int64_t line = 0;
  // The cell within its record, from 0; -1 when the problem is not in one
  // cell (a quote never closed).
  int field = -1;
};

// INVALID_ARGUMENT with `message`, carrying `location`.
absl::Status CsvError(CsvLocation location, absl::string_view message);
// The location an error made by CsvError carries; nullopt for other errors.
std::optional<CsvLocation> CsvLocationOf(const absl::Status& status);

// One record of a file, its cells decoded to UTF-8.
struct CsvRecord {
  // The physical line it starts on (a quoted cell may span lines).
  int64_t line = 0;
  std::vector<std::string> fields;
};

// A file read whole.
struct CsvDocument {
  // What it was read as.
  CsvEncoding encoding = CsvEncoding::kUtf8;
  // True when it started with the UTF-8 byte order mark (dropped).
  bool byte_order_mark = false;
  // Its records in order. Records whose cells are all blank (the empty
  // lines and ",,,," lines spreadsheets leave) are dropped; line numbers
  // stay those of the file.
  std::vector<CsvRecord> records;
};

// Reads a CSV file's bytes as `encoding`, or, when nullopt, detects it: a
// UTF-8 byte order mark means UTF-8; bytes that are all valid UTF-8 are
// UTF-8; otherwise CP932. Accepts CRLF, LF and CR line ends, quoted cells
// with "" for a quote and with line breaks in them, and a last line without
// a line end. Errors (INVALID_ARGUMENT with a CsvLocation): a quoted cell
// never closed, text after a closing quote, bytes that are not valid in the
// encoding (naming them in hex), a byte order mark when CP932 was asked for.
absl::StatusOr<CsvDocument> ReadCsv(absl::string_view bytes, std::optional<CsvEncoding> encoding);

// Decodes CP932 bytes to UTF-8. On bytes that are not CP932, INVALID_ARGUMENT
// naming them, and `*bad_offset` (when not null) set to their offset.
absl::StatusOr<std::string> Cp932ToUtf8(absl::string_view bytes, size_t* bad_offset = nullptr);
// Encodes UTF-8 text as CP932. INVALID_ARGUMENT naming the first character
// CP932 has no code for (an emoji, 𠮷), or the first byte that is not UTF-8.
absl::StatusOr<std::string> Utf8ToCp932(absl::string_view text);

// Builds a CSV file record by record.
class CsvWriter {
 public:
  explicit CsvWriter(CsvEncoding encoding);
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  // Appends one record of UTF-8 cells, each quoted when it holds a comma, a
  // quote, a line break or leading or trailing spaces. On a cell the
  // encoding cannot hold, INVALID_ARGUMENT with the CsvLocation the record
  // would have had, and nothing appended.
  absl::Status AddRecord(const std::vector<std::string>& fields);

  // The file so far: for UTF-8 the byte order mark first, then the records,
  // each ended by CRLF.
  const std::string& bytes() const { return bytes_; }
  // Records added.
  int64_t records() const { return records_; }

 private:
  const CsvEncoding encoding_;
  std::string bytes_;
  int64_t records_ = 0;
  int64_t next_line_ = 1;
};

}  // namespace suishin::exchange

#endif  // SUISHIN_EXCHANGE_CSV_CODEC_H_
