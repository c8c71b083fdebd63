#include "services/notification/alerts.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/notification/alert_filter.h"
#include "services/notification/book_util.h"
#include "services/notification/event_log.h"
#include "services/notification/rules.h"
#include "services/notification/silences.h"

namespace suishin::notification {

namespace {

using Body = NotificationStore::Body;

absl::Status AlertNotFound(absl::string_view fingerprint) {
  return absl::NotFoundError(absl::StrCat("fingerprint: alert \"", fingerprint, "\" not found"));
}

// "acknowledged by 上川総合振興局 (kamikawa-officer)": the display name and
// the principal, for the alert's history.
std::string AcknowledgedBy(const v1::Acknowledgement& ack) {
  std::string by = ack.author().empty() ? ack.principal() : ack.author();
  if (!ack.author().empty() && !ack.principal().empty()) {
    absl::StrAppend(&by, " (", ack.principal(), ")");
  }
  return absl::StrCat("acknowledged", by.empty() ? "" : " by ", by);
}

// The evaluation of `subjects` at `now` (see Alerts::Evaluate).
absl::Status EvaluateSubjects(NotificationTransaction& tx, const std::vector<Subject>& subjects,
                              absl::Time now, WriteOutcome& outcome) {
  ASSIGN_OR_RETURN(std::vector<v1::Rule> stored_rules, tx.Rules());
  const RuleBook rules(std::move(stored_rules));
  ASSIGN_OR_RETURN(std::vector<v1::Silence> silences, ActiveSilences(tx, now));
  ASSIGN_OR_RETURN(std::vector<v1::Webhook> webhooks, tx.Webhooks());
  for (const Subject& subject : subjects) {
    const kpi::v1::Kpi& kpi = *subject.kpi;
    ASSIGN_OR_RETURN(std::vector<v1::Alert> existing, tx.AlertsOf(kpi.id(), subject.region_id));
    std::map<v1::RuleKind, v1::Alert> by_rule;
    for (v1::Alert& alert : existing) by_rule[alert.rule()] = std::move(alert);
    EvaluationInput in;
    in.kpi = &kpi;
    in.region_id = subject.region_id;
    in.progress = &subject.progress;
    in.reports = !subject.progress.computed_from_children();
    in.now = now;
    in.firing = [&by_rule](v1::RuleKind kind) {
      auto it = by_rule.find(kind);
      return it != by_rule.end() && it->second.state() == v1::ALERT_STATE_FIRING;
    };
    std::map<v1::RuleKind, Condition> holding;
    for (Condition& condition : notification::Evaluate(in, rules)) {
      holding[condition.rule] = std::move(condition);
    }
    std::set<v1::RuleKind> kinds;
    for (const auto& [kind, alert] : by_rule) kinds.insert(kind);
    for (const auto& [kind, condition] : holding) kinds.insert(kind);
    for (v1::RuleKind kind : kinds) {
      auto found = by_rule.find(kind);
      auto holds = holding.find(kind);
      const bool firing = found != by_rule.end() && found->second.state() == v1::ALERT_STATE_FIRING;
      if (holds == holding.end()) {
        if (!firing) continue;
        v1::Alert alert = found->second;  // stopped holding: resolve
        alert.set_state(v1::ALERT_STATE_RESOLVED);
        *alert.mutable_end_time() = ToProtoTimestamp(now);
        ApplySilences(silences, now, alert);
        RETURN_IF_ERROR(tx.PutAlert(alert));
        RETURN_IF_ERROR(RecordTransition(tx, v1::EVENT_KIND_RESOLVED, alert, now, "resolved",
                                         webhooks, outcome));
        outcome.changed.push_back(std::move(alert));
        continue;
      }
      const Condition& condition = holds->second;
      if (firing) {
        v1::Alert alert = found->second;  // still holding: refresh the figures
        const bool severity_changed = alert.severity() != condition.severity;
        const bool values_changed =
            alert.values().SerializeAsString() != condition.values.SerializeAsString() ||
            alert.summary() != condition.summary;
        const bool silence_changed = ApplySilences(silences, now, alert);
        if (!severity_changed && !values_changed && !silence_changed) continue;
        alert.set_severity(condition.severity);
        *alert.mutable_values() = condition.values;
        alert.set_summary(condition.summary);
        RETURN_IF_ERROR(tx.PutAlert(alert));
        if (severity_changed) {
          RETURN_IF_ERROR(RecordTransition(tx, v1::EVENT_KIND_SEVERITY_CHANGED, alert, now,
                                           "severity changed", webhooks, outcome));
        }
        outcome.changed.push_back(std::move(alert));
        continue;
      }
      v1::Alert alert;  // started holding: fire
      alert.set_fingerprint(Fingerprint(kind, kpi.id(), subject.region_id));
      alert.set_rule(kind);
      alert.set_kpi_id(kpi.id());
      alert.set_region_id(subject.region_id);
      alert.set_severity(condition.severity);
      alert.set_state(v1::ALERT_STATE_FIRING);
      *alert.mutable_start_time() = ToProtoTimestamp(now);
      *alert.mutable_values() = condition.values;
      alert.set_summary(condition.summary);
      ApplySilences(silences, now, alert);
      RETURN_IF_ERROR(tx.PutAlert(alert));
      RETURN_IF_ERROR(RecordTransition(tx, v1::EVENT_KIND_FIRED, alert, now,
                                       alert.silenced() ? "fired (silenced)" : "fired", webhooks,
                                       outcome));
      outcome.changed.push_back(std::move(alert));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Alerts::Evaluate(std::vector<Subject> subjects, int64_t next_sequence) {
  const absl::Time now = clock_->Now();
  auto outcome = std::make_shared<WriteOutcome>();
  return writer_->SubmitAndWait(
      [&subjects, next_sequence, now, outcome](NotificationTransaction& tx) -> absl::Status {
        RETURN_IF_ERROR(EvaluateSubjects(tx, subjects, now, *outcome));
        if (next_sequence > 0) RETURN_IF_ERROR(tx.SetCursor(next_sequence));
        return absl::OkStatus();
      },
      outcome);
}

absl::Status Alerts::ListAlerts(const v1::ListAlertsRequest& request,
                                v1::ListAlertsResponse* response) {
  RETURN_IF_ERROR(ValidateFilter("filter", request.filter()));
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t offset, DecodePageToken("page_token", request.page_token()));
  std::optional<std::vector<v1::Alert>> alerts;
  // One region's active alerts: the Redis mirror answers without SQLite.
  if (mirror_ != nullptr && request.filter().region_ids_size() == 1 &&
      !request.include_resolved()) {
    alerts = mirror_->RegionAlerts(request.filter().region_ids(0));
  }
  if (!alerts) {
    alerts.emplace();
    RETURN_IF_ERROR(store_->Read([&](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(*alerts, tx.Alerts(request.include_resolved()));
      return absl::OkStatus();
    }));
  }
  std::vector<v1::Alert> matching;
  for (v1::Alert& alert : *alerts) {
    if (Matches(request.filter(), alert)) matching.push_back(std::move(alert));
  }
  // The page token carries a position in this order.
  const size_t begin = std::min(static_cast<size_t>(offset), matching.size());
  const size_t end = std::min(matching.size(), begin + page_size);
  for (size_t i = begin; i < end; ++i) *response->add_alerts() = std::move(matching[i]);
  if (end < matching.size()) response->set_next_page_token(EncodePageToken(end));
  return absl::OkStatus();
}

absl::Status Alerts::GetAlert(const v1::GetAlertRequest& request, v1::GetAlertResponse* response) {
  if (request.fingerprint().empty()) return FieldError("fingerprint", "", "is required");
  ASSIGN_OR_RETURN(int page_size,
                   EffectivePageSize("history_page_size", request.history_page_size()));
  ASSIGN_OR_RETURN(int64_t after,
                   DecodePageToken("history_page_token", request.history_page_token()));
  return store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Alert> alert, tx.FindAlert(request.fingerprint()));
    if (!alert) return AlertNotFound(request.fingerprint());
    ASSIGN_OR_RETURN(std::vector<Keyed<v1::AlertHistoryEntry>> history,
                     tx.History(request.fingerprint(), after, page_size + 1));
    FillPage(
        history, page_size,
        [&](v1::AlertHistoryEntry entry) { *alert->add_history() = std::move(entry); },
        response->mutable_next_history_page_token());
    *response->mutable_alert() = *std::move(alert);
    return absl::OkStatus();
  });
}

void Alerts::AcknowledgeAlert(const v1::AcknowledgeAlertRequest& request,
                              v1::AcknowledgeAlertResponse* response, Done done, std::string by) {
  auto outcome = std::make_shared<WriteOutcome>();
  auto prepare = [&]() -> absl::StatusOr<Body> {
    if (request.fingerprint().empty()) return FieldError("fingerprint", "", "is required");
    RETURN_IF_ERROR(ValidateName("author", request.author()));
    if (!request.comment().empty()) RETURN_IF_ERROR(ValidateLongText("comment", request.comment()));
    v1::Acknowledgement ack;
    ack.set_author(request.author());
    ack.set_principal(by);
    ack.set_comment(request.comment());
    const absl::Time now = clock_->Now();
    *ack.mutable_time() = ToProtoTimestamp(now);
    return Body([fingerprint = request.fingerprint(), ack = std::move(ack), now, outcome,
                 response](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::optional<v1::Alert> alert, tx.FindAlert(fingerprint));
      if (!alert) return AlertNotFound(fingerprint);
      *alert->mutable_acknowledgement() = ack;
      RETURN_IF_ERROR(tx.PutAlert(*alert));
      ASSIGN_OR_RETURN(std::vector<v1::Webhook> webhooks, tx.Webhooks());
      RETURN_IF_ERROR(RecordTransition(tx, v1::EVENT_KIND_ACKNOWLEDGED, *alert, now,
                                       AcknowledgedBy(ack), webhooks, *outcome));
      outcome->changed.push_back(*alert);
      *response->mutable_alert() = *std::move(alert);
      return absl::OkStatus();
    });
  };
  writer_->Submit(prepare(), outcome, std::move(done));
}

}  // namespace suishin::notification
