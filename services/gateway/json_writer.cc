#include "services/gateway/json_writer.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <type_traits>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/status_macros.h"

namespace suishin::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// How deep message fields may nest below the top-level message, as the
// library's converter allows (its kDefaultMaxRecursionDepth).
constexpr int kMaxDepth = 64;

// The range of google.protobuf.Timestamp: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z, in seconds since the Unix epoch.
constexpr int64_t kTimestampMinSeconds = -62135596800;
constexpr int64_t kTimestampMaxSeconds = 253402300799;
// The range of google.protobuf.Duration: about ±10000 years.
constexpr int64_t kDurationMaxSeconds = 315576000000;
constexpr int32_t kNanosPerSecond = 1000000000;
// The only type URL prefix the library resolves in an Any.
constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";

// What the library writes for each ASCII character inside a JSON string:
// text[c] (size[c] characters), or c itself when size[c] is 0. The library
// escapes what JSON requires, DEL, and '<' and '>' for HTML.
struct AsciiEscapes {
  char text[128][7] = {};
  unsigned char size[128] = {};

  constexpr AsciiEscapes() {
    constexpr char kHex[] = "0123456789abcdef";
    for (int c = 0; c < 128; ++c) {
      if (c < 0x20 || c == 0x7f || c == '<' || c == '>') {
        const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        for (int i = 0; i < 6; ++i) text[c][i] = escape[i];
        size[c] = 6;
      }
    }
    Set('\b', 'b');
    Set('\t', 't');
    Set('\n', 'n');
    Set('\f', 'f');
    Set('\r', 'r');
    Set('"', '"');
    Set('\\', '\\');
  }

 private:
  // Makes `c` a two-character escape: '\' and `letter`.
  constexpr void Set(char c, char letter) {
    text[static_cast<int>(c)][0] = '\\';
    text[static_cast<int>(c)][1] = letter;
    text[static_cast<int>(c)][2] = '\0';
    size[static_cast<int>(c)] = 2;
  }
};

constexpr AsciiEscapes kAsciiEscapes;

// Appends "\uXXXX" for the UTF-16 code unit `unit`, in lower-case hex.
void AppendUnicodeEscape(uint32_t unit, std::string& out) {
  constexpr char kHex[] = "0123456789abcdef";
  const char escape[6] = {'\\',
                          'u',
                          kHex[(unit >> 12) & 0xf],
                          kHex[(unit >> 8) & 0xf],
                          kHex[(unit >> 4) & 0xf],
                          kHex[unit & 0xf]};
  out.append(escape, sizeof(escape));
}

// Whether the library escapes the code point `cp`, read from a multi-byte
// sequence. Besides the controls, it escapes code points that are invisible
// or change the text's direction, so that JSON shown in a page cannot hide
// text.
bool IsEscaped(uint32_t cp) {
  if (cp < 0x80) return kAsciiEscapes.size[cp] != 0;  // an overlong encoding of ASCII
  return cp < 0xa0 || cp == 0xad || (cp >= 0x600 && cp <= 0x603) || cp == 0x6dd || cp == 0x70f ||
         cp == 0x17b4 || cp == 0x17b5 || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x206a && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
         cp == 0xe0001 || (cp >= 0x1d173 && cp <= 0x1d17a) || (cp >= 0xe0020 && cp <= 0xe007f);
}

// Appends the escape of `cp`, for which IsEscaped is true.
void AppendEscape(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.append(kAsciiEscapes.text[cp], kAsciiEscapes.size[cp]);
  } else if (cp < 0x10000) {
    AppendUnicodeEscape(cp, out);
  } else {  // as a UTF-16 surrogate pair
    AppendUnicodeEscape(0xd800 + ((cp - 0x10000) >> 10), out);
    AppendUnicodeEscape(0xdc00 + (cp & 0x3ff), out);
  }
}

