#include "exchange/csv_codec.h"

#include <errno.h>
#include <iconv.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/text.h"

namespace suishin::exchange {
namespace {

// The payload that carries a CsvLocation: "line,field".
constexpr absl::string_view kLocationPayload = "type.suishin.dev/suishinctl.CsvLocation";
constexpr absl::string_view kByteOrderMark = "\xEF\xBB\xBF";
// How much of a cell's text an error quotes before a bad byte.
constexpr size_t kQuotedBytes = 24;

// A glibc iconv conversion, opened once and reset before each use.
class Iconv {
 public:
  static absl::StatusOr<std::unique_ptr<Iconv>> Open(const char* to, const char* from) {
    iconv_t cd = iconv_open(to, from);
    if (cd == reinterpret_cast<iconv_t>(-1)) {
      return absl::InternalError(absl::StrCat("this system's iconv cannot convert ", from, " to ",
                                              to, " (glibc's gconv modules are missing?)"));
    }
    return std::unique_ptr<Iconv>(new Iconv(cd));
  }
  Iconv(const Iconv&) = delete;
  Iconv& operator=(const Iconv&) = delete;
  ~Iconv() { iconv_close(cd_); }

  // Converts `in` whole. On failure returns false with `*bad_offset` at the
  // first byte that could not be converted and `*incomplete` true when the
  // input ended inside a multibyte character.
  bool Convert(absl::string_view in, std::string* out, size_t* bad_offset, bool* incomplete) {
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);
    out->clear();
    out->resize(in.size() * 3 + 8);
    char* in_ptr = const_cast<char*>(in.data());
    size_t in_left = in.size();
    size_t used = 0;
    while (true) {
      char* out_ptr = out->data() + used;
      size_t out_left = out->size() - used;
      const size_t result = iconv(cd_, &in_ptr, &in_left, &out_ptr, &out_left);
      used = out->size() - out_left;
      if (result != static_cast<size_t>(-1)) break;
      if (errno == E2BIG) {
        out->resize(out->size() * 2);
        continue;
      }
      *bad_offset = static_cast<size_t>(in_ptr - in.data());
      *incomplete = errno == EINVAL;
      return false;
    }
    out->resize(used);
    return true;
  }

 private:
  explicit Iconv(iconv_t cd) : cd_(cd) {}
  iconv_t cd_;
};

absl::StatusOr<std::unique_ptr<Iconv>> OpenCp932Decoder() { return Iconv::Open("UTF-8", "CP932"); }
absl::StatusOr<std::unique_ptr<Iconv>> OpenCp932Encoder() { return Iconv::Open("CP932", "UTF-8"); }

// How UTF-8-like `bytes` are: well-formed multibyte sequences and bytes that
// start none.
struct Utf8Census {
  int64_t multibyte = 0;
  int64_t invalid = 0;
};

Utf8Census CountUtf8(absl::string_view bytes) {
  Utf8Census census;
  for (size_t pos = 0; pos < bytes.size();) {
    const Utf8Char c = DecodeUtf8At(bytes, pos);
    const size_t length = c.valid ? c.size : 0;
    if (length == 0) {
      ++census.invalid;
      ++pos;
    } else {
      if (length > 1) ++census.multibyte;
      pos += length;
    }
  }
  return census;
}

// "0x82 0x2C"
std::string HexBytes(absl::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    if (!out.empty()) out += ' ';
    absl::StrAppendFormat(&out, "0x%02X", static_cast<unsigned char>(c));
  }
  return out;
}

// Line breaks (CRLF, CR or LF, each counted once) in text[0, end).
int64_t LineBreaksBefore(absl::string_view text, size_t end) {
  int64_t breaks = 0;
  for (size_t i = 0; i < end && i < text.size(); ++i) {
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))) {
      ++breaks;
    }
  }
  return breaks;
}

// " after \"…\"": the start of a cell's text before a bad byte, already
// decoded, so that the reader can find the spot.
std::string After(absl::string_view decoded_prefix) {
  if (decoded_prefix.empty()) return "";
  std::string tail(decoded_prefix.size() > kQuotedBytes
                       ? decoded_prefix.substr(decoded_prefix.size() - kQuotedBytes)
                       : decoded_prefix);
  // Do not start in the middle of a character.
  size_t start = 0;
  while (start < tail.size() && (static_cast<unsigned char>(tail[start]) & 0xC0) == 0x80) ++start;
  tail.erase(0, start);
  for (char& c : tail) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return absl::StrCat(" after \"", decoded_prefix.size() > kQuotedBytes ? "…" : "", tail, "\"");
}

