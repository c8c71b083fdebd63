// notification-service's one write path and what it lets in, through an
// in-process server over real gRPC and a real SQLite file: concurrent writes
// committed together with a refused one failing only itself, reads answered
// while the writer is held, every list in pages, counts and sizes refused
// naming their flag, unknown and output-only fields never stored, and
// Subscribe streams bounded per client.
#include <google/protobuf/message.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/limits.h"
#include "common/proto_util.h"
#include "services/notification/alert_filter.h"
#include "tests/services/notification/forwarding_store.h"
#include "tests/services/notification/notification_server.h"
#include "tests/services/notification/suite_fixture.h"
#include "tests/support/temp_dir.h"
#include "tests/support/unknown_fields.h"

namespace suishin::notification {
namespace {

using google::protobuf::Message;
using ::suishin::testing::HasUnknownFields;
using ::suishin::testing::WithUnknownField;
using testing::AchievedSubject;
using testing::Context;
using testing::Eventually;
using testing::ForwardingStore;
using testing::ForwardingTransaction;
using testing::NotificationServer;
using testing::NotificationServerOptions;
using testing::SuiteNow;

void ExpectRefused(const grpc::Status& status, grpc::StatusCode code, const std::string& field,
                   const std::string& names) {
  EXPECT_EQ(status.error_code(), code) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(status.error_message(), field))
      << "\"" << status.error_message() << "\" does not start with " << field;
  EXPECT_TRUE(absl::StrContains(status.error_message(), names))
      << "\"" << status.error_message() << "\" does not name " << names;
}

v1::Silence MakeSilence(const std::string& region) {
  v1::Silence silence;
  v1::Matcher& matcher = *silence.add_matchers();
  matcher.set_field(v1::MATCHER_FIELD_REGION);
  matcher.set_value(region);
  *silence.mutable_end_time() = ToProtoTimestamp(SuiteNow() + absl::Hours(1));
  silence.set_author("宗谷総合振興局");
  silence.set_comment("点検中");
  return silence;
}

v1::Webhook MakeWebhook(int i) {
  v1::Webhook webhook;
  webhook.set_url(absl::StrCat("http://127.0.0.1:9/hook-", i));
  return webhook;
}

// A LAGGING override for `kpi_id` with its gaps in order.
v1::Rule LaggingOverride(const std::string& kpi_id, double warning_gap = -20) {
  v1::Rule rule;
  rule.set_kind(v1::RULE_KIND_LAGGING);
  rule.set_kpi_id(kpi_id);
  rule.set_enabled(true);
  rule.set_severity(v1::SEVERITY_WARNING);
  rule.set_warning_gap(warning_gap);
  rule.set_critical_gap(warning_gap - 15);
  rule.set_clear_gap(warning_gap + 2);
  return rule;
}

class WritePathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = suishin::testing::TempDir::Create("notification-write");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<suishin::testing::TempDir>(*std::move(dir));
  }

  void Start(NotificationServerOptions options = {}) {
    auto server = NotificationServer::Start(dir_->File("notification.db"), std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }

  // Fires ACHIEVED for kpi-1..kpi-n in region r-1: n alerts, n events.
  std::vector<std::string> FireAlerts(int n) {
    std::vector<Subject> subjects;
    for (int i = 1; i <= n; ++i)
      subjects.push_back(AchievedSubject(absl::StrCat("kpi-", i), "r-1"));
    EXPECT_TRUE(server_->book().alerts().Evaluate(subjects, 0).ok());
    std::vector<std::string> fingerprints;
    for (int i = 1; i <= n; ++i) {
      fingerprints.push_back(Fingerprint(v1::RULE_KIND_ACHIEVED, absl::StrCat("kpi-", i), "r-1"));
    }
    return fingerprints;
  }

  grpc::Status Acknowledge(const std::string& fingerprint, const std::string& author = "担当者") {
    v1::AcknowledgeAlertRequest request;
    request.set_fingerprint(fingerprint);
    request.set_author(author);
    v1::AcknowledgeAlertResponse response;
    return stub_->AcknowledgeAlert(Context().get(), request, &response);
  }

  grpc::Status CreateSilence(const v1::Silence& silence, v1::Silence* created = nullptr) {
    v1::CreateSilenceRequest request;
    *request.mutable_silence() = silence;
    v1::CreateSilenceResponse response;
    grpc::Status status = stub_->CreateSilence(Context().get(), request, &response);
    if (created != nullptr) *created = response.silence();
    return status;
  }

  grpc::Status CreateWebhook(const v1::Webhook& webhook, v1::Webhook* created = nullptr) {
    v1::CreateWebhookRequest request;
    *request.mutable_webhook() = webhook;
    v1::CreateWebhookResponse response;
    grpc::Status status = stub_->CreateWebhook(Context().get(), request, &response);
    if (created != nullptr) *created = response.webhook();
    return status;
  }

  grpc::Status SetRule(const v1::Rule& rule) {
    v1::SetRuleRequest request;
    *request.mutable_rule() = rule;
    v1::SetRuleResponse response;
    return stub_->SetRule(Context().get(), request, &response);
  }

  std::unique_ptr<suishin::testing::TempDir> dir_;
  std::unique_ptr<NotificationServer> server_;
  std::unique_ptr<v1::NotificationService::Stub> stub_;
};

