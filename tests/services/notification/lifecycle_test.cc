// An alert's life through the real binaries: acknowledgement, silences that
// hold back delivery until they end, per-KPI rule overrides that re-evaluate
// without any KPI change, and the requests the service must refuse.
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "common/proto_util.h"
#include "services/notification/alert_book.h"
#include "services/notification/alert_filter.h"
#include "tests/services/notification/suite_fixture.h"

namespace suishin::notification {
namespace {

using testing::AlertKey;
using testing::Context;
using testing::KeyOf;
using testing::RecordActual;
using testing::SeedAlertKeys;
using testing::Subscriber;
using testing::SuiteTest;

// The fixture's --now.
absl::Time FixtureNow() {
  absl::Time now;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, "2026-11-29T12:00:00+09:00", &now, &error));
  return now;
}

const AlertKey kSoyaLagging{"LAGGING", "jishu-bousai", "soya", "CRITICAL"};
const AlertKey kRumoiDeclining{"DECLINING", "jishu-bousai", "rumoi", "WARNING"};

class LifecycleTest : public SuiteTest {
 protected:
  // The seed loaded, notification-service started, its seventeen events read.
  void StartWithSeed() {
    LoadSeed();
    StartNotification();
    subscriber_ = std::make_unique<Subscriber>(notification_stub_.get(), 0);
    ASSERT_TRUE(subscriber_->WaitFor(SeedAlertKeys().size()));
  }

  void TearDown() override {
    if (subscriber_) subscriber_->Stop();
    SuiteTest::TearDown();
  }

  v1::Alert Find(const AlertKey& key) {
    for (v1::Alert& alert : Alerts(/*include_resolved=*/true)) {
      if (KeyOf(alert) == key) return alert;
    }
    ADD_FAILURE() << "no alert " << std::get<0>(key) << " " << std::get<1>(key) << " "
                  << std::get<2>(key);
    return {};
  }

