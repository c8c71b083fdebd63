// The gateway binary in front of the real suite: every route answers what
// its RPC answers, errors keep their codes and messages, the caller's token
// is the one the services see, bodies are bounded, and event streams resume
// from Last-Event-ID without loss or repetition.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/channel.h"
#include "exchange/csv_codec.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/routes.h"
#include "suishin/common/v1/audit.grpc.pb.h"
#include "tests/services/gateway/gateway_fixture.h"

namespace suishin::gateway::testing {
namespace {

using google::protobuf::util::MessageDifferencer;
using notification::testing::Context;

constexpr char kProject[] = "dohoku-anzen-anshin";

class GatewayRoutesTest : public GatewayTest {
 protected:
  // Records that a request reached `method path`'s route.
  void Cover(const std::string& method, const std::string& path) {
    const std::string bare = path.substr(0, path.find('?'));
    const RouteMatch match = table_.Match(method, bare);
    ASSERT_NE(match.route, nullptr) << method << " " << bare;
    covered_.insert(match.route->method->full_name());
  }

  // GET `path` through the gateway answers `want`, the RPC's own answer.
  template <typename Response>
  void ExpectSameAnswer(const std::string& path, const Response& want) {
    SCOPED_TRACE(path);
    Cover("GET", path);
    httplib::Result result = Get(path, operator_token_);
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    ASSERT_EQ(result->status, 200) << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json; charset=utf-8");
    Response got;
    ASSERT_EQ(ParseInto(result->body, &got), "") << result->body;
    EXPECT_TRUE(MessageDifferencer::Equals(got, want)) << "gateway:\n"
                                                       << got.DebugString() << "gRPC:\n"
                                                       << want.DebugString();
  }

  // `method path` with `body` through the gateway, answered 200, into `response`.
  template <typename Response>
  void Write(const std::string& method, const std::string& path, const std::string& body,
             Response* response) {
    SCOPED_TRACE(absl::StrCat(method, " ", path));
    Cover(method, path);
    httplib::Result result = Send(method, path, body, operator_token_);
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    ASSERT_EQ(result->status, 200) << result->body;
    ASSERT_EQ(ParseInto(result->body, response), "") << result->body;
  }

