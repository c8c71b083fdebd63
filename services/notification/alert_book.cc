#include "services/notification/alert_book.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "common/page_token.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/notification/webhook_signer.h"

namespace suishin::notification {

// What one write changed, for after its commit.
struct AlertBook::Outcome {
  std::vector<v1::Alert> changed;
  // One per event appended, in id order.
  std::vector<FeedEntry> events;
  bool outbox_added = false;
  bool silence_added = false;
  // SetRule: the KPI whose rules changed ("" for all).
  std::optional<std::string> rules_changed;
};

namespace {

using Outcome = AlertBook::Outcome;
using Body = NotificationStore::Body;

// "LAGGING" for RULE_KIND_LAGGING: the names matchers and people use.
std::string ShortName(absl::string_view full, absl::string_view prefix) {
  return std::string(absl::StripPrefix(full, prefix));
}
std::string RuleName(v1::RuleKind kind) { return ShortName(v1::RuleKind_Name(kind), "RULE_KIND_"); }
std::string SeverityName(v1::Severity severity) {
  return ShortName(v1::Severity_Name(severity), "SEVERITY_");
}

// In effect at `now`: started, not ended, not expired.
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
  FeedEntry& entry = outcome.events.emplace_back();
  entry.sequence = id;
  entry.kpi_id = alert.kpi_id();
  entry.region_id = alert.region_id();
  entry.severity = alert.severity();
  entry.rule = alert.rule();
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

// The silences in effect at `now`.
absl::StatusOr<std::vector<v1::Silence>> ActiveSilences(NotificationTransaction& tx,
                                                        absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<v1::Silence> silences, tx.LiveSilences(now));
  std::vector<v1::Silence> active;
  for (v1::Silence& silence : silences) {
    if (Active(silence, now)) active.push_back(std::move(silence));
  }
  return active;
}

// Brings every firing alert's `silenced` in line with the silences in effect
// at `now`: an alert whose silences have all ended is delivered now.
absl::Status ApplySilencesToFiring(NotificationTransaction& tx, absl::Time now, Outcome& outcome) {
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
}

// The evaluation of `subjects` at `now` (see AlertBook::Evaluate).
absl::Status EvaluateSubjects(NotificationTransaction& tx, const std::vector<Subject>& subjects,
                              absl::Time now, Outcome& outcome) {
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
          RETURN_IF_ERROR(
              tx.AppendHistory(alert.fingerprint(), HistoryEntry(alert, now, "severity changed")));
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
  return absl::OkStatus();
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

// RESOURCE_EXHAUSTED for a count at its limit, worded as StreamSlots words
// its own: "<field>: <count> <what>, the limit is <limit> (<flag>)".
absl::Status CountError(absl::string_view field, int64_t count, absl::string_view what,
                        int64_t limit, absl::string_view flag) {
  return absl::ResourceExhaustedError(
      absl::StrCat(field, ": ", count, " ", what, ", the limit is ", limit, " (", flag, ")"));
}

absl::Status AlertNotFound(absl::string_view fingerprint) {
  return absl::NotFoundError(absl::StrCat("fingerprint: alert \"", fingerprint, "\" not found"));
}

// Appends the items of `page` (at most `page_size` + 1 read) to `out` and
// sets the next page's token when there is more.
template <typename T, typename Add>
void FillPage(std::vector<Keyed<T>>& page, int page_size, Add add, std::string* next_token) {
  for (int i = 0; i < static_cast<int>(page.size()) && i < page_size; ++i) {
    add(std::move(page[i].value));
  }
  if (static_cast<int>(page.size()) > page_size) {
    *next_token = EncodePageToken(page[page_size - 1].key);
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

namespace {

// Each list any-of (empty: anything), lists AND-ed: Matches and Wants alike.
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

bool Matches(const v1::AlertFilter& filter, const v1::Alert& alert) {
  return FilterMatches(filter, alert.region_id(), alert.kpi_id(), alert.severity(), alert.rule());
}

absl::Status AlertBook::ValidateFilter(absl::string_view field, const v1::AlertFilter& filter) {
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

SequenceFeed::Wants AlertBook::Wants(const v1::AlertFilter& filter) {
  if (filter.region_ids().empty() && filter.kpi_ids().empty() && filter.severities().empty() &&
      filter.rules().empty()) {
    return nullptr;
  }
  return [filter](const FeedEntry& entry) {
    return FilterMatches(filter, entry.region_id, entry.kpi_id, entry.severity, entry.rule);
  };
}

// ---- The write path ----

namespace {

BatchWriter<NotificationTransaction>::Options WriterOptions(const AlertBook::Options& options) {
  BatchWriter<NotificationTransaction>::Options writer;
  writer.name = "notification-writer";
  writer.max_queued = options.max_queued_writes;
  writer.max_group = options.max_group;
  return writer;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AlertBook>> AlertBook::Create(NotificationStore* store,
                                                             const Clock* clock, RedisClient* redis,
                                                             Hooks hooks, Options options) {
  std::unique_ptr<AlertBook> book(
      new AlertBook(store, clock, redis, std::move(hooks), std::move(options)));
  int64_t last_event = 0;
  bool any_silence = false;
  RETURN_IF_ERROR(store->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(last_event, tx.LastEventId());
    ASSIGN_OR_RETURN(any_silence, tx.AnySilence());
    return absl::OkStatus();
  }));
  book->events_.Published(last_event);
  book->any_silence_ = any_silence;
  book->mirror_.Refill();
  return book;
}

AlertBook::AlertBook(NotificationStore* store, const Clock* clock, RedisClient* redis, Hooks hooks,
                     Options options)
    : store_(store),
      clock_(clock),
      hooks_(std::move(hooks)),
      options_(std::move(options)),
      mirror_(redis,
              [store]() -> absl::StatusOr<std::vector<v1::Alert>> {
                std::vector<v1::Alert> alerts;
                RETURN_IF_ERROR(store->Read([&](NotificationTransaction& tx) -> absl::Status {
                  ASSIGN_OR_RETURN(alerts, tx.Alerts(/*include_resolved=*/true));
                  return absl::OkStatus();
                }));
                return alerts;
              }),
      writer_(
          [store](const std::vector<const Body*>& bodies, std::vector<absl::Status>* outcomes) {
            return store->RunGroup(bodies, outcomes);
          },
          WriterOptions(options_)) {}

void AlertBook::Submit(absl::StatusOr<Body> body, std::shared_ptr<Outcome> outcome, Done done) {
  if (!body.ok()) {
    done(body.status());
    return;
  }
  writer_.Submit(*std::move(body),
                 [this, outcome = std::move(outcome), done = std::move(done)](absl::Status status) {
                   if (status.ok() && outcome != nullptr) Publish(*outcome);
                   done(std::move(status));
                 });
  // After: once counted, the body is in the writer's queue (or refused).
  submitted_.fetch_add(1, std::memory_order_relaxed);
}

absl::Status AlertBook::SubmitAndWait(Body body, std::shared_ptr<Outcome> outcome) {
  absl::Notification finished;
  absl::Status result;
  Submit(std::move(body), std::move(outcome), [&](absl::Status status) {
    result = std::move(status);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

void AlertBook::Publish(const Outcome& outcome) {
  // Subscribers first: the Redis round trip is not on an event's path.
  if (!outcome.events.empty()) events_.Published(outcome.events.back().sequence, outcome.events);
  mirror_.Apply(outcome.changed);
  // Other replicas learn of new events here (fan-out).
  if (!outcome.events.empty()) mirror_.AnnounceEvent(outcome.events.back().sequence);
  if (outcome.silence_added) any_silence_ = true;
  if (outcome.outbox_added) hooks_.outbox_added();
  if (outcome.rules_changed) hooks_.rules_changed(*outcome.rules_changed);
}

absl::Status AlertBook::Write(Body body) { return SubmitAndWait(std::move(body), nullptr); }

AlertBook::WriteStats AlertBook::write_stats() const {
  const BatchWriter<NotificationTransaction>::Stats stats = writer_.stats();
  WriteStats out;
  out.submitted = submitted_.load(std::memory_order_relaxed);
  out.groups = stats.groups;
  out.writes = stats.writes;
  return out;
}

absl::Status AlertBook::Evaluate(std::vector<Subject> subjects, int64_t next_sequence) {
  const absl::Time now = clock_->Now();
  auto outcome = std::make_shared<Outcome>();
  return SubmitAndWait(
      [&subjects, next_sequence, now, outcome](NotificationTransaction& tx) -> absl::Status {
        RETURN_IF_ERROR(EvaluateSubjects(tx, subjects, now, *outcome));
        if (next_sequence > 0) RETURN_IF_ERROR(tx.SetCursor(next_sequence));
        return absl::OkStatus();
      },
      outcome);
}

absl::Status AlertBook::ReleaseEndedSilences() {
  if (!any_silence_) return absl::OkStatus();  // the common case: nothing to look at
  const absl::Time now = clock_->Now();
  auto outcome = std::make_shared<Outcome>();
  return SubmitAndWait(
      [now, outcome](NotificationTransaction& tx) {
        return ApplySilencesToFiring(tx, now, *outcome);
      },
      outcome);
}

// ---- Reads ----

absl::StatusOr<int64_t> AlertBook::Cursor() {
  int64_t cursor = 1;
  RETURN_IF_ERROR(store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(cursor, tx.Cursor());
    return absl::OkStatus();
  }));
  return cursor;
}

absl::StatusOr<LogBatch<v1::AlertEvent>> AlertBook::ReadEvents(int64_t after_id,
                                                               const v1::AlertFilter& filter,
                                                               int limit, int max_examined) {
  LogBatch<v1::AlertEvent> batch;
  batch.scanned_through = after_id;
  const int chunk = std::max(1, std::min(limit, max_examined));
  RETURN_IF_ERROR(store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    int examined = 0;
    while (examined < max_examined) {
      const int want = std::min(chunk, max_examined - examined);
      ASSIGN_OR_RETURN(std::vector<v1::AlertEvent> events, tx.Events(batch.scanned_through, want));
      if (events.empty()) break;
      examined += static_cast<int>(events.size());
      batch.scanned_through = events.back().id();
      for (v1::AlertEvent& event : events) {
        if (Matches(filter, event.alert())) batch.entries.push_back(std::move(event));
      }
      // Stop at a stretch with matches (what follows the last match is read
      // again next time: at most one chunk), or at the end of the log.
      if (!batch.entries.empty() || static_cast<int>(events.size()) < want) break;
    }
    return absl::OkStatus();
  }));
  return batch;
}

absl::Status AlertBook::ListAlerts(const v1::ListAlertsRequest& request,
                                   v1::ListAlertsResponse* response) {
  RETURN_IF_ERROR(ValidateFilter("filter", request.filter()));
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t offset, DecodePageToken("page_token", request.page_token()));
  std::optional<std::vector<v1::Alert>> alerts;
  // One region's active alerts: the Redis mirror answers without SQLite.
  if (request.filter().region_ids_size() == 1 && !request.include_resolved()) {
    alerts = mirror_.RegionAlerts(request.filter().region_ids(0));
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

absl::Status AlertBook::GetAlert(const v1::GetAlertRequest& request,
                                 v1::GetAlertResponse* response) {
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

absl::Status AlertBook::ListSilences(const v1::ListSilencesRequest& request,
                                     v1::ListSilencesResponse* response) {
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t after, DecodePageToken("page_token", request.page_token()));
  const absl::Time now = clock_->Now();
  return store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Keyed<v1::Silence>> page,
                     tx.ListSilences(request.include_expired(), now, after, page_size + 1));
    FillPage(
        page, page_size,
        [&](v1::Silence silence) {
          // Live: not expired and not ended (started or not).
          if (!(silence.active() && now < FromProtoTimestamp(silence.end_time()))) {
            silence.set_active(false);
          }
          *response->add_silences() = std::move(silence);
        },
        response->mutable_next_page_token());
    return absl::OkStatus();
  });
}

absl::Status AlertBook::ListRules(const v1::ListRulesRequest& request,
                                  v1::ListRulesResponse* response) {
  if (!request.kpi_id().empty()) RETURN_IF_ERROR(ValidateId("kpi_id", request.kpi_id()));
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t offset, DecodePageToken("page_token", request.page_token()));
  std::vector<v1::Rule> stored;
  RETURN_IF_ERROR(store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(stored, tx.Rules());
    return absl::OkStatus();
  }));
  // The effective rules, in RuleKind order: the page token carries a position.
  std::vector<v1::Rule> rules = RuleBook(std::move(stored)).All(request.kpi_id());
  const size_t begin = std::min(static_cast<size_t>(offset), rules.size());
  const size_t end = std::min(rules.size(), begin + page_size);
  for (size_t i = begin; i < end; ++i) *response->add_rules() = std::move(rules[i]);
  if (end < rules.size()) response->set_next_page_token(EncodePageToken(end));
  return absl::OkStatus();
}

