// kpi-service on hostile or slow input, over real gRPC with a real plan-
// service and Redis: every bound is refused naming its flag with nothing
// stored, a quiet import never holds up another client's write, a filtered
// stream is not woken by other KPIs' writes, and what a client may not set is
// never stored.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/channel.h"
#include "common/limits.h"
#include "tests/services/kpi/kpi_fixture.h"
#include "tests/support/unknown_fields.h"

namespace suishin::kpi {
namespace {

using testing::ActualRequest;
using testing::Context;
using testing::KpiTest;
using testing::Row;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::unique_ptr<grpc::ClientContext> ContextFor(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  return context;
}

class KpiLimitsTest : public KpiTest {
 protected:
  void SetUp() override {
    KpiTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(LoadSeedKpis());
  }

  // Every change of `kpi`, page after page.
  std::vector<v1::Change> History(const std::string& kpi, int page_size = 1000) {
    v1::GetHistoryRequest request;
    request.set_kpi_id(kpi);
    request.set_page_size(page_size);
    std::vector<v1::Change> changes;
    do {
      v1::GetHistoryResponse response;
      grpc::Status status = stub_->GetHistory(Context().get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const v1::Change& change : response.changes()) changes.push_back(change);
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return changes;
  }

  // One import of `messages`, finished.
  grpc::Status Import(const std::vector<std::vector<v1::ImportRow>>& messages,
                      v1::ImportActualsResponse* response) {
    auto context = Context();
    auto writer = stub_->ImportActuals(context.get(), response);
    for (const auto& rows : messages) {
      v1::ImportActualsRequest request;
      for (const v1::ImportRow& row : rows) *request.add_rows() = row;
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }
};

// The review's case: an import that sends one message and goes quiet blocked
// every other writer. Now the quiet import holds nothing: another client's
// RecordActual answers at once, and the import is ended after its idle limit
// with nothing stored.
TEST_F(KpiLimitsTest, AQuietImportHoldsUpNobodyAndIsEndedWithNothingStored) {
  KpiServiceImpl::Options options;
  options.import_idle_timeout = absl::Seconds(1);
  ASSERT_NO_FATAL_FAILURE(StartKpiService(true, options));
  const size_t before = History("kodomoen").size();

  auto import_context = ContextFor(absl::Seconds(30));
  v1::ImportActualsResponse imported;
  auto writer = stub_->ImportActuals(import_context.get(), &imported);
  v1::ImportActualsRequest one;
  *one.add_rows() = Row(1, "kodomoen", "kamikawa", 2019, 45);
  ASSERT_TRUE(writer->Write(one));

  // Meanwhile, from another client: answered well within its deadline.
  auto other = v1::KpiService::NewStub(MakeChannel(kpi_->address()));
  for (int i = 0; i < 3; ++i) {
    v1::RecordActualResponse recorded;
    const absl::Time start = absl::Now();
    grpc::Status status =
        other->RecordActual(ContextFor(absl::Milliseconds(900)).get(),
                            ActualRequest("kodomoen", "rumoi", 2019, 5 + i), &recorded);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(900));
  }

  // The quiet import is ended by the service, naming the limit.
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "--import_idle_timeout_s"))
      << status.error_message();
  const std::vector<v1::Change> after = History("kodomoen");
  ASSERT_EQ(after.size(), before + 3);  // the three RecordActuals, nothing of the import
  for (size_t i = before; i < after.size(); ++i) EXPECT_EQ(after[i].region_id(), "rumoi");
}

TEST_F(KpiLimitsTest, AnImportPastItsRowLimitsIsRefusedNamingTheLimit) {
  KpiServiceImpl::Options options;
  options.import.max_rows = 5;
  options.import.max_rows_per_message = 3;
  ASSERT_NO_FATAL_FAILURE(StartKpiService(true, options));
  const size_t before = History("kodomoen").size();

  v1::ImportActualsResponse response;
  grpc::Status status =
      Import({{Row(1, "kodomoen", "kamikawa", 2019, 45), Row(2, "kodomoen", "rumoi", 2019, 5),
               Row(3, "kodomoen", "soya", 2019, 4), Row(4, "kodomoen", "kamikawa", 2020, 46)}},
             &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "--import_max_rows_per_message"))
      << status.error_message();

