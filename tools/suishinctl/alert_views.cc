#include "tools/suishinctl/alert_views.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/fiscal_year.h"
#include "common/proto_util.h"
#include "tools/suishinctl/kpi_views.h"
#include "tools/suishinctl/terminal_table.h"

namespace suishin::ctl {
namespace {

using notification::v1::Alert;
using notification::v1::AlertEvent;
using notification::v1::AlertFilter;
using notification::v1::AlertHistoryEntry;
using notification::v1::AlertState;
using notification::v1::AlertValues;
using notification::v1::DeadLetter;
using notification::v1::EventKind;
using notification::v1::Matcher;
using notification::v1::Rule;
using notification::v1::RuleKind;
using notification::v1::Severity;
using notification::v1::Silence;
using notification::v1::Webhook;

// The 概要 column keeps at least this many display columns when wrapped.
constexpr int kMinSummaryWidth = 20;

std::string Count(size_t n, absl::string_view singular, absl::string_view plural) {
  return absl::StrCat(n, " ", n == 1 ? singular : plural);
}

// "2026-11-29 12:00"; "" when unset.
std::string Minutes(const google::protobuf::Timestamp& time, absl::TimeZone zone) {
  if (time.seconds() == 0 && time.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M", FromProtoTimestamp(time), zone);
}

// `x` rounded half away from zero to 0.1 (with a little slack for binary
// fractions such as 41.15), as "%.1f".
std::string Tenths(double x) {
  const double rounded = std::round(x * 10.0 + (x >= 0 ? 1e-7 : -1e-7)) / 10.0;
  return absl::StrFormat("%.1f", rounded == 0 ? 0.0 : rounded);
}

std::string Percent(double x) { return absl::StrCat(Tenths(x), "%"); }

// "-30.1 pt", "+2.0 pt".
std::string Points(double x) {
  const std::string tenths = Tenths(x);
  return absl::StrCat(absl::StartsWith(tenths, "-") ? "" : "+", tenths, " pt");
}

std::string KpiLabel(const kpi::v1::Kpi& kpi, const std::string& kpi_id) {
  return kpi.name().empty() ? kpi_id : kpi.name();
}

// The summary without the "<KPI name> <region name>: " that the service puts
// in front, when the KPI's columns already show both.
std::string ShortSummary(const Alert& alert, const kpi::v1::Kpi* kpi) {
  if (kpi == nullptr || kpi->name().empty()) return alert.summary();
  const std::string prefix =
      absl::StrCat(kpi->name(), " ", RegionName(*kpi, alert.region_id()), ": ");
  absl::string_view summary = alert.summary();
  if (!absl::ConsumePrefix(&summary, prefix) || summary.empty()) return alert.summary();
  return std::string(summary);
}

std::string Marks(const Alert& alert) {
  std::vector<std::string> marks;
  if (alert.has_acknowledgement() && !alert.acknowledgement().author().empty()) {
    marks.push_back("ack");
  }
  if (alert.silenced()) marks.push_back("silenced");
  return absl::StrJoin(marks, " ");
}

std::string YearOf(const AlertValues& values) {
  return values.fiscal_year().year() == 0 ? "" : FormatFiscalYear(values.fiscal_year().year());
}

std::string MissingYears(const AlertValues& values) {
  std::vector<std::string> years;
  for (const auto& year : values.missing_years()) years.push_back(FormatFiscalYear(year.year()));
  return absl::StrJoin(years, "・");
}

// "宗谷振興局  2026-11-29 12:00:00  確認中".
std::string AcknowledgementText(const Alert& alert, absl::TimeZone zone) {
  const auto& ack = alert.acknowledgement();
  std::vector<std::string> parts;
  for (const std::string& part :
       {ack.author(), FormatTimestamp(ack.time(), zone), std::string(ack.comment())}) {
    if (!part.empty()) parts.push_back(part);
  }
  return absl::StrJoin(parts, "  ");
}

std::string MatcherFieldName(notification::v1::MatcherField field) {
  switch (field) {
    case notification::v1::MATCHER_FIELD_RULE:
      return "rule";
    case notification::v1::MATCHER_FIELD_KPI:
      return "kpi";
    case notification::v1::MATCHER_FIELD_REGION:
      return "region";
    case notification::v1::MATCHER_FIELD_SEVERITY:
      return "severity";
    default:
      return "?";
  }
}

std::string SilenceState(const Silence& silence) { return silence.active() ? "有効" : "終了"; }

// What a rule's parameters are, for the kinds that have any.
std::string RuleSettings(const Rule& rule) {
  const auto number = [](double x) { return absl::StrCat(x); };
  switch (rule.kind()) {
    case notification::v1::RULE_KIND_LAGGING: {
      std::vector<std::string> parts;
      if (rule.has_warning_gap()) {
        parts.push_back(absl::StrCat("warning < ", number(rule.warning_gap()), " pt"));
      }
      if (rule.has_critical_gap()) {
        parts.push_back(absl::StrCat("critical < ", number(rule.critical_gap()), " pt"));
      }
      if (rule.has_clear_gap()) {
        parts.push_back(absl::StrCat("clears > ", number(rule.clear_gap()), " pt"));
      }
      return absl::StrJoin(parts, ", ");
    }
    case notification::v1::RULE_KIND_BELOW_THRESHOLD:
      return rule.has_threshold_percent()
                 ? absl::StrCat("threshold ", number(rule.threshold_percent()), "%")
                 : "";
    case notification::v1::RULE_KIND_STAGNANT:
      return rule.has_min_steps() ? absl::StrCat("min steps ", rule.min_steps()) : "";
    case notification::v1::RULE_KIND_MISSING:
      if (!rule.has_deadline_month() && !rule.has_deadline_day()) return "";
      return absl::StrFormat("deadline %02d-%02d", rule.deadline_month(), rule.deadline_day());
    default:
      return "";
  }
}

}  // namespace

std::string RuleName(RuleKind rule) {
  if (rule == notification::v1::RULE_KIND_UNSPECIFIED ||
      !notification::v1::RuleKind_IsValid(rule)) {
    return "?";
  }
  return std::string(absl::StripPrefix(notification::v1::RuleKind_Name(rule), "RULE_KIND_"));
}

std::string AlertStateLabel(AlertState state) {
  switch (state) {
    case notification::v1::ALERT_STATE_FIRING:
      return "発生中";
    case notification::v1::ALERT_STATE_RESOLVED:
      return "解消";
    default:
      return "?";
  }
}

std::string EventKindLabel(EventKind kind) {
  switch (kind) {
    case notification::v1::EVENT_KIND_FIRED:
      return "発生";
    case notification::v1::EVENT_KIND_RESOLVED:
      return "解消";
    case notification::v1::EVENT_KIND_ACKNOWLEDGED:
      return "確認";
    case notification::v1::EVENT_KIND_SEVERITY_CHANGED:
      return "重大度変更";
    default:
      return "?";
  }
}

std::string FilterText(const AlertFilter& filter) {
  std::vector<std::string> parts;
  if (!filter.region_ids().empty()) {
    parts.push_back(absl::StrCat("region=", absl::StrJoin(filter.region_ids(), ",")));
  }
  if (!filter.kpi_ids().empty()) {
    parts.push_back(absl::StrCat("kpi=", absl::StrJoin(filter.kpi_ids(), ",")));
  }
  if (!filter.severities().empty()) {
    std::vector<std::string> names;
    for (int severity : filter.severities()) {
      names.emplace_back(absl::StripPrefix(
          notification::v1::Severity_Name(static_cast<Severity>(severity)), "SEVERITY_"));
    }
    parts.push_back(absl::StrCat("severity=", absl::StrJoin(names, ",")));
  }
  if (!filter.rules().empty()) {
    std::vector<std::string> names;
    for (int rule : filter.rules()) names.push_back(RuleName(static_cast<RuleKind>(rule)));
    parts.push_back(absl::StrCat("rule=", absl::StrJoin(names, ",")));
  }
  return parts.empty() ? "(all)" : absl::StrJoin(parts, " ");
}

std::string MatchersText(const Silence& silence) {
  std::vector<std::string> parts;
  for (const Matcher& matcher : silence.matchers()) {
    parts.push_back(absl::StrCat(MatcherFieldName(matcher.field()), "=", matcher.value()));
  }
  return absl::StrJoin(parts, " ");
}

std::string FormatAlerts(const std::vector<Alert>& alerts, const KpiDirectory& kpis,
                         absl::TimeZone zone, int width) {
  const std::vector<std::string> headers = {"重大度", "ルール", "KPI",  "地域",  "状態",
                                            "開始",   "年度",   "概要", "marks", "fingerprint"};
  constexpr size_t kSummary = 7;
  std::vector<std::vector<std::string>> rows;
  int critical = 0, warning = 0, info = 0, acknowledged = 0, silenced = 0, resolved = 0;
  for (const Alert& alert : alerts) {
    const auto it = kpis.find(alert.kpi_id());
    const kpi::v1::Kpi* kpi = it == kpis.end() ? nullptr : &it->second;
    rows.push_back({SeverityLabel(alert.severity()), RuleName(alert.rule()),
                    kpi == nullptr ? alert.kpi_id() : KpiLabel(*kpi, alert.kpi_id()),
                    kpi == nullptr ? alert.region_id() : RegionName(*kpi, alert.region_id()),
                    AlertStateLabel(alert.state()), Minutes(alert.start_time(), zone),
                    YearOf(alert.values()), ShortSummary(alert, kpi), Marks(alert),
                    alert.fingerprint()});
    critical += alert.severity() == notification::v1::SEVERITY_CRITICAL;
    warning += alert.severity() == notification::v1::SEVERITY_WARNING;
    info += alert.severity() == notification::v1::SEVERITY_INFO;
    acknowledged += alert.has_acknowledgement() && !alert.acknowledgement().author().empty();
    silenced += alert.silenced();
    resolved += alert.state() == notification::v1::ALERT_STATE_RESOLVED;
  }

  // Only the last column of a TerminalTable wraps; 概要 is in the middle, so
  // it is wrapped here to what the other columns leave of `width`.
  if (width > 0) {
    int others = 0;
    for (size_t c = 0; c < headers.size(); ++c) {
      if (c == kSummary) continue;
      int column = DisplayWidth(headers[c]);
      for (const auto& row : rows) column = std::max(column, DisplayWidth(row[c]));
      others += column + static_cast<int>(TerminalTable::kColumnGap.size());
    }
    const int room = std::max(width - others, kMinSummaryWidth);
    for (auto& row : rows) row[kSummary] = absl::StrJoin(WrapText(row[kSummary], room), "\n");
  }

  TerminalTable table(headers);
  for (auto& row : rows) table.AddRow(std::move(row));
  std::string out = table.Render();
  absl::StrAppend(&out, Count(alerts.size(), "alert", "alerts"));
  std::vector<std::string> severities;
  if (critical > 0) severities.push_back(absl::StrCat("重大 ", critical));
  if (warning > 0) severities.push_back(absl::StrCat("警告 ", warning));
  if (info > 0) severities.push_back(absl::StrCat("情報 ", info));
  if (!severities.empty()) absl::StrAppend(&out, ": ", absl::StrJoin(severities, ", "));
  std::vector<std::string> states;
  if (acknowledged > 0) states.push_back(absl::StrCat(acknowledged, " acknowledged"));
  if (silenced > 0) states.push_back(absl::StrCat(silenced, " silenced"));
  if (resolved > 0) states.push_back(absl::StrCat(resolved, " resolved"));
  if (!states.empty()) absl::StrAppend(&out, "; ", absl::StrJoin(states, ", "));
  absl::StrAppend(&out, "\n");
  return out;
}

std::string FormatAlertDetail(const Alert& alert, const kpi::v1::Kpi& kpi, absl::TimeZone zone) {
  TerminalTable facts = TerminalTable::WithoutHeader(2);
  const auto add = [&facts](const std::string& label, const std::string& value) {
    if (!value.empty()) facts.AddRow({label, value});
  };
  add("fingerprint", alert.fingerprint());
  add("重大度", SeverityLabel(alert.severity()));
  add("ルール", absl::StrCat(RuleName(alert.rule()), " (", RuleJapanese(alert.rule()), ")"));
  add("KPI",
      kpi.name().empty() ? alert.kpi_id() : absl::StrCat(kpi.name(), " (", alert.kpi_id(), ")"));
  const std::string region = RegionName(kpi, alert.region_id());
  add("地域",
      region == alert.region_id() ? region : absl::StrCat(region, " (", alert.region_id(), ")"));
  add("状態", AlertStateLabel(alert.state()));
  add("開始", FormatTimestamp(alert.start_time(), zone));
  add("終了", FormatTimestamp(alert.end_time(), zone));
  const AlertValues& values = alert.values();
  add("年度", YearOf(values));
  if (values.has_value()) {
    add("実績", ValueWithUnit(values.value(), kpi));
  }
  if (values.has_rate()) add("進捗率", Percent(values.rate()));
  if (values.has_expected_rate()) add("想定", Percent(values.expected_rate()));
  if (values.has_pace_gap()) add("差", Points(values.pace_gap()));
  add("未報告", MissingYears(values));
  add("概要", alert.summary());
  add("確認", AcknowledgementText(alert, zone));
  if (alert.silenced() || !alert.silence_ids().empty()) {
    add("サイレンス", absl::StrCat(alert.silenced() ? "silenced" : "not silenced",
                                   alert.silence_ids().empty() ? "" : " by ",
                                   absl::StrJoin(alert.silence_ids(), ", ")));
  }
  std::string out = facts.Render();

  absl::StrAppend(&out, "\n履歴:\n");
  TerminalTable history({"時刻", "状態", "重大度", "年度", "進捗率", "差", "備考"});
  history.SetAlign(4, TerminalTable::Align::kRight);
  history.SetAlign(5, TerminalTable::Align::kRight);
  for (const AlertHistoryEntry& entry : alert.history()) {
    history.AddRow({FormatTimestamp(entry.time(), zone), AlertStateLabel(entry.state()),
                    SeverityLabel(entry.severity()), YearOf(entry.values()),
                    entry.values().has_rate() ? Percent(entry.values().rate()) : "",
                    entry.values().has_pace_gap() ? Points(entry.values().pace_gap()) : "",
                    entry.note()});
  }
  if (alert.history().empty()) {
    absl::StrAppend(&out, "(none)\n");
  } else {
    absl::StrAppend(&out, history.Render());
  }
  return out;
}

std::string FormatAcknowledged(const Alert& alert, absl::TimeZone zone) {
  TerminalTable facts = TerminalTable::WithoutHeader(2);
  facts.AddRow({"fingerprint", alert.fingerprint()});
  facts.AddRow({"概要", alert.summary()});
  facts.AddRow({"確認", AcknowledgementText(alert, zone)});
  return facts.Render();
}

std::string FormatAlertEventLine(const AlertEvent& event, absl::TimeZone zone) {
  const Alert& alert = event.alert();
  std::vector<std::string> parts = {absl::StrCat("#", event.id()),
                                    FormatTimestamp(event.time(), zone),
                                    EventKindLabel(event.kind()),
                                    SeverityLabel(alert.severity()),
                                    RuleName(alert.rule()),
                                    alert.summary(),
                                    alert.fingerprint()};
  if (event.kind() == notification::v1::EVENT_KIND_ACKNOWLEDGED) {
    parts.push_back(absl::StrCat("by ", alert.acknowledgement().author()));
  }
  if (alert.silenced()) parts.push_back("(silenced)");
  parts.erase(std::remove(parts.begin(), parts.end(), std::string()), parts.end());
  return absl::StrCat(absl::StrJoin(parts, "  "), "\n");
}

std::string FormatSilence(const Silence& silence, absl::TimeZone zone) {
  TerminalTable facts = TerminalTable::WithoutHeader(2);
  facts.AddRow({"silence", silence.id()});
  facts.AddRow({"対象", MatchersText(silence)});
  facts.AddRow({"開始", FormatTimestamp(silence.start_time(), zone)});
  facts.AddRow({"終了", FormatTimestamp(silence.end_time(), zone)});
  facts.AddRow({"作成者", silence.author()});
  facts.AddRow({"コメント", silence.comment()});
  facts.AddRow({"状態", SilenceState(silence)});
  return facts.Render();
}

std::string FormatSilences(const std::vector<Silence>& silences, absl::TimeZone zone, int width) {
  TerminalTable table({"id", "対象", "開始", "終了", "作成者", "状態", "コメント"});
  for (const Silence& silence : silences) {
    table.AddRow({silence.id(), MatchersText(silence), Minutes(silence.start_time(), zone),
                  Minutes(silence.end_time(), zone), silence.author(), SilenceState(silence),
                  silence.comment()});
  }
  return absl::StrCat(table.Render(width), Count(silences.size(), "silence", "silences"), "\n");
}

std::string FormatRules(const std::vector<Rule>& rules) {
  TerminalTable table({"ルール", "対象", "有効", "重大度", "設定"});
  for (const Rule& rule : rules) {
    table.AddRow({absl::StrCat(RuleName(rule.kind()), " ", RuleJapanese(rule.kind())),
                  rule.kpi_id().empty() ? "全体" : rule.kpi_id(), rule.enabled() ? "yes" : "no",
                  SeverityLabel(rule.severity()), RuleSettings(rule)});
  }
  return table.Render();
}

std::string FormatWebhooks(const std::vector<Webhook>& webhooks, absl::TimeZone zone) {
  TerminalTable table({"id", "url", "対象", "作成"});
  for (const Webhook& webhook : webhooks) {
    table.AddRow({webhook.id(), webhook.url(), FilterText(webhook.filter()),
                  FormatTimestamp(webhook.create_time(), zone)});
  }
  return absl::StrCat(table.Render(), Count(webhooks.size(), "webhook", "webhooks"), "\n");
}

// After a secret the service made, shown this once.
constexpr char kKeepTheSecret[] =
    "Keep this secret: the receiver verifies each delivery's webhook-signature with it, and it "
    "is not shown again.\n";

std::string FormatCreatedWebhook(const Webhook& webhook, absl::TimeZone zone) {
  TerminalTable facts = TerminalTable::WithoutHeader(2);
  facts.AddRow({"webhook", webhook.id()});
  facts.AddRow({"url", webhook.url()});
  facts.AddRow({"対象", FilterText(webhook.filter())});
  facts.AddRow({"作成", FormatTimestamp(webhook.create_time(), zone)});
  if (!webhook.secret().empty()) facts.AddRow({"secret", webhook.secret()});
  std::string out = facts.Render();
  if (!webhook.secret().empty()) {
    absl::StrAppend(&out, kKeepTheSecret);
  }
  return out;
}

std::string FormatRotatedWebhook(const Webhook& webhook, absl::TimeZone zone) {
  TerminalTable facts = TerminalTable::WithoutHeader(2);
  facts.AddRow({"webhook", webhook.id()});
  facts.AddRow({"url", webhook.url()});
  if (!webhook.secret().empty()) facts.AddRow({"secret", webhook.secret()});
  facts.AddRow(
      {"旧secret",
       webhook.has_previous_secret_expire_time()
           ? absl::StrCat(FormatTimestamp(webhook.previous_secret_expire_time(), zone), " まで併用")
           : "廃止"});
  std::string out = facts.Render();
  if (!webhook.secret().empty()) {
    absl::StrAppend(&out, kKeepTheSecret);
  }
  return out;
}

std::string FormatDeadLetters(const std::vector<DeadLetter>& letters, absl::TimeZone zone,
                              int width) {
  TerminalTable table({"id", "webhook", "event", "attempts", "時刻", "エラー"});
  table.SetAlign(2, TerminalTable::Align::kRight);
  table.SetAlign(3, TerminalTable::Align::kRight);
  for (const DeadLetter& letter : letters) {
    table.AddRow({letter.id(), letter.webhook_id(), absl::StrCat(letter.event_id()),
                  absl::StrCat(letter.attempts()), FormatTimestamp(letter.time(), zone),
                  letter.last_error()});
  }
  std::string out =
      absl::StrCat(table.Render(width), Count(letters.size(), "dead letter", "dead letters"), "\n");
  if (!letters.empty()) {
    absl::StrAppend(&out, "Send one again with: suishinctl replay ID\n");
  }
  return out;
}

}  // namespace suishin::ctl