// A cell as split from the file, not yet decoded.
struct RawField {
  std::string bytes;
  int64_t line = 0;  // where the cell starts
};

struct RawRecord {
  int64_t line = 0;
  std::vector<RawField> fields;
};

// Splits `bytes` into records and cells (RFC 4180, lenient about line ends
// and about a quote inside an unquoted cell, which is kept as it is).
absl::StatusOr<std::vector<RawRecord>> SplitRecords(absl::string_view bytes) {
  std::vector<RawRecord> records;
  const size_t n = bytes.size();
  size_t i = 0;
  int64_t line = 1;
  const auto is_line_end = [&](size_t at) { return bytes[at] == '\r' || bytes[at] == '\n'; };
  while (i < n) {
    RawRecord& record = records.emplace_back();
    record.line = line;
    while (true) {
      RawField& field = record.fields.emplace_back();
      field.line = line;
      const int index = static_cast<int>(record.fields.size()) - 1;
      if (i < n && bytes[i] == '"') {
        const int64_t opened = line;
        ++i;
        while (true) {
          if (i >= n) {
            return CsvError({opened, index},
                            absl::StrCat("a quoted cell opened on line ", opened,
                                         " is never closed (a quote inside a quoted cell is "
                                         "written \"\")"));
          }
          const char c = bytes[i];
          if (c == '"') {
            if (i + 1 < n && bytes[i + 1] == '"') {
              field.bytes += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n' || (c == '\r' && (i + 1 >= n || bytes[i + 1] != '\n'))) ++line;
          field.bytes += c;
          ++i;
        }
        if (i < n && bytes[i] != ',' && !is_line_end(i)) {
          return CsvError({line, index},
                          "text after the closing quote of a quoted cell (a quote inside a "
                          "quoted cell is written \"\")");
        }
      } else {
        const size_t start = i;
        while (i < n && bytes[i] != ',' && !is_line_end(i)) ++i;
        field.bytes.assign(bytes.data() + start, i - start);
      }
      if (i < n && bytes[i] == ',') {
        ++i;
        continue;
      }
      break;
    }
    if (i < n) {  // the line end
      if (bytes[i] == '\r' && i + 1 < n && bytes[i + 1] == '\n') ++i;
      ++i;
      ++line;
    }
  }
  return records;
}

// Decodes every cell of `raw` as `encoding` into `out`.
absl::Status DecodeRecords(const std::vector<RawRecord>& raw, CsvEncoding encoding,
                           absl::string_view context, std::vector<CsvRecord>* out) {
  std::unique_ptr<Iconv> decoder;
  if (encoding == CsvEncoding::kCp932) {
    ASSIGN_OR_RETURN(decoder, OpenCp932Decoder());
  }
  out->clear();
  out->reserve(raw.size());
  std::string decoded;
  for (const RawRecord& record : raw) {
    CsvRecord& cooked = out->emplace_back();
    cooked.line = record.line;
    cooked.fields.reserve(record.fields.size());
    for (size_t f = 0; f < record.fields.size(); ++f) {
      const RawField& field = record.fields[f];
      const CsvLocation at{0, static_cast<int>(f)};
      if (encoding == CsvEncoding::kUtf8) {
        if (const std::optional<size_t> bad = FirstInvalidUtf8(field.bytes)) {
          return CsvError({field.line + LineBreaksBefore(field.bytes, *bad), at.field},
                          absl::StrCat("byte ", HexBytes(field.bytes.substr(*bad, 1)),
                                       After(absl::string_view(field.bytes).substr(0, *bad)),
                                       " is not valid UTF-8", context));
        }
        cooked.fields.push_back(field.bytes);
        continue;
      }
      size_t bad = 0;
      bool incomplete = false;
      if (!decoder->Convert(field.bytes, &decoded, &bad, &incomplete)) {
        const auto lead = static_cast<unsigned char>(field.bytes[bad]);
        const bool is_lead = (lead >= 0x81 && lead <= 0x9F) || (lead >= 0xE0 && lead <= 0xFC);
        const size_t length = is_lead && bad + 1 < field.bytes.size() ? 2 : 1;
        std::string prefix;
        size_t unused_offset = 0;
        bool unused_incomplete = false;
        (void)decoder->Convert(absl::string_view(field.bytes).substr(0, bad), &prefix,
                               &unused_offset, &unused_incomplete);
        const std::string what =
            incomplete || (is_lead && length == 1)
                ? absl::StrCat("byte ", HexBytes(field.bytes.substr(bad, 1)), After(prefix),
                               " starts a CP932 character that the cell cuts off")
                : absl::StrCat(length == 1 ? "byte " : "bytes ",
                               HexBytes(field.bytes.substr(bad, length)), After(prefix),
                               length == 1 ? " is" : " are", " not valid CP932 (Shift_JIS)");
        return CsvError({field.line + LineBreaksBefore(field.bytes, bad), at.field},
                        absl::StrCat(what, context));
      }
      cooked.fields.push_back(decoded);
    }
  }
  return absl::OkStatus();
}

bool IsBlank(absl::string_view cell) {
  // ASCII white space and the ideographic space U+3000.
  absl::string_view rest = absl::StripAsciiWhitespace(cell);
  while (absl::ConsumePrefix(&rest, "\xE3\x80\x80")) rest = absl::StripLeadingAsciiWhitespace(rest);
  return rest.empty();
}

}  // namespace

absl::string_view CsvEncodingName(CsvEncoding encoding) {
  return encoding == CsvEncoding::kCp932 ? "CP932" : "UTF-8";
}

absl::StatusOr<std::optional<CsvEncoding>> ParseCsvEncoding(absl::string_view flag,
                                                            absl::string_view text,
                                                            bool allow_auto) {
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower.empty() || (allow_auto && lower == "auto")) return std::nullopt;
  if (lower == "utf-8" || lower == "utf8") return CsvEncoding::kUtf8;
  if (lower == "cp932" || lower == "sjis" || lower == "shift_jis" || lower == "shift-jis" ||
      lower == "windows-31j" || lower == "ms932") {
    return CsvEncoding::kCp932;
  }
  return absl::InvalidArgumentError(absl::StrCat(flag, ": \"", text, "\" is not an encoding; use ",
                                                 allow_auto ? "auto, " : "",
                                                 "utf-8 or cp932 (Shift_JIS)"));
}

