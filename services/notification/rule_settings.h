// RuleSettings: the stored rule settings of notification-service, global
// (kpi_id "") and per-KPI overrides, as SetRule and ListRules see them.
// What a rule means, and how overrides merge, is rules.h's RuleBook.
//
// SetRule checks the rule alone on the calling thread (INVALID_ARGUMENT
// naming the field; `done` at once), then hands the writer a body that
// checks it merged with what it overlays and the count of overrides
// (RESOURCE_EXHAUSTED naming --max_rule_overrides) and stores it; once it
// is durable the writer raises the KPI ("" for all) on the rules-changed
// signal, and the follower evaluates it again. Thread-safe.
#ifndef SUISHIN_SERVICES_NOTIFICATION_RULE_SETTINGS_H_
#define SUISHIN_SERVICES_NOTIFICATION_RULE_SETTINGS_H_

#include "absl/status/status.h"
#include "services/notification/notification_store.h"
#include "services/notification/notification_writer.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

class RuleSettings {
 public:
  using Done = NotificationWriter::Done;

  struct Options {
    // Per-KPI rule overrides stored at most (--max_rule_overrides).
    int max_rule_overrides = 1000;
  };

  // `store` and `writer` must outlive this.
  RuleSettings(NotificationStore* store, NotificationWriter* writer, Options options)
      : store_(store), writer_(writer), options_(options) {}

  void SetRule(const v1::SetRuleRequest& request, v1::SetRuleResponse* response, Done done);
  // The effective rules (of one KPI when the request names it), in RuleKind
  // order.
  absl::Status ListRules(const v1::ListRulesRequest& request, v1::ListRulesResponse* response);

 private:
  NotificationStore* const store_;
  NotificationWriter* const writer_;
  const Options options_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_RULE_SETTINGS_H_