// Reads the multi-byte UTF-8 sequence that starts at s[*i] as the library's
// JsonEscaping reads it, advancing *i past the bytes read. Returns false for
// what the library drops: a stray continuation byte or a lead byte above
// 0xf7 (one byte read), a sequence broken by a byte that is not a
// continuation byte (read up to and including that byte), a sequence cut
// short by the end of the string, a surrogate or a code point above
// U+10FFFF. Like the library, it accepts overlong encodings.
bool ReadCodePoint(absl::string_view s, size_t* i, uint32_t* cp) {
  uint32_t c = static_cast<unsigned char>(s[(*i)++]);
  int left;
  if (c <= 0xbf) {
    return false;
  } else if (c <= 0xdf) {
    c &= 0x1f;
    left = 1;
  } else if (c <= 0xef) {
    c &= 0x0f;
    left = 2;
  } else if (c <= 0xf7) {
    c &= 0x07;
    left = 3;
  } else {
    return false;
  }
  while (left > 0 && *i < s.size()) {
    const uint32_t next = static_cast<unsigned char>(s[(*i)++]);
    --left;
    c = (c << 6) | (next & 0x3f);
    if (next < 0x80 || next > 0xbf) return false;
  }
  *cp = c;
  return left == 0 && (c & 0xfffff800) != 0xd800 && c <= 0x10ffff;
}

// Appends `s` as a JSON string, quoted and escaped as the library does.
void AppendString(absl::string_view s, std::string& out) {
  out += '"';
  size_t copied = 0;  // s[copied, i) is still to be copied as is
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (kAsciiEscapes.size[c] != 0) {
        out.append(s.data() + copied, i - copied);
        out.append(kAsciiEscapes.text[c], kAsciiEscapes.size[c]);
        copied = i + 1;
      }
      ++i;
      continue;
    }
    const size_t start = i;
    uint32_t cp;
    if (!ReadCodePoint(s, &i, &cp)) {
      out.append(s.data() + copied, start - copied);
      copied = i;
      continue;
    }
    if (IsEscaped(cp)) {
      out.append(s.data() + copied, start - copied);
      AppendEscape(cp, out);
      copied = i;
    }
  }
  out.append(s.data() + copied, s.size() - copied);
  out += '"';
}

// Appends the integer `value` in decimal, quoted when `quoted` (the mapping's
// form for the 64-bit kinds).
template <typename Int>
void AppendInteger(Int value, bool quoted, std::string& out) {
  char buffer[24];
  char* end = std::to_chars(buffer, buffer + sizeof(buffer), value).ptr;
  if (quoted) out += '"';
  out.append(buffer, end);
  if (quoted) out += '"';
}