absl::Status AlertBook::ListWebhooks(const v1::ListWebhooksRequest& request,
                                     v1::ListWebhooksResponse* response) {
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t after, DecodePageToken("page_token", request.page_token()));
  return store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Keyed<v1::Webhook>> page, tx.ListWebhooks(after, page_size + 1));
    FillPage(
        page, page_size,
        [&](v1::Webhook webhook) {
          webhook.clear_secret();  // shown once, when the service made it
          webhook.clear_previous_secret();
          *response->add_webhooks() = std::move(webhook);
        },
        response->mutable_next_page_token());
    return absl::OkStatus();
  });
}

absl::Status AlertBook::ListDeadLetters(const v1::ListDeadLettersRequest& request,
                                        v1::ListDeadLettersResponse* response) {
  if (!request.webhook_id().empty()) {
    RETURN_IF_ERROR(ValidateId("webhook_id", request.webhook_id()));
  }
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t after, DecodePageToken("page_token", request.page_token()));
  return store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Keyed<v1::DeadLetter>> page,
                     tx.DeadLetters(request.webhook_id(), after, page_size + 1));
    FillPage(
        page, page_size,
        [&](v1::DeadLetter letter) { *response->add_dead_letters() = std::move(letter); },
        response->mutable_next_page_token());
    return absl::OkStatus();
  });
}