  RouteTable table_ = *RouteTable::ForServices(SuiteServices());
  std::set<std::string> covered_;
};

TEST(GatewayRouteTableTest, EveryRpcOfTheThreeServicesHasOneRoute) {
  absl::StatusOr<RouteTable> table = RouteTable::ForServices(SuiteServices());
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_TRUE(table->unrouted().empty()) << table->unrouted().front();
  int methods = 0;
  for (const auto* service : SuiteServices()) methods += service->method_count();
  EXPECT_EQ(table->routes().size(), static_cast<size_t>(methods));
}

TEST_F(GatewayRoutesTest, EveryRouteAnswersWhatItsRpcAnswers) {
  // Reads: the same answer as the RPC's, field for field.
  {
    plan::v1::ListRegionsResponse want;
    ASSERT_TRUE(plan_stub_->ListRegions(Context().get(), {}, &want).ok());
    ASSERT_GT(want.regions_size(), 3);
    ExpectSameAnswer("/v1/regions", want);
  }
  {
    plan::v1::GetRegionRequest request;
    request.set_id("soya");
    plan::v1::GetRegionResponse want;
    ASSERT_TRUE(plan_stub_->GetRegion(Context().get(), request, &want).ok());
    ExpectSameAnswer("/v1/regions/soya", want);
  }
  {
    plan::v1::ListProjectsResponse want;
    ASSERT_TRUE(plan_stub_->ListProjects(Context().get(), {}, &want).ok());
    ExpectSameAnswer("/v1/projects", want);
  }
  {
    plan::v1::GetProjectRequest request;
    request.set_id(kProject);
    plan::v1::GetProjectResponse want;
    ASSERT_TRUE(plan_stub_->GetProject(Context().get(), request, &want).ok());
    ExpectSameAnswer(absl::StrCat("/v1/projects/", kProject), want);
  }
  {
    plan::v1::ListInitiativesRequest request;
    request.set_project_id(kProject);
    request.mutable_fiscal_year()->set_year(2019);
    request.set_stage(plan::v1::INITIATIVE_STAGE_CURRENT);
    plan::v1::ListInitiativesResponse want;
    ASSERT_TRUE(plan_stub_->ListInitiatives(Context().get(), request, &want).ok());
    ASSERT_GT(want.initiatives_size(), 0);
    ExpectSameAnswer(absl::StrCat("/v1/initiatives?project_id=", kProject,
                                  "&fiscal_year=2019&stage=INITIATIVE_STAGE_CURRENT"),
                     want);
  }
  {
    kpi::v1::ListKpisRequest request;
    request.set_project_id(kProject);
    kpi::v1::ListKpisResponse want;
    ASSERT_TRUE(kpi_stub_->ListKpis(Context().get(), request, &want).ok());
    ExpectSameAnswer(absl::StrCat("/v1/kpis?projectId=", kProject), want);
  }
  {
    kpi::v1::GetKpiRequest request;
    request.set_id("jishu-bousai");
    kpi::v1::GetKpiResponse want;
    ASSERT_TRUE(kpi_stub_->GetKpi(Context().get(), request, &want).ok());
    ExpectSameAnswer("/v1/kpis/jishu-bousai", want);
  }
  {
    kpi::v1::GetProgressRequest request;
    request.set_kpi_id("jishu-bousai");
    request.set_region_id("soya");
    request.mutable_as_of()->set_year(2019);
    kpi::v1::GetProgressResponse want;
    ASSERT_TRUE(kpi_stub_->GetProgress(Context().get(), request, &want).ok());
    ExpectSameAnswer("/v1/kpis/jishu-bousai/progress?region_id=soya&as_of=2019", want);
  }
  {
    kpi::v1::GetAggregateRequest request;
    request.set_kpi_id("jishu-bousai");
    request.set_area_id("dohoku");
    request.mutable_fiscal_year()->set_year(2019);
    kpi::v1::GetAggregateResponse want;
    ASSERT_TRUE(kpi_stub_->GetAggregate(Context().get(), request, &want).ok());
    ExpectSameAnswer("/v1/kpis/jishu-bousai/aggregates/dohoku?fiscal_year.year=2019", want);
  }
  {
    kpi::v1::GetKpiTableRequest request;
    request.set_project_id(kProject);
    request.mutable_as_of()->set_year(2019);
    kpi::v1::GetKpiTableResponse want;
    ASSERT_TRUE(kpi_stub_->GetKpiTable(Context().get(), request, &want).ok());
    ExpectSameAnswer(absl::StrCat("/v1/projects/", kProject, "/kpi-table?as_of=2019"), want);
  }
  {
    kpi::v1::GetHistoryRequest request;
    request.set_kpi_id("jishu-bousai");
    request.set_region_id("soya");
    kpi::v1::GetHistoryResponse want;
    ASSERT_TRUE(kpi_stub_->GetHistory(Context().get(), request, &want).ok());
    ASSERT_GT(want.changes_size(), 0);
    ExpectSameAnswer("/v1/kpis/jishu-bousai/history?region_id=soya", want);
  }
  std::string fingerprint;
  {
    notification::v1::ListAlertsResponse want;
    ASSERT_TRUE(notification::testing::Eventually([&] {
      want.Clear();
      return notification_stub_->ListAlerts(Context().get(), {}, &want).ok() &&
             want.alerts_size() > 0;
    }));
    fingerprint = want.alerts(0).fingerprint();
    ExpectSameAnswer("/v1/alerts", want);
  }
  {
    notification::v1::GetAlertRequest request;
    request.set_fingerprint(fingerprint);
    notification::v1::GetAlertResponse want;
    ASSERT_TRUE(notification_stub_->GetAlert(Context().get(), request, &want).ok());
    ExpectSameAnswer(absl::StrCat("/v1/alerts/", fingerprint), want);
  }
  {
    notification::v1::ListRulesResponse want;
    ASSERT_TRUE(notification_stub_->ListRules(Context().get(), {}, &want).ok());
    ExpectSameAnswer("/v1/rules", want);
  }

  // Writes: the answer is the RPC's, and the services hold what it says.
  {
    plan::v1::CreateRegionResponse created;
    Write("POST", "/v1/regions",
          R"({"id": "wakkanai", "name": "稚内市", "kind": "REGION_KIND_MUNICIPALITY",
              "parentId": "soya"})",
          &created);
    EXPECT_EQ(created.region().name(), "稚内市");
    plan::v1::GetRegionRequest request;
    request.set_id("wakkanai");
    plan::v1::GetRegionResponse stored;
    ASSERT_TRUE(plan_stub_->GetRegion(Context().get(), request, &stored).ok());
    EXPECT_TRUE(MessageDifferencer::Equals(stored.region(), created.region()));
  }
  plan::v1::Project project;
  {
    plan::v1::CreateProjectResponse created;
    Write("POST", "/v1/projects",
          R"({"id": "soya-test", "areaId": "dohoku", "title": "宗谷の試験プロジェクト",
              "pillars": [{"id": "p1", "title": "柱"}]})",
          &created);
    plan::v1::UpdateProjectResponse updated;
    Write("PATCH", "/v1/projects/soya-test",
          absl::StrCat(R"({"project": {"title": "宗谷の試験プロジェクト（改）", "version": ")",
                       created.project().version(), R"("}, "updateMask": "title"})"),
          &updated);
    EXPECT_EQ(updated.project().title(), "宗谷の試験プロジェクト（改）");
    plan::v1::GetProjectRequest request;
    request.set_id("soya-test");
    plan::v1::GetProjectResponse stored;
    ASSERT_TRUE(plan_stub_->GetProject(Context().get(), request, &stored).ok());
    EXPECT_TRUE(MessageDifferencer::Equals(stored.project(), updated.project()));
    project = stored.project();
  }
  {
    plan::v1::CreateInitiativeResponse created;
    Write("POST", "/v1/projects/soya-test/initiatives",
          R"({"id": "soya-test-1", "pillarId": "p1", "fiscalYear": {"year": 2020},
              "stage": "INITIATIVE_STAGE_CURRENT", "text": "試験の取組",
              "responsibleBodies": ["宗谷総合振興局"], "regionIds": ["soya"]})",
          &created);
    EXPECT_EQ(created.initiative().project_id(), "soya-test");
    plan::v1::UpdateInitiativeResponse updated;
    Write("PATCH", "/v1/initiatives/soya-test-1",
          absl::StrCat(R"({"initiative": {"text": "試験の取組（改）", "version": ")",
                       created.initiative().version(), R"("}, "updateMask": "text"})"),
          &updated);
    EXPECT_EQ(updated.initiative().text(), "試験の取組（改）");
    plan::v1::DeleteInitiativeResponse deleted;
    Write("DELETE",
          absl::StrCat("/v1/initiatives/soya-test-1?version=", updated.initiative().version()), "",
          &deleted);
    plan::v1::ListInitiativesRequest request;
    request.set_project_id("soya-test");
    plan::v1::ListInitiativesResponse left;
    ASSERT_TRUE(plan_stub_->ListInitiatives(Context().get(), request, &left).ok());
    EXPECT_EQ(left.initiatives_size(), 0);
  }
  {
    plan::v1::ImportPlanResponse imported;
    std::string dataset;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(seed_.plan(), &dataset).ok());
    Write("POST", "/v1/plan:import", absl::StrCat(R"({"dataset": )", dataset, "}"), &imported);
    EXPECT_EQ(imported.projects().unchanged(), seed_.plan().projects_size());
    EXPECT_EQ(imported.projects().created(), 0);
  }
  {
    kpi::v1::CreateKpiResponse created;
    Write("POST", "/v1/kpis",
          R"({"id": "soya-visitors", "projectId": "soya-test", "name": "来訪者数", "unit": "人",
              "valueKind": "VALUE_KIND_COUNT", "direction": "DIRECTION_INCREASE",
              "aggregation": "AGGREGATION_RULE_REPORTED",
              "progressMethod": "PROGRESS_METHOD_ACHIEVEMENT", "areaId": "dohoku",
              "regionIds": ["dohoku", "soya"]})",
          &created);
    EXPECT_EQ(created.kpi().name(), "来訪者数");
    kpi::v1::SetBaselineResponse baseline;
    Write("POST", "/v1/kpis/soya-visitors/baselines",
          R"({"baseline": {"regionId": "soya", "fiscalYear": {"year": 2018}, "value": 100},
              "author": "宗谷"})",
          &baseline);
    kpi::v1::ReviseTargetResponse target;
    Write("POST", "/v1/kpis/soya-visitors/targets",
          R"({"regionId": "soya", "fiscalYear": {"year": 2024}, "value": 160, "author": "宗谷",
              "reason": "初回設定"})",
          &target);
    kpi::v1::RecordActualResponse actual;
    Write("POST", "/v1/kpis/soya-visitors/actuals",
          R"({"actual": {"regionId": "soya", "fiscalYear": {"year": 2019}, "value": 112}})",
          &actual);
    EXPECT_GT(actual.sequence(), baseline.sequence());
    kpi::v1::ImportActualsResponse imported;
    Write("POST", "/v1/actuals:import",
          R"({"rows": [
              {"line": 2, "kpiId": "soya-visitors", "regionId": "soya",
               "fiscalYear": {"year": 2020}, "value": 118},
              {"line": 3, "kpiId": "soya-visitors", "regionId": "soya",
               "fiscalYear": {"year": 2021}, "value": 124}]})",
          &imported);
    EXPECT_EQ(imported.rows_applied(), 2);
    kpi::v1::GetProgressRequest request;
    request.set_kpi_id("soya-visitors");
    request.set_region_id("soya");
    request.mutable_as_of()->set_year(2021);
    kpi::v1::GetProgressResponse progress;
    ASSERT_TRUE(kpi_stub_->GetProgress(Context().get(), request, &progress).ok());
    std::vector<double> values;
    for (const auto& point : progress.points()) {
      if (point.has_value()) values.push_back(point.value());
    }
    EXPECT_EQ(values, (std::vector<double>{112, 118, 124}));
  }
  {
    notification::v1::SetRuleResponse rule;
    Write("POST", "/v1/rules",
          R"({"kind": "RULE_KIND_LAGGING", "kpiId": "soya-visitors", "enabled": true,
              "severity": "SEVERITY_WARNING", "warningGap": -12})",
          &rule);
    EXPECT_EQ(rule.rule().kpi_id(), "soya-visitors");
  }
  {
    notification::v1::AcknowledgeAlertResponse acknowledged;
    Write("POST", absl::StrCat("/v1/alerts/", fingerprint, ":acknowledge"),
          R"({"author": "宗谷 担当", "comment": "確認しました"})", &acknowledged);
    EXPECT_EQ(acknowledged.alert().acknowledgement().principal(), "gateway-operator");
  }
  {
    notification::v1::CreateSilenceResponse created;
    Write("POST", "/v1/silences",
          R"({"matchers": [{"field": "MATCHER_FIELD_REGION", "value": "soya"}],
              "endTime": "2030-01-01T00:00:00Z", "author": "宗谷", "comment": "調査中"})",
          &created);
    notification::v1::ListSilencesResponse listed;
    ASSERT_TRUE(notification_stub_->ListSilences(Context().get(), {}, &listed).ok());
    ExpectSameAnswer("/v1/silences", listed);
    notification::v1::ExpireSilenceResponse expired;
    Write("POST", absl::StrCat("/v1/silences/", created.silence().id(), ":expire"), "", &expired);
    EXPECT_FALSE(expired.silence().active());
  }
  {
    notification::v1::CreateWebhookResponse created;
    Write(
        "POST", "/v1/webhooks",
        R"({"url": "http://127.0.0.1:9/hook", "secret": "whsec_0123456789abcdef0123456789abcdef"})",
        &created);
    notification::v1::ListWebhooksResponse listed;
    ASSERT_TRUE(notification_stub_->ListWebhooks(Context().get(), {}, &listed).ok());
    ExpectSameAnswer("/v1/webhooks", listed);
    notification::v1::RotateWebhookSecretResponse rotated;
    Write("POST", absl::StrCat("/v1/webhooks/", created.webhook().id(), ":rotateSecret"),
          R"({"secret": "whsec_fedcba9876543210fedcba9876543210", "overlap": "3600s"})", &rotated);
    notification::v1::ListDeadLettersResponse dead;
    ASSERT_TRUE(notification_stub_->ListDeadLetters(Context().get(), {}, &dead).ok());
    ExpectSameAnswer("/v1/dead-letters", dead);
    notification::v1::DeleteWebhookResponse deleted;
    Write("DELETE", absl::StrCat("/v1/webhooks/", created.webhook().id()), "", &deleted);
    notification::v1::ListWebhooksResponse after;
    ASSERT_TRUE(notification_stub_->ListWebhooks(Context().get(), {}, &after).ok());
    EXPECT_EQ(after.webhooks_size(), 0);
  }
  {
    // No dead letter by that id: the service's NOT_FOUND, as 404.
    Cover("POST", "/v1/dead-letters/no-such:replay");
    httplib::Result result = Send("POST", "/v1/dead-letters/no-such:replay", "", operator_token_);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 404) << result->body;
    notification::v1::GetStatusResponse status;
    Cover("GET", "/v1/notification-status");
    httplib::Result answered = Get("/v1/notification-status", operator_token_);
    ASSERT_TRUE(answered);
    ASSERT_EQ(answered->status, 200);
    ASSERT_EQ(ParseInto(answered->body, &status), "") << answered->body;
  }

  // Every unary route was exercised above (the streams have tests of their own).
  for (const Route& route : table_.routes()) {
    if (route.server_streaming()) continue;
    EXPECT_EQ(covered_.count(route.method->full_name()), 1u)
        << route.method->full_name() << " (" << route.http_method << " " << route.path_template
        << ") is not exercised";
  }
}