// Appends the finite `value` as the library prints it: printf's "%.15g"
// (FLT_DIG = 6 for float) when that reads back as `value`, else "%.17g"
// ("%.9g" for float).
//
// The library prints with snprintf and reads back with strtod. This gets the
// same text from std::to_chars' shortest form (the decimal with the fewest
// digits that reads back, the nearest of those), without reading back. For a
// normal number, "%.15g" reads back exactly when the shortest decimal has at
// most 15 significant digits, and then prints those digits: a double's
// half-spacing is under a 15-digit decimal's, so the shortest decimal is also
// the nearest 15-digit one. Likewise a 17-digit decimal's half-spacing is
// under a double's, so the nearest 17-digit decimal always reads back: when
// the shortest has 17 digits they are "%.17g"'s, and only with 16 is "%.17g"
// printed on its own. Subnormal numbers have fewer digits of precision, so
// for them the library's steps are followed as they are. For floats the
// library also counts a read-back that sets ERANGE as failed, which strtof
// does for every subnormal float: those always get "%.9g".
template <typename Float>
void AppendFinite(Float value, std::string& out) {
  constexpr bool kIsDouble = std::is_same_v<Float, double>;
  constexpr int kDigits = kIsDouble ? 15 : 6;
  constexpr int kMoreDigits = kIsDouble ? 17 : 9;
  // Whole numbers below 10^precision, the counts KPIs are mostly made of,
  // print as integers ("48"), -0.0 excepted ("-0").
  constexpr Float kWholeLimit = kIsDouble ? 1e15 : 1e6;
  if (std::fabs(value) < kWholeLimit && !(value == 0 && std::signbit(value))) {
    const int64_t whole = static_cast<int64_t>(value);
    if (static_cast<Float>(whole) == value) {
      AppendInteger(whole, false, out);
      return;
    }
  }
  char buffer[64];
  char* const limit = buffer + sizeof(buffer);
  if (value != 0 && std::fabs(value) < std::numeric_limits<Float>::min()) {
    char* end = std::to_chars(buffer, limit, value, std::chars_format::general, kDigits).ptr;
    Float read = 0;
    if (!kIsDouble || std::from_chars(buffer, end, read).ec != std::errc() || read != value) {
      end = std::to_chars(buffer, limit, value, std::chars_format::general, kMoreDigits).ptr;
    }
    out.append(buffer, end);
    return;
  }
  // The shortest decimal that reads back: [-]d[.ddd]e(+|-)dd.
  char* const end = std::to_chars(buffer, limit, value, std::chars_format::scientific).ptr;
  const bool negative = buffer[0] == '-';
  const char* const mantissa = buffer + (negative ? 1 : 0);
  const char* const e = std::find(mantissa, static_cast<const char*>(end), 'e');
  char digits[24];
  int count = 0;  // significant digits, at most kMoreDigits
  for (const char* p = mantissa; p < e; ++p) {
    if (*p != '.') digits[count++] = *p;
  }
  if (count > kDigits && count < kMoreDigits) {
    out.append(buffer,
               std::to_chars(buffer, limit, value, std::chars_format::general, kMoreDigits).ptr);
    return;
  }
  // Here the digits are those of "%.15g", or when there are 17 of "%.17g".
  const int precision = count > kDigits ? kMoreDigits : kDigits;
  int exponent = 0;
  std::from_chars(e + (e[1] == '+' ? 2 : 1), end, exponent);
  // "%g" prints exponent form below 1e-4 and from 10^precision, where it is
  // the shortest form as it stands.
  if (exponent < -4 || exponent >= precision) {
    out.append(buffer, end);
    return;
  }
  if (negative) out += '-';
  if (exponent < 0) {
    out += "0.";
    out.append(-exponent - 1, '0');
    out.append(digits, count);
  } else if (count <= exponent + 1) {
    out.append(digits, count);
    out.append(exponent + 1 - count, '0');
  } else {
    out.append(digits, exponent + 1);
    out += '.';
    out.append(digits + exponent + 1, count - exponent - 1);
  }
}

// Appends a double or float field's value: a number, or for NaN and the
// infinities the string the mapping uses.
template <typename Float>
void AppendFloating(Float value, std::string& out) {
  if (std::isnan(value)) {
    out += "\"NaN\"";
  } else if (std::isinf(value)) {
    out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    AppendFinite(value, out);
  }
}

// Appends the fraction of a second the library writes for `nanos` (0 to
// 999999999): nothing for 0, else '.' and 3, 6 or 9 digits, as few as hold
// it.
void AppendNanos(int32_t nanos, std::string& out) {
  if (nanos == 0) return;
  int digits = 9;
  if (nanos % 1000000 == 0) {
    nanos /= 1000000;
    digits = 3;
  } else if (nanos % 1000 == 0) {
    nanos /= 1000;
    digits = 6;
  }
  char buffer[10] = {'.'};
  for (int i = digits; i > 0; --i) {
    buffer[i] = static_cast<char>('0' + nanos % 10);
    nanos /= 10;
  }
  out.append(buffer, digits + 1);
}