  std::vector<std::vector<v1::ImportRow>> messages;
  for (int year = 2019; year <= 2020; ++year) {
    messages.push_back({Row(year * 10 + 1, "kodomoen", "kamikawa", year, 45),
                        Row(year * 10 + 2, "kodomoen", "rumoi", year, 5),
                        Row(year * 10 + 3, "kodomoen", "soya", year, 4)});
  }
  status = Import(messages, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "--import_max_rows)")) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "6 is over the limit of 5"))
      << status.error_message();
  EXPECT_EQ(History("kodomoen").size(), before);

  // Within the limits, the same rows go in.
  messages.pop_back();
  status = Import(messages, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.rows_applied(), 3);
}

TEST_F(KpiLimitsTest, MoreConcurrentImportsThanAllowedAreRefused) {
  KpiServiceImpl::Options options;
  options.max_concurrent_imports = 1;
  ASSERT_NO_FATAL_FAILURE(StartKpiService(true, options));
  auto first_context = ContextFor(absl::Seconds(30));
  v1::ImportActualsResponse first_response;
  auto first = stub_->ImportActuals(first_context.get(), &first_response);
  v1::ImportActualsRequest one;
  *one.add_rows() = Row(1, "kodomoen", "kamikawa", 2019, 45);
  ASSERT_TRUE(first->Write(one));
  first->WaitForInitialMetadata();  // accepted: its slot is held

  v1::ImportActualsResponse second_response;
  auto second_context = ContextFor(absl::Seconds(5));
  auto second = stub_->ImportActuals(second_context.get(), &second_response);
  second->WritesDone();
  const grpc::Status refused = second->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_TRUE(Contains(refused.error_message(), "--import_max_concurrent"))
      << refused.error_message();

  // The first goes on and is stored; then the slot is free again.
  ASSERT_TRUE(first->WritesDone());
  const grpc::Status done = first->Finish();
  EXPECT_TRUE(done.ok()) << done.error_message();
  EXPECT_EQ(first_response.rows_applied(), 1);
  v1::ImportActualsResponse third_response;
  EXPECT_TRUE(Import({{Row(1, "kodomoen", "rumoi", 2019, 5)}}, &third_response).ok());
}

// 10,000 bad rows: the answer carries the first ones and the total, small
// enough for a client with gRPC's default limits to read.
TEST_F(KpiLimitsTest, TenThousandBadRowsComeBackAsTheFirstErrorsAndTheirCount) {
  const size_t before = History("kodomoen").size();
  std::vector<std::vector<v1::ImportRow>> messages(10);
  for (int i = 0; i < 10000; ++i) {
    messages[i / 1000].push_back(Row(i + 1, "kodomoen", "kamikawa", 2019, -1 - i));
  }
  v1::ImportActualsResponse response;
  const grpc::Status status = Import(messages, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "10000 of 10000 rows refused"))
      << status.error_message();
  v1::ImportActualsResponse details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.error_count(), 10000);
  ASSERT_EQ(details.errors_size(), 20);  // --import_max_row_errors
  EXPECT_EQ(details.errors(0).line(), 1);
  EXPECT_EQ(details.errors(19).line(), 20);
  EXPECT_EQ(details.errors(0).field(), "value");
  EXPECT_LT(status.error_details().size(), 8000u);
  EXPECT_EQ(History("kodomoen").size(), before);
}