// ---------------------------------------------------------------- group commit

// A gate the writer passes before each group: closed, it holds the writer.
struct WriterGate {
  absl::Mutex mu;
  bool closed ABSL_GUARDED_BY(mu) = false;
  int waiting ABSL_GUARDED_BY(mu) = 0;

  void Pass() {
    absl::MutexLock lock(&mu);
    ++waiting;
    mu.Await(absl::Condition(
        +[](bool* closed) { return !*closed; }, &closed));
    --waiting;
  }
  void Close() {
    absl::MutexLock lock(&mu);
    closed = true;
  }
  void Open() {
    absl::MutexLock lock(&mu);
    closed = false;
  }
  // Waits until the writer is held at the gate.
  bool WaitHeld() {
    absl::MutexLock lock(&mu);
    auto held = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return waiting > 0; };
    return mu.AwaitWithTimeout(absl::Condition(&held), absl::Seconds(10));
  }
};

TEST_F(WritePathTest, ConcurrentWritesAreCommittedTogetherAndARefusedOneFailsOnlyItself) {
  WriterGate gate;
  NotificationServerOptions options;
  options.wrap_store = [&gate](NotificationStore* sqlite) {
    auto store = std::make_unique<ForwardingStore>(sqlite, [](NotificationTransaction& tx, bool) {
      return std::make_unique<ForwardingTransaction>(tx);
    });
    store->set_before_group([&gate] { gate.Pass(); });
    return store;
  };
  ASSERT_NO_FATAL_FAILURE(Start(std::move(options)));
  constexpr int kAlerts = 10;
  const std::vector<std::string> fingerprints = FireAlerts(kAlerts);

  // Hold the writer on a first write, then line up the rest behind it.
  gate.Close();
  v1::Rule plug = LaggingOverride("plug");
  grpc::ClientContext plug_context;
  v1::SetRuleRequest plug_request;
  *plug_request.mutable_rule() = plug;
  v1::SetRuleResponse plug_response;
  absl::Notification plug_done;
  grpc::Status plug_status;
  stub_->async()->SetRule(&plug_context, &plug_request, &plug_response, [&](grpc::Status status) {
    plug_status = std::move(status);
    plug_done.Notify();
  });
  ASSERT_TRUE(gate.WaitHeld());
  const NotificationWriter::Stats before = server_->book().writer().stats();

  struct Call {
    grpc::ClientContext context;
    v1::AcknowledgeAlertRequest ack;
    v1::AcknowledgeAlertResponse ack_response;
    v1::SetRuleRequest rule;
    v1::SetRuleResponse rule_response;
    grpc::Status status;
    std::string what;
  };
  std::vector<std::unique_ptr<Call>> calls;
  for (const std::string& fingerprint : fingerprints) {
    auto call = std::make_unique<Call>();
    call->ack.set_fingerprint(fingerprint);
    call->ack.set_author("道北連携地域 担当");
    call->what = "acknowledge " + fingerprint;
    calls.push_back(std::move(call));
  }
  for (int i = 1; i <= 5; ++i) {
    auto call = std::make_unique<Call>();
    *call->rule.mutable_rule() = LaggingOverride(absl::StrCat("kpi-", i));
    call->what = absl::StrCat("rule for kpi-", i);
    calls.push_back(std::move(call));
  }
  // Refused on the writer's thread, against what is stored: an override
  // whose warning gap falls below the default critical gap (−25), and an
  // acknowledgement of an alert there is not.
  auto bad_rule = std::make_unique<Call>();
  bad_rule->rule.mutable_rule()->set_kind(v1::RULE_KIND_LAGGING);
  bad_rule->rule.mutable_rule()->set_kpi_id("kpi-6");
  bad_rule->rule.mutable_rule()->set_enabled(true);
  bad_rule->rule.mutable_rule()->set_severity(v1::SEVERITY_WARNING);
  bad_rule->rule.mutable_rule()->set_warning_gap(-50);
  bad_rule->what = "bad rule";
  const size_t bad_rule_index = calls.size();
  calls.push_back(std::move(bad_rule));
  auto unknown = std::make_unique<Call>();
  unknown->ack.set_fingerprint("0123456789abcdef");
  unknown->ack.set_author("担当");
  unknown->what = "unknown alert";
  const size_t unknown_index = calls.size();
  calls.push_back(std::move(unknown));

  absl::BlockingCounter answered(static_cast<int>(calls.size()));
  for (auto& call : calls) {
    Call* c = call.get();
    auto finish = [c, &answered](grpc::Status status) {
      c->status = std::move(status);
      answered.DecrementCount();
    };
    c->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (c->rule.has_rule()) {
      stub_->async()->SetRule(&c->context, &c->rule, &c->rule_response, finish);
    } else {
      stub_->async()->AcknowledgeAlert(&c->context, &c->ack, &c->ack_response, finish);
    }
  }
  // Every write waits in the queue; reads are answered meanwhile.
  ASSERT_TRUE(Eventually(
      [&] {
        return server_->book().writer().stats().submitted >=
               before.submitted + static_cast<int64_t>(calls.size());
      },
      absl::Seconds(10)))
      << server_->book().writer().stats().submitted - before.submitted << " of " << calls.size();
  v1::ListAlertsRequest list;
  v1::ListAlertsResponse listed;
  ASSERT_TRUE(stub_->ListAlerts(Context().get(), list, &listed).ok());
  EXPECT_EQ(listed.alerts_size(), kAlerts);
  v1::GetAlertRequest get;
  get.set_fingerprint(fingerprints[0]);
  v1::GetAlertResponse got;
  ASSERT_TRUE(stub_->GetAlert(Context().get(), get, &got).ok());
  EXPECT_FALSE(got.alert().has_acknowledgement()) << "a write showed before its commit";

  gate.Open();
  answered.Wait();
  plug_done.WaitForNotification();
  EXPECT_TRUE(plug_status.ok()) << plug_status.error_message();
  for (size_t i = 0; i < calls.size(); ++i) {
    SCOPED_TRACE(calls[i]->what);
    if (i == bad_rule_index) {
      EXPECT_EQ(calls[i]->status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << calls[i]->status.error_message();
    } else if (i == unknown_index) {
      EXPECT_EQ(calls[i]->status.error_code(), grpc::StatusCode::NOT_FOUND)
          << calls[i]->status.error_message();
    } else {
      EXPECT_TRUE(calls[i]->status.ok()) << calls[i]->status.error_message();
    }
  }
  // The plug's group, then the rest together (at most 256 a group).
  const NotificationWriter::Stats after = server_->book().writer().stats();
  EXPECT_EQ(after.writes - before.writes, static_cast<int64_t>(calls.size()) + 1);
  EXPECT_LE(after.groups - before.groups, 2);

  // The accepted writes are stored, the refused ones left nothing.
  ASSERT_TRUE(stub_->GetAlert(Context().get(), get, &got).ok());
  EXPECT_EQ(got.alert().acknowledgement().author(), "道北連携地域 担当");
  v1::ListRulesRequest rules;
  rules.set_kpi_id("kpi-6");
  v1::ListRulesResponse kpi6;
  ASSERT_TRUE(stub_->ListRules(Context().get(), rules, &kpi6).ok());
  for (const v1::Rule& rule : kpi6.rules()) {
    if (rule.kind() == v1::RULE_KIND_LAGGING) {
      EXPECT_EQ(rule.warning_gap(), -10);
    }
  }
  rules.set_kpi_id("kpi-5");
  v1::ListRulesResponse kpi5;
  ASSERT_TRUE(stub_->ListRules(Context().get(), rules, &kpi5).ok());
  for (const v1::Rule& rule : kpi5.rules()) {
    if (rule.kind() == v1::RULE_KIND_LAGGING) {
      EXPECT_EQ(rule.warning_gap(), -20);
    }
  }
  // One event per acknowledgement, after the ten it fired.
  EXPECT_EQ(server_->book().events().feed().last(), 2 * kAlerts);
}

// ---------------------------------------------------------------------- pages

// Every page of a list: `fetch(token, &items, &next)` reads one.
std::vector<std::vector<std::string>> Pages(
    const std::function<grpc::Status(const std::string&, std::vector<std::string>*, std::string*)>&
        fetch) {
  std::vector<std::vector<std::string>> pages;
  std::string token;
  do {
    std::vector<std::string> items;
    std::string next;
    grpc::Status status = fetch(token, &items, &next);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) break;
    pages.push_back(items);
    token = next;
  } while (!token.empty() && pages.size() < 100);
  return pages;
}