// Appends `value` (0 to 9999) in decimal with `width` digits, zero-padded.
void AppendPadded(int64_t value, int width, std::string& out) {
  char buffer[4];
  for (int i = width - 1; i >= 0; --i) {
    buffer[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buffer, width);
}

// A FieldMask path segment in lowerCamel, by the library's rule (its
// converter's ToCamelCase): '_' is dropped and the letter after it
// upper-cased; the first word is lower-cased, and later letters too, except
// where a capital starts a new word.
std::string ToCamelCase(absl::string_view input) {
  bool capitalize_next = false;
  bool was_cap = true;
  bool is_cap = false;
  bool first_word = true;
  std::string result;
  result.reserve(input.size());
  for (size_t i = 0; i < input.size(); ++i, was_cap = is_cap) {
    is_cap = absl::ascii_isupper(static_cast<unsigned char>(input[i]));
    if (input[i] == '_') {
      capitalize_next = true;
      if (!result.empty()) first_word = false;
      continue;
    } else if (first_word) {
      // A capital ends the first word after a lower-case letter, or before
      // one ("...aB...", "...ABc...").
      if (!result.empty() && is_cap &&
          (!was_cap || (i + 1 < input.size() &&
                        absl::ascii_islower(static_cast<unsigned char>(input[i + 1]))))) {
        first_word = false;
        result.push_back(input[i]);
      } else {
        result.push_back(absl::ascii_tolower(static_cast<unsigned char>(input[i])));
      }
    } else if (capitalize_next) {
      capitalize_next = false;
      result.push_back(absl::ascii_toupper(static_cast<unsigned char>(input[i])));
    } else {
      result.push_back(absl::ascii_tolower(static_cast<unsigned char>(input[i])));
    }
  }
  return result;
}

// Appends a FieldMask path with each segment in lowerCamel, by the library's
// rule (its ConvertFieldMaskPath): segments end at '.', '(', ')' and '"',
// which are kept, and text inside double quotes (with '\' escapes) is kept as
// is.
void AppendFieldMaskPath(absl::string_view path, std::string& out) {
  bool quoted = false;
  bool escaping = false;
  size_t segment_start = 0;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (quoted) {
      if (i == path.size()) break;
      out.push_back(path[i]);
      if (escaping) {
        escaping = false;
      } else if (path[i] == '\\') {
        escaping = true;
      } else if (path[i] == '"') {
        segment_start = i + 1;
        quoted = false;
      }
      continue;
    }
    if (i == path.size() || path[i] == '.' || path[i] == '(' || path[i] == ')' || path[i] == '"') {
      out += ToCamelCase(path.substr(segment_start, i - segment_start));
      if (i < path.size()) out.push_back(path[i]);
      segment_start = i + 1;
    }
    if (i < path.size() && path[i] == '"') quoted = true;
  }
}

// Whether `message` is a google.protobuf.Value with no kind set, which the
// library leaves out altogether: no value, and no key or list element for
// it.
bool IsEmptyValue(const Message& message) {
  const Descriptor* type = message.GetDescriptor();
  return type->well_known_type() == Descriptor::WELLKNOWNTYPE_VALUE &&
         type->oneof_decl_count() == 1 &&
         message.GetReflection()->GetOneofFieldDescriptor(message, type->oneof_decl(0)) == nullptr;
}

// Whether `field` is of message type google.protobuf.Value.
bool IsValueField(const FieldDescriptor* field) {
  return field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         field->message_type()->well_known_type() == Descriptor::WELLKNOWNTYPE_VALUE;
}

// The fields of a message to print, for one level of nesting. Kept per
// thread and reused, so that listing a message's fields allocates nothing
// once the thread has written a message as deep.
std::vector<const FieldDescriptor*>& FieldList(size_t level) {
  // A deque: growing it leaves the lists of the levels above where they are.
  thread_local std::deque<std::vector<const FieldDescriptor*>> lists;
  while (lists.size() <= level) lists.emplace_back();
  return lists[level];
}

