#include "services/notification/alert_book.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/page_token.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/notification/webhook_signer.h"

namespace suishin::notification {
namespace {

constexpr size_t kMaxAuthorChars = 100;
constexpr size_t kMaxCommentChars = 1000;
constexpr size_t kMaxUrlChars = 2000;

// "LAGGING" for RULE_KIND_LAGGING: the names matchers and people use.
std::string ShortName(absl::string_view full, absl::string_view prefix) {
  return std::string(absl::StripPrefix(full, prefix));
}
std::string RuleName(v1::RuleKind kind) { return ShortName(v1::RuleKind_Name(kind), "RULE_KIND_"); }
std::string SeverityName(v1::Severity severity) {
  return ShortName(v1::Severity_Name(severity), "SEVERITY_");
}

bool Active(const v1::Silence& silence, absl::Time now) {
  return silence.active() && FromProtoTimestamp(silence.start_time()) <= now &&
         now < FromProtoTimestamp(silence.end_time());
}

bool SilenceMatches(const v1::Silence& silence, const v1::Alert& alert) {
  for (const v1::Matcher& matcher : silence.matchers()) {
    std::string value;
    switch (matcher.field()) {
      case v1::MATCHER_FIELD_RULE:
        value = RuleName(alert.rule());
        break;
      case v1::MATCHER_FIELD_KPI:
        value = alert.kpi_id();
        break;
      case v1::MATCHER_FIELD_REGION:
        value = alert.region_id();
        break;
      case v1::MATCHER_FIELD_SEVERITY:
        value = SeverityName(alert.severity());
        break;
      default:
        return false;
    }
    if (value != matcher.value()) return false;
  }
  return !silence.matchers().empty();
}

// Sets alert.silenced and silence_ids from the active silences; true when
// `silenced` changed.
bool ApplySilences(const std::vector<v1::Silence>& silences, absl::Time now, v1::Alert& alert) {
  const bool was = alert.silenced();
  alert.clear_silence_ids();
  for (const v1::Silence& silence : silences) {
    if (Active(silence, now) && SilenceMatches(silence, alert)) alert.add_silence_ids(silence.id());
  }
  alert.set_silenced(alert.silence_ids_size() > 0);
  return was != alert.silenced();
}

absl::string_view EventType(v1::EventKind kind) {
  switch (kind) {
    case v1::EVENT_KIND_FIRED:
      return "alert.fired";
    case v1::EVENT_KIND_RESOLVED:
      return "alert.resolved";
    case v1::EVENT_KIND_ACKNOWLEDGED:
      return "alert.acknowledged";
    case v1::EVENT_KIND_SEVERITY_CHANGED:
      return "alert.severity_changed";
    default:
      return "alert.unknown";
  }
}

std::string NewId(absl::string_view prefix) {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen;
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%s-%012x", prefix, absl::Uniform<uint64_t>(*gen) & 0xffffffffffffULL);
}

// What one unit of work changed, for after the commit.
struct Outcome {
  std::vector<v1::Alert> changed;
  int64_t last_event = 0;
  bool outbox_added = false;
};

// Records `kind` for `alert` (as it now is): an event, unless a silence holds
// it, and an outbox entry per webhook that wants it.
absl::Status RecordEvent(NotificationTransaction& tx, v1::EventKind kind, const v1::Alert& alert,
                         absl::Time now, const std::vector<v1::Webhook>& webhooks,
                         Outcome& outcome) {
  if (alert.silenced()) return absl::OkStatus();
  v1::AlertEvent event;
  event.set_kind(kind);
  *event.mutable_time() = ToProtoTimestamp(now);
  *event.mutable_alert() = alert;
  event.mutable_alert()->clear_history();
  ASSIGN_OR_RETURN(int64_t id, tx.AppendEvent(event));
  event.set_id(id);
  outcome.last_event = id;
  std::string payload;
  for (const v1::Webhook& webhook : webhooks) {
    if (!Matches(webhook.filter(), alert)) continue;
    if (payload.empty()) {
      // Standard Webhooks' payload shape: type, timestamp, data.
      payload = absl::StrCat("{\"type\":\"", EventType(kind), "\",\"timestamp\":\"",
                             absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone()),
                             "\",\"data\":", ToJson(event, /*compact=*/true), "}");
    }
    Delivery delivery;
    delivery.webhook_id = webhook.id();
    delivery.event_id = id;
    delivery.payload = payload;
    delivery.next_attempt = now;
    RETURN_IF_ERROR(tx.AddDelivery(delivery));
    outcome.outbox_added = true;
  }
  return absl::OkStatus();
}

v1::AlertHistoryEntry HistoryEntry(const v1::Alert& alert, absl::Time now, absl::string_view note) {
  v1::AlertHistoryEntry entry;
  *entry.mutable_time() = ToProtoTimestamp(now);
  entry.set_state(alert.state());
  entry.set_severity(alert.severity());
  *entry.mutable_values() = alert.values();
  entry.set_note(std::string(note));
  return entry;
}

absl::StatusOr<std::vector<v1::Silence>> ActiveSilences(NotificationTransaction& tx,
                                                        absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<v1::Silence> silences, tx.Silences());
  std::vector<v1::Silence> active;
  for (v1::Silence& silence : silences) {
    if (Active(silence, now)) active.push_back(std::move(silence));
  }
  return active;
}

