// The adversarial suite: the real binaries (plan-, kpi- and notification-
// service with a real Redis, tests/services/notification/suite_fixture.h)
// against the inputs issue 8's review found, sent as a careless or hostile
// client would. Each case checks the refusal (code, field or limit named),
// that nothing was stored, and that the suite goes on answering everyone
// else — and alerts go on flowing — meanwhile and afterwards.
//
// Other cases of the same suite live beside the code they exercise, with
// real binaries too: a webhook receiver that never answers next to a healthy
// one (notification/webhook_isolation_test), a KPI whose evaluation keeps
// failing (notification/poisoned_kpi_test), the region tree by every write
// path (plan/plan_tree_test, plan/plan_e2e_test), the overflowing pace
// (kpi/kpi_limits_test, also run under UBSan by ./suishin test-sanitized).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth.h"
#include "common/channel.h"
#include "common/proto_util.h"
#include "common/tls.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "suishin/common/v1/audit.grpc.pb.h"
#include "tests/services/notification/suite_fixture.h"
#include "tests/support/service_process.h"

namespace suishin::notification::testing {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::unique_ptr<grpc::ClientContext> ContextFor(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  return context;
}

kpi::v1::ImportRow Row(int64_t line, const std::string& kpi, const std::string& region, int year,
                       double value) {
  kpi::v1::ImportRow row;
  row.set_line(line);
  row.set_kind(kpi::v1::ROW_KIND_ACTUAL);
  row.set_kpi_id(kpi);
  row.set_region_id(region);
  row.mutable_fiscal_year()->set_year(year);
  row.set_value(value);
  return row;
}

class AdversarialTest : public SuiteTest {
 protected:
  void SetUp() override {
    kpi_flags_ = {"--import_idle_timeout_s=1", "--import_max_rows=50", "--import_max_concurrent=1",
                  "--max_streams_per_client=4"};
    SuiteTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(LoadSeed());
    ASSERT_NO_FATAL_FAILURE(StartNotification());
    subscriber_ = std::make_unique<Subscriber>(notification_stub_.get(), 0);
    // The seed's alerts, fired: from here on, every new event is news.
    ASSERT_TRUE(subscriber_->WaitFor(SeedAlertKeys().size()));
  }

  void TearDown() override {
    if (subscriber_) subscriber_->Stop();
    SuiteTest::TearDown();
  }

  size_t HistorySize(const std::string& kpi) {
    kpi::v1::GetHistoryRequest request;
    request.set_kpi_id(kpi);
    request.set_page_size(1000);
    kpi::v1::GetHistoryResponse response;
    EXPECT_TRUE(kpi_stub_->GetHistory(Context().get(), request, &response).ok());
    EXPECT_TRUE(response.next_page_token().empty());
    return static_cast<size_t>(response.changes_size());
  }

  grpc::Status Import(const std::vector<std::vector<kpi::v1::ImportRow>>& messages,
                      kpi::v1::ImportActualsResponse* response) {
    auto context = Context();
    auto writer = kpi_stub_->ImportActuals(context.get(), response);
    for (const auto& rows : messages) {
      kpi::v1::ImportActualsRequest request;
      for (const kpi::v1::ImportRow& row : rows) *request.add_rows() = row;
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  // ListRegions under 道北 answers within a second, with the seed's four.
  void ExpectRegionsAnswerAtOnce() {
    plan::v1::ListRegionsRequest request;
    request.set_root_id("dohoku");
    plan::v1::ListRegionsResponse response;
    const grpc::Status status =
        plan_stub_->ListRegions(ContextFor(absl::Seconds(1)).get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.regions_size(), 4);
  }

  // A change that moves an alert (宗谷 reports R元, so its MISSING alert for
  // 認定こども園 resolves) reaches the subscriber: alerts keep flowing.
  void ExpectAlertsKeepFlowing() {
    const size_t before = subscriber_->events().size();
    ASSERT_TRUE(RecordActual(kpi_stub_.get(), "kodomoen", "soya", 2019, 3).ok());
    EXPECT_TRUE(subscriber_->WaitFor(before + 1)) << "no alert event after the change";
  }

  std::unique_ptr<Subscriber> subscriber_;
};

// The review's first case, by every path that writes regions.
TEST_F(AdversarialTest, ARegionMadeItsOwnAncestorIsRefusedAndTheTreeStaysReadable) {
  plan::v1::ImportPlanRequest own_parent;
  plan::v1::Region* dohoku = own_parent.mutable_dataset()->add_regions();
  *dohoku = seed_.plan().regions(1);  // 道北
  ASSERT_EQ(dohoku->id(), "dohoku");
  dohoku->set_parent_id("dohoku");
  plan::v1::ImportPlanResponse imported;
  grpc::Status status = plan_stub_->ImportPlan(Context().get(), own_parent, &imported);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "dataset.regions[0].parent_id"))
      << status.error_message();
  ASSERT_NO_FATAL_FAILURE(ExpectRegionsAnswerAtOnce());