// Writes one message as JSON into a string it appends to. Keeps the depth of
// nesting; use one per message written.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  // Appends `message`, the top-level message.
  absl::Status WriteTopLevel(const Message& message) {
    pool_ = message.GetDescriptor()->file()->pool();
    return WriteMessage(message, nullptr);
  }

 private:
  // Appends `message`, the value of `field` (nullptr for the top-level
  // message), in its JSON form: an object, or a well-known type's form.
  absl::Status WriteMessage(const Message& message, const FieldDescriptor* field);
  // Appends the fields of `message` that are printed as "name":value pairs,
  // each after a ',' unless `first` and it is the first.
  absl::Status WriteFields(const Message& message, const Reflection& reflection, bool first);
  // Appends the value of `field` of `message`: element `index` of a
  // repeated field, or the singular field's value when `index` is -1.
  absl::Status WriteValue(const Message& message, const Reflection& reflection,
                          const FieldDescriptor* field, int index);
  // Appends the non-empty repeated `field` of `message` as a list.
  absl::Status WriteList(const Message& message, const Reflection& reflection,
                         const FieldDescriptor* field);
  // Appends the map `field` of `message` as an object, in key order.
  absl::Status WriteMap(const Message& message, const Reflection& reflection,
                        const FieldDescriptor* field);

  absl::Status WriteTimestamp(const Message& message, const FieldDescriptor* field);
  absl::Status WriteDuration(const Message& message, const FieldDescriptor* field);
  void WriteFieldMask(const Message& message);
  absl::Status WriteAny(const Message& message, const FieldDescriptor* field);

  // "field suishin.kpi.v1.Change.change_time" for errors; the type's name
  // for the top-level message.
  static std::string Where(const Message& message, const FieldDescriptor* field) {
    return field != nullptr ? absl::StrCat("field ", field->full_name())
                            : absl::StrCat("message ", message.GetDescriptor()->full_name());
  }

  std::string& out_;
  // The pool of the top-level message's type, where the library looks up
  // the types packed in an Any.
  const DescriptorPool* pool_ = nullptr;
  // Message fields entered below the top-level message (or below the Any
  // being written: the library counts afresh inside one).
  int depth_ = 0;
  // Objects being written, Anys included: which FieldList is free.
  size_t level_ = 0;
};

absl::Status JsonWriter::WriteMessage(const Message& message, const FieldDescriptor* field) {
  const Descriptor* type = message.GetDescriptor();
  const Reflection& reflection = *message.GetReflection();
  switch (type->well_known_type()) {
    case Descriptor::WELLKNOWNTYPE_TIMESTAMP:
      return WriteTimestamp(message, field);
    case Descriptor::WELLKNOWNTYPE_DURATION:
      return WriteDuration(message, field);
    case Descriptor::WELLKNOWNTYPE_FIELDMASK:
      WriteFieldMask(message);
      return absl::OkStatus();
    case Descriptor::WELLKNOWNTYPE_ANY:
      return WriteAny(message, field);
    case Descriptor::WELLKNOWNTYPE_DOUBLEVALUE:
    case Descriptor::WELLKNOWNTYPE_FLOATVALUE:
    case Descriptor::WELLKNOWNTYPE_INT64VALUE:
    case Descriptor::WELLKNOWNTYPE_UINT64VALUE:
    case Descriptor::WELLKNOWNTYPE_INT32VALUE:
    case Descriptor::WELLKNOWNTYPE_UINT32VALUE:
    case Descriptor::WELLKNOWNTYPE_STRINGVALUE:
    case Descriptor::WELLKNOWNTYPE_BYTESVALUE:
    case Descriptor::WELLKNOWNTYPE_BOOLVALUE:
      // The wrapped value as it is, 0 and "" included.
      return WriteValue(message, reflection, type->field(0), -1);
    case Descriptor::WELLKNOWNTYPE_VALUE: {
      const FieldDescriptor* kind =
          reflection.GetOneofFieldDescriptor(message, type->oneof_decl(0));
      return kind == nullptr ? absl::OkStatus() : WriteValue(message, reflection, kind, -1);
    }
    case Descriptor::WELLKNOWNTYPE_LISTVALUE:
      if (reflection.FieldSize(message, type->field(0)) == 0) {
        out_ += "[]";
        return absl::OkStatus();
      }
      return WriteList(message, reflection, type->field(0));
    case Descriptor::WELLKNOWNTYPE_STRUCT:
      if (reflection.FieldSize(message, type->field(0)) == 0) {
        out_ += "{}";
        return absl::OkStatus();
      }
      return WriteMap(message, reflection, type->field(0));
    default:
      out_ += '{';
      RETURN_IF_ERROR(WriteFields(message, reflection, /*first=*/true));
      out_ += '}';
      return absl::OkStatus();
  }
}

