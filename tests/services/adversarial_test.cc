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

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth.h"
#include "common/channel.h"
#include "common/tls.h"
#include "grpc/health/v1/health.grpc.pb.h"
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