  plan::v1::ImportPlanRequest cycle;
  for (const auto& [id, parent] : std::vector<std::pair<std::string, std::string>>{
           {"loop-a", "loop-b"}, {"loop-b", "loop-a"}}) {
    plan::v1::Region* region = cycle.mutable_dataset()->add_regions();
    region->set_id(id);
    region->set_name(id);
    region->set_kind(common::v1::REGION_KIND_SUBPREFECTURE);
    region->set_parent_id(parent);
  }
  status = plan_stub_->ImportPlan(Context().get(), cycle, &imported);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();

  plan::v1::CreateRegionRequest self;
  self.mutable_region()->set_id("loop-c");
  self.mutable_region()->set_name("loop-c");
  self.mutable_region()->set_kind(common::v1::REGION_KIND_SUBPREFECTURE);
  self.mutable_region()->set_parent_id("loop-c");
  plan::v1::CreateRegionResponse created;
  status = plan_stub_->CreateRegion(Context().get(), self, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "region.parent_id")) << status.error_message();

  // Nothing was stored: the tree has what the seed gave it, and answers.
  plan::v1::ListRegionsResponse all;
  ASSERT_TRUE(
      plan_stub_
          ->ListRegions(ContextFor(absl::Seconds(1)).get(), plan::v1::ListRegionsRequest(), &all)
          .ok());
  EXPECT_EQ(all.regions_size(), seed_.plan().regions_size());
  ASSERT_NO_FATAL_FAILURE(ExpectRegionsAnswerAtOnce());
  ASSERT_NO_FATAL_FAILURE(ExpectAlertsKeepFlowing());
}

// The review's second case: an import that sends one message and goes quiet
// blocked every writer. Now another client's write answers at once, alerts
// flow, and the quiet import is ended after its idle limit, nothing stored.
TEST_F(AdversarialTest, AQuietImportHoldsUpNobodyAndIsEndedWithNothingStored) {
  const size_t before = HistorySize("jishu-bousai");
  auto import_context = ContextFor(absl::Seconds(30));
  kpi::v1::ImportActualsResponse response;
  auto quiet = kpi_stub_->ImportActuals(import_context.get(), &response);
  kpi::v1::ImportActualsRequest one;
  *one.add_rows() = Row(1, "jishu-bousai", "kamikawa", 2019, 70);
  ASSERT_TRUE(quiet->Write(one));

  // Another client, meanwhile: its write is answered at once, and the alert
  // it moves (宗谷's R元 is reported: MISSING resolves) reaches subscribers.
  auto other = kpi::v1::KpiService::NewStub(MakeChannel(kpi_address_));
  const size_t events = subscriber_->events().size();
  const absl::Time start = absl::Now();
  ASSERT_TRUE(RecordActual(other.get(), "kodomoen", "soya", 2019, 3).ok());
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(900));
  EXPECT_TRUE(subscriber_->WaitFor(events + 1, absl::Seconds(5))) << "alerts stopped";

  const grpc::Status ended = quiet->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << ended.error_message();
  EXPECT_TRUE(Contains(ended.error_message(), "--import_idle_timeout_s")) << ended.error_message();
  EXPECT_EQ(HistorySize("jishu-bousai"), before);
}