absl::Status JsonWriter::WriteFields(const Message& message, const Reflection& reflection,
                                     bool first) {
  // The fields set (non-default, without presence), in field-number order
  // as the library prints them.
  std::vector<const FieldDescriptor*>& fields = FieldList(level_++);
  fields.clear();
  reflection.ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->is_extension()) continue;  // the library does not know them
    if (!field->is_repeated() && IsValueField(field) &&
        IsEmptyValue(reflection.GetMessage(message, field))) {
      continue;
    }
    if (!first) out_ += ',';
    first = false;
    AppendString(field->json_name(), out_);
    out_ += ':';
    if (field->is_map()) {
      RETURN_IF_ERROR(WriteMap(message, reflection, field));
    } else if (field->is_repeated()) {
      RETURN_IF_ERROR(WriteList(message, reflection, field));
    } else {
      RETURN_IF_ERROR(WriteValue(message, reflection, field, -1));
    }
  }
  --level_;
  return absl::OkStatus();
}

absl::Status JsonWriter::WriteValue(const Message& message, const Reflection& reflection,
                                    const FieldDescriptor* field, int index) {
  const bool repeated = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      AppendInteger(repeated ? reflection.GetRepeatedInt32(message, field, index)
                             : reflection.GetInt32(message, field),
                    false, out_);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      AppendInteger(repeated ? reflection.GetRepeatedUInt32(message, field, index)
                             : reflection.GetUInt32(message, field),
                    false, out_);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      AppendInteger(repeated ? reflection.GetRepeatedInt64(message, field, index)
                             : reflection.GetInt64(message, field),
                    true, out_);
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      AppendInteger(repeated ? reflection.GetRepeatedUInt64(message, field, index)
                             : reflection.GetUInt64(message, field),
                    true, out_);
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendFloating(repeated ? reflection.GetRepeatedDouble(message, field, index)
                              : reflection.GetDouble(message, field),
                     out_);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendFloating(repeated ? reflection.GetRepeatedFloat(message, field, index)
                              : reflection.GetFloat(message, field),
                     out_);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out_ += (repeated ? reflection.GetRepeatedBool(message, field, index)
                        : reflection.GetBool(message, field))
                  ? "true"
                  : "false";
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = repeated ? reflection.GetRepeatedEnumValue(message, field, index)
                                  : reflection.GetEnumValue(message, field);
      const EnumDescriptor* type = field->enum_type();
      if (type->full_name() == "google.protobuf.NullValue") {
        out_ += "null";
        break;
      }
      const EnumValueDescriptor* value = type->FindValueByNumber(number);
      if (value != nullptr) {
        AppendString(value->name(), out_);
      } else {
        AppendInteger(number, false, out_);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& text =
          repeated ? reflection.GetRepeatedStringReference(message, field, index, &scratch)
                   : reflection.GetStringReference(message, field, &scratch);
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        std::string base64;
        absl::Base64Escape(text, &base64);
        out_ += '"';
        out_ += base64;
        out_ += '"';
      } else {
        AppendString(text, out_);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& value = repeated ? reflection.GetRepeatedMessage(message, field, index)
                                      : reflection.GetMessage(message, field);
      if (++depth_ > kMaxDepth) {
        return absl::InvalidArgumentError(absl::StrCat(
            Where(message, field), ": messages nested more than ", kMaxDepth, " deep"));
      }
      RETURN_IF_ERROR(WriteMessage(value, field));
      --depth_;
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status JsonWriter::WriteList(const Message& message, const Reflection& reflection,
                                   const FieldDescriptor* field) {
  const int size = reflection.FieldSize(message, field);
  const bool values = IsValueField(field);
  bool first = true;
  out_ += '[';
  for (int i = 0; i < size; ++i) {
    if (values && IsEmptyValue(reflection.GetRepeatedMessage(message, field, i))) continue;
    if (!first) out_ += ',';
    first = false;
    RETURN_IF_ERROR(WriteValue(message, reflection, field, i));
  }
  out_ += ']';
  return absl::OkStatus();
}

absl::Status JsonWriter::WriteMap(const Message& message, const Reflection& reflection,
                                  const FieldDescriptor* field) {
  const FieldDescriptor* key_field = field->message_type()->map_key();
  const FieldDescriptor* value_field = field->message_type()->map_value();
  const bool values = IsValueField(value_field);
  // An entry and its key, in the form the key sorts by.
  struct Entry {
    const Message* message;
    absl::string_view text;  // string keys
    int64_t signed_key;      // signed integer keys
    uint64_t unsigned_key;   // unsigned integer and bool keys
  };
  const int size = reflection.FieldSize(message, field);
  absl::InlinedVector<Entry, 16> entries;
  entries.reserve(size);
  // Copies of keys that reflection could not give by reference (never the
  // case for the map entries protobuf builds; kept to be safe).
  std::deque<std::string> copies;
  const Reflection* entry_reflection = nullptr;  // the same for every entry
  for (int i = 0; i < size; ++i) {
    const Message& entry = reflection.GetRepeatedMessage(message, field, i);
    if (entry_reflection == nullptr) entry_reflection = entry.GetReflection();
    if (values && IsEmptyValue(entry_reflection->GetMessage(entry, value_field))) continue;
    Entry e{&entry, {}, 0, 0};
    switch (key_field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& key = entry_reflection->GetStringReference(entry, key_field, &scratch);
        if (&key == &scratch) {
          e.text = copies.emplace_back(std::move(scratch));
        } else {
          e.text = key;
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_INT32:
        e.signed_key = entry_reflection->GetInt32(entry, key_field);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        e.signed_key = entry_reflection->GetInt64(entry, key_field);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        e.unsigned_key = entry_reflection->GetUInt32(entry, key_field);
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        e.unsigned_key = entry_reflection->GetUInt64(entry, key_field);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        e.unsigned_key = entry_reflection->GetBool(entry, key_field) ? 1 : 0;
        break;
      default:  // no other type can be a map key
        break;
    }
    entries.push_back(e);
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.text != b.text) return a.text < b.text;
    if (a.signed_key != b.signed_key) return a.signed_key < b.signed_key;
    return a.unsigned_key < b.unsigned_key;
  });
  out_ += '{';
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (i > 0) out_ += ',';
    switch (key_field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        AppendString(e.text, out_);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ += e.unsigned_key != 0 ? "\"true\"" : "\"false\"";
        break;
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
        AppendInteger(e.signed_key, true, out_);
        break;
      default:
        AppendInteger(e.unsigned_key, true, out_);
        break;
    }
    out_ += ':';
    RETURN_IF_ERROR(WriteValue(*e.message, *entry_reflection, value_field, -1));
  }
  out_ += '}';
  return absl::OkStatus();
}