namespace {

// "acknowledged by 上川総合振興局 (kamikawa-officer)": the display name and
// the principal, for the alert's history.
std::string AcknowledgedBy(const v1::Acknowledgement& ack) {
  std::string by = ack.author().empty() ? ack.principal() : ack.author();
  if (!ack.author().empty() && !ack.principal().empty()) {
    absl::StrAppend(&by, " (", ack.principal(), ")");
  }
  return absl::StrCat("acknowledged", by.empty() ? "" : " by ", by);
}

}  // namespace

// ---- RPC writes: each checks its request alone, then hands the writer the
// body that checks against the store and writes. A body owns copies of what
// it needs and fills the response only when it succeeds. ----

void AlertBook::AcknowledgeAlert(const v1::AcknowledgeAlertRequest& request,
                                 v1::AcknowledgeAlertResponse* response, Done done,
                                 std::string by) {
  auto outcome = std::make_shared<Outcome>();
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
      RETURN_IF_ERROR(
          tx.AppendHistory(alert->fingerprint(), HistoryEntry(*alert, now, AcknowledgedBy(ack))));
      ASSIGN_OR_RETURN(std::vector<v1::Webhook> webhooks, tx.Webhooks());
      RETURN_IF_ERROR(
          RecordEvent(tx, v1::EVENT_KIND_ACKNOWLEDGED, *alert, now, webhooks, *outcome));
      outcome->changed.push_back(*alert);
      *response->mutable_alert() = *std::move(alert);
      return absl::OkStatus();
    });
  };
  Submit(prepare(), outcome, std::move(done));
}