TEST_F(KpiLimitsTest, AKpiPastItsTextOrListLimitsIsRefusedNamingTheFlag) {
  v1::CreateKpiRequest request;
  *request.mutable_kpi() = seed_.kpi().kpis(0).kpi();
  request.mutable_kpi()->set_id("too-long");
  std::string name;
  for (int i = 0; i < 201; ++i) name += "長";
  request.mutable_kpi()->set_name(name);
  v1::CreateKpiResponse response;
  grpc::Status status = stub_->CreateKpi(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(status.error_message(), "kpi.name")) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "--max_name_chars")) << status.error_message();

  request.mutable_kpi()->set_name("地域数");
  for (int i = 0; i < 1001; ++i) request.mutable_kpi()->add_region_ids(absl::StrCat("r", i));
  status = stub_->CreateKpi(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(status.error_message(), "--max_list_items")) << status.error_message();

  v1::GetKpiResponse got;
  EXPECT_EQ(stub_
                ->GetKpi(
                    Context().get(),
                    [] {
                      v1::GetKpiRequest get;
                      get.set_id("too-long");
                      return get;
                    }(),
                    &got)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// A client sent a 4 MB KPI name in a field this version does not know, and
// output-only fields: none of it is stored or sent back.
TEST_F(KpiLimitsTest, OutputOnlyAndUnknownFieldsAreNeverStored) {
  v1::CreateKpiRequest request;
  *request.mutable_kpi() = seed_.kpi().kpis(0).kpi();
  request.mutable_kpi()->set_id("with-extras");
  request.mutable_kpi()->set_version(42);
  request.mutable_kpi()->mutable_create_time()->set_seconds(1);
  (*request.mutable_kpi()->mutable_region_names())["elsewhere"] = std::string(100000, 'x');
  // Field 99 of the KPI: unknown to this version, 1 MB long.
  *request.mutable_kpi() = ::suishin::testing::WithUnknownField(request.kpi(), 1 << 20);
  ASSERT_GT(request.ByteSizeLong(), 1u << 20);

  v1::CreateKpiResponse created;
  grpc::Status status = stub_->CreateKpi(Context().get(), request, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::GetKpiRequest get;
  get.set_id("with-extras");
  v1::GetKpiResponse got;
  ASSERT_TRUE(stub_->GetKpi(Context().get(), get, &got).ok());
  EXPECT_EQ(got.kpi().version(), 1);
  EXPECT_NE(got.kpi().create_time().seconds(), 1);
  EXPECT_EQ(got.kpi().region_names().count("elsewhere"), 0u);
  EXPECT_EQ(got.kpi().region_names().at("kamikawa"), "上川");
  EXPECT_FALSE(::suishin::testing::HasUnknownFields(got));
  EXPECT_LT(got.ByteSizeLong(), 10000u);
}

TEST_F(KpiLimitsTest, AWriteRefusedAgainstTheStoreFailsOnlyItself) {
  // 32 writes in flight at once; one of them is before its region's
  // baseline year, which only the store can tell.
  std::atomic<int> ok{0};
  grpc::Status refused;
  absl::BlockingCounter done(32);
  std::vector<std::thread> threads;
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&, i] {
      const int year = i == 16 ? 2010 : 2019;  // 上川's baseline is H26 (2014)
      const std::string region = i % 2 == 0 ? "kamikawa" : "rumoi";
      v1::RecordActualResponse response;
      grpc::Status status = stub_->RecordActual(
          Context().get(), ActualRequest("kodomoen", region, year, 40 + i), &response);
      if (status.ok()) {
        ++ok;
      } else {
        refused = status;
      }
      done.DecrementCount();
    });
  }
  done.Wait();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 31);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
  EXPECT_TRUE(Contains(refused.error_message(), "baseline")) << refused.error_message();
  EXPECT_GE(kpi_->writer_stats().writes, 31);
}

// The write path remembers KPIs' baselines between writes; a new baseline
// must be what the very next write is checked against.
TEST_F(KpiLimitsTest, AWriteAfterANewBaselineIsCheckedAgainstIt) {
  v1::RecordActualResponse recorded;
  ASSERT_TRUE(stub_
                  ->RecordActual(Context().get(), ActualRequest("kodomoen", "kamikawa", 2016, 17),
                                 &recorded)
                  .ok());  // after H26, the baseline year: fine, and remembered
  v1::SetBaselineRequest baseline;
  baseline.set_kpi_id("kodomoen");
  baseline.mutable_baseline()->set_region_id("kamikawa");
  baseline.mutable_baseline()->mutable_fiscal_year()->set_year(2017);
  baseline.mutable_baseline()->set_value(20);
  v1::SetBaselineResponse set;
  ASSERT_TRUE(stub_->SetBaseline(Context().get(), baseline, &set).ok());
  const grpc::Status refused = stub_->RecordActual(
      Context().get(), ActualRequest("kodomoen", "kamikawa", 2016, 18), &recorded);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
  EXPECT_TRUE(Contains(refused.error_message(), "before the baseline year H29"))
      << refused.error_message();
}

