// Checks shared by every service's request validation.
//
// Each returns OK or INVALID_ARGUMENT with a message that names the field
// and quotes the value, in one form everywhere:
//   region.id: must be lower-case letters, digits and '-', starting with a letter (got "Soya")
#ifndef SUISHIN_COMMON_VALIDATION_H_
#define SUISHIN_COMMON_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace suishin {

// INVALID_ARGUMENT "<field>: <problem> (got \"<value>\")".
absl::Status FieldError(absl::string_view field, absl::string_view value,
                        absl::string_view problem);

// A stable ASCII id: [a-z][a-z0-9-]*, at most 63 characters, not ending in '-'.
absl::Status ValidateId(absl::string_view field, absl::string_view id);

// Display text: valid UTF-8, not blank, at most `max_chars` characters, no
// control characters (C0 other than tab and line breaks, DEL, C1).
absl::Status ValidateText(absl::string_view field, absl::string_view text, size_t max_chars);

// A name (a region, a KPI, an author, a responsible body) or a text (a
// title, an overview, an initiative, a reason, a comment): ValidateText with
// the process's limit (common/limits.h), named with its flag when exceeded.
absl::Status ValidateName(absl::string_view field, absl::string_view text);
absl::Status ValidateLongText(absl::string_view field, absl::string_view text);

// A repeated field of a request: at most the process's --max_list_items.
absl::Status ValidateListSize(absl::string_view field, size_t size);

// A finite number (not NaN, not infinite).
absl::Status ValidateFinite(absl::string_view field, double value);

// A 全国地方公共団体コード: six digits whose last is the check digit
// ((11 − Σ digit×(6,5,4,3,2) mod 11) mod 10).
absl::Status ValidateLocalGovernmentCode(absl::string_view field, absl::string_view code);

// The page size to use: `requested` if 1..1000, 100 if 0, else an error.
absl::StatusOr<int> EffectivePageSize(absl::string_view field, int requested);

// True when `text` is well-formed UTF-8.
bool IsValidUtf8(absl::string_view text);

// Number of Unicode code points in well-formed UTF-8 `text`.
size_t Utf8Length(absl::string_view text);

}  // namespace suishin

#endif  // SUISHIN_COMMON_VALIDATION_H_