void AlertBook::CreateSilence(const v1::CreateSilenceRequest& request,
                              v1::CreateSilenceResponse* response, Done done, std::string by) {
  auto outcome = std::make_shared<Outcome>();
  outcome->silence_added = true;
  auto prepare = [&]() -> absl::StatusOr<Body> {
    v1::Silence silence = request.silence();
    silence.DiscardUnknownFields();
    silence.clear_id();  // output only
    silence.clear_active();
    silence.set_principal(by);
    RETURN_IF_ERROR(ValidateListSize("silence.matchers", silence.matchers_size()));
    if (silence.matchers().empty()) {
      return FieldError("silence.matchers", "", "must have at least one matcher");
    }
    for (int i = 0; i < silence.matchers_size(); ++i) {
      RETURN_IF_ERROR(
          ValidateMatcher(absl::StrCat("silence.matchers[", i, "]"), silence.matchers(i)));
    }
    RETURN_IF_ERROR(ValidateName("silence.author", silence.author()));
    RETURN_IF_ERROR(ValidateLongText("silence.comment", silence.comment()));
    const absl::Time now = clock_->Now();
    if (!silence.has_start_time()) *silence.mutable_start_time() = ToProtoTimestamp(now);
    if (!silence.has_end_time()) return FieldError("silence.end_time", "", "is required");
    if (FromProtoTimestamp(silence.end_time()) <= FromProtoTimestamp(silence.start_time())) {
      return FieldError("silence.end_time",
                        absl::FormatTime(absl::RFC3339_sec, FromProtoTimestamp(silence.end_time()),
                                         absl::UTCTimeZone()),
                        "must be after the start time");
    }
    silence.set_id(NewId("silence"));
    silence.set_active(true);
    return Body([silence = std::move(silence), now, limit = options_.max_silences, outcome,
                 response](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(int64_t live, tx.CountLiveSilences(now));
      if (live >= limit) {
        return CountError("silence", live, "silences are live", limit, "--max_silences");
      }
      RETURN_IF_ERROR(tx.PutSilence(silence));
      // Alerts it now holds back are marked silenced.
      RETURN_IF_ERROR(ApplySilencesToFiring(tx, now, *outcome));
      *response->mutable_silence() = silence;
      return absl::OkStatus();
    });
  };
  Submit(prepare(), outcome, std::move(done));
}

