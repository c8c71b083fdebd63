#include "tools/suishinctl/command_util.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "common/fiscal_year.h"
#include "common/proto_util.h"

namespace suishin::ctl {

std::string FlagName(absl::string_view name) {
  std::string out = absl::StrCat("--", name);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

std::string FlagValue(const Arguments& args, absl::string_view name) {
  const auto it = args.flags.find(std::string(name));
  return it == args.flags.end() ? "" : it->second;
}

absl::StatusOr<std::string> RequiredFlag(const Arguments& args, absl::string_view name,
                                         absl::string_view synopsis) {
  std::string value = FlagValue(args, name);
  if (value.empty()) {
    return UsageError(absl::StrCat(FlagName(name), " is required; usage: suishinctl ", synopsis));
  }
  return value;
}

absl::StatusOr<std::optional<int>> YearFlag(const Arguments& args, absl::string_view name) {
  const std::string text = FlagValue(args, name);
  if (text.empty()) return std::nullopt;
  absl::StatusOr<int> year = ParseFiscalYear(text);
  if (!year.ok()) return UsageError(absl::StrCat(FlagName(name), ": ", year.status().message()));
  return *year;
}

absl::StatusOr<std::optional<double>> NumberFlag(const Arguments& args, absl::string_view name) {
  const std::string text = FlagValue(args, name);
  if (text.empty()) return std::nullopt;
  double value = 0;
  // SimpleAtod takes "nan" and "inf"; they are numbers the service refuses
  // with its own message, so they pass here.
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(text), &value)) {
    return UsageError(absl::StrCat(FlagName(name), ": \"", text, "\" is not a number"));
  }
  return value;
}

absl::StatusOr<std::optional<int64_t>> IntegerFlag(const Arguments& args, absl::string_view name) {
  const std::string text = FlagValue(args, name);
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value)) {
    return UsageError(absl::StrCat(FlagName(name), ": \"", text, "\" is not a whole number"));
  }
  return value;
}

void PrintJson(const Environment& env, const google::protobuf::Message& message) {
  const std::string json = ToJson(message);
  *env.out << json;
  if (json.empty() || json.back() != '\n') *env.out << "\n";
}

namespace {

absl::Status WriteError(const std::string& path, int error) {
  const std::string message = absl::StrCat(path, ": cannot be written: ", std::strerror(error));
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
    case EROFS:
    case EISDIR:
      return absl::PermissionDeniedError(message);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace

absl::Status WriteOutputFile(const std::string& path, const std::string& bytes) {
  const std::string temporary = absl::StrCat(path, ".tmp");
  errno = 0;
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return WriteError(path, errno != 0 ? errno : EIO);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      const int error = errno != 0 ? errno : EIO;
      std::remove(temporary.c_str());
      return WriteError(path, error);
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    return WriteError(path, error);
  }
  return absl::OkStatus();
}

}  // namespace suishin::ctl