// Limits reached one after another — a definition past its text limit, an
// import past its row limit, more imports and streams than allowed — each
// refused naming its limit, with nothing stored; the services keep answering
// and alerts keep flowing.
TEST_F(AdversarialTest, EveryLimitIsNamedAndTheSuiteKeepsAnswering) {
  kpi::v1::CreateKpiRequest create;
  *create.mutable_kpi() = seed_.kpi().kpis(0).kpi();
  create.mutable_kpi()->set_id("huge-name");
  create.mutable_kpi()->set_name(std::string(4 * 1024 * 1024 - 4096, 'x'));
  kpi::v1::CreateKpiResponse created;
  grpc::Status status = kpi_stub_->CreateKpi(Context().get(), create, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "--max_name_chars")) << status.error_message();

  const size_t before = HistorySize("kodomoen");
  std::vector<kpi::v1::ImportRow> rows;
  for (int i = 0; i < 51; ++i) rows.push_back(Row(i + 1, "kodomoen", "soya", 2019, 4));
  kpi::v1::ImportActualsResponse response;
  status = Import({rows}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "--import_max_rows")) << status.error_message();

  // A second import while one is open.
  auto open_context = ContextFor(absl::Seconds(30));
  kpi::v1::ImportActualsResponse open_response;
  auto open = kpi_stub_->ImportActuals(open_context.get(), &open_response);
  kpi::v1::ImportActualsRequest one;
  *one.add_rows() = Row(1, "kodomoen", "soya", 2019, 4);
  ASSERT_TRUE(open->Write(one));
  open->WaitForInitialMetadata();  // accepted: its slot is held
  status = Import({{Row(1, "kodomoen", "rumoi", 2019, 5)}}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "--import_max_concurrent"))
      << status.error_message();
  open_context->TryCancel();
  open->Finish();
  EXPECT_EQ(HistorySize("kodomoen"), before);

  // More WatchChanges streams than one client may hold (the follower is
  // another client). Each waits before the next one opens.
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<kpi::v1::WatchChangesResponse>>> streams;
  for (int i = 0; i < 5; ++i) {
    contexts.push_back(ContextFor(absl::Seconds(30)));
    kpi::v1::WatchChangesRequest watch;
    watch.set_from_sequence(1000000);
    streams.push_back(kpi_stub_->WatchChanges(contexts.back().get(), watch));
    absl::SleepFor(absl::Milliseconds(50));
  }
  kpi::v1::WatchChangesResponse change;
  EXPECT_FALSE(streams.back()->Read(&change));
  status = streams.back()->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "--max_streams_per_client"))
      << status.error_message();

  // Everyone else is still served, and alerts still flow.
  kpi::v1::ListKpisResponse kpis;
  EXPECT_TRUE(
      kpi_stub_->ListKpis(ContextFor(absl::Seconds(1)).get(), kpi::v1::ListKpisRequest(), &kpis)
          .ok());
  ASSERT_NO_FATAL_FAILURE(ExpectRegionsAnswerAtOnce());
  ASSERT_NO_FATAL_FAILURE(ExpectAlertsKeepFlowing());
  for (size_t i = 0; i + 1 < streams.size(); ++i) {
    contexts[i]->TryCancel();
    streams[i]->Finish();
  }
}