absl::Status CsvError(CsvLocation location, absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kLocationPayload, absl::Cord(absl::StrCat(location.line, ",", location.field)));
  return status;
}

std::optional<CsvLocation> CsvLocationOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kLocationPayload);
  if (!payload) return std::nullopt;
  const std::vector<std::string> parts = absl::StrSplit(std::string(*payload), ',');
  CsvLocation location;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &location.line) ||
      !absl::SimpleAtoi(parts[1], &location.field)) {
    return std::nullopt;
  }
  return location;
}

absl::StatusOr<CsvDocument> ReadCsv(absl::string_view bytes, std::optional<CsvEncoding> encoding) {
  CsvDocument document;
  if (absl::ConsumePrefix(&bytes, kByteOrderMark)) {
    if (encoding == CsvEncoding::kCp932) {
      return CsvError({1, -1},
                      "the file starts with a UTF-8 byte order mark, but --encoding cp932 was "
                      "given; it is UTF-8");
    }
    document.byte_order_mark = true;
    encoding = CsvEncoding::kUtf8;
  }
  ASSIGN_OR_RETURN(const std::vector<RawRecord> raw, SplitRecords(bytes));

  std::vector<CsvRecord> records;
  if (encoding) {
    document.encoding = *encoding;
    RETURN_IF_ERROR(DecodeRecords(raw, *encoding, "", &records));
  } else if (!FirstInvalidUtf8(bytes)) {
    document.encoding = CsvEncoding::kUtf8;
    RETURN_IF_ERROR(DecodeRecords(raw, CsvEncoding::kUtf8, "", &records));
  } else {
    // Not UTF-8 as a whole: CP932, unless it fails as CP932 too and looks
    // like UTF-8 with a few bad bytes, when the UTF-8 error is the useful one.
    const absl::Status cp932 = DecodeRecords(
        raw, CsvEncoding::kCp932,
        " (the file is not UTF-8, so it was read as CP932; --encoding chooses)", &records);
    if (cp932.ok()) {
      document.encoding = CsvEncoding::kCp932;
    } else {
      if (!CsvLocationOf(cp932)) return cp932;  // not a decoding error
      const Utf8Census census = CountUtf8(bytes);
      if (census.multibyte <= census.invalid) return cp932;
      const absl::Status utf8 =
          DecodeRecords(raw, CsvEncoding::kUtf8,
                        " (the rest of the file is UTF-8; --encoding chooses)", &records);
      return utf8.ok() ? cp932 : utf8;
    }
  }
  for (CsvRecord& record : records) {
    if (std::all_of(record.fields.begin(), record.fields.end(), IsBlank)) continue;
    document.records.push_back(std::move(record));
  }
  return document;
}

