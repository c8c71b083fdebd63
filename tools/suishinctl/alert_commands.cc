// The alert commands of suishinctl (declared in commands.h): alerts,
// acknowledgements, the event stream, silences, rules and webhooks of
// notification-service.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/grpc_status.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "tools/suishinctl/alert_views.h"
#include "tools/suishinctl/command_util.h"
#include "tools/suishinctl/commands.h"

namespace suishin::ctl {
namespace {

using notification::v1::Alert;
using notification::v1::AlertFilter;
using notification::v1::NotificationService;
using notification::v1::RuleKind;
using notification::v1::Severity;

// Alerts per ListAlerts call: notification-service's maximum.
constexpr int kAlertPageSize = 1000;

std::string SynopsisOf(absl::string_view command) {
  const CommandSpec* spec = FindCommand(command);
  return spec == nullptr ? std::string(command) : std::string(spec->synopsis);
}

// The comma-separated values of flag `name`, blanks dropped.
std::vector<std::string> ListFlag(const Arguments& args, absl::string_view name) {
  std::vector<std::string> values;
  for (absl::string_view part : absl::StrSplit(FlagValue(args, name), ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!part.empty()) values.emplace_back(part);
  }
  return values;
}

// --region, --kpi, --severity and --rule as an AlertFilter.
absl::StatusOr<AlertFilter> ReadFilter(const Arguments& args) {
  AlertFilter filter;
  for (std::string& id : ListFlag(args, "region")) filter.add_region_ids(std::move(id));
  for (std::string& id : ListFlag(args, "kpi")) filter.add_kpi_ids(std::move(id));
  for (const std::string& text : ListFlag(args, "severity")) {
    ASSIGN_OR_RETURN(Severity severity, ParseSeverity("--severity", text));
    filter.add_severities(severity);
  }
  for (const std::string& text : ListFlag(args, "rule")) {
    ASSIGN_OR_RETURN(RuleKind rule, ParseRuleKind("--rule", text));
    filter.add_rules(rule);
  }
  return filter;
}

// The KPIs the alerts are about, for their names; as many as kpi-service
// gives. It is asked once per KPI; when it cannot be reached, not again.
KpiDirectory LookupKpis(const Environment& env, const std::vector<Alert>& alerts) {
  KpiDirectory kpis;
  if (env.kpi == nullptr) return kpis;
  std::set<std::string> ids;
  for (const Alert& alert : alerts) ids.insert(alert.kpi_id());
  for (const std::string& id : ids) {
    kpi::v1::GetKpiRequest request;
    request.set_id(id);
    kpi::v1::GetKpiResponse response;
    const absl::Status status = Invoke(env, [&](grpc::ClientContext* context) {
      return env.kpi->GetKpi(context, request, &response);
    });
    if (status.ok()) {
      kpis[id] = std::move(*response.mutable_kpi());
    } else if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
      break;
    }
  }
  return kpis;
}

absl::StatusOr<std::vector<Alert>> ListAllAlerts(
    const Environment& env, const notification::v1::ListAlertsRequest& request) {
  return ListAll(env, env.notification, request, kAlertPageSize,
                 &NotificationService::StubInterface::ListAlerts,
                 &notification::v1::ListAlertsResponse::mutable_alerts);
}

// A silence matcher from flag `name`, when given: one value, rules and
// severities by their enum names ("LAGGING", "CRITICAL").
absl::Status AddMatcher(const Arguments& args, absl::string_view name,
                        notification::v1::MatcherField field, notification::v1::Silence* silence) {
  const std::string text(absl::StripAsciiWhitespace(FlagValue(args, name)));
  if (text.empty()) return absl::OkStatus();
  if (absl::StrContains(text, ',')) {
    return UsageError(absl::StrCat(FlagName(name), ": a silence matches one value (\"", text,
                                   "\" has several); make one silence per value"));
  }
  std::string value = text;
  if (field == notification::v1::MATCHER_FIELD_RULE) {
    ASSIGN_OR_RETURN(RuleKind rule, ParseRuleKind(FlagName(name), text));
    value = RuleName(rule);
  } else if (field == notification::v1::MATCHER_FIELD_SEVERITY) {
    ASSIGN_OR_RETURN(Severity severity, ParseSeverity(FlagName(name), text));
    value = std::string(absl::StripPrefix(notification::v1::Severity_Name(severity), "SEVERITY_"));
  }
  notification::v1::Matcher* matcher = silence->add_matchers();
  matcher->set_field(field);
  matcher->set_value(std::move(value));
  return absl::OkStatus();
}

absl::StatusOr<bool> ParseBool(absl::string_view flag, absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return UsageError(absl::StrCat(flag, ": \"", text, "\" is not true or false"));
}

}  // namespace