TEST_F(GatewayTest, ErrorsKeepTheServicesCodesAndMessages) {
  // The service's own message, with the HTTP status of its code.
  kpi::v1::GetKpiRequest request;
  request.set_id("no-such-kpi");
  kpi::v1::GetKpiResponse unused;
  const grpc::Status direct = kpi_stub_->GetKpi(Context().get(), request, &unused);
  ASSERT_EQ(direct.error_code(), grpc::StatusCode::NOT_FOUND);
  httplib::Result missing = Get("/v1/kpis/no-such-kpi", operator_token_);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  google::protobuf::Struct error;
  ASSERT_EQ(ParseInto(missing->body, &error), "");
  EXPECT_EQ(error.fields().at("code").number_value(), 5);
  EXPECT_EQ(error.fields().at("status").string_value(), "NOT_FOUND");
  EXPECT_EQ(error.fields().at("message").string_value(), direct.error_message());

  struct Case {
    std::string method, path, body, token;
    int http_status;
    std::string in_message;
  };
  const std::string viewer = TokenFor("gateway-viewer", {"viewer"});
  const std::string kamikawa_officer = TokenFor("kamikawa-officer", {"officer"}, {"kamikawa"});
  const std::vector<Case> cases = {
      // No token: the service refuses, not the gateway's identity standing in.
      {"GET", "/v1/projects", "", "", 401, "no token"},
      {"POST", "/v1/kpis/jishu-bousai/actuals",
       R"({"actual": {"regionId": "soya", "fiscalYear": {"year": 2019}, "value": 50}})", viewer,
       403, "RecordActual"},
      {"POST", "/v1/kpis/jishu-bousai/actuals",
       R"({"actual": {"regionId": "soya", "fiscalYear": {"year": 2019}, "value": 50}})",
       kamikawa_officer, 403, "actual.region_id \"soya\""},
      {"POST", "/v1/kpis/jishu-bousai/actuals",
       R"({"actual": {"regionId": "soya", "fiscalYear": {"year": 2019}, "value": 150}})",
       operator_token_, 400, "150"},
      {"POST", "/v1/regions", R"({"id": "soya", "name": "宗谷", "kind": "REGION_KIND_SUBPREFECTURE",
                                  "parentId": "dohoku"})",
       operator_token_, 409, "soya"},
      // The gateway's own refusals, before any service is called.
      {"POST", "/v1/kpis/jishu-bousai/actuals", R"({"actual": {"valu": 1}})", operator_token_, 400,
       "valu"},
      {"POST", "/v1/kpis/jishu-bousai/actuals",
       R"({"actual": {"kpiId": "kodomoen", "regionId": "soya", "fiscalYear": {"year": 2020}}})",
       operator_token_, 400, "the path says \"jishu-bousai\""},
      {"GET", "/v1/kpis/jishu-bousai/progress?region_id=soya&as_of=R2", "", operator_token_, 400,
       "as_of: \"R2\""},
      {"GET", "/v1/kpis?colour=red", "", operator_token_, 400, "colour"},
      {"GET", "/v1/no-such-thing", "", operator_token_, 404, "no route"},
      {"DELETE", "/v1/kpis/jishu-bousai", "", operator_token_, 405, "DELETE"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.method, " ", c.path));
    httplib::Result result =
        c.method == "GET" ? Get(c.path, c.token) : Send(c.method, c.path, c.body, c.token);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, c.http_status) << result->body;
    google::protobuf::Struct body;
    ASSERT_EQ(ParseInto(result->body, &body), "") << result->body;
    EXPECT_NE(body.fields().at("message").string_value().find(c.in_message), std::string::npos)
        << result->body;
  }
  // An import's refused rows come as the error's details, line by line.
  httplib::Result import =
      Send("POST", "/v1/actuals:import",
           R"({"rows": [{"line": 7, "kpiId": "jishu-bousai", "regionId": "soya",
                                              "fiscalYear": {"year": 2019}, "value": 101}]})",
           operator_token_);
  ASSERT_TRUE(import);
  EXPECT_EQ(import->status, 400) << import->body;
  google::protobuf::Struct refused;
  ASSERT_EQ(ParseInto(import->body, &refused), "") << import->body;
  ASSERT_EQ(refused.fields().at("details").list_value().values_size(), 1) << import->body;
  const auto& detail =
      refused.fields().at("details").list_value().values(0).struct_value().fields();
  EXPECT_EQ(detail.at("@type").string_value(),
            "type.googleapis.com/suishin.kpi.v1.ImportActualsResponse");
  const auto& row = detail.at("errors").list_value().values(0).struct_value().fields();
  EXPECT_EQ(row.at("line").string_value(), "7");
  EXPECT_EQ(row.at("field").string_value(), "value");
  // Nothing of the refused writes was stored.
  EXPECT_TRUE(JishuSoyaR1Changes().empty());
}