TEST_F(KpiLimitsTest, HistoryComesInPagesThatTogetherHoldEveryChange) {
  std::vector<std::vector<v1::ImportRow>> messages(1);
  int line = 0;
  for (int year = 2015; year <= 2019; ++year) {
    for (const char* region : {"kamikawa", "rumoi", "soya"}) {
      messages[0].push_back(Row(++line, "kodomoen", region, year, 50 + year % 7));
    }
  }
  v1::ImportActualsResponse imported;
  ASSERT_TRUE(Import(messages, &imported).ok());
  const std::vector<v1::Change> all = History("kodomoen", 1000);
  ASSERT_GT(all.size(), 20u);
  const std::vector<v1::Change> paged = History("kodomoen", 7);
  ASSERT_EQ(paged.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(paged[i].sequence(), all[i].sequence());
  for (size_t i = 1; i < paged.size(); ++i) {
    EXPECT_LT(paged[i - 1].sequence(), paged[i].sequence());
  }

  v1::GetHistoryRequest request;
  request.set_kpi_id("kodomoen");
  request.set_page_size(1001);
  v1::GetHistoryResponse response;
  grpc::Status status = stub_->GetHistory(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(status.error_message(), "page_size")) << status.error_message();
}

// A WatchChanges stream of one KPI is not woken by another KPI's writes: it
// does no work for them, and still gets its own at once.
TEST_F(KpiLimitsTest, AStreamOfOneKpiSleepsThroughOtherKpisWrites) {
  v1::RecordActualResponse first;
  ASSERT_TRUE(
      stub_->RecordActual(Context().get(), ActualRequest("kodomoen", "soya", 2019, 3), &first)
          .ok());
  ASSERT_GT(first.sequence(), 0);
  v1::WatchChangesRequest request;
  request.set_kpi_id("kodomoen");
  request.set_from_sequence(first.sequence() + 1);  // only what comes from now on
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = stub_->WatchChanges(&context, request);
  // Wait (bounded) until the stream waits on the feed.
  const absl::Time limit = absl::Now() + absl::Seconds(10);
  while (kpi_->feed().waiters() < 1 && absl::Now() < limit) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_EQ(kpi_->feed().waiters(), 1u);

  for (int i = 0; i < 50; ++i) {
    v1::RecordActualResponse response;
    v1::RecordActualRequest actual = ActualRequest("jishu-bousai", "kamikawa", 2019, 50 + i * 0.1);
    ASSERT_TRUE(stub_->RecordActual(Context().get(), actual, &response).ok());
  }
  // Never woken: still the same single waiter.
  EXPECT_EQ(kpi_->feed().waiters(), 1u);

  v1::RecordActualResponse response;
  ASSERT_TRUE(
      stub_->RecordActual(Context().get(), ActualRequest("kodomoen", "soya", 2019, 4), &response)
          .ok());
  v1::WatchChangesResponse change;
  ASSERT_TRUE(reader->Read(&change));
  EXPECT_EQ(change.change().kpi_id(), "kodomoen");
  EXPECT_EQ(change.change().sequence(), response.sequence()) << change.ShortDebugString();
  context.TryCancel();
  reader->Finish();
}

TEST_F(KpiLimitsTest, MoreWatchStreamsThanAllowedAreRefused) {
  Limits limits = ProcessLimits();
  const Limits saved = limits;
  limits.max_streams_per_client = 2;
  SetProcessLimits(limits);
  ASSERT_NO_FATAL_FAILURE(StartKpiService());  // takes the limits as it starts
  SetProcessLimits(saved);

  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::WatchChangesResponse>>> readers;
  for (int i = 0; i < 3; ++i) {
    contexts.push_back(ContextFor(absl::Seconds(20)));
    v1::WatchChangesRequest request;
    request.set_from_sequence(1000000);
    readers.push_back(stub_->WatchChanges(contexts.back().get(), request));
    // The first two wait on the feed before the next one opens.
    const absl::Time limit = absl::Now() + absl::Seconds(10);
    while (i < 2 && kpi_->feed().waiters() < static_cast<size_t>(i + 1) && absl::Now() < limit) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  v1::WatchChangesResponse response;
  EXPECT_FALSE(readers[2]->Read(&response));
  const grpc::Status refused = readers[2]->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_TRUE(Contains(refused.error_message(), "--max_streams_per_client"))
      << refused.error_message();
  for (int i = 0; i < 2; ++i) {
    contexts[i]->TryCancel();
    readers[i]->Finish();
  }
  // The services keep answering.
  v1::ListKpisResponse kpis;
  EXPECT_TRUE(stub_->ListKpis(Context().get(), v1::ListKpisRequest(), &kpis).ok());
}

// Figures outside what the arithmetic takes are refused as they are written
// (the fuzzers found that beyond ±1e14, or with a subnormal denominator,
// computed figures could come out infinite).
TEST_F(KpiLimitsTest, FiguresOutsideTheDocumentedRangeAreRefused) {
  v1::RecordActualResponse response;
  v1::RecordActualRequest huge = ActualRequest("kodomoen", "soya", 2019, 2e14);
  grpc::Status status = stub_->RecordActual(Context().get(), huge, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(status.error_message(), "actual.value")) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "1e14")) << status.error_message();

  v1::RecordActualRequest tiny = ActualRequest("jishu-bousai", "soya", 2019, 50);
  tiny.mutable_actual()->set_numerator(0.5e-310);
  tiny.mutable_actual()->set_denominator(1e-310);
  status = stub_->RecordActual(Context().get(), tiny, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(status.error_message(), "actual.denominator")) << status.error_message();

  v1::ImportActualsResponse imported;
  status = Import({{Row(1, "kodomoen", "soya", 2019, 1e15)}}, &imported);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
}

