#include "tests/services/notification/suite_fixture.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/channel.h"
#include "common/proto_util.h"
#include "exchange/dataset_rows.h"

namespace suishin::notification::testing {

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

AlertKey KeyOf(const v1::Alert& alert) {
  return {std::string(absl::StripPrefix(v1::RuleKind_Name(alert.rule()), "RULE_KIND_")),
          alert.kpi_id(), alert.region_id(),
          std::string(absl::StripPrefix(v1::Severity_Name(alert.severity()), "SEVERITY_"))};
}

std::set<AlertKey> SeedAlertKeys() {
  return {
      {"LAGGING", "jishu-bousai", "dohoku", "WARNING"},
      {"LAGGING", "jishu-bousai", "kamikawa", "WARNING"},
      {"LAGGING", "jishu-bousai", "rumoi", "CRITICAL"},
      {"DECLINING", "jishu-bousai", "rumoi", "WARNING"},
      {"LAGGING", "jishu-bousai", "soya", "CRITICAL"},
      {"ACHIEVED", "kodomoen", "dohoku", "INFO"},
      {"ACHIEVED", "kodomoen", "kamikawa", "INFO"},
      {"ACHIEVED", "kodomoen", "rumoi", "INFO"},
      {"LAGGING", "kodomoen", "soya", "CRITICAL"},
      {"STAGNANT", "kodomoen", "soya", "WARNING"},
      {"MISSING", "kodomoen", "kamikawa", "WARNING"},
      {"MISSING", "kodomoen", "rumoi", "WARNING"},
      {"MISSING", "kodomoen", "soya", "WARNING"},
      {"MISSING", "jishu-bousai", "dohoku", "WARNING"},
      {"MISSING", "jishu-bousai", "kamikawa", "WARNING"},
      {"MISSING", "jishu-bousai", "rumoi", "WARNING"},
      {"MISSING", "jishu-bousai", "soya", "WARNING"},
  };
}

bool Eventually(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

grpc::Status RecordActual(kpi::v1::KpiService::Stub* stub, const std::string& kpi_id,
                          const std::string& region_id, int fiscal_year, double value,
                          int64_t* sequence) {
  kpi::v1::RecordActualRequest request;
  request.mutable_actual()->set_kpi_id(kpi_id);
  request.mutable_actual()->set_region_id(region_id);
  request.mutable_actual()->mutable_fiscal_year()->set_year(fiscal_year);
  request.mutable_actual()->set_value(value);
  request.mutable_actual()->set_reported_by("acceptance test");
  kpi::v1::RecordActualResponse response;
  grpc::Status status = stub->RecordActual(Context().get(), request, &response);
  if (sequence != nullptr) *sequence = response.sequence();
  return status;
}

Subscriber::Subscriber(v1::NotificationService::Stub* stub, int64_t after_event_id,
                       v1::AlertFilter filter) {
  v1::SubscribeRequest request;
  request.set_after_event_id(after_event_id);
  *request.mutable_filter() = std::move(filter);
  context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  stream_ = stub->Subscribe(&context_, request);
  thread_ = std::thread([this] {
    v1::SubscribeResponse response;
    while (stream_->Read(&response)) {
      absl::MutexLock lock(&mu_);
      events_.push_back(response.event());
    }
    absl::MutexLock lock(&mu_);
    ended_ = true;
  });
}

Subscriber::~Subscriber() { Stop(); }

void Subscriber::Stop() {
  if (!thread_.joinable()) return;
  context_.TryCancel();
  thread_.join();
}

bool Subscriber::WaitFor(size_t n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return events_.size() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

bool Subscriber::WaitUntil(std::function<bool(const std::vector<v1::AlertEvent>&)> done,
                           absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto holds = [this, &done]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done(events_); };
  return mu_.AwaitWithTimeout(absl::Condition(&holds), timeout);
}

bool Subscriber::WaitForEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&ended_), timeout);
}

std::vector<v1::AlertEvent> Subscriber::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

void SuiteTest::SetUp() {
  auto dir = suishin::testing::TempDir::Create("suite");
  ASSERT_TRUE(dir.ok()) << dir.status();
  dir_ = std::make_unique<suishin::testing::TempDir>(*std::move(dir));
  auto redis = suishin::testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  redis_ = *std::move(redis);
  ASSERT_TRUE(
      ReadJsonFile(std::string(SUISHIN_SOURCE_DIR) + "/data/seed/dohoku-2019.json", &seed_).ok());
  // The suite runs with TLS, as an installation does: the services among
  // themselves with mutual TLS, this process as a client trusting their CA.
  absl::StatusOr<suishin::testing::TestPki> pki =
      suishin::testing::TestPki::Make(dir_->File("pki"));
  ASSERT_TRUE(pki.ok()) << pki.status();
  pki_ = *std::move(pki);
  SetProcessTls(pki_.Tls());
  // And calls as a person would, with a token (every role, all of Hokkaido).
  SetProcessToken(pki_.Token("suite-test", {"viewer", "officer", "planner", "operator"},
                             {"hokkaido"}, absl::Hours(12)));
  plan_address_ = StartBinary(
      plan_, "plan-service", {"/services/plan/plan-service", "--plan_db=" + dir_->File("plan.db")});
  plan_stub_ = plan::v1::PlanService::NewStub(MakeChannel(plan_address_));
  StartKpi();
}