absl::Status ValidateMatcher(absl::string_view field, const v1::Matcher& matcher) {
  switch (matcher.field()) {
    case v1::MATCHER_FIELD_RULE: {
      v1::RuleKind kind;
      if (!v1::RuleKind_Parse(absl::StrCat("RULE_KIND_", matcher.value()), &kind) ||
          kind == v1::RULE_KIND_UNSPECIFIED) {
        return FieldError(absl::StrCat(field, ".value"), matcher.value(),
                          "is not a rule (LAGGING, BELOW_THRESHOLD, DECLINING, STAGNANT, "
                          "MISSING, ACHIEVED)");
      }
      return absl::OkStatus();
    }
    case v1::MATCHER_FIELD_SEVERITY: {
      v1::Severity severity;
      if (!v1::Severity_Parse(absl::StrCat("SEVERITY_", matcher.value()), &severity) ||
          severity == v1::SEVERITY_UNSPECIFIED) {
        return FieldError(absl::StrCat(field, ".value"), matcher.value(),
                          "is not a severity (INFO, WARNING, CRITICAL)");
      }
      return absl::OkStatus();
    }
    case v1::MATCHER_FIELD_KPI:
    case v1::MATCHER_FIELD_REGION:
      return ValidateId(absl::StrCat(field, ".value"), matcher.value());
    default:
      return FieldError(absl::StrCat(field, ".field"), absl::StrCat(matcher.field()),
                        "must be RULE, KPI, REGION or SEVERITY");
  }
}

}  // namespace

std::string Fingerprint(v1::RuleKind rule, absl::string_view kpi_id, absl::string_view region_id) {
  const std::string key = absl::StrCat(RuleName(rule), "\n", kpi_id, "\n", region_id);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), 8));  // 16 hex digits
}

bool Matches(const v1::AlertFilter& filter, const v1::Alert& alert) {
  auto any = [](const auto& list, const auto& value) {
    return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
  };
  return any(filter.region_ids(), alert.region_id()) && any(filter.kpi_ids(), alert.kpi_id()) &&
         any(filter.severities(), alert.severity()) && any(filter.rules(), alert.rule());
}

