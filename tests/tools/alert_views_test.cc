// suishinctl's alert views: fixed notification-service messages in, exact
// text out.
#include "tools/suishinctl/alert_views.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/proto_util.h"

namespace suishin::ctl {
namespace {

using notification::v1::Alert;
using notification::v1::AlertEvent;
using notification::v1::DeadLetter;
using notification::v1::Rule;
using notification::v1::Silence;
using notification::v1::Webhook;

google::protobuf::Timestamp At(absl::string_view rfc3339) {
  absl::Time time;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error)) << error;
  return ToProtoTimestamp(time);
}

// Japan's time, as the seed's people read it.
absl::TimeZone Tokyo() { return absl::FixedTimeZone(9 * 60 * 60); }

kpi::v1::Kpi Kodomoen() {
  kpi::v1::Kpi kpi;
  kpi.set_id("kodomoen");
  kpi.set_name("認定こども園設置数");
  kpi.set_unit("カ所");
  kpi.set_value_kind(kpi::v1::VALUE_KIND_COUNT);
  (*kpi.mutable_region_names())["kamikawa"] = "上川";
  (*kpi.mutable_region_names())["soya"] = "宗谷";
  return kpi;
}

// 宗谷's 認定こども園: LAGGING CRITICAL, acknowledged and silenced.
Alert SoyaLagging() {
  Alert alert;
  alert.set_fingerprint("47786be92014bae0");
  alert.set_rule(notification::v1::RULE_KIND_LAGGING);
  alert.set_kpi_id("kodomoen");
  alert.set_region_id("soya");
  alert.set_severity(notification::v1::SEVERITY_CRITICAL);
  alert.set_state(notification::v1::ALERT_STATE_FIRING);
  *alert.mutable_start_time() = At("2026-11-29T12:00:00+09:00");
  alert.mutable_values()->mutable_fiscal_year()->set_year(2018);
  alert.mutable_values()->set_value(3);
  alert.mutable_values()->set_rate(50);
  alert.mutable_values()->set_expected_rate(86.666666666666671);
  alert.mutable_values()->set_pace_gap(-36.666666666666671);
  alert.set_summary("認定こども園設置数 宗谷: 進捗率 50.0%（想定 86.7%、差 -36.7 pt）");
  alert.mutable_acknowledgement()->set_author("宗谷振興局");
  *alert.mutable_acknowledgement()->mutable_time() = At("2026-11-29T13:30:00+09:00");
  alert.mutable_acknowledgement()->set_comment("対応を検討中");
  alert.set_silenced(true);
  alert.add_silence_ids("silence-080156b9b6a2");
  return alert;
}

// 留萌's 自主防災組織率: MISSING, for a KPI the directory does not know.
Alert RumoiMissing() {
  Alert alert;
  alert.set_fingerprint("a31b22f9edcceeba");
  alert.set_rule(notification::v1::RULE_KIND_MISSING);
  alert.set_kpi_id("jishu-bousai");
  alert.set_region_id("rumoi");
  alert.set_severity(notification::v1::SEVERITY_WARNING);
  alert.set_state(notification::v1::ALERT_STATE_FIRING);
  *alert.mutable_start_time() = At("2026-11-29T12:00:00+09:00");
  alert.mutable_values()->mutable_fiscal_year()->set_year(2018);
  alert.mutable_values()->set_value(37.1);
  alert.mutable_values()->add_missing_years()->set_year(2019);
  alert.mutable_values()->add_missing_years()->set_year(2020);
  alert.set_summary("自主防災組織率 留萌: R元・R2 の実績が未報告");
  return alert;
}

// 上川's 認定こども園: ACHIEVED, since resolved.
Alert KamikawaAchievedResolved() {
  Alert alert;
  alert.set_fingerprint("97496ee2d1c9f91d");
  alert.set_rule(notification::v1::RULE_KIND_ACHIEVED);
  alert.set_kpi_id("kodomoen");
  alert.set_region_id("kamikawa");
  alert.set_severity(notification::v1::SEVERITY_INFO);
  alert.set_state(notification::v1::ALERT_STATE_RESOLVED);
  *alert.mutable_start_time() = At("2026-11-29T12:00:00+09:00");
  *alert.mutable_end_time() = At("2026-12-01T08:15:00+09:00");
  alert.mutable_values()->mutable_fiscal_year()->set_year(2019);
  alert.set_summary("認定こども園設置数 上川: 目標 33カ所 を達成（41カ所、124.2%）");
  return alert;
}