TEST_F(GatewayTest, TheServicesSeeTheCallersTokenNotTheGateways) {
  const std::string officer = TokenFor("soya-officer-7", {"officer"}, {"soya"});
  httplib::Result recorded = Send(
      "POST", "/v1/kpis/jishu-bousai/actuals",
      R"({"actual": {"regionId": "soya", "fiscalYear": {"year": 2019}, "value": 70}})", officer);
  ASSERT_TRUE(recorded);
  ASSERT_EQ(recorded->status, 200) << recorded->body;
  // The change log and the audit trail name the officer.
  const std::vector<kpi::v1::Change> changes = JishuSoyaR1Changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].principal(), "soya-officer-7");
  auto audit = common::v1::AuditService::NewStub(MakeChannel(kpi_address_));
  common::v1::ListAuditRecordsRequest request;
  request.set_principal("soya-officer-7");
  common::v1::ListAuditRecordsResponse records;
  ASSERT_TRUE(audit->ListAuditRecords(Context().get(), request, &records).ok());
  ASSERT_EQ(records.records_size(), 1);
  EXPECT_NE(records.records(0).method().find("RecordActual"), std::string::npos);
}

TEST_F(GatewayTest, AnOversizedBodyIsRefusedAndNothingStored) {
  StartGateway({"--gateway_max_body_bytes=2000"});
  std::string rows;
  for (int i = 0; i < 40; ++i) {
    absl::StrAppend(
        &rows, rows.empty() ? "" : ",",
        R"({"kpiId": "jishu-bousai", "regionId": "soya", "fiscalYear": {"year": 2019},)",
        R"( "value": 60})");
  }
  const std::string body = absl::StrCat(R"({"rows": [)", rows, "]}");
  ASSERT_GT(body.size(), 2000u);
  httplib::Result result = Send("POST", "/v1/actuals:import", body, operator_token_);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 413);
  EXPECT_NE(result->body.find("--gateway_max_body_bytes"), std::string::npos) << result->body;
  EXPECT_TRUE(JishuSoyaR1Changes().empty());
  // A body under the limit goes through.
  httplib::Result small =
      Send("POST", "/v1/kpis/jishu-bousai/actuals",
           R"({"actual": {"regionId": "soya", "fiscalYear": {"year": 2019}, "value": 60}})",
           operator_token_);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200) << small->body;
}