absl::StatusOr<Severity> ParseSeverity(absl::string_view flag, absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower == "info" || lower == "情報") return notification::v1::SEVERITY_INFO;
  if (lower == "warning" || lower == "警告") return notification::v1::SEVERITY_WARNING;
  if (lower == "critical" || lower == "重大") return notification::v1::SEVERITY_CRITICAL;
  return UsageError(absl::StrCat(flag, ": \"", text,
                                 "\" is not a severity; use info (情報), warning (警告) or "
                                 "critical (重大)"));
}

absl::StatusOr<RuleKind> ParseRuleKind(absl::string_view flag, absl::string_view text) {
  const std::string stripped(absl::StripAsciiWhitespace(text));
  std::string upper = absl::AsciiStrToUpper(stripped);
  std::replace(upper.begin(), upper.end(), '-', '_');
  for (RuleKind kind :
       {notification::v1::RULE_KIND_LAGGING, notification::v1::RULE_KIND_BELOW_THRESHOLD,
        notification::v1::RULE_KIND_DECLINING, notification::v1::RULE_KIND_STAGNANT,
        notification::v1::RULE_KIND_MISSING, notification::v1::RULE_KIND_ACHIEVED}) {
    if (upper == RuleName(kind) || stripped == RuleJapanese(kind)) return kind;
  }
  return UsageError(absl::StrCat(flag, ": \"", text,
                                 "\" is not a rule; use lagging, below-threshold, declining, "
                                 "stagnant, missing or achieved"));
}

absl::StatusOr<absl::Duration> ParsePositiveDuration(absl::string_view flag,
                                                     absl::string_view text) {
  const absl::string_view stripped = absl::StripAsciiWhitespace(text);
  absl::Duration duration;
  bool parsed = false;
  int64_t days = 0;
  if (absl::EndsWith(stripped, "d") && absl::SimpleAtoi(absl::StripSuffix(stripped, "d"), &days) &&
      days > 0 && days <= 36500) {
    duration = absl::Hours(24 * days);
    parsed = true;
  } else {
    parsed = absl::ParseDuration(stripped, &duration);
  }
  if (!parsed || duration <= absl::ZeroDuration() || duration == absl::InfiniteDuration()) {
    return UsageError(
        absl::StrCat(flag, ": \"", text, "\" is not a positive duration such as 2h, 90m or 7d"));
  }
  return duration;
}

absl::StatusOr<std::pair<int, int>> ParseMonthDay(absl::string_view flag, absl::string_view text) {
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(text), absl::ByAnyChar("-/"));
  int month = 0;
  int day = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &month) ||
      !absl::SimpleAtoi(parts[1], &day) || month < 1 || month > 12 || day < 1 || day > 31) {
    return UsageError(
        absl::StrCat(flag, ": \"", text, "\" is not a month and day such as 06-30 (MM-DD)"));
  }
  return std::make_pair(month, day);
}

