// The gateway's routing table and request building, without a server: how a
// path finds its RPC and how the query, the path and the body become the
// request message.
#include "services/gateway/routes.h"

#include <gtest/gtest.h>

#include "services/gateway/gateway_server.h"
#include "services/gateway/http_status.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/notification/v1/notification.pb.h"
#include "suishin/plan/v1/plan.pb.h"

namespace suishin::gateway {
namespace {

class RoutesTest : public ::testing::Test {
 protected:
  // The request `method path?query` with `body` stands for, or the refusal.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Build(
      const std::string& method, const std::string& path,
      std::vector<std::pair<std::string, std::string>> query = {}, const std::string& body = "") {
    const RouteMatch match = table_.Match(method, path);
    if (match.route == nullptr) return absl::NotFoundError(path);
    return BuildRequest(match, query, body);
  }

  RouteTable table_ = *RouteTable::ForServices(SuiteServices());
};

TEST_F(RoutesTest, APathFindsItsRpcAndBindsItsVariables) {
  RouteMatch match = table_.Match("GET", "/v1/kpis/jishu-bousai/aggregates/dohoku");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->grpc_path, "/suishin.kpi.v1.KpiService/GetAggregate");
  EXPECT_EQ(match.bindings, (std::vector<std::pair<std::string, std::string>>{
                                {"kpi_id", "jishu-bousai"}, {"area_id", "dohoku"}}));
  // A verb after the last variable, and after a literal.
  match = table_.Match("POST", "/v1/alerts/LAGGING:jishu-bousai:soya:acknowledge");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->method->name(), "AcknowledgeAlert");
  EXPECT_EQ(match.bindings.front().second, "LAGGING:jishu-bousai:soya");
  match = table_.Match("GET", "/v1/alerts:subscribe");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->method->name(), "Subscribe");
  EXPECT_EQ(table_.Match("GET", "/v1/alerts").route->method->name(), "ListAlerts");
  // A path served for another method, and one not served at all.
  match = table_.Match("PUT", "/v1/kpis");
  EXPECT_EQ(match.route, nullptr);
  EXPECT_TRUE(match.method_not_allowed);
  match = table_.Match("GET", "/v1/kpis/k1/nothing");
  EXPECT_EQ(match.route, nullptr);
  EXPECT_FALSE(match.method_not_allowed);
  EXPECT_EQ(table_.Match("GET", "/v1/kpis//progress").route, nullptr) << "an empty variable";
}

TEST_F(RoutesTest, QueryPathAndBodyMakeTheRequest) {
  auto request =
      Build("GET", "/v1/kpis/jishu-bousai/progress", {{"region_id", "soya"}, {"as_of", "2019"}});
  ASSERT_TRUE(request.ok()) << request.status();
  kpi::v1::GetProgressRequest want;
  want.set_kpi_id("jishu-bousai");
  want.set_region_id("soya");
  want.mutable_as_of()->set_year(2019);
  EXPECT_EQ((*request)->SerializeAsString(), want.SerializeAsString());

  // JSON names, dotted paths, enums by name, repeated fields by repetition.
  request = Build("GET", "/v1/alerts",
                  {{"filter.regionIds", "soya"},
                   {"filter.region_ids", "rumoi"},
                   {"filter.severities", "SEVERITY_CRITICAL"},
                   {"include_resolved", "true"},
                   {"page_size", "5"}});
  ASSERT_TRUE(request.ok()) << request.status();
  notification::v1::ListAlertsRequest alerts;
  ASSERT_TRUE(alerts.ParseFromString((*request)->SerializeAsString()));
  EXPECT_EQ(alerts.filter().region_ids_size(), 2);
  EXPECT_EQ(alerts.filter().severities(0), notification::v1::SEVERITY_CRITICAL);
  EXPECT_TRUE(alerts.include_resolved());
  EXPECT_EQ(alerts.page_size(), 5);

  // The body is the named field, the path fills what it binds.
  request = Build("POST", "/v1/kpis/jishu-bousai/actuals", {},
                  R"({"actual": {"regionId": "soya", "fiscalYear": {"year": 2020},
                      "value": 41.5}, "reason": "訂正"})");
  ASSERT_TRUE(request.ok()) << request.status();
  kpi::v1::RecordActualRequest actual;
  ASSERT_TRUE(actual.ParseFromString((*request)->SerializeAsString()));
  EXPECT_EQ(actual.actual().kpi_id(), "jishu-bousai");
  EXPECT_EQ(actual.actual().value(), 41.5);
  EXPECT_EQ(actual.reason(), "訂正");
  request = Build("POST", "/v1/projects", {}, R"({"id": "p", "title": "題"})");
  ASSERT_TRUE(request.ok()) << request.status();
  plan::v1::CreateProjectRequest project;
  ASSERT_TRUE(project.ParseFromString((*request)->SerializeAsString()));
  EXPECT_EQ(project.project().title(), "題");
  // A Timestamp from its JSON text.
  request = Build("POST", "/v1/webhooks/w1:rotateSecret", {{"overlap", "90s"}});
  ASSERT_TRUE(request.ok()) << request.status();
  notification::v1::RotateWebhookSecretRequest rotate;
  ASSERT_TRUE(rotate.ParseFromString((*request)->SerializeAsString()));
  EXPECT_EQ(rotate.overlap().seconds(), 90);
}