absl::Status AlertBook::ValidateFilter(const v1::AlertFilter& filter) {
  for (int i = 0; i < filter.region_ids_size(); ++i) {
    RETURN_IF_ERROR(ValidateId(absl::StrCat("filter.region_ids[", i, "]"), filter.region_ids(i)));
  }
  for (int i = 0; i < filter.kpi_ids_size(); ++i) {
    RETURN_IF_ERROR(ValidateId(absl::StrCat("filter.kpi_ids[", i, "]"), filter.kpi_ids(i)));
  }
  for (int i = 0; i < filter.severities_size(); ++i) {
    if (!v1::Severity_IsValid(filter.severities(i)) || filter.severities(i) == 0) {
      return FieldError(absl::StrCat("filter.severities[", i, "]"),
                        absl::StrCat(filter.severities(i)), "is not a severity");
    }
  }
  for (int i = 0; i < filter.rules_size(); ++i) {
    if (!v1::RuleKind_IsValid(filter.rules(i)) || filter.rules(i) == 0) {
      return FieldError(absl::StrCat("filter.rules[", i, "]"), absl::StrCat(filter.rules(i)),
                        "is not a rule");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AlertBook>> AlertBook::Create(NotificationStore* store,
                                                             const Clock* clock, RedisClient* redis,
                                                             Hooks hooks) {
  std::unique_ptr<AlertBook> book(new AlertBook(store, clock, redis, std::move(hooks)));
  int64_t last_event = 0;
  RETURN_IF_ERROR(store->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(last_event, tx.LastEventId());
    ASSIGN_OR_RETURN(std::vector<v1::Silence> silences, tx.Silences());
    book->any_silence_ = !silences.empty();
    return absl::OkStatus();
  }));
  book->events_.Published(last_event);
  book->RefillMirror();
  return book;
}

AlertBook::AlertBook(NotificationStore* store, const Clock* clock, RedisClient* redis, Hooks hooks)
    : store_(store), clock_(clock), redis_(redis), hooks_(std::move(hooks)) {}

namespace {
// Present while the Redis mirror holds every firing alert; gone after Redis
// restarts empty, which sends readers back to SQLite until it is refilled.
constexpr char kMirrorMarker[] = "suishin:alerts:ready";
}  // namespace

bool AlertBook::RefillMirror() {
  if (redis_ == nullptr) return false;
  std::vector<v1::Alert> alerts;
  if (!store_
           ->Run([&](NotificationTransaction& tx) -> absl::Status {
             ASSIGN_OR_RETURN(alerts, tx.Alerts(/*include_resolved=*/true));
             return absl::OkStatus();
           })
           .ok()) {
    return false;
  }
  std::vector<std::vector<std::string>> commands = {{"MULTI"}};
  std::set<std::string> regions;
  for (const v1::Alert& alert : alerts) regions.insert(alert.region_id());
  for (const std::string& region : regions) {
    commands.push_back({"DEL", absl::StrCat("suishin:alerts:", region)});
  }
  for (const v1::Alert& alert : alerts) {
    if (alert.state() != v1::ALERT_STATE_FIRING) continue;
    commands.push_back({"HSET", absl::StrCat("suishin:alerts:", alert.region_id()),
                        alert.fingerprint(), alert.SerializeAsString()});
  }
  commands.push_back({"SET", kMirrorMarker, "1"});
  commands.push_back({"EXEC"});
  if (!redis_->Pipeline(commands).ok()) {
    ++redis_errors_;
    return false;
  }
  mirror_stale_ = false;
  return true;
}

void AlertBook::MirrorInRedis(const std::vector<v1::Alert>& alerts) {
  if (redis_ == nullptr || alerts.empty()) return;
  std::vector<std::vector<std::string>> commands;
  for (const v1::Alert& alert : alerts) {
    const std::string key = absl::StrCat("suishin:alerts:", alert.region_id());
    if (alert.state() == v1::ALERT_STATE_FIRING) {
      commands.push_back({"HSET", key, alert.fingerprint(), alert.SerializeAsString()});
    } else {
      commands.push_back({"HDEL", key, alert.fingerprint()});
    }
  }
  if (!redis_->Pipeline(commands).ok()) {
    ++redis_errors_;
    mirror_stale_ = true;
  }
}

void AlertBook::Published(const std::vector<v1::Alert>& changed, int64_t last_event,
                          bool outbox_added) {
  // Subscribers first: the Redis round trip is not on an event's path.
  if (last_event > 0) events_.Published(last_event);
  MirrorInRedis(changed);
  if (last_event > 0) {
    // Other replicas learn of new events here (fan-out).
    if (redis_ != nullptr &&
        !redis_->Command({"PUBLISH", "suishin:alert-events", absl::StrCat(last_event)}).ok()) {
      ++redis_errors_;
    }
  }
  if (outbox_added) hooks_.outbox_added();
}

absl::StatusOr<int64_t> AlertBook::Cursor() {
  int64_t cursor = 1;
  RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(cursor, tx.Cursor());
    return absl::OkStatus();
  }));
  return cursor;
}