absl::Status RunAlerts(const Environment& env, const Arguments& args) {
  notification::v1::ListAlertsRequest request;
  ASSIGN_OR_RETURN(*request.mutable_filter(), ReadFilter(args));
  request.set_include_resolved(FlagValue(args, "all") == "true");
  ASSIGN_OR_RETURN(std::vector<Alert> alerts, ListAllAlerts(env, request));
  if (env.json) {
    notification::v1::ListAlertsResponse all;
    for (Alert& alert : alerts) *all.add_alerts() = std::move(alert);
    PrintJson(env, all);
    return absl::OkStatus();
  }
  *env.out << FormatAlerts(alerts, LookupKpis(env, alerts), env.time_zone, env.width);
  return absl::OkStatus();
}

absl::Status RunAlert(const Environment& env, const Arguments& args) {
  notification::v1::GetAlertRequest request;
  request.set_fingerprint(args.positional.at(0));
  request.set_history_page_size(kListPageSize);
  // The alert with the first page of its history, then the rest page by page.
  notification::v1::GetAlertResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.notification->GetAlert(context, request, &response);
  }));
  while (!response.next_history_page_token().empty()) {
    request.set_history_page_token(response.next_history_page_token());
    notification::v1::GetAlertResponse page;
    RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
      return env.notification->GetAlert(context, request, &page);
    }));
    for (auto& entry : *page.mutable_alert()->mutable_history()) {
      *response.mutable_alert()->add_history() = std::move(entry);
    }
    response.set_next_history_page_token(page.next_history_page_token());
  }
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  const KpiDirectory kpis = LookupKpis(env, {response.alert()});
  const auto it = kpis.find(response.alert().kpi_id());
  *env.out << FormatAlertDetail(response.alert(), it == kpis.end() ? kpi::v1::Kpi() : it->second,
                                env.time_zone);
  return absl::OkStatus();
}

