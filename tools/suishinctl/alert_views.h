// How suishinctl shows notification-service data: the labels of severities,
// rules, states and event kinds, and the text of each alert command, built
// from protos with no I/O so tests can check the exact output without a
// server.
//
// Every Format* function returns text ending in "\n". Times are shown in the
// time zone given ("2026-11-29 12:00:00"; "2026-11-29 12:00" in the alerts
// table).
//
// Example:
//   std::vector<notification::v1::Alert> alerts = ...;  // from ListAlerts
//   KpiDirectory kpis = ...;                             // from GetKpi
//   std::cout << FormatAlerts(alerts, kpis, absl::LocalTimeZone(), 100);
//   // 重大度         ルール   KPI                 地域  状態    開始  ...
//   // 重大 CRITICAL  LAGGING  認定こども園設置数  宗谷  発生中  2026-11-29 12:00  ...
#ifndef SUISHIN_TOOLS_SUISHINCTL_ALERT_VIEWS_H_
#define SUISHIN_TOOLS_SUISHINCTL_ALERT_VIEWS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "report/labels.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::ctl {

// The labels the report shares (report/labels.h).
using report::RuleJapanese;
using report::SeverityLabel;

// KPI id → its definition, for the names of KPIs and regions in alert
// output. A KPI missing from it (kpi-service unreachable) is shown by its id,
// and so are its regions.
using KpiDirectory = std::map<std::string, kpi::v1::Kpi>;

// The rule's name as matchers and --rule use it: LAGGING, BELOW_THRESHOLD,
// DECLINING, STAGNANT, MISSING, ACHIEVED; "?" otherwise.
std::string RuleName(notification::v1::RuleKind rule);
// 発生中 (FIRING), 解消 (RESOLVED); "?" otherwise.
std::string AlertStateLabel(notification::v1::AlertState state);
// 発生 (FIRED), 解消 (RESOLVED), 確認 (ACKNOWLEDGED), 重大度変更
// (SEVERITY_CHANGED); "?" otherwise.
std::string EventKindLabel(notification::v1::EventKind kind);

// A filter as "region=soya,rumoi kpi=kodomoen severity=CRITICAL rule=LAGGING"
// (only the lists that are set); "(all)" for an empty filter.
std::string FilterText(const notification::v1::AlertFilter& filter);
// A silence's matchers as "region=soya severity=CRITICAL".
std::string MatchersText(const notification::v1::Silence& silence);

// The alerts command: one row per alert: 重大度 (SeverityLabel), ルール, KPI
// (its name), 地域 (its name), 状態, 開始 (start time), 年度 (the fiscal year
// evaluated), 概要 (the summary without the "<KPI name> <region name>: "
// prefix the columns already show), marks ("ack" when acknowledged,
// "silenced" while a silence holds it), fingerprint. The 概要 column is
// wrapped so that a row fits `width` display columns where it can (at least
// 20 columns are kept for it); `width` <= 0 means no wrapping. Then a line
// "N alerts: 重大 a, 警告 b, 情報 c" with "; k acknowledged, s silenced,
// r resolved" when there are any.
std::string FormatAlerts(const std::vector<notification::v1::Alert>& alerts,
                         const KpiDirectory& kpis, absl::TimeZone zone, int width);

// The alert command: the alert's fields one per line (fingerprint, 重大度,
// ルール, KPI, 地域, 状態, 開始, 終了, 年度, 実績, 進捗率, 想定, 差, 未報告,
// 概要, 確認, サイレンス; those without a value left out), then "履歴:" and
// one row per history entry: 時刻, 状態, 重大度, 年度, 進捗率, 差, 備考.
// `kpi` gives the name and unit; a default Kpi shows ids and bare numbers.
std::string FormatAlertDetail(const notification::v1::Alert& alert, const kpi::v1::Kpi& kpi,
                              absl::TimeZone zone);

// The ack command: fingerprint, 概要, 確認 (author, time, comment).
std::string FormatAcknowledged(const notification::v1::Alert& alert, absl::TimeZone zone);

// The watch-alerts line of one event:
//   #5  2026-11-29 12:00:00  発生  重大 CRITICAL  LAGGING  自主防災組織率 宗谷: …  1a2b3c4d5e6f7081
// with "  (silenced)" at the end while a silence holds the alert.
std::string FormatAlertEventLine(const notification::v1::AlertEvent& event, absl::TimeZone zone);

// The silence and expire-silence commands: silence (id), 対象 (matchers),
// 開始, 終了, 作成者, コメント, 状態 (有効 / 終了).
std::string FormatSilence(const notification::v1::Silence& silence, absl::TimeZone zone);

// The silences command: id, 対象, 開始, 終了, 作成者, 状態, コメント (wrapped to
// `width`); then "N silence(s)".
std::string FormatSilences(const std::vector<notification::v1::Silence>& silences,
                           absl::TimeZone zone, int width);

// The rules and set-rule commands: ルール ("LAGGING 遅れ"), 対象 (全体 or the
// KPI id), 有効 (yes/no), 重大度, 設定 (the parameters the rule uses:
// "warning < -10 pt, critical < -25 pt, clears > -8 pt", "threshold 50%",
// "min steps 2", "deadline 06-30").
std::string FormatRules(const std::vector<notification::v1::Rule>& rules);

// The webhooks command: id, url, 対象 (FilterText), 作成; then "N webhook(s)".
std::string FormatWebhooks(const std::vector<notification::v1::Webhook>& webhooks,
                           absl::TimeZone zone);

// The add-webhook command: webhook (id), url, 対象, 作成, and when the
// service generated the secret (it is in the response only then) the
// secret and a note that it is shown this once.
std::string FormatCreatedWebhook(const notification::v1::Webhook& webhook, absl::TimeZone zone);

// The rotate-webhook-secret command: webhook (id), url, the new secret when
// the service made it (shown this once), and until when the previous secret
// signs too (or that it no longer does).
std::string FormatRotatedWebhook(const notification::v1::Webhook& webhook, absl::TimeZone zone);

// The dead-letters command: id, webhook, event, attempts, 時刻, エラー (wrapped
// to `width`); then "N dead letter(s)", and when there are any a hint to
// replay them.
std::string FormatDeadLetters(const std::vector<notification::v1::DeadLetter>& letters,
                              absl::TimeZone zone, int width);

}  // namespace suishin::ctl

#endif  // SUISHIN_TOOLS_SUISHINCTL_ALERT_VIEWS_H_