absl::Status AlertBook::Evaluate(const std::vector<Subject>& subjects, int64_t next_sequence) {
  const absl::Time now = clock_->Now();
  Outcome outcome;
  RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::Rule> stored_rules, tx.Rules());
    const RuleBook rules(std::move(stored_rules));
    ASSIGN_OR_RETURN(std::vector<v1::Silence> silences, ActiveSilences(tx, now));
    ASSIGN_OR_RETURN(std::vector<v1::Webhook> webhooks, tx.Webhooks());
    for (const Subject& subject : subjects) {
      const kpi::v1::Kpi& kpi = subject.kpi;
      ASSIGN_OR_RETURN(std::vector<v1::Alert> existing, tx.AlertsOf(kpi.id(), subject.region_id));
      std::map<v1::RuleKind, v1::Alert> by_rule;
      for (v1::Alert& alert : existing) by_rule[alert.rule()] = std::move(alert);
      EvaluationInput in;
      in.kpi = &kpi;
      in.region_id = subject.region_id;
      in.progress = &subject.progress;
      in.reports = !(subject.region_id == kpi.area_id() &&
                     kpi.aggregation() != kpi::v1::AGGREGATION_RULE_REPORTED);
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
        const bool firing =
            found != by_rule.end() && found->second.state() == v1::ALERT_STATE_FIRING;
        if (holds == holding.end()) {
          if (!firing) continue;
          v1::Alert alert = found->second;  // stopped holding: resolve
          alert.set_state(v1::ALERT_STATE_RESOLVED);
          *alert.mutable_end_time() = ToProtoTimestamp(now);
          ApplySilences(silences, now, alert);
          RETURN_IF_ERROR(tx.PutAlert(alert));
          RETURN_IF_ERROR(
              tx.AppendHistory(alert.fingerprint(), HistoryEntry(alert, now, "resolved")));
          RETURN_IF_ERROR(RecordEvent(tx, v1::EVENT_KIND_RESOLVED, alert, now, webhooks, outcome));
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
            RETURN_IF_ERROR(tx.AppendHistory(alert.fingerprint(),
                                             HistoryEntry(alert, now, "severity changed")));
            RETURN_IF_ERROR(
                RecordEvent(tx, v1::EVENT_KIND_SEVERITY_CHANGED, alert, now, webhooks, outcome));
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
        RETURN_IF_ERROR(tx.AppendHistory(
            alert.fingerprint(),
            HistoryEntry(alert, now, alert.silenced() ? "fired (silenced)" : "fired")));
        RETURN_IF_ERROR(RecordEvent(tx, v1::EVENT_KIND_FIRED, alert, now, webhooks, outcome));
        outcome.changed.push_back(std::move(alert));
      }
    }
    if (next_sequence > 0) RETURN_IF_ERROR(tx.SetCursor(next_sequence));
    return absl::OkStatus();
  }));
  Published(outcome.changed, outcome.last_event, outcome.outbox_added);
  return absl::OkStatus();
}