TEST(AlertLabelsTest, SeverityRuleStateAndEventKind) {
  EXPECT_EQ(SeverityLabel(notification::v1::SEVERITY_CRITICAL), "重大 CRITICAL");
  EXPECT_EQ(SeverityLabel(notification::v1::SEVERITY_WARNING), "警告 WARNING");
  EXPECT_EQ(SeverityLabel(notification::v1::SEVERITY_INFO), "情報 INFO");
  EXPECT_EQ(SeverityLabel(notification::v1::SEVERITY_UNSPECIFIED), "?");
  EXPECT_EQ(RuleName(notification::v1::RULE_KIND_BELOW_THRESHOLD), "BELOW_THRESHOLD");
  EXPECT_EQ(RuleName(notification::v1::RULE_KIND_UNSPECIFIED), "?");
  EXPECT_EQ(RuleJapanese(notification::v1::RULE_KIND_STAGNANT), "停滞");
  EXPECT_EQ(AlertStateLabel(notification::v1::ALERT_STATE_RESOLVED), "解消");
  EXPECT_EQ(EventKindLabel(notification::v1::EVENT_KIND_FIRED), "発生");
  EXPECT_EQ(EventKindLabel(notification::v1::EVENT_KIND_RESOLVED), "解消");
  EXPECT_EQ(EventKindLabel(notification::v1::EVENT_KIND_ACKNOWLEDGED), "確認");
  EXPECT_EQ(EventKindLabel(notification::v1::EVENT_KIND_SEVERITY_CHANGED), "重大度変更");
}

TEST(AlertLabelsTest, FilterTextListsTheSetLists) {
  notification::v1::AlertFilter filter;
  EXPECT_EQ(FilterText(filter), "(all)");
  filter.add_region_ids("soya");
  filter.add_region_ids("rumoi");
  filter.add_severities(notification::v1::SEVERITY_CRITICAL);
  filter.add_rules(notification::v1::RULE_KIND_LAGGING);
  EXPECT_EQ(FilterText(filter), "region=soya,rumoi severity=CRITICAL rule=LAGGING");
}

TEST(AlertViewsTest, AlertsTableShowsNamesMarksAndCounts) {
  const std::string text = FormatAlerts({SoyaLagging(), RumoiMissing(), KamikawaAchievedResolved()},
                                        {{"kodomoen", Kodomoen()}}, Tokyo(), /*width=*/0);
  EXPECT_EQ(text,
            "重大度         ルール    KPI                 地域   状態    開始              "
            "年度        概要                                         marks         fingerprint\n"
            "-------------  --------  ------------------  -----  ------  ----------------  "
            "----------  -------------------------------------------  ------------  "
            "----------------\n"
            "重大 CRITICAL  LAGGING   認定こども園設置数  宗谷   発生中  2026-11-29 12:00  "
            "H30 (2018)  進捗率 50.0%（想定 86.7%、差 -36.7 pt）      ack silenced  "
            "47786be92014bae0\n"
            "警告 WARNING   MISSING   jishu-bousai        rumoi  発生中  2026-11-29 12:00  "
            "H30 (2018)  自主防災組織率 留萌: R元・R2 の実績が未報告                "
            "a31b22f9edcceeba\n"
            "情報 INFO      ACHIEVED  認定こども園設置数  上川   解消    2026-11-29 12:00  "
            "R元 (2019)  目標 33カ所 を達成（41カ所、124.2%）                       "
            "97496ee2d1c9f91d\n"
            "3 alerts: 重大 1, 警告 1, 情報 1; 1 acknowledged, 1 silenced, 1 resolved\n")
      << text;
}

TEST(AlertViewsTest, AlertsTableWrapsTheSummaryToTheWidth) {
  const std::string text =
      FormatAlerts({SoyaLagging()}, {{"kodomoen", Kodomoen()}}, Tokyo(), /*width=*/150);
  // The other columns take 120 of the 150: 概要 gets 30 and wraps; the row fits.
  EXPECT_EQ(text,
            "重大度         ルール   KPI                 地域  状態    開始              年度    "
            "    概要                          marks         fingerprint\n"
            "-------------  -------  ------------------  ----  ------  ----------------  "
            "----------  ----------------------------  ------------  ----------------\n"
            "重大 CRITICAL  LAGGING  認定こども園設置数  宗谷  発生中  2026-11-29 12:00  H30 "
            "(2018)  進捗率 50.0%（想定 86.7%、差  ack silenced  47786be92014bae0\n"
            "                                                                                  "
            "      -36.7 pt）\n"
            "1 alert: 重大 1; 1 acknowledged, 1 silenced\n")
      << text;
}

