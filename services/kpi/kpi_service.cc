#include "services/kpi/kpi_service.h"

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/log_stream.h"
#include "common/status_macros.h"

namespace suishin::kpi {
namespace {

// ImportActuals: hands the client's batches to KpiCatalog::ImportRows on the
// import queue as they arrive, so reading the stream and applying the rows
// overlap. At most kMaxQueuedBatches wait; beyond that the reactor stops
// reading until the import thread catches up.
class ImportReactor : public grpc::ServerReadReactor<v1::ImportActualsRequest>,
                      public KpiCatalog::RowSource {
 public:
  ImportReactor(KpiCatalog* catalog, WorkQueue* queue, grpc::CallbackServerContext* context,
                v1::ImportActualsResponse* response)
      : catalog_(catalog), queue_(queue), context_(context), response_(response) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    bool read_more = false;
    bool schedule = false;
    {
      absl::MutexLock lock(&mu_);
      if (first_ == absl::InfinitePast()) first_ = absl::Now();
      if (ok) {
        batches_.emplace_back(std::make_move_iterator(request_.mutable_rows()->begin()),
                              std::make_move_iterator(request_.mutable_rows()->end()));
        request_.Clear();
        read_more = batches_.size() < kMaxQueuedBatches;
        paused_ = !read_more;
      } else {
        ended_ = true;  // every row sent, or the client went away (Cancelled says which)
      }
      schedule = !scheduled_;
      scheduled_ = true;
    }
    if (read_more) StartRead(&request_);
    if (schedule) queue_->Schedule([this] { Apply(); });
  }

  void OnDone() override { delete this; }

  // RowSource, on the import thread.
  bool Next(std::vector<v1::ImportRow>* batch) override {
    bool resume = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &ImportReactor::ReadyLocked));
      if (batches_.empty()) return false;
      *batch = std::move(batches_.front());
      batches_.pop_front();
      rows_ += static_cast<int64_t>(batch->size());
      resume = paused_ && batches_.size() <= kMaxQueuedBatches / 2;
      if (resume) paused_ = false;
    }
    if (resume) StartRead(&request_);
    return true;
  }

  bool Cancelled() override { return context_->IsCancelled(); }

 private:
  static constexpr size_t kMaxQueuedBatches = 64;

  bool ReadyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return ended_ || !batches_.empty();
  }

  void Apply() {
    const absl::Time start = absl::Now();
    const absl::Status status = catalog_->ImportRows(*this, response_);
    absl::Time first;
    int64_t rows;
    {
      absl::MutexLock lock(&mu_);
      first = first_;
      rows = rows_;
    }
    LogInfo("import", {{"rows", absl::StrCat(rows)},
                       {"applied", absl::StrCat(response_->rows_applied())},
                       {"refused", absl::StrCat(response_->errors_size())},
                       {"seconds", absl::StrCat(absl::ToDoubleSeconds(absl::Now() - first))},
                       {"waited_s", absl::StrCat(absl::ToDoubleSeconds(start - first))},
                       {"status", std::string(absl::StatusCodeToString(status.code()))}});
    if (status.ok() || response_->errors().empty()) {
      Finish(ToGrpcStatus(status));
      return;
    }
    // Every bad row travels in the status details (see kpi.proto).
    Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(status.message()),
                        response_->SerializeAsString()));
  }

  KpiCatalog* catalog_;
  WorkQueue* queue_;
  grpc::CallbackServerContext* context_;
  v1::ImportActualsResponse* response_;
  v1::ImportActualsRequest request_;  // one read outstanding at a time

  absl::Mutex mu_;
  std::deque<std::vector<v1::ImportRow>> batches_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;
  int64_t rows_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time first_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace

KpiServiceImpl::KpiServiceImpl(KpiCatalog* catalog, PlanDirectory* plans)
    : catalog_(catalog), plans_(plans), imports_(std::make_unique<WorkQueue>("imports")) {}

KpiServiceImpl::~KpiServiceImpl() = default;

grpc::ServerUnaryReactor* KpiServiceImpl::CreateKpi(grpc::CallbackServerContext* context,
                                                    const v1::CreateKpiRequest* request,
                                                    v1::CreateKpiResponse* response) {
  absl::StatusOr<v1::Kpi> kpi = catalog_->PrepareKpi(*request);
  if (!kpi.ok()) return FinishUnary(context, kpi.status());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string project_id = kpi->project_id();  // kpi moves into the callback
  plans_->ResolveProject(
      "kpi.project_id", project_id, context,
      [this, reactor, response, kpi = *std::move(kpi)](absl::StatusOr<ProjectScope> scope) {
        if (!scope.ok()) {
          reactor->Finish(ToGrpcStatus(scope.status()));
          return;
        }
        reactor->Finish(ToGrpcStatus(catalog_->CreateKpi(kpi, *scope, response)));
      });
  return reactor;
}

#define SUISHIN_KPI_UNARY(Method)                                                        \
  grpc::ServerUnaryReactor* KpiServiceImpl::Method(grpc::CallbackServerContext* context, \
                                                   const v1::Method##Request* request,   \
                                                   v1::Method##Response* response) {     \
    return FinishUnary(context, catalog_->Method(*request, response));                   \
  }

SUISHIN_KPI_UNARY(GetKpi)
SUISHIN_KPI_UNARY(ListKpis)
SUISHIN_KPI_UNARY(SetBaseline)
SUISHIN_KPI_UNARY(ReviseTarget)
SUISHIN_KPI_UNARY(RecordActual)
SUISHIN_KPI_UNARY(GetProgress)
SUISHIN_KPI_UNARY(GetAggregate)
SUISHIN_KPI_UNARY(GetKpiTable)
SUISHIN_KPI_UNARY(GetHistory)

#undef SUISHIN_KPI_UNARY

grpc::ServerReadReactor<v1::ImportActualsRequest>* KpiServiceImpl::ImportActuals(
    grpc::CallbackServerContext* context, v1::ImportActualsResponse* response) {
  return new ImportReactor(catalog_, imports_.get(), context, response);
}

grpc::ServerWriteReactor<v1::WatchChangesResponse>* KpiServiceImpl::WatchChanges(
    grpc::CallbackServerContext* context, const v1::WatchChangesRequest* request) {
  const std::string kpi_id = request->kpi_id();
  return new LogStreamReactor<v1::Change, v1::WatchChangesResponse>(
      &catalog_->feed(), request->from_sequence() - 1,
      [catalog = catalog_, kpi_id](int64_t after,
                                   int limit) -> absl::StatusOr<LogBatch<v1::Change>> {
        LogBatch<v1::Change> batch;
        ASSIGN_OR_RETURN(batch.entries, catalog->ReadChanges(after + 1, kpi_id, limit));
        batch.scanned_through = batch.entries.empty() ? after : batch.entries.back().sequence();
        return batch;
      },
      [](v1::Change change, v1::WatchChangesResponse* response) {
        *response->mutable_change() = std::move(change);
      },
      [](const v1::Change& change) { return change.sequence(); });
}

}  // namespace suishin::kpi