std::vector<size_t> Sizes(const std::vector<std::vector<std::string>>& pages) {
  std::vector<size_t> sizes;
  for (const auto& page : pages) sizes.push_back(page.size());
  return sizes;
}

std::vector<std::string> Flat(const std::vector<std::vector<std::string>>& pages) {
  std::vector<std::string> all;
  for (const auto& page : pages) all.insert(all.end(), page.begin(), page.end());
  return all;
}

TEST_F(WritePathTest, EveryListComesInPagesAndTheLastHasNoToken) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::vector<std::string> fingerprints = FireAlerts(5);
  std::vector<std::string> silences;
  std::vector<std::string> webhooks;
  for (int i = 0; i < 5; ++i) {
    v1::Silence silence;
    ASSERT_TRUE(CreateSilence(MakeSilence(absl::StrCat("r-", 10 + i)), &silence).ok());
    silences.push_back(silence.id());
    v1::Webhook webhook;
    ASSERT_TRUE(CreateWebhook(MakeWebhook(i), &webhook).ok());
    webhooks.push_back(webhook.id());
  }
  std::vector<std::string> letters;
  ASSERT_TRUE(server_->store()
                  .Run([&](NotificationTransaction& tx) -> absl::Status {
                    for (int i = 0; i < 5; ++i) {
                      v1::DeadLetter letter;
                      letter.set_id(absl::StrCat("dl-", i + 1, "-", webhooks[i % 2]));
                      letter.set_webhook_id(webhooks[i % 2]);
                      letter.set_event_id(i + 1);
                      if (i % 2 == 0) letters.push_back(letter.id());
                      absl::Status status = tx.PutDeadLetter(letter);
                      if (!status.ok()) return status;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(Acknowledge(fingerprints[0], absl::StrCat("担当", i)).ok());

  {
    SCOPED_TRACE("ListAlerts");
    auto pages = Pages([&](const std::string& token, auto* items, auto* next) {
      v1::ListAlertsRequest request;
      request.set_page_size(2);
      request.set_page_token(token);
      v1::ListAlertsResponse response;
      grpc::Status status = stub_->ListAlerts(Context().get(), request, &response);
      for (const v1::Alert& alert : response.alerts()) items->push_back(alert.fingerprint());
      *next = response.next_page_token();
      return status;
    });
    EXPECT_EQ(Sizes(pages), (std::vector<size_t>{2, 2, 1}));
    const std::vector<std::string> listed = Flat(pages);
    EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()),
              std::set<std::string>(fingerprints.begin(), fingerprints.end()));
  }
  {
    SCOPED_TRACE("ListSilences");
    auto pages = Pages([&](const std::string& token, auto* items, auto* next) {
      v1::ListSilencesRequest request;
      request.set_page_size(2);
      request.set_page_token(token);
      v1::ListSilencesResponse response;
      grpc::Status status = stub_->ListSilences(Context().get(), request, &response);
      for (const v1::Silence& silence : response.silences()) items->push_back(silence.id());
      *next = response.next_page_token();
      return status;
    });
    EXPECT_EQ(Sizes(pages), (std::vector<size_t>{2, 2, 1}));
    EXPECT_EQ(Flat(pages), silences);
  }
  {
    SCOPED_TRACE("ListWebhooks");
    auto pages = Pages([&](const std::string& token, auto* items, auto* next) {
      v1::ListWebhooksRequest request;
      request.set_page_size(2);
      request.set_page_token(token);
      v1::ListWebhooksResponse response;
      grpc::Status status = stub_->ListWebhooks(Context().get(), request, &response);
      for (const v1::Webhook& webhook : response.webhooks()) {
        EXPECT_TRUE(webhook.secret().empty());
        items->push_back(webhook.id());
      }
      *next = response.next_page_token();
      return status;
    });
    EXPECT_EQ(Sizes(pages), (std::vector<size_t>{2, 2, 1}));
    EXPECT_EQ(Flat(pages), webhooks);
  }
  {
    SCOPED_TRACE("ListDeadLetters of one webhook");
    auto pages = Pages([&](const std::string& token, auto* items, auto* next) {
      v1::ListDeadLettersRequest request;
      request.set_webhook_id(webhooks[0]);
      request.set_page_size(2);
      request.set_page_token(token);
      v1::ListDeadLettersResponse response;
      grpc::Status status = stub_->ListDeadLetters(Context().get(), request, &response);
      for (const v1::DeadLetter& letter : response.dead_letters()) items->push_back(letter.id());
      *next = response.next_page_token();
      return status;
    });
    EXPECT_EQ(Sizes(pages), (std::vector<size_t>{2, 1}));
    EXPECT_EQ(Flat(pages), letters);
  }
  {
    SCOPED_TRACE("GetAlert's history");
    auto pages = Pages([&](const std::string& token, auto* items, auto* next) {
      v1::GetAlertRequest request;
      request.set_fingerprint(fingerprints[0]);
      request.set_history_page_size(2);
      request.set_history_page_token(token);
      v1::GetAlertResponse response;
      grpc::Status status = stub_->GetAlert(Context().get(), request, &response);
      EXPECT_EQ(response.alert().fingerprint(), fingerprints[0]);
      for (const v1::AlertHistoryEntry& entry : response.alert().history()) {
        items->push_back(entry.note());
      }
      *next = response.next_history_page_token();
      return status;
    });
    EXPECT_EQ(Sizes(pages), (std::vector<size_t>{2, 2, 1}));
    EXPECT_EQ(Flat(pages),
              (std::vector<std::string>{"fired", "acknowledged by 担当0", "acknowledged by 担当1",
                                        "acknowledged by 担当2", "acknowledged by 担当3"}));
  }
  {
    SCOPED_TRACE("ListRules");
    auto pages = Pages([&](const std::string& token, auto* items, auto* next) {
      v1::ListRulesRequest request;
      request.set_page_size(4);
      request.set_page_token(token);
      v1::ListRulesResponse response;
      grpc::Status status = stub_->ListRules(Context().get(), request, &response);
      for (const v1::Rule& rule : response.rules())
        items->push_back(v1::RuleKind_Name(rule.kind()));
      *next = response.next_page_token();
      return status;
    });
    EXPECT_EQ(Sizes(pages), (std::vector<size_t>{4, 2}));
  }

  // Pages of 1 to 1000, 0 meaning 100; tokens only as the service made them.
  v1::ListSilencesRequest bad_size;
  bad_size.set_page_size(1001);
  v1::ListSilencesResponse response;
  ExpectRefused(stub_->ListSilences(Context().get(), bad_size, &response),
                grpc::StatusCode::INVALID_ARGUMENT, "page_size", "1001");
  v1::ListWebhooksRequest bad_token;
  bad_token.set_page_token("not-a-token");
  v1::ListWebhooksResponse webhooks_response;
  ExpectRefused(stub_->ListWebhooks(Context().get(), bad_token, &webhooks_response),
                grpc::StatusCode::INVALID_ARGUMENT, "page_token", "not-a-token");
  v1::GetAlertRequest bad_history;
  bad_history.set_fingerprint(fingerprints[0]);
  bad_history.set_history_page_size(-1);
  v1::GetAlertResponse alert_response;
  ExpectRefused(stub_->GetAlert(Context().get(), bad_history, &alert_response),
                grpc::StatusCode::INVALID_ARGUMENT, "history_page_size", "-1");
}

// --------------------------------------------------------------------- limits

TEST_F(WritePathTest, CountsAtTheirLimitAreRefusedNamingTheFlag) {
  NotificationServerOptions options;
  options.book.silences.max_silences = 2;
  options.book.webhooks.max_webhooks = 2;
  options.book.rules.max_rule_overrides = 2;
  ASSERT_NO_FATAL_FAILURE(Start(std::move(options)));

  v1::Silence first;
  ASSERT_TRUE(CreateSilence(MakeSilence("r-1"), &first).ok());
  ASSERT_TRUE(CreateSilence(MakeSilence("r-2")).ok());
  ExpectRefused(CreateSilence(MakeSilence("r-3")), grpc::StatusCode::RESOURCE_EXHAUSTED, "silence",
                "--max_silences");
  // An ended silence no longer counts.
  v1::ExpireSilenceRequest expire;
  expire.set_id(first.id());
  v1::ExpireSilenceResponse expired;
  ASSERT_TRUE(stub_->ExpireSilence(Context().get(), expire, &expired).ok());
  EXPECT_TRUE(CreateSilence(MakeSilence("r-3")).ok());

  v1::Webhook kept;
  ASSERT_TRUE(CreateWebhook(MakeWebhook(1), &kept).ok());
  ASSERT_TRUE(CreateWebhook(MakeWebhook(2)).ok());
  ExpectRefused(CreateWebhook(MakeWebhook(3)), grpc::StatusCode::RESOURCE_EXHAUSTED, "webhook",
                "--max_webhooks");
  v1::DeleteWebhookRequest remove;
  remove.set_id(kept.id());
  v1::DeleteWebhookResponse removed;
  ASSERT_TRUE(stub_->DeleteWebhook(Context().get(), remove, &removed).ok());
  EXPECT_TRUE(CreateWebhook(MakeWebhook(3)).ok());

  ASSERT_TRUE(SetRule(LaggingOverride("kpi-a")).ok());
  ASSERT_TRUE(SetRule(LaggingOverride("kpi-b")).ok());
  ExpectRefused(SetRule(LaggingOverride("kpi-c")), grpc::StatusCode::RESOURCE_EXHAUSTED,
                "rule.kpi_id", "--max_rule_overrides");
  // Changing an override or a global setting adds none.
  EXPECT_TRUE(SetRule(LaggingOverride("kpi-a", -30)).ok());
  EXPECT_TRUE(SetRule(LaggingOverride("", -12)).ok());
}

TEST_F(WritePathTest, SizesOverTheirLimitAreRefusedNamingTheFlag) {
  NotificationServerOptions options;
  options.book.webhooks.max_url_chars = 60;
  ASSERT_NO_FATAL_FAILURE(Start(std::move(options)));
  const Limits& limits = ProcessLimits();

  v1::Webhook long_url;
  long_url.set_url("http://127.0.0.1:9/" + std::string(50, 'a'));
  ExpectRefused(CreateWebhook(long_url), grpc::StatusCode::INVALID_ARGUMENT, "webhook.url",
                "--max_webhook_url_chars");

  v1::Silence many = MakeSilence("r-1");
  for (int i = 0; i < limits.max_list_items; ++i) *many.add_matchers() = many.matchers(0);
  ExpectRefused(CreateSilence(many), grpc::StatusCode::INVALID_ARGUMENT, "silence.matchers",
                "--max_list_items");
  v1::Silence long_author = MakeSilence("r-1");
  long_author.set_author(std::string(limits.max_name_chars + 1, 'a'));
  ExpectRefused(CreateSilence(long_author), grpc::StatusCode::INVALID_ARGUMENT, "silence.author",
                "--max_name_chars");
  v1::Silence long_comment = MakeSilence("r-1");
  long_comment.set_comment(std::string(limits.max_text_chars + 1, 'x'));
  ExpectRefused(CreateSilence(long_comment), grpc::StatusCode::INVALID_ARGUMENT, "silence.comment",
                "--max_text_chars");

  v1::AcknowledgeAlertRequest ack;
  ack.set_fingerprint("0123456789abcdef");
  ack.set_author("担当");
  ack.set_comment(std::string(limits.max_text_chars + 1, 'x'));
  v1::AcknowledgeAlertResponse acked;
  ExpectRefused(stub_->AcknowledgeAlert(Context().get(), ack, &acked),
                grpc::StatusCode::INVALID_ARGUMENT, "comment", "--max_text_chars");

  v1::ListAlertsRequest list;
  for (int i = 0; i <= limits.max_list_items; ++i) list.mutable_filter()->add_region_ids("r-1");
  v1::ListAlertsResponse listed;
  ExpectRefused(stub_->ListAlerts(Context().get(), list, &listed),
                grpc::StatusCode::INVALID_ARGUMENT, "filter.region_ids", "--max_list_items");
  v1::Webhook wide = MakeWebhook(1);
  for (int i = 0; i <= limits.max_list_items; ++i) wide.mutable_filter()->add_kpi_ids("kpi-1");
  ExpectRefused(CreateWebhook(wide), grpc::StatusCode::INVALID_ARGUMENT, "webhook.filter.kpi_ids",
                "--max_list_items");

  // Nothing was stored.
  v1::ListSilencesRequest silences;
  silences.set_include_expired(true);
  v1::ListSilencesResponse no_silences;
  ASSERT_TRUE(stub_->ListSilences(Context().get(), silences, &no_silences).ok());
  EXPECT_EQ(no_silences.silences_size(), 0);
  v1::ListWebhooksResponse no_webhooks;
  ASSERT_TRUE(stub_->ListWebhooks(Context().get(), {}, &no_webhooks).ok());
  EXPECT_EQ(no_webhooks.webhooks_size(), 0);
}

// ------------------------------------------------------------ dropped fields

google::protobuf::Timestamp LongAgo() {
  return google::protobuf::util::TimeUtil::SecondsToTimestamp(946684800);  // 2000-01-01
}

TEST_F(WritePathTest, UnknownAndOutputOnlyFieldsAreNeverStored) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::vector<std::string> fingerprints = FireAlerts(1);

  v1::Silence silence = MakeSilence("r-1");
  *silence.mutable_matchers(0) = WithUnknownField(silence.matchers(0));
  silence.set_id("silence-mine");
  silence.set_active(false);
  v1::CreateSilenceRequest create_silence;
  *create_silence.mutable_silence() = WithUnknownField(silence);
  create_silence = WithUnknownField(create_silence);
  v1::CreateSilenceResponse silenced;
  ASSERT_TRUE(stub_->CreateSilence(Context().get(), create_silence, &silenced).ok());
  EXPECT_NE(silenced.silence().id(), "silence-mine");
  EXPECT_TRUE(silenced.silence().active());

  v1::Webhook webhook = MakeWebhook(1);
  webhook.set_id("webhook-mine");
  *webhook.mutable_create_time() = LongAgo();
  *webhook.mutable_filter() = WithUnknownField(webhook.filter());
  v1::CreateWebhookRequest create_webhook;
  *create_webhook.mutable_webhook() = WithUnknownField(webhook);
  v1::CreateWebhookResponse created;
  ASSERT_TRUE(stub_->CreateWebhook(Context().get(), create_webhook, &created).ok());
  EXPECT_NE(created.webhook().id(), "webhook-mine");
  EXPECT_EQ(FromProtoTimestamp(created.webhook().create_time()), SuiteNow());

  v1::SetRuleRequest set_rule;
  *set_rule.mutable_rule() = WithUnknownField(LaggingOverride("kpi-1"));
  v1::SetRuleResponse rule_set;
  ASSERT_TRUE(stub_->SetRule(Context().get(), set_rule, &rule_set).ok());

  v1::AcknowledgeAlertRequest ack;
  ack.set_fingerprint(fingerprints[0]);
  ack.set_author("担当");
  ack = WithUnknownField(ack);
  v1::AcknowledgeAlertResponse acked;
  ASSERT_TRUE(stub_->AcknowledgeAlert(Context().get(), ack, &acked).ok());

  // What is stored, read behind the service's back.
  ASSERT_TRUE(server_->store()
                  .Read([&](NotificationTransaction& tx) -> absl::Status {
                    auto silences = tx.ListSilences(true, SuiteNow(), 0, 100);
                    EXPECT_TRUE(silences.ok());
                    EXPECT_EQ(silences->size(), 1u);
                    for (const auto& stored : *silences) {
                      EXPECT_FALSE(HasUnknownFields(stored.value));
                      EXPECT_EQ(stored.value.id(), silenced.silence().id());
                    }
                    auto webhooks = tx.Webhooks();
                    EXPECT_TRUE(webhooks.ok());
                    EXPECT_EQ(webhooks->size(), 1u);
                    for (const v1::Webhook& stored : *webhooks) {
                      EXPECT_FALSE(HasUnknownFields(stored));
                      EXPECT_EQ(stored.id(), created.webhook().id());
                      EXPECT_EQ(FromProtoTimestamp(stored.create_time()), SuiteNow());
                    }
                    auto rules = tx.Rules();
                    EXPECT_TRUE(rules.ok());
                    EXPECT_EQ(rules->size(), 1u);
                    for (const v1::Rule& stored : *rules) EXPECT_FALSE(HasUnknownFields(stored));
                    auto alert = tx.FindAlert(fingerprints[0]);
                    EXPECT_TRUE(alert.ok() && alert->has_value());
                    if (alert.ok() && alert->has_value()) {
                      EXPECT_FALSE(HasUnknownFields(**alert));
                      EXPECT_EQ((*alert)->acknowledgement().author(), "担当");
                    }
                    return absl::OkStatus();
                  })
                  .ok());
}