  v1::Alert Get(const std::string& fingerprint) {
    v1::GetAlertRequest request;
    request.set_fingerprint(fingerprint);
    v1::GetAlertResponse response;
    grpc::Status status = notification_stub_->GetAlert(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.alert();
  }

  void Record(const std::string& kpi, const std::string& region, int year, double value) {
    grpc::Status status = RecordActual(kpi_stub_.get(), kpi, region, year, value);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // 留萌 自主防災組織率 H30 37.1 → 40.0 resolves DECLINING, and back fires it:
  // a known next event, so that once it has arrived every change before it
  // has been evaluated. Returns the events that arrived up to and with it.
  std::vector<v1::AlertEvent> Barrier(double rumoi_value) {
    const size_t before = subscriber_->events().size();
    Record("jishu-bousai", "rumoi", 2018, rumoi_value);
    EXPECT_TRUE(subscriber_->WaitFor(before + 1));
    std::vector<v1::AlertEvent> events = subscriber_->events();
    EXPECT_EQ(KeyOf(events.back().alert()), kRumoiDeclining);
    return std::vector<v1::AlertEvent>(events.begin() + before, events.end());
  }

  std::unique_ptr<Subscriber> subscriber_;
};

std::vector<std::string> Notes(const v1::Alert& alert) {
  std::vector<std::string> notes;
  for (const v1::AlertHistoryEntry& entry : alert.history()) notes.push_back(entry.note());
  return notes;
}

TEST_F(LifecycleTest, AcknowledgingRecordsWhoAndWhyAndIsAnEvent) {
  ASSERT_NO_FATAL_FAILURE(StartWithSeed());
  const v1::Alert alert = Find(kSoyaLagging);
  EXPECT_EQ(alert.fingerprint(), Fingerprint(v1::RULE_KIND_LAGGING, "jishu-bousai", "soya"));
  EXPECT_FALSE(alert.has_acknowledgement());

  v1::AcknowledgeAlertRequest request;
  request.set_fingerprint(alert.fingerprint());
  request.set_author("宗谷総合振興局 地域政策課");
  request.set_comment("R2 に自主防災組織の結成支援を強化");
  v1::AcknowledgeAlertResponse response;
  grpc::Status status = notification_stub_->AcknowledgeAlert(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.alert().acknowledgement().author(), request.author());
  EXPECT_EQ(response.alert().acknowledgement().comment(), request.comment());
  EXPECT_EQ(FromProtoTimestamp(response.alert().acknowledgement().time()), FixtureNow());
  EXPECT_EQ(response.alert().state(), v1::ALERT_STATE_FIRING);

  // Subscribers hear of it: the next event.
  ASSERT_TRUE(subscriber_->WaitFor(SeedAlertKeys().size() + 1));
  const v1::AlertEvent event = subscriber_->events().back();
  EXPECT_EQ(event.id(), static_cast<int64_t>(SeedAlertKeys().size() + 1));
  EXPECT_EQ(event.kind(), v1::EVENT_KIND_ACKNOWLEDGED);
  EXPECT_EQ(event.alert().fingerprint(), alert.fingerprint());
  EXPECT_EQ(event.alert().acknowledgement().author(), request.author());

  // GetAlert: the acknowledgement and the history, fired then acknowledged.
  const v1::Alert got = Get(alert.fingerprint());
  EXPECT_EQ(got.acknowledgement().author(), request.author());
  EXPECT_EQ(got.acknowledgement().comment(), request.comment());
  EXPECT_EQ(got.state(), v1::ALERT_STATE_FIRING);
  EXPECT_EQ(got.start_time().seconds(), alert.start_time().seconds());
  ASSERT_EQ(got.history_size(), 2) << ::testing::PrintToString(Notes(got));
  EXPECT_EQ(got.history(0).note(), "fired");
  EXPECT_EQ(got.history(0).state(), v1::ALERT_STATE_FIRING);
  EXPECT_EQ(got.history(0).severity(), v1::SEVERITY_CRITICAL);
  EXPECT_TRUE(absl::StrContains(got.history(1).note(), "acknowledged")) << got.history(1).note();
  EXPECT_TRUE(absl::StrContains(got.history(1).note(), request.author())) << got.history(1).note();
  EXPECT_EQ(got.history(1).state(), v1::ALERT_STATE_FIRING);
  // Listing shows it too (history only in GetAlert).
  const v1::Alert listed = Find(kSoyaLagging);
  EXPECT_EQ(listed.acknowledgement().author(), request.author());
  EXPECT_EQ(listed.history_size(), 0);
}

TEST_F(LifecycleTest, ASilenceHoldsBackOneAlertUntilItIsExpired) {
  ASSERT_NO_FATAL_FAILURE(StartWithSeed());
  const std::string fingerprint = Find(kSoyaLagging).fingerprint();

  // Matches 宗谷 自主防災組織率's LAGGING only (not 宗谷 認定こども園's).
  v1::CreateSilenceRequest create;
  v1::Silence& silence = *create.mutable_silence();
  for (const auto& [field, value] : {std::make_pair(v1::MATCHER_FIELD_RULE, "LAGGING"),
                                     std::make_pair(v1::MATCHER_FIELD_KPI, "jishu-bousai"),
                                     std::make_pair(v1::MATCHER_FIELD_REGION, "soya")}) {
    v1::Matcher& matcher = *silence.add_matchers();
    matcher.set_field(field);
    matcher.set_value(value);
  }
  *silence.mutable_end_time() = ToProtoTimestamp(FixtureNow() + absl::Hours(24));
  silence.set_author("宗谷総合振興局 地域政策課");
  silence.set_comment("結成支援の結果が出るまで");
  v1::CreateSilenceResponse created;
  grpc::Status status = notification_stub_->CreateSilence(Context().get(), create, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string silence_id = created.silence().id();
  ASSERT_FALSE(silence_id.empty());
  EXPECT_TRUE(created.silence().active());
  EXPECT_EQ(FromProtoTimestamp(created.silence().start_time()), FixtureNow());

  // Listed, and marked silenced: that one alert and no other.
  for (const v1::Alert& alert : Alerts()) {
    SCOPED_TRACE(alert.summary());
    if (alert.fingerprint() == fingerprint) {
      EXPECT_TRUE(alert.silenced());
      EXPECT_EQ(std::vector<std::string>(alert.silence_ids().begin(), alert.silence_ids().end()),
                std::vector<std::string>{silence_id});
    } else {
      EXPECT_FALSE(alert.silenced());
      EXPECT_EQ(alert.silence_ids_size(), 0);
    }
  }
  EXPECT_EQ(Alerts().size(), SeedAlertKeys().size());

  // 宗谷 H30 58.0 (71.6% against a pace of 71.3%) resolves it, silently.
  Record("jishu-bousai", "soya", 2018, 58.0);
  std::vector<v1::AlertEvent> events = Barrier(40.0);
  EXPECT_EQ(events.size(), 1u) << "an event while silenced";
  v1::Alert alert = Get(fingerprint);
  EXPECT_EQ(alert.state(), v1::ALERT_STATE_RESOLVED);
  EXPECT_TRUE(alert.silenced());
  // 33.4 again fires it again, silently.
  Record("jishu-bousai", "soya", 2018, 33.4);
  events = Barrier(37.1);
  EXPECT_EQ(events.size(), 1u) << "an event while silenced";
  alert = Get(fingerprint);
  EXPECT_EQ(alert.state(), v1::ALERT_STATE_FIRING);
  EXPECT_TRUE(alert.silenced());
  EXPECT_EQ(Notes(alert), (std::vector<std::string>{"fired", "resolved", "fired (silenced)"}));

  // Expired: it is still firing, so it is delivered now.
  const size_t before = subscriber_->events().size();
  v1::ExpireSilenceRequest expire;
  expire.set_id(silence_id);
  v1::ExpireSilenceResponse expired;
  status = notification_stub_->ExpireSilence(Context().get(), expire, &expired);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(expired.silence().active());
  EXPECT_EQ(FromProtoTimestamp(expired.silence().end_time()), FixtureNow());
  ASSERT_TRUE(subscriber_->WaitFor(before + 1));
  const v1::AlertEvent released = subscriber_->events().back();
  EXPECT_EQ(released.kind(), v1::EVENT_KIND_FIRED);
  EXPECT_EQ(released.alert().fingerprint(), fingerprint);
  EXPECT_EQ(KeyOf(released.alert()), kSoyaLagging);
  EXPECT_FALSE(released.alert().silenced());
  for (const v1::Alert& listed : Alerts()) EXPECT_FALSE(listed.silenced()) << listed.summary();

  v1::ListSilencesRequest list;
  v1::ListSilencesResponse active;
  ASSERT_TRUE(notification_stub_->ListSilences(Context().get(), list, &active).ok());
  EXPECT_EQ(active.silences_size(), 0);
  list.set_include_expired(true);
  v1::ListSilencesResponse all;
  ASSERT_TRUE(notification_stub_->ListSilences(Context().get(), list, &all).ok());
  ASSERT_EQ(all.silences_size(), 1);
  EXPECT_EQ(all.silences(0).id(), silence_id);
  EXPECT_FALSE(all.silences(0).active());

  // And later changes are delivered again: resolving it is an event.
  Record("jishu-bousai", "soya", 2018, 58.0);
  ASSERT_TRUE(subscriber_->WaitFor(before + 2));
  EXPECT_EQ(subscriber_->events().back().kind(), v1::EVENT_KIND_RESOLVED);
  EXPECT_EQ(subscriber_->events().back().alert().fingerprint(), fingerprint);
}

// Sets `rule` and checks it is echoed.
void SetRule(v1::NotificationService::Stub* stub, const v1::Rule& rule) {
  v1::SetRuleRequest request;
  *request.mutable_rule() = rule;
  v1::SetRuleResponse response;
  grpc::Status status = stub->SetRule(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.rule().SerializeAsString(), rule.SerializeAsString());
}

v1::Rule LaggingOf(v1::NotificationService::Stub* stub, const std::string& kpi_id) {
  v1::ListRulesRequest request;
  request.set_kpi_id(kpi_id);
  v1::ListRulesResponse response;
  grpc::Status status = stub->ListRules(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.rules_size(), 6);
  for (const v1::Rule& rule : response.rules()) {
    if (rule.kind() == v1::RULE_KIND_LAGGING) return rule;
  }
  ADD_FAILURE() << "no LAGGING rule for \"" << kpi_id << "\"";
  return {};
}

// The four LAGGING alerts of 自主防災組織率 (gaps −18.3 to −32.9 points).
std::set<AlertKey> JishuBousaiLagging() {
  std::set<AlertKey> keys;
  for (const AlertKey& key : SeedAlertKeys()) {
    if (std::get<0>(key) == "LAGGING" && std::get<1>(key) == "jishu-bousai") keys.insert(key);
  }
  return keys;
}

// Waits for `n` more events and returns those that resolved an alert.
std::set<AlertKey> Resolutions(Subscriber& subscriber, size_t from, size_t n) {
  EXPECT_TRUE(subscriber.WaitFor(from + n)) << subscriber.events().size() - from << " of " << n;
  std::set<AlertKey> keys;
  const std::vector<v1::AlertEvent> events = subscriber.events();
  for (size_t i = from; i < events.size(); ++i) {
    EXPECT_EQ(events[i].kind(), v1::EVENT_KIND_RESOLVED)
        << ::testing::PrintToString(KeyOf(events[i].alert()));
    keys.insert(KeyOf(events[i].alert()));
  }
  return keys;
}

TEST_F(LifecycleTest, AKpiOverrideReevaluatesWithoutAnyKpiChange) {
  ASSERT_NO_FATAL_FAILURE(StartWithSeed());
  const size_t seed_events = SeedAlertKeys().size();
  // 自主防災組織率 lags only below −50 points (critical below −60, clear
  // above −45): none of its four regions lags now.
  v1::Rule rule;
  rule.set_kind(v1::RULE_KIND_LAGGING);
  rule.set_kpi_id("jishu-bousai");
  rule.set_enabled(true);
  rule.set_severity(v1::SEVERITY_WARNING);
  rule.set_warning_gap(-50);
  rule.set_critical_gap(-60);
  rule.set_clear_gap(-45);
  ASSERT_NO_FATAL_FAILURE(SetRule(notification_stub_.get(), rule));
  EXPECT_EQ(Resolutions(*subscriber_, seed_events, 4), JishuBousaiLagging());

  // Nothing else changed: the next event is the barrier's.
  EXPECT_EQ(Barrier(40.0).size(), 1u);
  std::set<AlertKey> expected = SeedAlertKeys();
  for (const AlertKey& key : JishuBousaiLagging()) expected.erase(key);
  expected.erase(kRumoiDeclining);
  std::set<AlertKey> listed;
  for (const v1::Alert& alert : Alerts()) listed.insert(KeyOf(alert));
  EXPECT_EQ(listed, expected);  // 宗谷 認定こども園 still lags: the override is per KPI

  // ListRules shows the override for the KPI, the defaults elsewhere.
  const v1::Rule effective = LaggingOf(notification_stub_.get(), "jishu-bousai");
  EXPECT_EQ(effective.kpi_id(), "jishu-bousai");
  EXPECT_EQ(effective.warning_gap(), -50);
  EXPECT_EQ(effective.critical_gap(), -60);
  EXPECT_EQ(effective.clear_gap(), -45);
  for (const std::string kpi_id : {"", "kodomoen"}) {
    SCOPED_TRACE(kpi_id);
    const v1::Rule other = LaggingOf(notification_stub_.get(), kpi_id);
    EXPECT_EQ(other.warning_gap(), -10);
    EXPECT_EQ(other.critical_gap(), -25);
    EXPECT_EQ(other.clear_gap(), -8);
  }
}

// An override is checked as it will apply: warning_gap −50 alone would leave
// the default critical_gap −25 above it, so it is refused and changes nothing.
TEST_F(LifecycleTest, AnOverrideThatPutsTheEffectiveGapsOutOfOrderIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartWithSeed());
  v1::SetRuleRequest request;
  request.mutable_rule()->set_kind(v1::RULE_KIND_LAGGING);
  request.mutable_rule()->set_kpi_id("jishu-bousai");
  request.mutable_rule()->set_enabled(true);
  request.mutable_rule()->set_severity(v1::SEVERITY_WARNING);
  request.mutable_rule()->set_warning_gap(-50);
  v1::SetRuleResponse response;
  grpc::Status status = notification_stub_->SetRule(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "rule.") &&
              absl::StrContains(status.error_message(), "-50"))
      << status.error_message();
  const v1::Rule lagging = LaggingOf(notification_stub_.get(), "jishu-bousai");
  EXPECT_EQ(lagging.warning_gap(), -10);
  EXPECT_EQ(lagging.critical_gap(), -25);
  // Nothing was re-evaluated: the next event is the barrier's.
  EXPECT_EQ(Barrier(40.0).size(), 1u);
}

TEST_F(LifecycleTest, BadRequestsAreRefusedNamingTheFieldAndStoreNothing) {
  StartNotification();
  auto matcher = [](v1::MatcherField field, const std::string& value) {
    v1::Matcher m;
    m.set_field(field);
    m.set_value(value);
    return m;
  };
  auto silence = [&](std::vector<v1::Matcher> matchers, absl::Duration end_after_start) {
    v1::CreateSilenceRequest request;
    for (v1::Matcher& m : matchers) *request.mutable_silence()->add_matchers() = std::move(m);
    *request.mutable_silence()->mutable_start_time() = ToProtoTimestamp(FixtureNow());
    *request.mutable_silence()->mutable_end_time() =
        ToProtoTimestamp(FixtureNow() + end_after_start);
    request.mutable_silence()->set_author("test");
    request.mutable_silence()->set_comment("test");
    return request;
  };
  auto* stub = notification_stub_.get();
  struct Case {
    const char* what;
    std::function<grpc::Status()> call;
    grpc::StatusCode code;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"unknown fingerprint",
       [&] {
         v1::GetAlertRequest request;
         request.set_fingerprint("0123456789abcdef");
         v1::GetAlertResponse response;
         return stub->GetAlert(Context().get(), request, &response);
       },
       grpc::StatusCode::NOT_FOUND, "fingerprint"},
      {"acknowledging an unknown fingerprint",
       [&] {
         v1::AcknowledgeAlertRequest request;
         request.set_fingerprint("0123456789abcdef");
         request.set_author("test");
         v1::AcknowledgeAlertResponse response;
         return stub->AcknowledgeAlert(Context().get(), request, &response);
       },
       grpc::StatusCode::NOT_FOUND, "fingerprint"},
      {"silence without matchers",
       [&] {
         v1::CreateSilenceResponse response;
         return stub->CreateSilence(Context().get(), silence({}, absl::Hours(1)), &response);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "silence.matchers"},
      {"silence ending before it starts",
       [&] {
         v1::CreateSilenceResponse response;
         return stub->CreateSilence(
             Context().get(), silence({matcher(v1::MATCHER_FIELD_REGION, "soya")}, -absl::Hours(1)),
             &response);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "silence.end_time"},
      {"silence matching an unknown rule",
       [&] {
         v1::CreateSilenceResponse response;
         return stub->CreateSilence(Context().get(),
                                    silence({matcher(v1::MATCHER_FIELD_REGION, "soya"),
                                             matcher(v1::MATCHER_FIELD_RULE, "LAGGIN")},
                                            absl::Hours(1)),
                                    &response);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "silence.matchers[1].value"},
      {"silence matching an unknown severity",
       [&] {
         v1::CreateSilenceResponse response;
         return stub->CreateSilence(
             Context().get(),
             silence({matcher(v1::MATCHER_FIELD_SEVERITY, "SEVERE")}, absl::Hours(1)), &response);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "silence.matchers[0].value"},
      {"rule with critical_gap above warning_gap",
       [&] {
         v1::SetRuleRequest request;
         request.mutable_rule()->set_kind(v1::RULE_KIND_LAGGING);
         request.mutable_rule()->set_kpi_id("jishu-bousai");
         request.mutable_rule()->set_severity(v1::SEVERITY_WARNING);
         request.mutable_rule()->set_warning_gap(-10);
         request.mutable_rule()->set_critical_gap(-5);
         v1::SetRuleResponse response;
         return stub->SetRule(Context().get(), request, &response);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "rule.critical_gap"},
      {"webhook url ftp://x",
       [&] {
         v1::CreateWebhookRequest request;
         request.mutable_webhook()->set_url("ftp://x");
         v1::CreateWebhookResponse response;
         return stub->CreateWebhook(Context().get(), request, &response);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.url"},
      {"webhook secret too short",
       [&] {
         v1::CreateWebhookRequest request;
         request.mutable_webhook()->set_url("http://127.0.0.1:9/hook");
         request.mutable_webhook()->set_secret("whsec_c2hvcnQ=");
         v1::CreateWebhookResponse response;
         return stub->CreateWebhook(Context().get(), request, &response);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.secret"},
      {"expiring an unknown silence",
       [&] {
         v1::ExpireSilenceRequest request;
         request.set_id("silence-000000000000");
         v1::ExpireSilenceResponse response;
         return stub->ExpireSilence(Context().get(), request, &response);
       },
       grpc::StatusCode::NOT_FOUND, "id"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const grpc::Status status = c.call();
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_TRUE(absl::StartsWith(status.error_message(), c.field))
        << "\"" << status.error_message() << "\" does not name " << c.field;
  }

  // Nothing was stored.
  v1::ListSilencesRequest silences;
  silences.set_include_expired(true);
  v1::ListSilencesResponse no_silences;
  ASSERT_TRUE(stub->ListSilences(Context().get(), silences, &no_silences).ok());
  EXPECT_EQ(no_silences.silences_size(), 0);
  v1::ListWebhooksResponse no_webhooks;
  ASSERT_TRUE(stub->ListWebhooks(Context().get(), v1::ListWebhooksRequest(), &no_webhooks).ok());
  EXPECT_EQ(no_webhooks.webhooks_size(), 0);
  const v1::Rule lagging = LaggingOf(stub, "jishu-bousai");
  EXPECT_EQ(lagging.warning_gap(), -10);
  EXPECT_EQ(lagging.critical_gap(), -25);
}

}  // namespace
}  // namespace suishin::notification