absl::Status RunAck(const Environment& env, const Arguments& args) {
  notification::v1::AcknowledgeAlertRequest request;
  request.set_fingerprint(args.positional.at(0));
  ASSIGN_OR_RETURN(*request.mutable_author(), RequiredFlag(args, "by", SynopsisOf("ack")));
  request.set_comment(FlagValue(args, "comment"));
  notification::v1::AcknowledgeAlertResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.notification->AcknowledgeAlert(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatAcknowledged(response.alert(), env.time_zone);
  return absl::OkStatus();
}

absl::Status RunWatchAlerts(const Environment& env, const Arguments& args) {
  notification::v1::SubscribeRequest request;
  ASSIGN_OR_RETURN(std::optional<int64_t> after, IntegerFlag(args, "after"));
  if (after) {
    if (*after < 0) return UsageError(absl::StrCat("--after: ", *after, " is negative"));
    request.set_after_event_id(*after);
  }
  ASSIGN_OR_RETURN(*request.mutable_filter(), ReadFilter(args));

  // No deadline: a watch lasts until it is interrupted.
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderInterface<notification::v1::SubscribeResponse>> reader =
      env.notification->Subscribe(&context, request);
  google::protobuf::util::JsonPrintOptions one_line;
  one_line.add_whitespace = false;
  notification::v1::SubscribeResponse response;
  int64_t last = request.after_event_id();
  while (reader->Read(&response)) {
    const notification::v1::AlertEvent& event = response.event();
    last = std::max(last, event.id());
    if (env.json) {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(event, &json, one_line);
      *env.out << json << "\n";
    } else {
      *env.out << FormatAlertEventLine(event, env.time_zone);
    }
    env.out->flush();  // Each event as it arrives, also into a pipe.
  }
  absl::Status status = FromGrpcStatus(reader->Finish());
  // The stream has no end of its own: the service closing it is a break too.
  if (status.ok()) status = absl::UnavailableError("notification-service ended the stream");
  return absl::Status(status.code(),
                      absl::StrCat(status.message(), " (resume with --after ", last, ")"));
}

absl::Status RunSilence(const Environment& env, const Arguments& args) {
  const std::string synopsis = SynopsisOf("silence");
  notification::v1::Silence silence;
  RETURN_IF_ERROR(AddMatcher(args, "rule", notification::v1::MATCHER_FIELD_RULE, &silence));
  RETURN_IF_ERROR(AddMatcher(args, "kpi", notification::v1::MATCHER_FIELD_KPI, &silence));
  RETURN_IF_ERROR(AddMatcher(args, "region", notification::v1::MATCHER_FIELD_REGION, &silence));
  RETURN_IF_ERROR(AddMatcher(args, "severity", notification::v1::MATCHER_FIELD_SEVERITY, &silence));
  if (silence.matchers().empty()) {
    return UsageError(absl::StrCat(
        "give at least one of --rule, --kpi, --region, --severity; usage: suishinctl ", synopsis));
  }
  const std::string until = FlagValue(args, "until");
  const std::string duration = FlagValue(args, "for");
  if (!until.empty() && !duration.empty()) {
    return UsageError("--until and --for: give one of them, not both");
  }
  if (until.empty() && duration.empty()) {
    return UsageError(absl::StrCat("--until or --for is required; usage: suishinctl ", synopsis));
  }
  absl::Time end;
  if (!until.empty()) {
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, std::string(absl::StripAsciiWhitespace(until)), &end,
                         &error)) {
      return UsageError(absl::StrCat("--until: \"", until,
                                     "\" is not an RFC 3339 time such as "
                                     "2026-12-01T09:00:00+09:00"));
    }
  } else {
    ASSIGN_OR_RETURN(const absl::Duration length, ParsePositiveDuration("--for", duration));
    // The start is left to the service (its now); the end is from this clock.
    end = absl::Now() + length;
  }
  *silence.mutable_end_time() = ToProtoTimestamp(end);
  ASSIGN_OR_RETURN(*silence.mutable_author(), RequiredFlag(args, "by", synopsis));
  ASSIGN_OR_RETURN(*silence.mutable_comment(), RequiredFlag(args, "comment", synopsis));

  notification::v1::CreateSilenceRequest request;
  *request.mutable_silence() = std::move(silence);
  notification::v1::CreateSilenceResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.notification->CreateSilence(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatSilence(response.silence(), env.time_zone);
  // How many firing alerts it holds back now; the silence is made either way.
  absl::StatusOr<std::vector<Alert>> firing = ListAllAlerts(env, {});
  if (firing.ok()) {
    int held = 0;
    for (const Alert& alert : *firing) {
      const auto& ids = alert.silence_ids();
      held += std::find(ids.begin(), ids.end(), response.silence().id()) != ids.end();
    }
    *env.out << "silences " << held << (held == 1 ? " firing alert" : " firing alerts") << " now\n";
  }
  return absl::OkStatus();
}

absl::Status RunSilences(const Environment& env, const Arguments& args) {
  notification::v1::ListSilencesRequest request;
  request.set_include_expired(FlagValue(args, "all") == "true");
  ASSIGN_OR_RETURN(std::vector<notification::v1::Silence> silences,
                   ListAll(env, env.notification, request, kListPageSize,
                           &NotificationService::StubInterface::ListSilences,
                           &notification::v1::ListSilencesResponse::mutable_silences));
  notification::v1::ListSilencesResponse response;
  for (auto& silence : silences) *response.add_silences() = std::move(silence);
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatSilences({response.silences().begin(), response.silences().end()},
                             env.time_zone, env.width);
  return absl::OkStatus();
}

