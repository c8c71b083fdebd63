// The typed clients against an in-process kpi-service stand-in on port 0:
// paging to the end, the caller's metadata on every call, and the
// ImportActuals streamer's answer and refusal.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "clients/import_actuals.h"
#include "clients/services.h"

namespace suishin::clients {
namespace {

// Lists three KPIs one per page and takes rows, remembering the
// authorization each call carried; refuses rows whose value is negative.
class KpiStandIn final : public kpi::v1::KpiService::Service {
 public:
  grpc::Status ListKpis(grpc::ServerContext* context, const kpi::v1::ListKpisRequest* request,
                        kpi::v1::ListKpisResponse* response) override {
    Remember(*context);
    const int index = request->page_token().empty() ? 0 : std::stoi(request->page_token());
    response->add_kpis()->set_id("kpi-" + std::to_string(index));
    if (index < 2) response->set_next_page_token(std::to_string(index + 1));
    return grpc::Status::OK;
  }

  grpc::Status ImportActuals(grpc::ServerContext* context,
                             grpc::ServerReader<kpi::v1::ImportActualsRequest>* reader,
                             kpi::v1::ImportActualsResponse* response) override {
    Remember(*context);
    kpi::v1::ImportActualsRequest request;
    kpi::v1::ImportActualsResponse refused;
    int64_t rows = 0;
    while (reader->Read(&request)) {
      for (const kpi::v1::ImportRow& row : request.rows()) {
        ++rows;
        if (row.value() < 0) {
          kpi::v1::RowError* error = refused.add_errors();
          error->set_line(row.line());
          error->set_field("value");
          error->set_message("value: is negative");
        }
      }
    }
    if (!refused.errors().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "rows refused",
                          refused.SerializeAsString());
    }
    response->set_rows_applied(rows);
    return grpc::Status::OK;
  }

  std::vector<std::string> authorizations() {
    absl::MutexLock lock(&mu_);
    return authorizations_;
  }

 private:
  void Remember(const grpc::ServerContext& context) {
    const auto found = context.client_metadata().find("authorization");
    absl::MutexLock lock(&mu_);
    authorizations_.push_back(found == context.client_metadata().end()
                                  ? ""
                                  : std::string(found->second.data(), found->second.size()));
  }

  absl::Mutex mu_;
  std::vector<std::string> authorizations_ ABSL_GUARDED_BY(mu_);
};

class ClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stubs_ = std::make_unique<ServiceStubs>(nullptr,
                                            grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                                grpc::InsecureChannelCredentials()),
                                            nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  Services WithToken() const {
    return stubs_->For(absl::Seconds(5), {{"authorization", "Bearer token-1"}});
  }

  KpiStandIn service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<ServiceStubs> stubs_;
};

TEST_F(ClientsTest, StubsForMissingChannelsAreNull) {
  const Services services = WithToken();
  EXPECT_EQ(services.plan, nullptr);
  EXPECT_EQ(services.notification, nullptr);
  EXPECT_NE(services.kpi, nullptr);
  EXPECT_EQ(services.timeout, absl::Seconds(5));
}

TEST_F(ClientsTest, AllKpisFollowsEveryPageWithTheCallersMetadata) {
  absl::StatusOr<std::vector<kpi::v1::Kpi>> kpis = AllKpis(WithToken());
  ASSERT_TRUE(kpis.ok()) << kpis.status();
  ASSERT_EQ(kpis->size(), 3u);
  EXPECT_EQ((*kpis)[2].id(), "kpi-2");
  EXPECT_EQ(service_.authorizations(),
            std::vector<std::string>(3, "Bearer token-1"));  // one per page
}

TEST_F(ClientsTest, ImportActualsSendsEveryRowInMessagesAndReportsProgress) {
  std::vector<kpi::v1::ImportRow> rows(kRowsPerMessage + 2);
  for (size_t i = 0; i < rows.size(); ++i) rows[i].set_line(static_cast<int64_t>(i + 1));
  std::vector<int64_t> sent;
  kpi::v1::ImportActualsResponse refused;
  absl::StatusOr<kpi::v1::ImportActualsResponse> answer =
      ImportActuals(WithToken(), rows, &refused, [&](int64_t n) { sent.push_back(n); });
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->rows_applied(), static_cast<int64_t>(rows.size()));
  EXPECT_EQ(sent, (std::vector<int64_t>{static_cast<int64_t>(kRowsPerMessage),
                                        static_cast<int64_t>(rows.size())}));
  EXPECT_TRUE(refused.errors().empty());
  EXPECT_EQ(service_.authorizations(), std::vector<std::string>{"Bearer token-1"});
}

TEST_F(ClientsTest, ImportActualsGivesTheRowErrorsOfARefusal) {
  std::vector<kpi::v1::ImportRow> rows(3);
  for (size_t i = 0; i < rows.size(); ++i) rows[i].set_line(static_cast<int64_t>(i + 1));
  rows[1].set_value(-1);
  kpi::v1::ImportActualsResponse refused;
  absl::StatusOr<kpi::v1::ImportActualsResponse> answer =
      ImportActuals(WithToken(), rows, &refused);
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(refused.errors_size(), 1);
  EXPECT_EQ(refused.errors(0).line(), 2);
  EXPECT_EQ(refused.errors(0).field(), "value");
}

}  // namespace
}  // namespace suishin::clients