absl::Status AlertBook::ReleaseEndedSilences() {
  if (!any_silence_) return absl::OkStatus();  // the common case: nothing to look at
  const absl::Time now = clock_->Now();
  Outcome outcome;
  RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::Silence> silences, ActiveSilences(tx, now));
    ASSIGN_OR_RETURN(std::vector<v1::Webhook> webhooks, tx.Webhooks());
    ASSIGN_OR_RETURN(std::vector<v1::Alert> firing, tx.Alerts(/*include_resolved=*/false));
    for (v1::Alert& alert : firing) {
      const bool was_silenced = alert.silenced();
      if (!ApplySilences(silences, now, alert)) continue;
      RETURN_IF_ERROR(tx.PutAlert(alert));
      if (was_silenced && !alert.silenced()) {
        RETURN_IF_ERROR(
            tx.AppendHistory(alert.fingerprint(), HistoryEntry(alert, now, "silence ended")));
        RETURN_IF_ERROR(RecordEvent(tx, v1::EVENT_KIND_FIRED, alert, now, webhooks, outcome));
      }
      outcome.changed.push_back(alert);
    }
    return absl::OkStatus();
  }));
  Published(outcome.changed, outcome.last_event, outcome.outbox_added);
  return absl::OkStatus();
}

absl::Status AlertBook::ListAlerts(const v1::ListAlertsRequest& request,
                                   v1::ListAlertsResponse* response) {
  RETURN_IF_ERROR(ValidateFilter(request.filter()));
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t offset, DecodePageToken("page_token", request.page_token()));
  std::vector<v1::Alert> alerts;
  bool from_redis = false;
  // One region's active alerts: the Redis mirror answers without SQLite.
  if (redis_ != nullptr && request.filter().region_ids_size() == 1 && !request.include_resolved() &&
      (!mirror_stale_ || RefillMirror())) {
    absl::StatusOr<std::vector<RedisReply>> replies = redis_->Pipeline(
        {{"EXISTS", kMirrorMarker},
         {"HVALS", absl::StrCat("suishin:alerts:", request.filter().region_ids(0))}});
    if (replies.ok() && (*replies)[0].integer == 0) {
      // Redis came back empty: refill it and answer from SQLite this time.
      mirror_stale_ = true;
      RefillMirror();
    } else if (replies.ok() && (*replies)[1].type == RedisReply::Type::kArray) {
      const RedisReply* reply = &(*replies)[1];
      from_redis = true;
      for (const RedisReply& element : reply->elements) {
        v1::Alert alert;
        if (!alert.ParseFromString(element.str)) {
          from_redis = false;
          break;
        }
        alerts.push_back(std::move(alert));
      }
      std::sort(alerts.begin(), alerts.end(), [](const v1::Alert& a, const v1::Alert& b) {
        return std::tie(a.kpi_id(), a.region_id(), a.fingerprint()) <
               std::tie(b.kpi_id(), b.region_id(), b.fingerprint());
      });
    } else if (!replies.ok()) {
      ++redis_errors_;
      mirror_stale_ = true;
    }
  }
  if (!from_redis) {
    alerts.clear();
    RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(alerts, tx.Alerts(request.include_resolved()));
      return absl::OkStatus();
    }));
  }
  std::vector<v1::Alert> matching;
  for (v1::Alert& alert : alerts) {
    if (Matches(request.filter(), alert)) matching.push_back(std::move(alert));
  }
  const size_t begin = static_cast<size_t>(offset);
  const size_t end = std::min(matching.size(), begin + page_size);
  for (size_t i = begin; i < end; ++i) *response->add_alerts() = std::move(matching[i]);
  if (end < matching.size()) response->set_next_page_token(EncodePageToken(end));
  return absl::OkStatus();
}