TEST(AlertViewsTest, EmptyAlertsTable) {
  EXPECT_EQ(FormatAlerts({}, {}, Tokyo(), 100),
            "重大度  ルール  KPI  地域  状態  開始  年度  概要  marks  fingerprint\n"
            "------  ------  ---  ----  ----  ----  ----  ----  -----  -----------\n"
            "0 alerts\n");
}

TEST(AlertViewsTest, AlertDetailShowsValuesAcknowledgementSilencesAndHistory) {
  Alert alert = SoyaLagging();
  auto* fired = alert.add_history();
  *fired->mutable_time() = At("2026-11-29T12:00:00+09:00");
  fired->set_state(notification::v1::ALERT_STATE_FIRING);
  fired->set_severity(notification::v1::SEVERITY_WARNING);
  *fired->mutable_values() = alert.values();
  fired->mutable_values()->set_rate(80);
  fired->mutable_values()->set_pace_gap(-12.25);
  fired->set_note("fired");
  auto* worse = alert.add_history();
  *worse->mutable_time() = At("2026-11-29T12:05:00+09:00");
  worse->set_state(notification::v1::ALERT_STATE_FIRING);
  worse->set_severity(notification::v1::SEVERITY_CRITICAL);
  *worse->mutable_values() = alert.values();
  worse->set_note("severity WARNING → CRITICAL");
  const std::string text = FormatAlertDetail(alert, Kodomoen(), Tokyo());
  EXPECT_EQ(text,
            "fingerprint  47786be92014bae0\n"
            "重大度       重大 CRITICAL\n"
            "ルール       LAGGING (遅れ)\n"
            "KPI          認定こども園設置数 (kodomoen)\n"
            "地域         宗谷 (soya)\n"
            "状態         発生中\n"
            "開始         2026-11-29 12:00:00\n"
            "年度         H30 (2018)\n"
            "実績         3カ所\n"
            "進捗率       50.0%\n"
            "想定         86.7%\n"
            "差           -36.7 pt\n"
            "概要         認定こども園設置数 宗谷: 進捗率 50.0%（想定 86.7%、差 -36.7 pt）\n"
            "確認         宗谷振興局  2026-11-29 13:30:00  対応を検討中\n"
            "サイレンス   silenced by silence-080156b9b6a2\n"
            "\n"
            "履歴:\n"
            "時刻                 状態    重大度         年度        進捗率        差  備考\n"
            "-------------------  ------  -------------  ----------  ------  --------  "
            "---------------------------\n"
            "2026-11-29 12:00:00  発生中  警告 WARNING   H30 (2018)   80.0%  -12.3 pt  fired\n"
            "2026-11-29 12:05:00  発生中  重大 CRITICAL  H30 (2018)   50.0%  -36.7 pt  "
            "severity WARNING → CRITICAL\n")
      << text;
}

TEST(AlertViewsTest, AlertDetailOfAnUnknownKpiShowsIdsAndMissingYears) {
  const std::string text = FormatAlertDetail(RumoiMissing(), kpi::v1::Kpi(), Tokyo());
  EXPECT_EQ(text,
            "fingerprint  a31b22f9edcceeba\n"
            "重大度       警告 WARNING\n"
            "ルール       MISSING (未報告)\n"
            "KPI          jishu-bousai\n"
            "地域         rumoi\n"
            "状態         発生中\n"
            "開始         2026-11-29 12:00:00\n"
            "年度         H30 (2018)\n"
            "実績         37.1\n"
            "未報告       R元 (2019)・R2 (2020)\n"
            "概要         自主防災組織率 留萌: R元・R2 の実績が未報告\n"
            "\n"
            "履歴:\n"
            "(none)\n")
      << text;
}

TEST(AlertViewsTest, AcknowledgedShowsWhoWhenAndWhy) {
  EXPECT_EQ(FormatAcknowledged(SoyaLagging(), Tokyo()),
            "fingerprint  47786be92014bae0\n"
            "概要         認定こども園設置数 宗谷: 進捗率 50.0%（想定 86.7%、差 -36.7 pt）\n"
            "確認         宗谷振興局  2026-11-29 13:30:00  対応を検討中\n");
}