void SuiteTest::TearDown() {
  SetProcessTls(TlsSettings());
  SetProcessToken("");
  for (auto* child : {&notification_, &kpi_, &plan_}) {
    if (child->has_value() && (*child)->running()) (void)(*child)->Terminate(absl::Seconds(10));
  }
}

std::string SuiteTest::StartBinary(std::optional<suishin::testing::ChildProcess>& slot,
                                   const std::string& name, std::vector<std::string> argv,
                                   std::string* log_path) {
  const std::string port_file = dir_->File(absl::StrCat(name, ".port"));
  std::remove(port_file.c_str());
  argv[0] = std::string(SUISHIN_BINARY_DIR) + argv[0];
  argv.push_back("--port_file=" + port_file);
  argv.push_back("--shutdown_grace_ms=500");
  for (const std::string& flag : pki_.Flags()) argv.push_back(flag);
  const std::string listen_flag = name == "plan-service"  ? "--plan_listen"
                                  : name == "kpi-service" ? "--kpi_listen"
                                                          : "--notification_listen";
  argv.push_back(listen_flag + "=127.0.0.1:0");
  const std::string log = dir_->File(absl::StrCat(name, ".", ++starts_, ".log"));
  if (log_path != nullptr) *log_path = log;
  auto child = suishin::testing::ChildProcess::Start(argv, {}, log, log);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return "";
  slot.emplace(*std::move(child));
  auto text = slot->WaitForFile(port_file, absl::Seconds(20));
  EXPECT_TRUE(text.ok()) << name << ": " << text.status();
  int port = 0;
  if (text.ok()) {
    EXPECT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &port));
  }
  return absl::StrCat("127.0.0.1:", port);
}

void SuiteTest::StartKpi() {
  kpi_address_ = StartKpiInto(kpi_);
  kpi_stub_ = kpi::v1::KpiService::NewStub(MakeChannel(kpi_address_));
}

std::string SuiteTest::StartKpiInto(std::optional<suishin::testing::ChildProcess>& slot) {
  std::vector<std::string> argv = {"/services/kpi/kpi-service", "--kpi_db=" + dir_->File("kpi.db"),
                                   "--plan_address=" + plan_address_,
                                   "--redis_url=" + redis_->url()};
  argv.insert(argv.end(), kpi_flags_.begin(), kpi_flags_.end());
  return StartBinary(slot, "kpi-service", argv);
}

void SuiteTest::StopKpi() { ASSERT_TRUE(kpi_->Terminate(absl::Seconds(10)).ok()); }

void SuiteTest::StartNotification() {
  notification_address_ = StartNotificationInto(notification_);
  notification_stub_ = v1::NotificationService::NewStub(MakeChannel(notification_address_));
}

std::string SuiteTest::StartNotificationInto(std::optional<suishin::testing::ChildProcess>& slot,
                                             std::string* log) {
  std::vector<std::string> argv = {
      "/services/notification/notification-service",
      "--notification_db=" + dir_->File("notification.db"), "--kpi_address=" + kpi_address_,
      "--redis_url=" + redis_->url(), "--now=2026-11-29T12:00:00+09:00",
      "--webhook_retry_delays=50ms,100ms,200ms,400ms", "--webhook_timeout_ms=2000",
      // Circuits open for as short a time as
      // the retries wait.
      "--webhook_circuit_delay=20ms", "--webhook_circuit_max_delay=100ms",
      // The tests' receivers listen on the loopback address.
      "--webhook_allow_targets=127.0.0.1,::1"};
  argv.insert(argv.end(), notification_flags_.begin(), notification_flags_.end());
  return StartBinary(slot, "notification-service", argv, log);
}

void SuiteTest::KillNotification() {
  ASSERT_EQ(::kill(notification_->pid(), SIGKILL), 0);
  ASSERT_TRUE(notification_->Wait(absl::Seconds(10)).ok());
}

void SuiteTest::LoadSeed() {
  plan::v1::ImportPlanRequest plan;
  *plan.mutable_dataset() = seed_.plan();
  plan::v1::ImportPlanResponse imported;
  ASSERT_TRUE(plan_stub_->ImportPlan(Context().get(), plan, &imported).ok());
  for (const kpi::v1::KpiRecord& record : seed_.kpi().kpis()) {
    kpi::v1::CreateKpiRequest create;
    *create.mutable_kpi() = record.kpi();
    kpi::v1::CreateKpiResponse created;
    grpc::Status status = kpi_stub_->CreateKpi(Context().get(), create, &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
    auto context = Context();
    kpi::v1::ImportActualsResponse response;
    auto writer = kpi_stub_->ImportActuals(context.get(), &response);
    kpi::v1::ImportActualsRequest batch;
    for (kpi::v1::ImportRow& row : exchange::RowsOf(record)) *batch.add_rows() = std::move(row);
    ASSERT_TRUE(writer->Write(batch));
    ASSERT_TRUE(writer->WritesDone());
    status = writer->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
}

std::vector<v1::Alert> SuiteTest::Alerts(bool include_resolved) {
  v1::ListAlertsRequest request;
  request.set_include_resolved(include_resolved);
  request.set_page_size(1000);
  v1::ListAlertsResponse response;
  grpc::Status status = notification_stub_->ListAlerts(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return {response.alerts().begin(), response.alerts().end()};
}

}  // namespace suishin::notification::testing