absl::Status AlertBook::GetAlert(const v1::GetAlertRequest& request,
                                 v1::GetAlertResponse* response) {
  if (request.fingerprint().empty()) return FieldError("fingerprint", "", "is required");
  return store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Alert> alert, tx.FindAlert(request.fingerprint()));
    if (!alert) {
      return absl::NotFoundError(
          absl::StrCat("fingerprint: alert \"", request.fingerprint(), "\" not found"));
    }
    ASSIGN_OR_RETURN(std::vector<v1::AlertHistoryEntry> history, tx.History(request.fingerprint()));
    for (auto& entry : history) *alert->add_history() = std::move(entry);
    *response->mutable_alert() = *std::move(alert);
    return absl::OkStatus();
  });
}

absl::Status AlertBook::AcknowledgeAlert(const v1::AcknowledgeAlertRequest& request,
                                         v1::AcknowledgeAlertResponse* response) {
  if (request.fingerprint().empty()) return FieldError("fingerprint", "", "is required");
  RETURN_IF_ERROR(ValidateText("author", request.author(), kMaxAuthorChars));
  if (!request.comment().empty()) {
    RETURN_IF_ERROR(ValidateText("comment", request.comment(), kMaxCommentChars));
  }
  const absl::Time now = clock_->Now();
  Outcome outcome;
  RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Alert> alert, tx.FindAlert(request.fingerprint()));
    if (!alert) {
      return absl::NotFoundError(
          absl::StrCat("fingerprint: alert \"", request.fingerprint(), "\" not found"));
    }
    alert->mutable_acknowledgement()->set_author(request.author());
    alert->mutable_acknowledgement()->set_comment(request.comment());
    *alert->mutable_acknowledgement()->mutable_time() = ToProtoTimestamp(now);
    RETURN_IF_ERROR(tx.PutAlert(*alert));
    RETURN_IF_ERROR(tx.AppendHistory(
        alert->fingerprint(),
        HistoryEntry(*alert, now, absl::StrCat("acknowledged by ", request.author()))));
    ASSIGN_OR_RETURN(std::vector<v1::Webhook> webhooks, tx.Webhooks());
    RETURN_IF_ERROR(RecordEvent(tx, v1::EVENT_KIND_ACKNOWLEDGED, *alert, now, webhooks, outcome));
    outcome.changed.push_back(*alert);
    *response->mutable_alert() = *std::move(alert);
    return absl::OkStatus();
  }));
  Published(outcome.changed, outcome.last_event, outcome.outbox_added);
  return absl::OkStatus();
}

absl::Status AlertBook::CreateSilence(const v1::CreateSilenceRequest& request,
                                      v1::CreateSilenceResponse* response) {
  v1::Silence silence = request.silence();
  if (silence.matchers().empty()) {
    return FieldError("silence.matchers", "", "must have at least one matcher");
  }
  for (int i = 0; i < silence.matchers_size(); ++i) {
    RETURN_IF_ERROR(
        ValidateMatcher(absl::StrCat("silence.matchers[", i, "]"), silence.matchers(i)));
  }
  RETURN_IF_ERROR(ValidateText("silence.author", silence.author(), kMaxAuthorChars));
  RETURN_IF_ERROR(ValidateText("silence.comment", silence.comment(), kMaxCommentChars));
  const absl::Time now = clock_->Now();
  if (!silence.has_start_time()) *silence.mutable_start_time() = ToProtoTimestamp(now);
  if (!silence.has_end_time()) {
    return FieldError("silence.end_time", "", "is required");
  }
  if (FromProtoTimestamp(silence.end_time()) <= FromProtoTimestamp(silence.start_time())) {
    return FieldError("silence.end_time",
                      absl::FormatTime(absl::RFC3339_sec, FromProtoTimestamp(silence.end_time()),
                                       absl::UTCTimeZone()),
                      "must be after the start time");
  }
  silence.set_id(NewId("silence"));
  silence.set_active(true);
  RETURN_IF_ERROR(store_->Run(
      [&](NotificationTransaction& tx) -> absl::Status { return tx.PutSilence(silence); }));
  any_silence_ = true;
  // Alerts it now holds back are marked silenced.
  RETURN_IF_ERROR(ReleaseEndedSilences());
  *response->mutable_silence() = std::move(silence);
  return absl::OkStatus();
}

