#include "common/log.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace suishin {
namespace {

absl::Mutex service_mu;
std::string* service_name ABSL_GUARDED_BY(service_mu) = new std::string("suishin");

// Appends `text` as a JSON string literal. UTF-8 passes through unchanged.
void AppendJsonString(std::string& out, absl::string_view text) {
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void Write(absl::string_view level, absl::string_view event, absl::Span<const LogField> fields) {
  std::string line = FormatLogLine(level, event, fields);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

void SetLogService(absl::string_view service) {
  absl::MutexLock lock(&service_mu);
  *service_name = std::string(service);
}

std::string FormatLogLine(absl::string_view level, absl::string_view event,
                          absl::Span<const LogField> fields) {
  std::string service;
  {
    absl::MutexLock lock(&service_mu);
    service = *service_name;
  }
  std::string out = "{\"ts\":";
  AppendJsonString(out, absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()));
  out += ",\"level\":";
  AppendJsonString(out, level);
  out += ",\"service\":";
  AppendJsonString(out, service);
  out += ",\"event\":";
  AppendJsonString(out, event);
  for (const LogField& field : fields) {
    out.push_back(',');
    AppendJsonString(out, field.first);
    out.push_back(':');
    AppendJsonString(out, field.second);
  }
  out.push_back('}');
  return out;
}

void LogInfo(absl::string_view event, absl::Span<const LogField> fields) {
  Write("info", event, fields);
}
void LogWarning(absl::string_view event, absl::Span<const LogField> fields) {
  Write("warning", event, fields);
}
void LogError(absl::string_view event, absl::Span<const LogField> fields) {
  Write("error", event, fields);
}

}  // namespace suishin