void AlertBook::ExpireSilence(const v1::ExpireSilenceRequest& request,
                              v1::ExpireSilenceResponse* response, Done done) {
  auto outcome = std::make_shared<Outcome>();
  auto prepare = [&]() -> absl::StatusOr<Body> {
    if (request.id().empty()) return FieldError("id", "", "is required");
    const absl::Time now = clock_->Now();
    return Body(
        [id = request.id(), now, outcome, response](NotificationTransaction& tx) -> absl::Status {
          ASSIGN_OR_RETURN(std::optional<v1::Silence> silence, tx.FindSilence(id));
          if (!silence) {
            return absl::NotFoundError(absl::StrCat("id: silence \"", id, "\" not found"));
          }
          silence->set_active(false);
          if (FromProtoTimestamp(silence->end_time()) > now) {
            *silence->mutable_end_time() = ToProtoTimestamp(now);
          }
          RETURN_IF_ERROR(tx.PutSilence(*silence));
          // Alerts it held back and that are still firing are delivered now.
          RETURN_IF_ERROR(ApplySilencesToFiring(tx, now, *outcome));
          *response->mutable_silence() = *std::move(silence);
          return absl::OkStatus();
        });
  };
  Submit(prepare(), outcome, std::move(done));
}

void AlertBook::SetRule(const v1::SetRuleRequest& request, v1::SetRuleResponse* response,
                        Done done) {
  auto outcome = std::make_shared<Outcome>();
  auto prepare = [&]() -> absl::StatusOr<Body> {
    v1::Rule rule = request.rule();
    rule.DiscardUnknownFields();
    RETURN_IF_ERROR(ValidateRule(rule));
    if (!rule.kpi_id().empty()) RETURN_IF_ERROR(ValidateId("rule.kpi_id", rule.kpi_id()));
    outcome->rules_changed = rule.kpi_id();
    return Body([rule = std::move(rule), limit = options_.max_rule_overrides,
                 response](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<v1::Rule> stored, tx.Rules());
      const size_t before = stored.size();
      stored.erase(std::remove_if(stored.begin(), stored.end(),
                                  [&](const v1::Rule& other) {
                                    return other.kind() == rule.kind() &&
                                           other.kpi_id() == rule.kpi_id();
                                  }),
                   stored.end());
      if (!rule.kpi_id().empty() && stored.size() == before) {  // a new override
        const int64_t overrides = std::count_if(stored.begin(), stored.end(),
                                                [](const auto& r) { return !r.kpi_id().empty(); });
        if (overrides >= limit) {
          return CountError("rule.kpi_id", overrides, "per-KPI rule overrides are stored", limit,
                            "--max_rule_overrides");
        }
      }
      stored.push_back(rule);
      // An override is checked as it will apply: merged with what it overlays.
      RETURN_IF_ERROR(ValidateRule(RuleBook(std::move(stored)).For(rule.kind(), rule.kpi_id())));
      RETURN_IF_ERROR(tx.PutRule(rule));
      *response->mutable_rule() = rule;
      return absl::OkStatus();
    });
  };
  Submit(prepare(), outcome, std::move(done));
}