absl::Status AlertBook::ListSilences(const v1::ListSilencesRequest& request,
                                     v1::ListSilencesResponse* response) {
  const absl::Time now = clock_->Now();
  return store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::Silence> silences, tx.Silences());
    for (v1::Silence& silence : silences) {
      const bool active = Active(silence, now) ||
                          (silence.active() && FromProtoTimestamp(silence.start_time()) > now);
      if (!active) silence.set_active(false);
      if (active || request.include_expired()) *response->add_silences() = std::move(silence);
    }
    return absl::OkStatus();
  });
}

absl::Status AlertBook::ExpireSilence(const v1::ExpireSilenceRequest& request,
                                      v1::ExpireSilenceResponse* response) {
  if (request.id().empty()) return FieldError("id", "", "is required");
  const absl::Time now = clock_->Now();
  RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Silence> silence, tx.FindSilence(request.id()));
    if (!silence) {
      return absl::NotFoundError(absl::StrCat("id: silence \"", request.id(), "\" not found"));
    }
    silence->set_active(false);
    if (FromProtoTimestamp(silence->end_time()) > now) {
      *silence->mutable_end_time() = ToProtoTimestamp(now);
    }
    RETURN_IF_ERROR(tx.PutSilence(*silence));
    *response->mutable_silence() = *std::move(silence);
    return absl::OkStatus();
  }));
  return ReleaseEndedSilences();
}

absl::Status AlertBook::SetRule(const v1::SetRuleRequest& request, v1::SetRuleResponse* response) {
  RETURN_IF_ERROR(ValidateRule(request.rule()));
  if (!request.rule().kpi_id().empty()) {
    RETURN_IF_ERROR(ValidateId("rule.kpi_id", request.rule().kpi_id()));
  }
  RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    // An override is checked as it will apply: merged with what it overlays.
    ASSIGN_OR_RETURN(std::vector<v1::Rule> stored, tx.Rules());
    stored.erase(std::remove_if(stored.begin(), stored.end(),
                                [&](const v1::Rule& rule) {
                                  return rule.kind() == request.rule().kind() &&
                                         rule.kpi_id() == request.rule().kpi_id();
                                }),
                 stored.end());
    stored.push_back(request.rule());
    RETURN_IF_ERROR(ValidateRule(
        RuleBook(std::move(stored)).For(request.rule().kind(), request.rule().kpi_id())));
    return tx.PutRule(request.rule());
  }));
  *response->mutable_rule() = request.rule();
  hooks_.rules_changed(request.rule().kpi_id());
  return absl::OkStatus();
}

absl::Status AlertBook::ListRules(const v1::ListRulesRequest& request,
                                  v1::ListRulesResponse* response) {
  if (!request.kpi_id().empty()) RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  return store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::Rule> stored, tx.Rules());
    for (v1::Rule& rule : RuleBook(std::move(stored)).All(request.kpi_id())) {
      *response->add_rules() = std::move(rule);
    }
    return absl::OkStatus();
  });
}