TEST_F(GatewayTest, WithACertificateItServesHttpsOnly) {
  StartGateway({"--tls_cert=" + pki_.cert_file, "--tls_key=" + pki_.key_file});
  httplib::SSLClient https("127.0.0.1", gateway_port_);
  https.set_ca_cert_path(pki_.ca_file.c_str());
  https.enable_server_certificate_verification(true);
  httplib::Result result =
      https.Get("/v1/projects", {{"Authorization", "Bearer " + operator_token_}});
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  plan::v1::ListProjectsResponse projects;
  ASSERT_EQ(ParseInto(result->body, &projects), "");
  EXPECT_EQ(projects.projects_size(), seed_.plan().projects_size());
  // Plain HTTP gets no answer.
  httplib::Result plain = Get("/v1/projects", operator_token_);
  EXPECT_FALSE(plain && plain->status == 200);
}

// A KPI data file of 宗谷's 自主防災組織率 for R元, as people write it.
constexpr char kSoyaCsv[] =
    "種別,KPI名,地域名,和暦,値,理由\r\n"
    "実績,自主防災組織率,宗谷,R元,35.2%,令和元年度の報告\r\n";

TEST_F(GatewayTest, ACp932UploadStoresWhatItsUtf8TwinStores) {
  absl::StatusOr<std::string> cp932 = exchange::Utf8ToCp932(kSoyaCsv);
  ASSERT_TRUE(cp932.ok()) << cp932.status();
  httplib::Result first =
      Send("POST", "/v1/actuals:importCsv?name=soya-sjis.csv", *cp932, operator_token_, "text/csv");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  google::protobuf::Struct stored;
  ASSERT_EQ(ParseInto(first->body, &stored), "");
  EXPECT_EQ(stored.fields().at("encoding").string_value(), "CP932");
  EXPECT_EQ(stored.fields().at("rowsApplied").number_value(), 1);
  // The UTF-8 twin (with a byte order mark) says the same row: already stored.
  httplib::Result twin = Send("POST", "/v1/actuals:importCsv?name=soya.csv",
                              absl::StrCat("\xEF\xBB\xBF", kSoyaCsv), operator_token_, "text/csv");
  ASSERT_TRUE(twin);
  ASSERT_EQ(twin->status, 200) << twin->body;
  google::protobuf::Struct again;
  ASSERT_EQ(ParseInto(twin->body, &again), "");
  EXPECT_EQ(again.fields().at("encoding").string_value(), "UTF-8 with BOM");
  // kpi-service takes an unchanged actual as a no-op: no change made.
  EXPECT_EQ(again.fields().at("lastSequence").string_value(), "0") << twin->body;
  kpi::v1::GetProgressRequest request;
  request.set_kpi_id("jishu-bousai");
  request.set_region_id("soya");
  request.mutable_as_of()->set_year(2019);
  kpi::v1::GetProgressResponse progress;
  ASSERT_TRUE(kpi_stub_->GetProgress(Context().get(), request, &progress).ok());
  EXPECT_EQ(progress.points().rbegin()->value(), 35.2);
}