void AlertBook::CreateWebhook(const v1::CreateWebhookRequest& request,
                              v1::CreateWebhookResponse* response, Done done) {
  auto prepare = [&]() -> absl::StatusOr<Body> {
    v1::Webhook webhook = request.webhook();
    webhook.DiscardUnknownFields();
    webhook.clear_id();  // output only
    webhook.clear_create_time();
    webhook.clear_previous_secret_expire_time();
    webhook.clear_previous_secret();
    const std::string& url = webhook.url();
    if (url.size() > static_cast<size_t>(options_.max_url_chars)) {
      return LimitError("webhook.url", static_cast<int64_t>(url.size()), options_.max_url_chars,
                        "--max_webhook_url_chars");
    }
    if (!(absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://")) ||
        url.find_first_of(" \t\r\n") != std::string::npos) {
      return FieldError("webhook.url", url, "must be an http:// or https:// URL");
    }
    // Resolves the host (on the caller's thread, before anything is queued).
    RETURN_IF_ERROR(options_.webhook_targets.CheckUrl("webhook.url", url));
    RETURN_IF_ERROR(ValidateFilter("webhook.filter", webhook.filter()));
    const bool generated = webhook.secret().empty();
    if (generated) webhook.set_secret(NewWebhookSecret());
    RETURN_IF_ERROR(DecodeWebhookSecret(webhook.secret()).status());
    webhook.set_id(NewId("webhook"));
    *webhook.mutable_create_time() = ToProtoTimestamp(clock_->Now());
    return Body([webhook = std::move(webhook), generated, limit = options_.max_webhooks,
                 response](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(int64_t count, tx.CountWebhooks());
      if (count >= limit) {
        return CountError("webhook", count, "webhooks are registered", limit, "--max_webhooks");
      }
      RETURN_IF_ERROR(tx.PutWebhook(webhook));
      *response->mutable_webhook() = webhook;
      // The secret is shown once, here, when the service made it.
      if (!generated) response->mutable_webhook()->clear_secret();
      return absl::OkStatus();
    });
  };
  Submit(prepare(), nullptr, std::move(done));
}

void AlertBook::DeleteWebhook(const v1::DeleteWebhookRequest& request,
                              v1::DeleteWebhookResponse* /*response*/, Done done) {
  auto prepare = [&]() -> absl::StatusOr<Body> {
    if (request.id().empty()) return FieldError("id", "", "is required");
    return Body([id = request.id()](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::optional<v1::Webhook> webhook, tx.FindWebhook(id));
      if (!webhook) return absl::NotFoundError(absl::StrCat("id: webhook \"", id, "\" not found"));
      return tx.DeleteWebhook(id);
    });
  };
  Submit(prepare(), nullptr, std::move(done));
}