TEST_F(RoutesTest, WhatDoesNotFitIsRefusedNamingTheParameterAndValue) {
  const auto message_of = [](const auto& request) {
    return std::string(request.status().message());
  };
  auto request = Build("GET", "/v1/kpis/k/progress", {{"as_of", "R2"}});
  ASSERT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(message_of(request), "query parameter as_of: \"R2\" is not a 32-bit integer");
  request = Build("GET", "/v1/alerts", {{"filter.severities", "LOUD"}});
  EXPECT_EQ(message_of(request),
            "query parameter filter.severities: \"LOUD\" is no value of "
            "suishin.notification.v1.Severity");
  request = Build("GET", "/v1/kpis", {{"colour", "red"}});
  EXPECT_EQ(message_of(request),
            "query parameter colour: suishin.kpi.v1.ListKpisRequest has no field colour");
  request = Build("GET", "/v1/kpis", {}, R"({"projectId": "p"})");
  EXPECT_EQ(message_of(request), "GET /v1/kpis takes no body; send its fields in the query string");
  request = Build("POST", "/v1/kpis/k/actuals", {}, R"({"actual": {"value": "many"}})");
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(message_of(request).rfind("body: ", 0), 0u) << message_of(request);
  request = Build("POST", "/v1/kpis/k/actuals", {}, R"({"actual": {"kpiId": "other"}})");
  EXPECT_EQ(message_of(request), "actual.kpi_id: the path says \"k\", the request \"other\"");
  request = Build("DELETE", "/v1/initiatives/i1", {{"version", "-x"}});
  EXPECT_EQ(message_of(request), "query parameter version: \"-x\" is not an integer");
}

TEST(HttpStatusTest, EachCodeHasTheUsualHttpStatus) {
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::OK), 200);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::INVALID_ARGUMENT), 400);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::FAILED_PRECONDITION), 400);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::UNAUTHENTICATED), 401);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::PERMISSION_DENIED), 403);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::NOT_FOUND), 404);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::ALREADY_EXISTS), 409);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::UNAVAILABLE), 503);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::DEADLINE_EXCEEDED), 504);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::INTERNAL), 500);
  EXPECT_EQ(ErrorJson(grpc::StatusCode::NOT_FOUND, "kpi_id: \"k9\" 無し"),
            R"({"code":5,"status":"NOT_FOUND","message":"kpi_id: \"k9\" 無し"})");
}

}  // namespace
}  // namespace suishin::gateway
