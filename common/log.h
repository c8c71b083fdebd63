// Structured log lines: one JSON object per line on standard error.
//
// Each line carries the time (RFC 3339, UTC), the level, the service name set
// once at start-up, a short event name and key/value fields, so operators can
// grep it and log shippers can parse it.
//
// Example:
//   SetLogService("plan-service");
//   LogInfo("listening", {{"address", "127.0.0.1:50061"}});
//   // {"ts":"2026-11-29T12:00:00.000Z","level":"info","service":"plan-service",
//   //  "event":"listening","address":"127.0.0.1:50061"}
//
// Thread-safe: each line is written with one call.
#ifndef SUISHIN_COMMON_LOG_H_
#define SUISHIN_COMMON_LOG_H_

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace suishin {

using LogField = std::pair<absl::string_view, std::string>;

// Names the process in every line; call once from main.
void SetLogService(absl::string_view service);

void LogInfo(absl::string_view event, absl::Span<const LogField> fields = {});
void LogWarning(absl::string_view event, absl::Span<const LogField> fields = {});
void LogError(absl::string_view event, absl::Span<const LogField> fields = {});

// The line LogInfo and friends would write, without the newline. For tests.
std::string FormatLogLine(absl::string_view level, absl::string_view event,
                          absl::Span<const LogField> fields);

}  // namespace suishin

#endif  // SUISHIN_COMMON_LOG_H_