absl::StatusOr<std::string> Cp932ToUtf8(absl::string_view bytes, size_t* bad_offset) {
  ASSIGN_OR_RETURN(std::unique_ptr<Iconv> decoder, OpenCp932Decoder());
  std::string out;
  size_t bad = 0;
  bool incomplete = false;
  if (!decoder->Convert(bytes, &out, &bad, &incomplete)) {
    if (bad_offset != nullptr) *bad_offset = bad;
    return absl::InvalidArgumentError(absl::StrCat(
        "byte ", HexBytes(bytes.substr(bad, 1)), " at offset ", bad,
        incomplete ? " starts a CP932 character that is cut off" : " is not valid CP932"));
  }
  return out;
}

absl::StatusOr<std::string> Utf8ToCp932(absl::string_view text) {
  if (const std::optional<size_t> bad = FirstInvalidUtf8(text)) {
    return absl::InvalidArgumentError(absl::StrCat("byte ", HexBytes(text.substr(*bad, 1)),
                                                   " at offset ", *bad, " is not valid UTF-8"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Iconv> encoder, OpenCp932Encoder());
  std::string out;
  size_t bad = 0;
  bool incomplete = false;
  if (!encoder->Convert(text, &out, &bad, &incomplete)) {
    const size_t length = DecodeUtf8At(text, bad).size;
    return absl::InvalidArgumentError(absl::StrCat("\"", text.substr(bad, length),
                                                   "\" has no code in CP932 (Shift_JIS); "
                                                   "write the file as UTF-8"));
  }
  return out;
}

CsvWriter::CsvWriter(CsvEncoding encoding) : encoding_(encoding) {
  if (encoding_ == CsvEncoding::kUtf8) bytes_ = std::string(kByteOrderMark);
}

absl::Status CsvWriter::AddRecord(const std::vector<std::string>& fields) {
  std::string line;
  int64_t breaks = 0;
  for (size_t f = 0; f < fields.size(); ++f) {
    const std::string& cell = fields[f];
    std::string encoded;
    if (encoding_ == CsvEncoding::kCp932) {
      absl::StatusOr<std::string> converted = Utf8ToCp932(cell);
      if (!converted.ok()) {
        return CsvError({next_line_ + breaks, static_cast<int>(f)}, converted.status().message());
      }
      encoded = *std::move(converted);
    } else {
      if (const std::optional<size_t> bad = FirstInvalidUtf8(cell)) {
        return CsvError({next_line_ + breaks, static_cast<int>(f)},
                        absl::StrCat("byte ", HexBytes(cell.substr(*bad, 1)), " at offset ", *bad,
                                     " is not valid UTF-8"));
      }
      encoded = cell;
    }
    const bool quote =
        encoded.find_first_of(",\"\r\n") != std::string::npos ||
        (!encoded.empty() && (absl::ascii_isspace(static_cast<unsigned char>(encoded.front())) ||
                              absl::ascii_isspace(static_cast<unsigned char>(encoded.back()))));
    if (f > 0) line += ',';
    if (quote) {
      line += '"';
      for (const char c : encoded) {
        if (c == '"') line += '"';
        line += c;
      }
      line += '"';
    } else {
      line += encoded;
    }
    breaks += LineBreaksBefore(cell, cell.size());
  }
  line += "\r\n";
  bytes_ += line;
  next_line_ += 1 + breaks;
  ++records_;
  return absl::OkStatus();
}

}  // namespace suishin::exchange