void AlertBook::RotateWebhookSecret(const v1::RotateWebhookSecretRequest& request,
                                    v1::RotateWebhookSecretResponse* response, Done done) {
  auto prepare = [&]() -> absl::StatusOr<Body> {
    if (request.id().empty()) return FieldError("id", "", "is required");
    absl::Duration overlap = absl::Hours(24);
    if (request.has_overlap()) {
      overlap =
          absl::Seconds(request.overlap().seconds()) + absl::Nanoseconds(request.overlap().nanos());
      if (overlap < absl::ZeroDuration() || overlap > absl::Hours(24 * 30)) {
        return FieldError("overlap", absl::FormatDuration(overlap), "must be 0 to 30 days");
      }
    }
    const bool generated = request.secret().empty();
    std::string secret = generated ? NewWebhookSecret() : request.secret();
    if (!generated) {
      // The field is named, never the secret.
      absl::Status decoded = DecodeWebhookSecret(secret).status();
      if (!decoded.ok())
        return absl::Status(decoded.code(), absl::StrCat("secret: ", decoded.message()));
    }
    // Real time, as deliveries are timed (the book's clock may be pinned by --now).
    const absl::Time now = absl::Now();
    return Body([id = request.id(), secret = std::move(secret), generated, overlap, now,
                 response](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::optional<v1::Webhook> webhook, tx.FindWebhook(id));
      if (!webhook) return absl::NotFoundError(absl::StrCat("id: webhook \"", id, "\" not found"));
      if (overlap > absl::ZeroDuration()) {
        webhook->set_previous_secret(webhook->secret());
        *webhook->mutable_previous_secret_expire_time() = ToProtoTimestamp(now + overlap);
      } else {
        webhook->clear_previous_secret();
        webhook->clear_previous_secret_expire_time();
      }
      webhook->set_secret(secret);
      RETURN_IF_ERROR(tx.PutWebhook(*webhook));
      *response->mutable_webhook() = *std::move(webhook);
      response->mutable_webhook()->clear_previous_secret();
      // The new secret is shown once, here, when the service made it.
      if (!generated) response->mutable_webhook()->clear_secret();
      return absl::OkStatus();
    });
  };
  Submit(prepare(), nullptr, std::move(done));
}

void AlertBook::ReplayDeadLetter(const v1::ReplayDeadLetterRequest& request,
                                 v1::ReplayDeadLetterResponse* /*response*/, Done done) {
  auto outcome = std::make_shared<Outcome>();
  outcome->outbox_added = true;
  auto prepare = [&]() -> absl::StatusOr<Body> {
    if (request.id().empty()) return FieldError("id", "", "is required");
    const absl::Time now = clock_->Now();
    return Body([id = request.id(), now](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(std::optional<v1::DeadLetter> letter, tx.FindDeadLetter(id));
      if (!letter) {
        return absl::NotFoundError(absl::StrCat("id: dead letter \"", id, "\" not found"));
      }
      ASSIGN_OR_RETURN(std::optional<v1::Webhook> webhook, tx.FindWebhook(letter->webhook_id()));
      if (!webhook) {
        return absl::FailedPreconditionError(
            absl::StrCat("id: the webhook \"", letter->webhook_id(), "\" of dead letter \"", id,
                         "\" was deleted"));
      }
      Delivery delivery;
      delivery.webhook_id = letter->webhook_id();
      delivery.event_id = letter->event_id();
      delivery.payload = letter->payload();
      delivery.next_attempt = now;
      RETURN_IF_ERROR(tx.AddDelivery(delivery));
      return tx.DeleteDeadLetter(id);
    });
  };
  Submit(prepare(), outcome, std::move(done));
}

}  // namespace suishin::notification