TEST_F(GatewayTest, ABadCsvUploadNamesEachRowsLineAndColumnAndStoresNothing) {
  const std::string bad =
      "種別,KPI ID,地域ID,年度,値\r\n"
      "実績,jishu-bousai,soya,2019,36.0\r\n"
      "実績,jishu-bousai,rumoi,2019,たくさん\r\n"
      "実績,jishu-bousai,kamikawa,2019,150\r\n";
  httplib::Result result =
      Send("POST", "/v1/actuals:importCsv?name=bad.csv", bad, operator_token_, "text/csv");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400) << result->body;
  google::protobuf::Struct body;
  ASSERT_EQ(ParseInto(result->body, &body), "");
  const auto& problems = body.fields().at("problems").list_value().values();
  ASSERT_EQ(problems.size(), 2) << result->body;
  EXPECT_EQ(problems[0].struct_value().fields().at("line").number_value(), 3);
  EXPECT_EQ(problems[0].struct_value().fields().at("column").string_value(), "値");
  EXPECT_NE(problems[0].struct_value().fields().at("message").string_value().find("たくさん"),
            std::string::npos);
  EXPECT_EQ(problems[1].struct_value().fields().at("line").number_value(), 4);
  EXPECT_NE(body.fields().at("message").string_value().find("nothing stored"), std::string::npos);
  // Not even the good row.
  EXPECT_TRUE(JishuSoyaR1Changes().empty());
  // A file that is not one: where it breaks.
  httplib::Result unreadable =
      Send("POST", "/v1/actuals:importCsv", "種別,KPI ID,色\r\n", operator_token_, "text/csv");
  ASSERT_TRUE(unreadable);
  EXPECT_EQ(unreadable->status, 400) << unreadable->body;
  EXPECT_NE(unreadable->body.find("色"), std::string::npos) << unreadable->body;
}

