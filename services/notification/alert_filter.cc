#include "services/notification/alert_filter.h"

#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace suishin::notification {

namespace {

std::string ShortName(absl::string_view full, absl::string_view prefix) {
  return std::string(absl::StripPrefix(full, prefix));
}

// Each list any-of (empty: anything), lists AND-ed: Matches and FilterWants
// alike.
template <typename List, typename Value>
bool AnyOf(const List& list, const Value& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

bool FilterMatches(const v1::AlertFilter& filter, absl::string_view region_id,
                   absl::string_view kpi_id, int severity, int rule) {
  return AnyOf(filter.region_ids(), region_id) && AnyOf(filter.kpi_ids(), kpi_id) &&
         AnyOf(filter.severities(), severity) && AnyOf(filter.rules(), rule);
}

}  // namespace

std::string RuleName(v1::RuleKind kind) { return ShortName(v1::RuleKind_Name(kind), "RULE_KIND_"); }

std::string SeverityName(v1::Severity severity) {
  return ShortName(v1::Severity_Name(severity), "SEVERITY_");
}

std::string Fingerprint(v1::RuleKind rule, absl::string_view kpi_id, absl::string_view region_id) {
  const std::string key = absl::StrCat(RuleName(rule), "\n", kpi_id, "\n", region_id);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), 8));  // 16 hex digits
}

bool Matches(const v1::AlertFilter& filter, const v1::Alert& alert) {
  return FilterMatches(filter, alert.region_id(), alert.kpi_id(), alert.severity(), alert.rule());
}

absl::Status ValidateFilter(absl::string_view field, const v1::AlertFilter& filter) {
  const std::string prefix = field.empty() ? "" : absl::StrCat(field, ".");
  RETURN_IF_ERROR(ValidateListSize(absl::StrCat(prefix, "region_ids"), filter.region_ids_size()));
  RETURN_IF_ERROR(ValidateListSize(absl::StrCat(prefix, "kpi_ids"), filter.kpi_ids_size()));
  RETURN_IF_ERROR(ValidateListSize(absl::StrCat(prefix, "severities"), filter.severities_size()));
  RETURN_IF_ERROR(ValidateListSize(absl::StrCat(prefix, "rules"), filter.rules_size()));
  for (int i = 0; i < filter.region_ids_size(); ++i) {
    RETURN_IF_ERROR(ValidateId(absl::StrCat(prefix, "region_ids[", i, "]"), filter.region_ids(i)));
  }
  for (int i = 0; i < filter.kpi_ids_size(); ++i) {
    RETURN_IF_ERROR(ValidateId(absl::StrCat(prefix, "kpi_ids[", i, "]"), filter.kpi_ids(i)));
  }
  for (int i = 0; i < filter.severities_size(); ++i) {
    if (!v1::Severity_IsValid(filter.severities(i)) || filter.severities(i) == 0) {
      return FieldError(absl::StrCat(prefix, "severities[", i, "]"),
                        absl::StrCat(filter.severities(i)), "is not a severity");
    }
  }
  for (int i = 0; i < filter.rules_size(); ++i) {
    if (!v1::RuleKind_IsValid(filter.rules(i)) || filter.rules(i) == 0) {
      return FieldError(absl::StrCat(prefix, "rules[", i, "]"), absl::StrCat(filter.rules(i)),
                        "is not a rule");
    }
  }
  return absl::OkStatus();
}

SequenceFeed::Wants FilterWants(const v1::AlertFilter& filter) {
  if (filter.region_ids().empty() && filter.kpi_ids().empty() && filter.severities().empty() &&
      filter.rules().empty()) {
    return nullptr;
  }
  return [filter](const FeedEntry& entry) {
    return FilterMatches(filter, entry.region_id, entry.kpi_id, entry.severity, entry.rule);
  };
}

}  // namespace suishin::notification