// The review's case over the wire: a rate that is defined while its expected
// rate overflows gives a defined answer with a reason (and, in the sanitized
// build, no undefined behaviour).
TEST_F(KpiLimitsTest, APaceBeyondWhatTenthsHoldComesWithAReason) {
  v1::CreateKpiRequest create;
  v1::Kpi* kpi = create.mutable_kpi();
  kpi->set_id("huge-baseline");
  kpi->set_project_id(seed_.kpi().kpis(0).kpi().project_id());
  kpi->set_name("極端な金額");
  kpi->set_unit("円");
  kpi->set_value_kind(v1::VALUE_KIND_AMOUNT);
  kpi->add_region_ids("dohoku");
  kpi->add_region_ids("kamikawa");
  v1::CreateKpiResponse created;
  ASSERT_TRUE(stub_->CreateKpi(Context().get(), create, &created).ok());
  v1::ImportActualsResponse imported;
  v1::ImportRow baseline = Row(1, "huge-baseline", "kamikawa", 2015, 1e14);
  baseline.set_kind(v1::ROW_KIND_BASELINE);
  v1::ImportRow target = Row(2, "huge-baseline", "kamikawa", 2020, 0.0002);
  target.set_kind(v1::ROW_KIND_TARGET);
  ASSERT_TRUE(
      Import({{baseline, target, Row(3, "huge-baseline", "kamikawa", 2016, 0.0001)}}, &imported)
          .ok());
  v1::GetProgressRequest request;
  request.set_kpi_id("huge-baseline");
  request.set_region_id("kamikawa");
  v1::GetProgressResponse progress;
  grpc::Status status = stub_->GetProgress(Context().get(), request, &progress);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(progress.points_size(), 1);
  const v1::ProgressPoint& point = progress.points(0);
  EXPECT_EQ(point.rate_display(), "50.0%");
  EXPECT_FALSE(point.has_pace_gap());
  EXPECT_TRUE(Contains(point.pace_undefined_reason(), "beyond")) << point.ShortDebugString();
}

}  // namespace
}  // namespace suishin::kpi