absl::Status JsonWriter::WriteTimestamp(const Message& message, const FieldDescriptor* field) {
  const Descriptor* type = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  const int64_t seconds = reflection->GetInt64(message, type->field(0));
  const int32_t nanos = reflection->GetInt32(message, type->field(1));
  if (seconds < kTimestampMinSeconds || seconds > kTimestampMaxSeconds) {
    return absl::InvalidArgumentError(absl::StrCat(Where(message, field), ": Timestamp seconds ",
                                                   seconds,
                                                   " is outside 0001-01-01 to 9999-12-31"));
  }
  if (nanos < 0 || nanos >= kNanosPerSecond) {
    return absl::InvalidArgumentError(absl::StrCat(Where(message, field), ": Timestamp nanos ",
                                                   nanos, " is outside 0 to 999999999"));
  }
  const absl::CivilSecond time =
      absl::ToCivilSecond(absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
  out_ += '"';
  AppendPadded(time.year(), 4, out_);
  out_ += '-';
  AppendPadded(time.month(), 2, out_);
  out_ += '-';
  AppendPadded(time.day(), 2, out_);
  out_ += 'T';
  AppendPadded(time.hour(), 2, out_);
  out_ += ':';
  AppendPadded(time.minute(), 2, out_);
  out_ += ':';
  AppendPadded(time.second(), 2, out_);
  AppendNanos(nanos, out_);
  out_ += "Z\"";
  return absl::OkStatus();
}

absl::Status JsonWriter::WriteDuration(const Message& message, const FieldDescriptor* field) {
  const Descriptor* type = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  int64_t seconds = reflection->GetInt64(message, type->field(0));
  int32_t nanos = reflection->GetInt32(message, type->field(1));
  if (seconds < -kDurationMaxSeconds || seconds > kDurationMaxSeconds) {
    return absl::InvalidArgumentError(absl::StrCat(Where(message, field), ": Duration seconds ",
                                                   seconds, " is beyond ±", kDurationMaxSeconds));
  }
  if (nanos <= -kNanosPerSecond || nanos >= kNanosPerSecond) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(message, field), ": Duration nanos ", nanos, " is beyond ±999999999"));
  }
  if ((seconds < 0 && nanos > 0) || (seconds > 0 && nanos < 0)) {
    return absl::InvalidArgumentError(absl::StrCat(Where(message, field), ": Duration seconds ",
                                                   seconds, " and nanos ", nanos,
                                                   " have opposite signs"));
  }
  out_ += '"';
  if (seconds < 0 || nanos < 0) {
    out_ += '-';
    seconds = -seconds;
    nanos = -nanos;
  }
  AppendInteger(seconds, false, out_);
  AppendNanos(nanos, out_);
  out_ += "s\"";
  return absl::OkStatus();
}

