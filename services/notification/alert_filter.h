// Which alerts a filter, a matcher or a fingerprint names: the words every
// room of notification-service shares (Subscribe, ListAlerts and webhooks
// filter; silences match; alerts are keyed by fingerprint).
#ifndef SUISHIN_SERVICES_NOTIFICATION_ALERT_FILTER_H_
#define SUISHIN_SERVICES_NOTIFICATION_ALERT_FILTER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/sequence_feed.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

// The fingerprint of an alert: a stable digest of rule, KPI and region.
std::string Fingerprint(v1::RuleKind rule, absl::string_view kpi_id, absl::string_view region_id);

// True when `filter` matches the alert (each list any-of, lists AND-ed).
bool Matches(const v1::AlertFilter& filter, const v1::Alert& alert);

// Validates a filter (Subscribe, ListAlerts, a webhook's): known enum
// values, ids, and at most --max_list_items values per list. `field` names
// it in the error ("filter", "webhook.filter"; "" for a request's top level).
absl::Status ValidateFilter(absl::string_view field, const v1::AlertFilter& filter);

// Which published events a stream with `filter` wants (empty: all), judged
// from the labels the feed carries, as Matches judges the alert.
SequenceFeed::Wants FilterWants(const v1::AlertFilter& filter);

// "LAGGING" for RULE_KIND_LAGGING, "WARNING" for SEVERITY_WARNING: the names
// matchers and people use.
std::string RuleName(v1::RuleKind kind);
std::string SeverityName(v1::Severity severity);

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_ALERT_FILTER_H_
