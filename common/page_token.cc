#include "common/page_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/validation.h"

namespace suishin {
namespace {
constexpr absl::string_view kPrefix = "after:";
}  // namespace

std::string EncodePageToken(int64_t last_key) {
  return absl::WebSafeBase64Escape(absl::StrCat(kPrefix, last_key));
}

absl::StatusOr<int64_t> DecodePageToken(absl::string_view field, absl::string_view token) {
  if (token.empty()) return 0;
  std::string raw;
  int64_t key = 0;
  if (!absl::WebSafeBase64Unescape(token, &raw) || !absl::StartsWith(raw, kPrefix) ||
      !absl::SimpleAtoi(absl::string_view(raw).substr(kPrefix.size()), &key) || key <= 0 ||
      EncodePageToken(key) != token) {
    return FieldError(field, token, "is not a page token this service issued");
  }
  return key;
}

}  // namespace suishin