absl::Status RunExpireSilence(const Environment& env, const Arguments& args) {
  notification::v1::ExpireSilenceRequest request;
  request.set_id(args.positional.at(0));
  notification::v1::ExpireSilenceResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.notification->ExpireSilence(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatSilence(response.silence(), env.time_zone);
  return absl::OkStatus();
}

absl::Status RunRules(const Environment& env, const Arguments& args) {
  notification::v1::ListRulesRequest request;
  request.set_kpi_id(FlagValue(args, "kpi"));
  ASSIGN_OR_RETURN(std::vector<notification::v1::Rule> rules,
                   ListAll(env, env.notification, request, kListPageSize,
                           &NotificationService::StubInterface::ListRules,
                           &notification::v1::ListRulesResponse::mutable_rules));
  notification::v1::ListRulesResponse response;
  for (auto& rule : rules) *response.add_rules() = std::move(rule);
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatRules({response.rules().begin(), response.rules().end()});
  return absl::OkStatus();
}

absl::Status RunSetRule(const Environment& env, const Arguments& args) {
  const std::string synopsis = SynopsisOf("set-rule");
  ASSIGN_OR_RETURN(const std::string rule_text, RequiredFlag(args, "rule", synopsis));
  ASSIGN_OR_RETURN(const RuleKind kind, ParseRuleKind("--rule", rule_text));
  const std::string kpi_id = FlagValue(args, "kpi");

  // Every flag's value is checked before anything is asked of the service.
  std::optional<bool> enabled;
  if (const std::string text = FlagValue(args, "enabled"); !text.empty()) {
    ASSIGN_OR_RETURN(enabled, ParseBool("--enabled", text));
  }
  std::optional<Severity> severity;
  if (const std::string text = FlagValue(args, "severity"); !text.empty()) {
    ASSIGN_OR_RETURN(severity, ParseSeverity("--severity", text));
  }
  ASSIGN_OR_RETURN(const std::optional<double> warning_gap, NumberFlag(args, "warning_gap"));
  ASSIGN_OR_RETURN(const std::optional<double> critical_gap, NumberFlag(args, "critical_gap"));
  ASSIGN_OR_RETURN(const std::optional<double> clear_gap, NumberFlag(args, "clear_gap"));
  ASSIGN_OR_RETURN(const std::optional<double> threshold, NumberFlag(args, "threshold"));
  ASSIGN_OR_RETURN(const std::optional<int64_t> min_steps, IntegerFlag(args, "min_steps"));
  if (min_steps && (*min_steps < std::numeric_limits<int32_t>::min() ||
                    *min_steps > std::numeric_limits<int32_t>::max())) {
    return UsageError(absl::StrCat("--min-steps: ", *min_steps, " is out of range"));
  }
  std::optional<std::pair<int, int>> deadline;
  if (const std::string text = FlagValue(args, "deadline"); !text.empty()) {
    ASSIGN_OR_RETURN(deadline, ParseMonthDay("--deadline", text));
  }
  if (!enabled && !severity && !warning_gap && !critical_gap && !clear_gap && !threshold &&
      !min_steps && !deadline) {
    return UsageError(absl::StrCat(
        "nothing to change: give at least one of --enabled, --severity, --warning-gap, "
        "--critical-gap, --clear-gap, --threshold, --min-steps, --deadline; usage: suishinctl ",
        synopsis));
  }

  // The rule as it is in effect now, so that the fields not given keep
  // their values (SetRule stores the whole rule).
  notification::v1::ListRulesRequest list;
  list.set_kpi_id(kpi_id);
  ASSIGN_OR_RETURN(const std::vector<notification::v1::Rule> current,
                   ListAll(env, env.notification, list, kListPageSize,
                           &NotificationService::StubInterface::ListRules,
                           &notification::v1::ListRulesResponse::mutable_rules));
  notification::v1::SetRuleRequest request;
  notification::v1::Rule& rule = *request.mutable_rule();
  rule.set_kind(kind);
  for (const notification::v1::Rule& effective : current) {
    if (effective.kind() == kind) rule = effective;
  }
  rule.set_kpi_id(kpi_id);
  if (enabled) rule.set_enabled(*enabled);
  if (severity) rule.set_severity(*severity);
  if (warning_gap) rule.set_warning_gap(*warning_gap);
  if (critical_gap) rule.set_critical_gap(*critical_gap);
  if (clear_gap) rule.set_clear_gap(*clear_gap);
  if (threshold) rule.set_threshold_percent(*threshold);
  if (min_steps) rule.set_min_steps(static_cast<int32_t>(*min_steps));
  if (deadline) {
    rule.set_deadline_month(deadline->first);
    rule.set_deadline_day(deadline->second);
  }
  notification::v1::SetRuleResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.notification->SetRule(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatRules({response.rule()});
  return absl::OkStatus();
}

absl::Status RunWebhooks(const Environment& env, const Arguments& args) {
  ASSIGN_OR_RETURN(std::vector<notification::v1::Webhook> webhooks,
                   ListAll(env, env.notification, notification::v1::ListWebhooksRequest(),
                           kListPageSize, &NotificationService::StubInterface::ListWebhooks,
                           &notification::v1::ListWebhooksResponse::mutable_webhooks));
  notification::v1::ListWebhooksResponse response;
  for (auto& webhook : webhooks) *response.add_webhooks() = std::move(webhook);
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatWebhooks({response.webhooks().begin(), response.webhooks().end()},
                             env.time_zone);
  return absl::OkStatus();
}

absl::Status RunAddWebhook(const Environment& env, const Arguments& args) {
  notification::v1::CreateWebhookRequest request;
  notification::v1::Webhook& webhook = *request.mutable_webhook();
  webhook.set_url(args.positional.at(0));
  webhook.set_secret(FlagValue(args, "secret"));
  ASSIGN_OR_RETURN(*webhook.mutable_filter(), ReadFilter(args));
  notification::v1::CreateWebhookResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.notification->CreateWebhook(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatCreatedWebhook(response.webhook(), env.time_zone);
  return absl::OkStatus();
}

absl::Status RunDeleteWebhook(const Environment& env, const Arguments& args) {
  notification::v1::DeleteWebhookRequest request;
  request.set_id(args.positional.at(0));
  notification::v1::DeleteWebhookResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.notification->DeleteWebhook(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << "webhook " << request.id() << " deleted\n";
  return absl::OkStatus();
}

absl::Status RunRotateWebhookSecret(const Environment& env, const Arguments& args) {
  notification::v1::RotateWebhookSecretRequest request;
  request.set_id(args.positional.at(0));
  request.set_secret(FlagValue(args, "secret"));
  if (const std::string overlap = FlagValue(args, "overlap"); !overlap.empty()) {
    absl::Duration duration;
    if (!absl::ParseDuration(overlap, &duration) || duration < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--overlap: \"", overlap, "\" is not a duration such as 24h or 0"));
    }
    request.mutable_overlap()->set_seconds(absl::ToInt64Seconds(duration));
    request.mutable_overlap()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(duration % absl::Seconds(1))));
  }
  notification::v1::RotateWebhookSecretResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.notification->RotateWebhookSecret(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatRotatedWebhook(response.webhook(), env.time_zone);
  return absl::OkStatus();
}

absl::Status RunDeadLetters(const Environment& env, const Arguments& args) {
  notification::v1::ListDeadLettersRequest request;
  request.set_webhook_id(FlagValue(args, "webhook"));
  ASSIGN_OR_RETURN(std::vector<notification::v1::DeadLetter> letters,
                   ListAll(env, env.notification, request, kListPageSize,
                           &NotificationService::StubInterface::ListDeadLetters,
                           &notification::v1::ListDeadLettersResponse::mutable_dead_letters));
  notification::v1::ListDeadLettersResponse response;
  for (auto& letter : letters) *response.add_dead_letters() = std::move(letter);
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << FormatDeadLetters({response.dead_letters().begin(), response.dead_letters().end()},
                                env.time_zone, env.width);
  return absl::OkStatus();
}

absl::Status RunReplay(const Environment& env, const Arguments& args) {
  notification::v1::ReplayDeadLetterRequest request;
  request.set_id(args.positional.at(0));
  notification::v1::ReplayDeadLetterResponse response;
  RETURN_IF_ERROR(Invoke(env, [&](grpc::ClientContext* context) {
    return env.notification->ReplayDeadLetter(context, request, &response);
  }));
  if (env.json) {
    PrintJson(env, response);
    return absl::OkStatus();
  }
  *env.out << "dead letter " << request.id()
           << " queued for delivery again (same event id; see suishinctl dead-letters)\n";
  return absl::OkStatus();
}

}  // namespace suishin::ctl