void JsonWriter::WriteFieldMask(const Message& message) {
  const FieldDescriptor* paths = message.GetDescriptor()->field(0);
  const Reflection* reflection = message.GetReflection();
  std::string joined;
  std::string scratch;
  for (int i = 0; i < reflection->FieldSize(message, paths); ++i) {
    // As the library joins them: a ',' only after something (so paths that
    // come out empty before the first non-empty one leave no trace).
    if (!joined.empty()) joined += ',';
    AppendFieldMaskPath(reflection->GetRepeatedStringReference(message, paths, i, &scratch),
                        joined);
  }
  AppendString(joined, out_);
}

absl::Status JsonWriter::WriteAny(const Message& message, const FieldDescriptor* field) {
  const Descriptor* type = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  std::string type_url_scratch;
  std::string value_scratch;
  const std::string& type_url =
      reflection->GetStringReference(message, type->field(0), &type_url_scratch);
  const std::string& value =
      reflection->GetStringReference(message, type->field(1), &value_scratch);
  if (value.empty()) {  // the type, if any, and nothing else
    out_ += '{';
    if (!type_url.empty()) {
      out_ += "\"@type\":";
      AppendString(type_url, out_);
    }
    out_ += '}';
    return absl::OkStatus();
  }
  const Descriptor* packed_type =
      absl::StartsWith(type_url, kTypeUrlPrefix)
          ? pool_->FindMessageTypeByName(type_url.substr(kTypeUrlPrefix.size()))
          : nullptr;
  if (packed_type == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(Where(message, field), ": Any type_url \"",
                                                   absl::CHexEscape(type_url),
                                                   "\" names no message type known here"));
  }
  // Generated types from the generated factory; others (tests' run-time
  // types) from a factory of their own.
  google::protobuf::DynamicMessageFactory dynamic_factory;
  const Message* prototype =
      packed_type->file()->pool() == DescriptorPool::generated_pool()
          ? google::protobuf::MessageFactory::generated_factory()->GetPrototype(packed_type)
          : dynamic_factory.GetPrototype(packed_type);
  std::unique_ptr<Message> packed(prototype->New());
  if (!packed->ParseFromString(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(message, field), ": Any value is not a ", packed_type->full_name()));
  }
  out_ += "{\"@type\":";
  AppendString(type_url, out_);
  const int depth = depth_;
  depth_ = 0;
  if (packed_type->well_known_type() == Descriptor::WELLKNOWNTYPE_UNSPECIFIED) {
    // Its fields beside "@type" (google.protobuf.Empty is one of these).
    RETURN_IF_ERROR(WriteFields(*packed, *packed->GetReflection(), /*first=*/false));
  } else if (!IsEmptyValue(*packed)) {
    // A well-known type's JSON form under "value".
    out_ += ",\"value\":";
    RETURN_IF_ERROR(WriteMessage(*packed, field));
  }
  depth_ = depth;
  out_ += '}';
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendJson(const google::protobuf::Message& message, std::string* out) {
  const size_t size = out->size();
  absl::Status status = JsonWriter(*out).WriteTopLevel(message);
  if (!status.ok()) out->resize(size);
  return status;
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  std::string json;
  json.reserve(1024);  // most answers fit; larger ones grow a few times
  RETURN_IF_ERROR(AppendJson(message, &json));
  return json;
}

}  // namespace suishin::gateway