TEST_F(GatewayTest, DownloadsAreTheFilesSuishinctlWrites) {
  // A KPI's figures: a KPI data file that, uploaded again, changes nothing.
  httplib::Result data = Get("/v1/kpis/jishu-bousai/data.csv", operator_token_);
  ASSERT_TRUE(data);
  ASSERT_EQ(data->status, 200) << data->body;
  EXPECT_EQ(data->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(data->body.rfind("\xEF\xBB\xBF種別,", 0), 0u) << data->body.substr(0, 80);
  httplib::Result back = Send("POST", "/v1/actuals:importCsv?name=jishu-bousai.csv", data->body,
                              operator_token_, "text/csv");
  ASSERT_TRUE(back);
  ASSERT_EQ(back->status, 200) << back->body;
  google::protobuf::Struct imported;
  ASSERT_EQ(ParseInto(back->body, &imported), "");
  EXPECT_GT(imported.fields().at("rows").number_value(), 10);
  // Nothing changed: every figure was already stored.
  EXPECT_EQ(imported.fields().at("lastSequence").string_value(), "0") << back->body;
  // The table as of R元, in Shift_JIS: the seed's rates are in it.
  httplib::Result table = Get(
      "/v1/projects/dohoku-anzen-anshin/kpi-table.csv?year=R元&encoding=cp932", operator_token_);
  ASSERT_TRUE(table);
  ASSERT_EQ(table->status, 200) << table->body;
  absl::StatusOr<std::string> text = exchange::Cp932ToUtf8(table->body);
  ASSERT_TRUE(text.ok());
  // 進捗率(%) as the table prints it, one cell each.
  for (const char* rate : {",25.6,", ",111.6,", ",124.2,", ",41.2,"}) {
    EXPECT_NE(text->find(rate), std::string::npos) << rate;
  }
  // The report, as HTML and as Markdown.
  httplib::Result html = Get("/v1/projects/dohoku-anzen-anshin/report?year=2019", operator_token_);
  ASSERT_TRUE(html);
  ASSERT_EQ(html->status, 200) << html->body;
  EXPECT_EQ(html->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(html->body.find("安全・安心な地域づくりプロジェクト"), std::string::npos);
  EXPECT_NE(html->body.find("111.6%"), std::string::npos);
  httplib::Result markdown =
      Get("/v1/projects/dohoku-anzen-anshin/report?year=2019&format=markdown", operator_token_);
  ASSERT_TRUE(markdown);
  EXPECT_EQ(markdown->status, 200);
  EXPECT_EQ(markdown->body.rfind("# ", 0), 0u) << markdown->body.substr(0, 80);
  // Without a token, nothing.
  httplib::Result anonymous = Get("/v1/kpis/jishu-bousai/data.csv", "");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

TEST_F(GatewayTest, TheDatasetGoesOutAndComesBackUnchanged) {
  httplib::Result exported = Get("/v1/dataset", operator_token_);
  ASSERT_TRUE(exported);
  ASSERT_EQ(exported->status, 200) << exported->body.substr(0, 200);
  dataset::v1::Dataset dataset;
  ASSERT_EQ(ParseInto(exported->body, &dataset), "");
  EXPECT_EQ(dataset.plan().projects_size(), seed_.plan().projects_size());
  EXPECT_EQ(dataset.kpi().kpis_size(), seed_.kpi().kpis_size());
  httplib::Result imported = Send("POST", "/v1/dataset:import", exported->body, operator_token_);
  ASSERT_TRUE(imported);
  ASSERT_EQ(imported->status, 200) << imported->body;
  google::protobuf::Struct answer;
  ASSERT_EQ(ParseInto(imported->body, &answer), "");
  const auto& kpis =
      answer.fields().at("kpi").struct_value().fields().at("kpis").list_value().values();
  ASSERT_EQ(kpis.size(), static_cast<size_t>(seed_.kpi().kpis_size()));
  for (const auto& kpi : kpis) {
    EXPECT_EQ(kpi.struct_value().fields().at("result").string_value(), "present");
  }
  // A viewer may not import.
  const std::string viewer = TokenFor("dataset-viewer", {"viewer"});
  httplib::Result refused = Send("POST", "/v1/dataset:import", exported->body, viewer);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403) << refused->body;
}

// Event ids of `events` as numbers.
std::vector<int64_t> Ids(const std::vector<SseEvent>& events) {
  std::vector<int64_t> ids;
  for (const SseEvent& event : events) {
    int64_t id = -1;
    EXPECT_TRUE(absl::SimpleAtoi(event.id, &id)) << event.id;
    ids.push_back(id);
  }
  return ids;
}

TEST_F(GatewayTest, AlertEventsResumeFromLastEventIdWithoutLossOrRepetition) {
  // The oracle: every event the service has, read directly.
  notification::testing::Subscriber direct(notification_stub_.get(), 0);
  ASSERT_TRUE(direct.WaitFor(3));
  const size_t seeded = direct.events().size();

  // A client reads the first few events, then goes away.
  auto first = std::make_unique<SseReader>(gateway_port_, "/v1/alerts:subscribe", operator_token_);
  ASSERT_TRUE(first->WaitFor(2));
  EXPECT_EQ(first->status(), 200);
  first->Stop();
  const std::vector<SseEvent> before = first->events();
  // Each event's data is the service's SubscribeResponse, its id the event's.
  notification::v1::SubscribeResponse parsed;
  ASSERT_EQ(ParseInto(before.back().data, &parsed), "") << before.back().data;
  EXPECT_EQ(absl::StrCat(parsed.event().id()), before.back().id);

  // While it is away, 宗谷's 自主防災組織率 reaches its target: its alerts
  // resolve and another fires.
  ASSERT_TRUE(
      notification::testing::RecordActual(kpi_stub_.get(), "jishu-bousai", "soya", 2019, 81).ok());
  ASSERT_TRUE(direct.WaitFor(seeded + 1));
  absl::SleepFor(absl::Milliseconds(300));  // the rest of the write's events
  std::vector<int64_t> want = Ids({});
  for (const auto& event : direct.events()) want.push_back(event.id());

  // Reconnecting with Last-Event-ID gives the rest, each once, in order.
  SseReader resumed(gateway_port_, "/v1/alerts:subscribe", operator_token_, before.back().id);
  ASSERT_TRUE(resumed.WaitFor(want.size() - before.size()));
  resumed.Stop();
  std::vector<int64_t> seen = Ids(before);
  const std::vector<int64_t> rest = Ids(resumed.events());
  seen.insert(seen.end(), rest.begin(), rest.end());
  EXPECT_EQ(seen, want);
  direct.Stop();
}

TEST_F(GatewayTest, TheChangeLogStreamResumesFromLastEventId) {
  int64_t sequence = 0;
  auto first = std::make_unique<SseReader>(gateway_port_, "/v1/changes:watch?kpi_id=kodomoen",
                                           operator_token_);
  ASSERT_TRUE(first->WaitFor(2));
  first->Stop();
  const std::vector<SseEvent> before = first->events();
  kpi::v1::WatchChangesResponse change;
  ASSERT_EQ(ParseInto(before.back().data, &change), "") << before.back().data;
  EXPECT_EQ(change.change().kpi_id(), "kodomoen");
  ASSERT_TRUE(
      notification::testing::RecordActual(kpi_stub_.get(), "kodomoen", "soya", 2019, 3, &sequence)
          .ok());
  // The oracle: kodomoen's changes up to the new one, read directly.
  std::vector<int64_t> want;
  {
    grpc::ClientContext context;
    kpi::v1::WatchChangesRequest request;
    request.set_kpi_id("kodomoen");
    auto stream = kpi_stub_->WatchChanges(&context, request);
    kpi::v1::WatchChangesResponse response;
    while (stream->Read(&response)) {
      want.push_back(response.change().sequence());
      if (response.change().sequence() == sequence) break;
    }
    context.TryCancel();
    (void)stream->Finish();
  }
  ASSERT_EQ(want.back(), sequence);
  SseReader resumed(gateway_port_, "/v1/changes:watch?kpi_id=kodomoen", operator_token_,
                    before.back().id);
  ASSERT_TRUE(resumed.WaitFor(want.size() - before.size()));
  resumed.Stop();
  std::vector<int64_t> seen = Ids(before);
  const std::vector<int64_t> rest = Ids(resumed.events());
  seen.insert(seen.end(), rest.begin(), rest.end());
  EXPECT_EQ(seen, want);

  // A stream the service refuses is answered with the refusal's status.
  SseReader refused(gateway_port_, "/v1/changes:watch", "");
  ASSERT_TRUE(notification::testing::Eventually([&] { return refused.status() != 0; }));
  EXPECT_EQ(refused.status(), 401);
}

TEST_F(GatewayTest, EventStreamsAreBoundedSoOtherRequestsKeepTheirThreads) {
  StartGateway({"--gateway_max_streams=1"});
  SseReader open(gateway_port_, "/v1/changes:watch", operator_token_);
  ASSERT_TRUE(open.WaitFor(1));
  SseReader refused(gateway_port_, "/v1/alerts:subscribe", operator_token_);
  ASSERT_TRUE(notification::testing::Eventually([&] { return refused.status() != 0; }));
  EXPECT_EQ(refused.status(), 429);
  // A plain request still has a thread.
  httplib::Result projects = Get("/v1/projects", operator_token_);
  ASSERT_TRUE(projects);
  EXPECT_EQ(projects->status, 200);
  // Once the first stream ends, a new one is taken.
  open.Stop();
  ASSERT_TRUE(notification::testing::Eventually([&] {
    SseReader again(gateway_port_, "/v1/alerts:subscribe", operator_token_);
    const bool taken = again.WaitFor(1, absl::Seconds(2));
    return taken;
  }));
}

TEST_F(GatewayTest, TheOpenApiDocumentListsEveryRouteAndHoldsTogether) {
  httplib::Result result = Get("/openapi.json", "");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200);
  google::protobuf::Struct document;
  ASSERT_EQ(ParseInto(result->body, &document), "");
  const auto& fields = document.fields();
  EXPECT_EQ(fields.at("openapi").string_value(), "3.0.3");
  const auto& paths = fields.at("paths").struct_value().fields();
  const auto& schemas =
      fields.at("components").struct_value().fields().at("schemas").struct_value().fields();
  const RouteTable table = *RouteTable::ForServices(SuiteServices());
  std::set<std::string> operation_ids;
  for (const Route& route : table.routes()) {
    SCOPED_TRACE(route.path_template);
    ASSERT_EQ(paths.count(route.path_template), 1u);
    std::string method = route.http_method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    const auto& operations = paths.at(route.path_template).struct_value().fields();
    ASSERT_EQ(operations.count(method), 1u);
    const auto& operation = operations.at(method).struct_value().fields();
    const std::string id = operation.at("operationId").string_value();
    EXPECT_EQ(id, absl::StrCat(route.method->service()->name(), ".", route.method->name()));
    EXPECT_TRUE(operation_ids.insert(id).second) << id << " twice";
    // Each {variable} of the path is a required path parameter.
    std::set<std::string> declared;
    for (const auto& parameter : operation.at("parameters").list_value().values()) {
      const auto& p = parameter.struct_value().fields();
      EXPECT_TRUE(p.count("schema"));
      const std::string in = p.at("in").string_value();
      EXPECT_TRUE(in == "path" || in == "query") << in;
      if (in == "path") {
        EXPECT_TRUE(p.at("required").bool_value());
        declared.insert(p.at("name").string_value());
      }
    }
    std::set<std::string> variables;
    for (const Segment& segment : route.segments) {
      if (!segment.field.empty()) variables.insert(segment.field);
    }
    EXPECT_EQ(declared, variables);
    EXPECT_TRUE(operation.at("responses").struct_value().fields().count("200"));
  }
  // Every $ref names a schema of the document.
  std::vector<const google::protobuf::Value*> pending = {&fields.at("paths"),
                                                         &fields.at("components")};
  int refs = 0;
  while (!pending.empty()) {
    const google::protobuf::Value* value = pending.back();
    pending.pop_back();
    if (value->has_list_value()) {
      for (const auto& item : value->list_value().values()) pending.push_back(&item);
    } else if (value->has_struct_value()) {
      for (const auto& [key, item] : value->struct_value().fields()) {
        if (key == "$ref") {
          ++refs;
          const std::string prefix = "#/components/schemas/";
          ASSERT_EQ(item.string_value().rfind(prefix, 0), 0u) << item.string_value();
          EXPECT_EQ(schemas.count(item.string_value().substr(prefix.size())), 1u)
              << item.string_value();
        } else {
          pending.push_back(&item);
        }
      }
    }
  }
  EXPECT_GT(refs, static_cast<int>(table.routes().size()));
}

}  // namespace
}  // namespace suishin::gateway::testing