TEST(AlertViewsTest, EventLinesNameIdKindSeveritySummaryAndFingerprint) {
  AlertEvent fired;
  fired.set_id(5);
  fired.set_kind(notification::v1::EVENT_KIND_FIRED);
  *fired.mutable_time() = At("2026-11-29T12:00:00+09:00");
  *fired.mutable_alert() = RumoiMissing();
  EXPECT_EQ(FormatAlertEventLine(fired, Tokyo()),
            "#5  2026-11-29 12:00:00  発生  警告 WARNING  MISSING  自主防災組織率 留萌: R元・R2 "
            "の実績が未報告  a31b22f9edcceeba\n");

  AlertEvent acknowledged;
  acknowledged.set_id(18);
  acknowledged.set_kind(notification::v1::EVENT_KIND_ACKNOWLEDGED);
  *acknowledged.mutable_time() = At("2026-11-29T13:30:00+09:00");
  *acknowledged.mutable_alert() = SoyaLagging();
  EXPECT_EQ(FormatAlertEventLine(acknowledged, Tokyo()),
            "#18  2026-11-29 13:30:00  確認  重大 CRITICAL  LAGGING  認定こども園設置数 宗谷: "
            "進捗率 50.0%（想定 86.7%、差 -36.7 pt）  47786be92014bae0  by 宗谷振興局  "
            "(silenced)\n");

  AlertEvent resolved;
  resolved.set_id(19);
  resolved.set_kind(notification::v1::EVENT_KIND_RESOLVED);
  *resolved.mutable_time() = At("2026-12-01T08:15:00+09:00");
  *resolved.mutable_alert() = KamikawaAchievedResolved();
  EXPECT_EQ(FormatAlertEventLine(resolved, Tokyo()),
            "#19  2026-12-01 08:15:00  解消  情報 INFO  ACHIEVED  認定こども園設置数 上川: 目標 "
            "33カ所 を達成（41カ所、124.2%）  97496ee2d1c9f91d\n");
}

Silence SoyaSilence() {
  Silence silence;
  silence.set_id("silence-080156b9b6a2");
  auto* region = silence.add_matchers();
  region->set_field(notification::v1::MATCHER_FIELD_REGION);
  region->set_value("soya");
  auto* severity = silence.add_matchers();
  severity->set_field(notification::v1::MATCHER_FIELD_SEVERITY);
  severity->set_value("CRITICAL");
  *silence.mutable_start_time() = At("2026-11-29T12:00:00+09:00");
  *silence.mutable_end_time() = At("2026-11-29T13:00:00+09:00");
  silence.set_author("山田");
  silence.set_comment("除雪作業中");
  silence.set_active(true);
  return silence;
}

TEST(AlertViewsTest, SilenceAndSilences) {
  EXPECT_EQ(FormatSilence(SoyaSilence(), Tokyo()),
            "silence   silence-080156b9b6a2\n"
            "対象      region=soya severity=CRITICAL\n"
            "開始      2026-11-29 12:00:00\n"
            "終了      2026-11-29 13:00:00\n"
            "作成者    山田\n"
            "コメント  除雪作業中\n"
            "状態      有効\n");
  Silence ended = SoyaSilence();
  ended.set_id("silence-1");
  ended.clear_matchers();
  auto* rule = ended.add_matchers();
  rule->set_field(notification::v1::MATCHER_FIELD_RULE);
  rule->set_value("MISSING");
  ended.set_active(false);
  const std::string text = FormatSilences({SoyaSilence(), ended}, Tokyo(), 0);
  EXPECT_EQ(text,
            "id                    対象                           開始              終了          "
            "    作成者  状態  コメント\n"
            "--------------------  -----------------------------  ----------------  "
            "----------------  ------  ----  ----------\n"
            "silence-080156b9b6a2  region=soya severity=CRITICAL  2026-11-29 12:00  2026-11-29 "
            "13:00  山田    有効  除雪作業中\n"
            "silence-1             rule=MISSING                   2026-11-29 12:00  2026-11-29 "
            "13:00  山田    終了  除雪作業中\n"
            "2 silences\n")
      << text;
}