// 10,000 bad rows: the client reads the first errors and the total (the
// import limit is raised for this one).
// The suite runs with TLS (the fixture's certificates): a plaintext client
// gets nothing, and a service presenting a certificate of another CA is
// refused by the service it calls, with nothing stored.
TEST_F(AdversarialTest, PlaintextClientsAndCertificatesOfAnotherCaAreRefused) {
  auto plaintext = kpi::v1::KpiService::NewStub(
      grpc::CreateChannel(kpi_address_, grpc::InsecureChannelCredentials()));
  kpi::v1::ListKpisRequest list;
  kpi::v1::ListKpisResponse listed;
  EXPECT_EQ(plaintext->ListKpis(Context().get(), list, &listed).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(kpi_stub_->ListKpis(Context().get(), list, &listed).ok()) << "over TLS it answers";

  // A kpi-service whose certificate another CA signed: it trusts the suite's
  // plan-service, but plan-service does not trust it.
  absl::StatusOr<suishin::testing::TestPki> other =
      suishin::testing::TestPki::Make(dir_->File("other-pki"));
  ASSERT_TRUE(other.ok()) << other.status();
  auto impostor = suishin::testing::ServiceProcess::Start(
      *dir_, "impostor-kpi",
      {suishin::testing::kKpiServiceBinary, "--kpi_listen=127.0.0.1:0",
       "--kpi_db=" + dir_->File("impostor.db"), "--plan_address=" + plan_address_,
       "--redis_url=", "--tls_cert=" + other->cert_file, "--tls_key=" + other->key_file,
       "--tls_ca=" + pki_.ca_file, "--plan_timeout_ms=2000"});
  ASSERT_TRUE(impostor.ok()) << impostor.status();
  TlsSettings client = other->ClientTls();
  auto impostor_stub = kpi::v1::KpiService::NewStub(
      grpc::CreateChannel(impostor->address(), ChannelCredentials(client)));
  kpi::v1::CreateKpiRequest create;
  *create.mutable_kpi() = seed_.kpi().kpis(0).kpi();
  create.mutable_kpi()->set_id("impostor-kpi");
  kpi::v1::CreateKpiResponse created;
  const grpc::Status refused = impostor_stub->CreateKpi(Context().get(), create, &created);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  kpi::v1::ListKpisResponse impostor_listed;
  ASSERT_TRUE(impostor_stub->ListKpis(Context().get(), list, &impostor_listed).ok());
  EXPECT_EQ(impostor_listed.kpis_size(), 0) << "nothing stored";
}

// The suite checks tokens (the fixture's --auth_keys): a call without one,
// with an expired one, one signed by another key or for another audience is
// UNAUTHENTICATED and stores nothing; the health check stays open.
TEST_F(AdversarialTest, CallsWithoutAGoodTokenAreUnauthenticatedAndStoreNothing) {
  auto stub_with = [&](const std::string& token) {
    return kpi::v1::KpiService::NewStub(
        grpc::CreateChannel(kpi_address_, ChannelCredentials(pki_.ClientTls(), token)));
  };
  absl::StatusOr<suishin::testing::TestPki> other =
      suishin::testing::TestPki::Make(dir_->File("other-keys"));
  ASSERT_TRUE(other.ok()) << other.status();
  TokenClaims other_audience;
  other_audience.issuer = suishin::testing::kTestIssuer;
  other_audience.audience = "another-system";
  other_audience.subject = "soya-officer";
  std::ifstream key_in(pki_.signing_key_file);
  std::stringstream key;
  key << key_in.rdbuf();
  const size_t before = HistorySize("kodomoen");
  struct Case {
    const char* what;
    std::string token;
  };
  for (const Case& c :
       std::vector<Case>{{"no token", ""},
                         {"expired", pki_.Token("soya-officer", {"officer"}, {"soya"},
                                                absl::Hours(1), absl::Now() - absl::Hours(3))},
                         {"another key", other->Token("soya-officer", {"officer"}, {"soya"})},
                         {"another audience", *IssueToken(key.str(), other_audience)}}) {
    auto stub = stub_with(c.token);
    kpi::v1::RecordActualRequest request;
    request.mutable_actual()->set_kpi_id("kodomoen");
    request.mutable_actual()->set_region_id("soya");
    request.mutable_actual()->mutable_fiscal_year()->set_year(2019);
    request.mutable_actual()->set_value(5);
    request.mutable_actual()->set_reported_by("宗谷総合振興局");
    kpi::v1::RecordActualResponse response;
    const grpc::Status status = stub->RecordActual(Context().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << c.what << ": " << status.error_message();
  }
  EXPECT_EQ(HistorySize("kodomoen"), before) << "nothing stored";

  // The health check needs no token; a good token is let in.
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(kpi_address_, ChannelCredentials(pki_.ClientTls())));
  grpc::health::v1::HealthCheckResponse serving;
  EXPECT_TRUE(health->Check(Context().get(), {}, &serving).ok());
  kpi::v1::ListKpisResponse listed;
  EXPECT_TRUE(
      stub_with(pki_.Token("viewer-1", {"viewer"}))->ListKpis(Context().get(), {}, &listed).ok());
  EXPECT_EQ(listed.kpis_size(), 2);
}

// Each RPC lets in only the roles its proto declares: a viewer writes
// nothing, an officer changes no rule, an operator does.
TEST_F(AdversarialTest, ACallerOutsideTheRoleOfAnRpcIsRefusedAndStoresNothing) {
  auto kpi_as = [&](const std::string& token) {
    return kpi::v1::KpiService::NewStub(
        grpc::CreateChannel(kpi_address_, ChannelCredentials(pki_.ClientTls(), token)));
  };
  auto notification_as = [&](const std::string& token) {
    return v1::NotificationService::NewStub(
        grpc::CreateChannel(notification_address_, ChannelCredentials(pki_.ClientTls(), token)));
  };
  const std::string viewer = pki_.Token("viewer-1", {"viewer"}, {"hokkaido"});
  const std::string officer = pki_.Token("soya-officer", {"officer"}, {"soya"});
  const std::string operator_token = pki_.Token("operator-1", {"operator"}, {"hokkaido"});
  const size_t before = HistorySize("kodomoen");

  kpi::v1::RecordActualRequest record;
  record.mutable_actual()->set_kpi_id("kodomoen");
  record.mutable_actual()->set_region_id("soya");
  record.mutable_actual()->mutable_fiscal_year()->set_year(2019);
  record.mutable_actual()->set_value(5);
  record.mutable_actual()->set_reported_by("宗谷総合振興局");
  kpi::v1::RecordActualResponse recorded;
  grpc::Status status = kpi_as(viewer)->RecordActual(Context().get(), record, &recorded);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(), "RecordActual needs the role officer (the caller has viewer)");
  kpi::v1::SetBaselineRequest baseline;
  baseline.set_kpi_id("kodomoen");
  kpi::v1::SetBaselineResponse set;
  EXPECT_EQ(kpi_as(officer)->SetBaseline(Context().get(), baseline, &set).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(HistorySize("kodomoen"), before) << "nothing stored";
  kpi::v1::ListKpisResponse listed;
  EXPECT_TRUE(kpi_as(viewer)->ListKpis(Context().get(), {}, &listed).ok()) << "reads are open";

  v1::SetRuleRequest rule;
  rule.mutable_rule()->set_kind(v1::RULE_KIND_DECLINING);
  rule.mutable_rule()->set_enabled(false);
  rule.mutable_rule()->set_severity(v1::SEVERITY_WARNING);
  v1::SetRuleResponse changed;
  status = notification_as(officer)->SetRule(Context().get(), rule, &changed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Contains(status.error_message(), "SetRule needs the role operator"))
      << status.error_message();
  v1::ListWebhooksResponse webhooks;
  EXPECT_EQ(notification_as(viewer)->ListWebhooks(Context().get(), {}, &webhooks).error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "webhook URLs are for operators";
  status = notification_as(operator_token)->SetRule(Context().get(), rule, &changed);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// A token's regions bound where its holder may write: a 上川 officer records
// 上川's actuals (whatever display name it gives, the change log names the
// token's subject) and nothing of 宗谷's, by RecordActual or by import; a
// 道北 officer covers 宗谷 below it. Every refusal, before the service or
// in it, is an audit record operators can read.
TEST_F(AdversarialTest, AnOfficerWritesOnlyInItsRegionsAndEveryRefusalIsAudited) {
  auto kpi_as = [&](const std::string& token) {
    return kpi::v1::KpiService::NewStub(
        grpc::CreateChannel(kpi_address_, ChannelCredentials(pki_.ClientTls(), token)));
  };
  const std::string kamikawa = pki_.Token("kamikawa-officer", {"officer"}, {"kamikawa"});
  const std::string dohoku = pki_.Token("dohoku-officer", {"officer"}, {"dohoku"});
  const std::string viewer = pki_.Token("viewer-1", {"viewer"}, {"hokkaido"});
  auto record = [](const std::string& region, double value) {
    kpi::v1::RecordActualRequest request;
    request.mutable_actual()->set_kpi_id("kodomoen");
    request.mutable_actual()->set_region_id(region);
    request.mutable_actual()->mutable_fiscal_year()->set_year(2019);
    request.mutable_actual()->set_value(value);
    request.mutable_actual()->set_reported_by("宗谷総合振興局");  // a display name, not an identity
    return request;
  };
  const size_t before = HistorySize("kodomoen");
  kpi::v1::RecordActualResponse recorded;
  grpc::Status status =
      kpi_as(kamikawa)->RecordActual(Context().get(), record("soya", 5), &recorded);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(),
            "RecordActual: actual.region_id \"soya\" is outside the officer's region scope "
            "(kamikawa); nothing stored");
  kpi::v1::ImportActualsResponse imported;
  {
    auto context = Context();
    auto writer = kpi_as(kamikawa)->ImportActuals(context.get(), &imported);
    kpi::v1::ImportActualsRequest rows;
    *rows.add_rows() = Row(1, "kodomoen", "kamikawa", 2019, 7);
    *rows.add_rows() = Row(2, "kodomoen", "soya", 2019, 5);
    writer->Write(rows);
    writer->WritesDone();
    status = writer->Finish();
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Contains(status.error_message(), "rows[1].region_id \"soya\""))
      << status.error_message();
  EXPECT_EQ(HistorySize("kodomoen"), before) << "nothing stored";

  // Its own region, and 宗谷 for an officer of 道北 above it.
  status = kpi_as(kamikawa)->RecordActual(Context().get(), record("kamikawa", 7), &recorded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  status = kpi_as(dohoku)->RecordActual(Context().get(), record("soya", 5), &recorded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  kpi::v1::GetHistoryRequest history_request;
  history_request.set_kpi_id("kodomoen");
  history_request.set_page_size(1000);
  kpi::v1::GetHistoryResponse history;
  ASSERT_TRUE(kpi_stub_->GetHistory(Context().get(), history_request, &history).ok());
  ASSERT_EQ(static_cast<size_t>(history.changes_size()), before + 2);
  const kpi::v1::Change& by_kamikawa = history.changes(history.changes_size() - 2);
  EXPECT_EQ(by_kamikawa.region_id(), "kamikawa");
  EXPECT_EQ(by_kamikawa.principal(), "kamikawa-officer");
  EXPECT_EQ(by_kamikawa.author(), "宗谷総合振興局");
  EXPECT_EQ(history.changes(history.changes_size() - 1).principal(), "dohoku-officer");

  // A viewer's write is refused before it reaches the service.
  EXPECT_EQ(
      kpi_as(viewer)->RecordActual(Context().get(), record("soya", 6), &recorded).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  // The trail: operators read it, others may not.
  auto audit_as = [&](const std::string& token) {
    return common::v1::AuditService::NewStub(
        grpc::CreateChannel(kpi_address_, ChannelCredentials(pki_.ClientTls(), token)));
  };
  common::v1::ListAuditRecordsRequest audit_request;
  audit_request.set_method("RecordActual");
  common::v1::ListAuditRecordsResponse trail;
  EXPECT_EQ(audit_as(viewer)->ListAuditRecords(Context().get(), audit_request, &trail).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const std::string operator_token = pki_.Token("operator-1", {"operator"}, {"hokkaido"});
  status = audit_as(operator_token)->ListAuditRecords(Context().get(), audit_request, &trail);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Newest first: the viewer's, 道北's, 上川's accepted one, 上川's refusal.
  ASSERT_GE(trail.records_size(), 4);
  const common::v1::AuditRecord& refused_before = trail.records(0);
  EXPECT_EQ(refused_before.principal(), "viewer-1");
  EXPECT_EQ(refused_before.outcome(), "PERMISSION_DENIED");
  EXPECT_EQ(refused_before.method(), "/suishin.kpi.v1.KpiService/RecordActual");
  EXPECT_EQ(trail.records(1).principal(), "dohoku-officer");
  EXPECT_EQ(trail.records(1).outcome(), "OK");
  EXPECT_EQ(trail.records(2).principal(), "kamikawa-officer");
  EXPECT_EQ(trail.records(2).outcome(), "OK");
  const common::v1::AuditRecord& refused = trail.records(3);
  EXPECT_EQ(refused.principal(), "kamikawa-officer");
  EXPECT_EQ(refused.outcome(), "PERMISSION_DENIED");
  EXPECT_EQ(refused.target(),
            "actual.kpi_id=kodomoen actual.region_id=soya actual.fiscal_year=2019");
  EXPECT_TRUE(absl::StartsWith(refused.peer(), "ipv4:127.0.0.1:")) << refused.peer();
  EXPECT_TRUE(Contains(refused.message(), "outside the officer's region scope"));
  audit_request.set_method("ImportActuals");
  audit_request.set_refused_only(true);
  ASSERT_TRUE(
      audit_as(operator_token)->ListAuditRecords(Context().get(), audit_request, &trail).ok());
  ASSERT_EQ(trail.records_size(), 1);
  EXPECT_EQ(trail.records(0).target(),
            "rows=2 rows[0].kpi_id=kodomoen rows[0].region_id=kamikawa rows[0].fiscal_year=2019");
}

// A planner's regions bound the plan it may change: one of 上川 adds no
// project to 道北 nor a line to 道北's project; one of 道北 does; one of
// 北海道 may add a second area, where 道北's planner then adds nothing.
TEST_F(AdversarialTest, APlannerChangesOnlyThePlanOfItsArea) {
  auto plan_as = [&](const std::string& token) {
    return plan::v1::PlanService::NewStub(
        grpc::CreateChannel(plan_address_, ChannelCredentials(pki_.ClientTls(), token)));
  };
  const std::string kamikawa = pki_.Token("kamikawa-planner", {"planner"}, {"kamikawa"});
  const std::string dohoku = pki_.Token("dohoku-planner", {"planner"}, {"dohoku"});
  const std::string hokkaido = pki_.Token("hokkaido-planner", {"planner"}, {"hokkaido"});
  plan::v1::CreateProjectRequest project;
  project.mutable_project()->set_id("kankou");
  project.mutable_project()->set_area_id("dohoku");
  project.mutable_project()->set_title("観光振興プロジェクト");
  plan::v1::CreateProjectResponse created;
  grpc::Status status = plan_as(kamikawa)->CreateProject(Context().get(), project, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(),
            "CreateProject: project.area_id \"dohoku\" is outside the planner's region scope "
            "(kamikawa); nothing stored");
  plan::v1::GetProjectRequest get;
  get.set_id("kankou");
  plan::v1::GetProjectResponse got;
  EXPECT_EQ(plan_stub_->GetProject(Context().get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND)
      << "nothing stored";
  plan::v1::ListProjectsResponse projects;
  ASSERT_TRUE(plan_stub_->ListProjects(Context().get(), {}, &projects).ok());
  ASSERT_FALSE(projects.projects().empty());
  plan::v1::CreateInitiativeRequest line;
  line.mutable_initiative()->set_project_id(projects.projects(0).id());
  line.mutable_initiative()->set_pillar_id(projects.projects(0).pillars(0).id());
  line.mutable_initiative()->mutable_fiscal_year()->set_year(2020);
  line.mutable_initiative()->set_stage(plan::v1::INITIATIVE_STAGE_NEXT);
  line.mutable_initiative()->set_text("防災訓練の実施");
  plan::v1::CreateInitiativeResponse added;
  status = plan_as(kamikawa)->CreateInitiative(Context().get(), line, &added);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Contains(status.error_message(), "(in dohoku)")) << status.error_message();
  status = plan_as(dohoku)->CreateInitiative(Context().get(), line, &added);
  EXPECT_TRUE(status.ok()) << status.error_message();
  status = plan_as(dohoku)->CreateProject(Context().get(), project, &created);
  EXPECT_TRUE(status.ok()) << status.error_message();

  plan::v1::CreateRegionRequest area;
  area.mutable_region()->set_id("dounan");
  area.mutable_region()->set_name("道南");
  area.mutable_region()->set_kind(common::v1::REGION_KIND_COOPERATION_AREA);
  area.mutable_region()->set_parent_id("hokkaido");
  plan::v1::CreateRegionResponse made;
  EXPECT_EQ(plan_as(dohoku)->CreateRegion(Context().get(), area, &made).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  status = plan_as(hokkaido)->CreateRegion(Context().get(), area, &made);
  ASSERT_TRUE(status.ok()) << status.error_message();
  project.mutable_project()->set_id("dounan-kankou");
  project.mutable_project()->set_area_id("dounan");
  EXPECT_EQ(plan_as(dohoku)->CreateProject(Context().get(), project, &created).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Moving 道北's project into 道南 needs 道南 too.
  plan::v1::UpdateProjectRequest move;
  ASSERT_TRUE(plan_stub_->GetProject(Context().get(), get, &got).ok());
  *move.mutable_project() = got.project();
  move.mutable_project()->set_area_id("dounan");
  move.mutable_update_mask()->add_paths("area_id");
  plan::v1::UpdateProjectResponse moved;
  EXPECT_EQ(plan_as(dohoku)->UpdateProject(Context().get(), move, &moved).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Acknowledgements and silences keep who made them (the token's subject)
// beside the display name the request gives.
TEST_F(AdversarialTest, AcknowledgementsAndSilencesRecordThePrincipal) {
  auto notification_as = [&](const std::string& token) {
    return v1::NotificationService::NewStub(
        grpc::CreateChannel(notification_address_, ChannelCredentials(pki_.ClientTls(), token)));
  };
  const std::string officer = pki_.Token("kamikawa-officer", {"officer"}, {"kamikawa"});
  const std::string operator_token = pki_.Token("operator-1", {"operator"}, {"hokkaido"});
  v1::ListAlertsResponse alerts;
  ASSERT_TRUE(notification_stub_->ListAlerts(Context().get(), {}, &alerts).ok());
  ASSERT_FALSE(alerts.alerts().empty());
  v1::AcknowledgeAlertRequest ack;
  ack.set_fingerprint(alerts.alerts(0).fingerprint());
  ack.set_author("上川総合振興局");
  v1::AcknowledgeAlertResponse acked;
  grpc::Status status = notification_as(officer)->AcknowledgeAlert(Context().get(), ack, &acked);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(acked.alert().acknowledgement().principal(), "kamikawa-officer");
  EXPECT_EQ(acked.alert().acknowledgement().author(), "上川総合振興局");
  v1::GetAlertRequest get;
  get.set_fingerprint(ack.fingerprint());
  v1::GetAlertResponse got;
  ASSERT_TRUE(notification_stub_->GetAlert(Context().get(), get, &got).ok());
  ASSERT_FALSE(got.alert().history().empty());
  EXPECT_EQ(got.alert().history(got.alert().history_size() - 1).note(),
            "acknowledged by 上川総合振興局 (kamikawa-officer)");

  v1::CreateSilenceRequest silence;
  v1::Matcher* matcher = silence.mutable_silence()->add_matchers();
  matcher->set_field(v1::MATCHER_FIELD_KPI);
  matcher->set_value("kodomoen");
  silence.mutable_silence()->set_author("道庁");
  silence.mutable_silence()->set_comment("点検中");
  silence.mutable_silence()->set_principal("someone-else");  // output only: ignored
  *silence.mutable_silence()->mutable_end_time() = ToProtoTimestamp(absl::Now() + absl::Hours(1));
  v1::CreateSilenceResponse silenced;
  status = notification_as(operator_token)->CreateSilence(Context().get(), silence, &silenced);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(silenced.silence().principal(), "operator-1");
  EXPECT_EQ(silenced.silence().author(), "道庁");
}

TEST_F(AdversarialTest, TenThousandBadRowsAreAnsweredReadably) {
  kpi_flags_ = {"--import_max_rows=20000"};
  ASSERT_NO_FATAL_FAILURE(StopKpi());
  ASSERT_NO_FATAL_FAILURE(StartKpi());
  std::vector<std::vector<kpi::v1::ImportRow>> messages(10);
  for (int i = 0; i < 10000; ++i) {
    messages[i / 1000].push_back(Row(i + 1, "kodomoen", "kamikawa", 2019, 0.5 + i));
  }
  kpi::v1::ImportActualsResponse response;
  const grpc::Status status = Import(messages, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  kpi::v1::ImportActualsResponse details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.error_count(), 10000);
  ASSERT_GE(details.errors_size(), 1);
  EXPECT_LE(details.errors_size(), 100);
  EXPECT_EQ(details.errors(0).line(), 1);
  EXPECT_TRUE(Contains(details.errors(0).message(), "whole number")) << details.errors(0).message();
}

}  // namespace
}  // namespace suishin::notification::testing