// -------------------------------------------------------------------- streams

TEST_F(WritePathTest, SubscribeStreamsAreBoundedPerClient) {
  Limits limits = ProcessLimits();
  const Limits saved = limits;
  limits.max_streams_per_client = 2;
  SetProcessLimits(limits);
  struct Restore {
    Limits limits;
    ~Restore() { SetProcessLimits(limits); }
  } restore{saved};
  ASSERT_NO_FATAL_FAILURE(Start());
  FireAlerts(1);

  auto first = std::make_unique<testing::Subscriber>(stub_.get(), 0);
  testing::Subscriber second(stub_.get(), 0);
  ASSERT_TRUE(first->WaitFor(1));
  ASSERT_TRUE(second.WaitFor(1));
  EXPECT_EQ(server_->service().open_streams(), 2);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto third = stub_->Subscribe(&context, v1::SubscribeRequest());
  v1::SubscribeResponse response;
  EXPECT_FALSE(third->Read(&response));
  ExpectRefused(third->Finish(), grpc::StatusCode::RESOURCE_EXHAUSTED, "Subscribe",
                "--max_streams_per_client");

  // A stream that ends gives its slot back.
  first->Stop();
  ASSERT_TRUE(Eventually([&] { return server_->service().open_streams() == 1; }));
  testing::Subscriber fourth(stub_.get(), 0);
  EXPECT_TRUE(fourth.WaitFor(1));
}

}  // namespace
}  // namespace suishin::notification