TEST(AlertViewsTest, RulesShowTheParametersEachKindUses) {
  Rule lagging;
  lagging.set_kind(notification::v1::RULE_KIND_LAGGING);
  lagging.set_enabled(true);
  lagging.set_severity(notification::v1::SEVERITY_WARNING);
  lagging.set_warning_gap(-10);
  lagging.set_critical_gap(-25);
  lagging.set_clear_gap(-8);
  lagging.set_threshold_percent(50);  // not LAGGING's: not shown
  Rule threshold;
  threshold.set_kind(notification::v1::RULE_KIND_BELOW_THRESHOLD);
  threshold.set_kpi_id("kodomoen");
  threshold.set_severity(notification::v1::SEVERITY_CRITICAL);
  threshold.set_threshold_percent(62.5);
  Rule missing;
  missing.set_kind(notification::v1::RULE_KIND_MISSING);
  missing.set_enabled(true);
  missing.set_severity(notification::v1::SEVERITY_WARNING);
  missing.set_deadline_month(6);
  missing.set_deadline_day(30);
  Rule achieved;
  achieved.set_kind(notification::v1::RULE_KIND_ACHIEVED);
  achieved.set_enabled(true);
  achieved.set_severity(notification::v1::SEVERITY_INFO);
  const std::string text = FormatRules({lagging, threshold, missing, achieved});
  EXPECT_EQ(text,
            "ルール                        対象      有効  重大度         設定\n"
            "----------------------------  --------  ----  -------------  "
            "---------------------------------------------------\n"
            "LAGGING 遅れ                  全体      yes   警告 WARNING   warning < -10 pt, "
            "critical < -25 pt, clears > -8 pt\n"
            "BELOW_THRESHOLD しきい値未満  kodomoen  no    重大 CRITICAL  threshold 62.5%\n"
            "MISSING 未報告                全体      yes   警告 WARNING   deadline 06-30\n"
            "ACHIEVED 達成                 全体      yes   情報 INFO\n")
      << text;
}

TEST(AlertViewsTest, WebhooksAndTheSecretShownOnce) {
  Webhook webhook;
  webhook.set_id("webhook-923e196192e4");
  webhook.set_url("https://example.jp/hooks/suishin");
  webhook.mutable_filter()->add_region_ids("soya");
  *webhook.mutable_create_time() = At("2026-11-29T12:00:00+09:00");
  Webhook all;
  all.set_id("webhook-1");
  all.set_url("http://127.0.0.1:8080/");
  *all.mutable_create_time() = At("2026-11-29T12:00:00+09:00");
  EXPECT_EQ(FormatWebhooks({webhook, all}, Tokyo()),
            "id                    url                               対象         作成\n"
            "--------------------  --------------------------------  -----------  "
            "-------------------\n"
            "webhook-923e196192e4  https://example.jp/hooks/suishin  region=soya  2026-11-29 "
            "12:00:00\n"
            "webhook-1             http://127.0.0.1:8080/            (all)        2026-11-29 "
            "12:00:00\n"
            "2 webhooks\n");

  // The caller's own secret is not in the response: nothing to keep.
  EXPECT_EQ(FormatCreatedWebhook(webhook, Tokyo()),
            "webhook  webhook-923e196192e4\n"
            "url      https://example.jp/hooks/suishin\n"
            "対象     region=soya\n"
            "作成     2026-11-29 12:00:00\n");
  webhook.set_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  EXPECT_EQ(FormatCreatedWebhook(webhook, Tokyo()),
            "webhook  webhook-923e196192e4\n"
            "url      https://example.jp/hooks/suishin\n"
            "対象     region=soya\n"
            "作成     2026-11-29 12:00:00\n"
            "secret   whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
            "Keep this secret: the receiver verifies each delivery's webhook-signature with it, "
            "and it is not shown again.\n");
}

TEST(AlertViewsTest, DeadLettersAndTheReplayHint) {
  DeadLetter letter;
  letter.set_id("dead-1");
  letter.set_webhook_id("webhook-1");
  letter.set_event_id(18);
  letter.set_attempts(3);
  letter.set_last_error("HTTP 503");
  *letter.mutable_time() = At("2026-11-29T12:00:01+09:00");
  EXPECT_EQ(FormatDeadLetters({letter}, Tokyo(), 0),
            "id      webhook    event  attempts  時刻                 エラー\n"
            "------  ---------  -----  --------  -------------------  --------\n"
            "dead-1  webhook-1     18         3  2026-11-29 12:00:01  HTTP 503\n"
            "1 dead letter\n"
            "Send one again with: suishinctl replay ID\n");
  EXPECT_EQ(FormatDeadLetters({}, Tokyo(), 0),
            "id  webhook  event  attempts  時刻  エラー\n"
            "--  -------  -----  --------  ----  ------\n"
            "0 dead letters\n");
}

}  // namespace
}  // namespace suishin::ctl