absl::Status AlertBook::CreateWebhook(const v1::CreateWebhookRequest& request,
                                      v1::CreateWebhookResponse* response) {
  v1::Webhook webhook = request.webhook();
  const std::string& url = webhook.url();
  if (url.size() > kMaxUrlChars ||
      !(absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://")) ||
      url.find_first_of(" \t\r\n") != std::string::npos) {
    return FieldError("webhook.url", url, "must be an http:// or https:// URL");
  }
  RETURN_IF_ERROR(ValidateFilter(webhook.filter()));
  const bool generated = webhook.secret().empty();
  if (generated) webhook.set_secret(NewWebhookSecret());
  RETURN_IF_ERROR(DecodeWebhookSecret(webhook.secret()).status());
  webhook.set_id(NewId("webhook"));
  *webhook.mutable_create_time() = ToProtoTimestamp(clock_->Now());
  RETURN_IF_ERROR(store_->Run(
      [&](NotificationTransaction& tx) -> absl::Status { return tx.PutWebhook(webhook); }));
  // The secret is shown once, here, when the service made it.
  if (!generated) webhook.clear_secret();
  *response->mutable_webhook() = std::move(webhook);
  return absl::OkStatus();
}

absl::Status AlertBook::ListWebhooks(const v1::ListWebhooksRequest& request,
                                     v1::ListWebhooksResponse* response) {
  return store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::Webhook> webhooks, tx.Webhooks());
    for (v1::Webhook& webhook : webhooks) {
      webhook.clear_secret();
      *response->add_webhooks() = std::move(webhook);
    }
    return absl::OkStatus();
  });
}

absl::Status AlertBook::DeleteWebhook(const v1::DeleteWebhookRequest& request,
                                      v1::DeleteWebhookResponse* response) {
  if (request.id().empty()) return FieldError("id", "", "is required");
  return store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Webhook> webhook, tx.FindWebhook(request.id()));
    if (!webhook) {
      return absl::NotFoundError(absl::StrCat("id: webhook \"", request.id(), "\" not found"));
    }
    return tx.DeleteWebhook(request.id());
  });
}

absl::Status AlertBook::ListDeadLetters(const v1::ListDeadLettersRequest& request,
                                        v1::ListDeadLettersResponse* response) {
  return store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::DeadLetter> letters, tx.DeadLetters(request.webhook_id()));
    for (v1::DeadLetter& letter : letters) *response->add_dead_letters() = std::move(letter);
    return absl::OkStatus();
  });
}

absl::Status AlertBook::ReplayDeadLetter(const v1::ReplayDeadLetterRequest& request,
                                         v1::ReplayDeadLetterResponse* response) {
  if (request.id().empty()) return FieldError("id", "", "is required");
  const absl::Time now = clock_->Now();
  RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::DeadLetter> letter, tx.FindDeadLetter(request.id()));
    if (!letter) {
      return absl::NotFoundError(absl::StrCat("id: dead letter \"", request.id(), "\" not found"));
    }
    ASSIGN_OR_RETURN(std::optional<v1::Webhook> webhook, tx.FindWebhook(letter->webhook_id()));
    if (!webhook) {
      return absl::FailedPreconditionError(absl::StrCat("id: the webhook \"", letter->webhook_id(),
                                                        "\" of dead letter \"", request.id(),
                                                        "\" was deleted"));
    }
    Delivery delivery;
    delivery.webhook_id = letter->webhook_id();
    delivery.event_id = letter->event_id();
    delivery.payload = letter->payload();
    delivery.next_attempt = now;
    RETURN_IF_ERROR(tx.AddDelivery(delivery));
    return tx.DeleteDeadLetter(request.id());
  }));
  hooks_.outbox_added();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::AlertEvent>> AlertBook::ReadEvents(int64_t after_id,
                                                                  const v1::AlertFilter& filter,
                                                                  int limit) {
  std::vector<v1::AlertEvent> out;
  RETURN_IF_ERROR(store_->Run([&](NotificationTransaction& tx) -> absl::Status {
    int64_t after = after_id;
    while (out.empty()) {
      ASSIGN_OR_RETURN(std::vector<v1::AlertEvent> events, tx.Events(after, limit));
      for (v1::AlertEvent& event : events) {
        if (Matches(filter, event.alert())) out.push_back(std::move(event));
      }
      if (static_cast<int>(events.size()) < limit) break;  // the end of the log
      after = events.back().id();
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace suishin::notification
