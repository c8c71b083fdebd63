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

namespace suishin::kpi {
namespace {

// How many changes a WatchChanges stream reads from the log at a time.
constexpr int kWatchBatch = 256;

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

// WatchChanges: sends the log from a sequence on, then waits on the feed.
//
// All state is guarded by the watch's mutex, shared with the feed's wake-up
// callbacks through a shared_ptr so a wake-up that arrives after the stream
// ended finds `reactor` null and does nothing.
class WatchReactor : public grpc::ServerWriteReactor<v1::WatchChangesResponse> {
 public:
  WatchReactor(KpiCatalog* catalog, const v1::WatchChangesRequest& request)
      : catalog_(catalog), state_(std::make_shared<State>()) {
    state_->reactor = this;
    next_ = std::max<int64_t>(request.from_sequence(), 1);
    kpi_id_ = request.kpi_id();
    absl::MutexLock lock(&state_->mu);
    PumpLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&state_->mu);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    PumpLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&state_->mu);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&state_->mu);
      state_->reactor = nullptr;
    }
    delete this;
  }

 private:
  struct State {
    absl::Mutex mu;
    WatchReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
  };

  // Sends the next buffered change, reading more from the log when the
  // buffer is empty, or asks the feed for a wake-up when the log is drained.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (finished_ || writing_ || waiting_) return;
    while (buffer_.empty()) {
      const int64_t published = catalog_->feed().last();
      absl::StatusOr<std::vector<v1::Change>> changes =
          catalog_->ReadChanges(next_, kpi_id_, kWatchBatch);
      if (!changes.ok()) {
        FinishLocked(ToGrpcStatus(changes.status()));
        return;
      }
      for (v1::Change& change : *changes) buffer_.push_back(std::move(change));
      if (!buffer_.empty()) break;
      // Everything published up to `published` has been read: wait for more,
      // or read again if more came in the meantime.
      std::shared_ptr<State> state = state_;
      waiting_ = catalog_->feed().WakeWhenPast(std::max(published, next_ - 1), [state] {
        absl::MutexLock lock(&state->mu);
        if (state->reactor == nullptr) return;
        state->reactor->waiting_ = false;
        state->reactor->PumpLocked();
      });
      if (waiting_) return;
    }
    *response_.mutable_change() = std::move(buffer_.front());
    buffer_.pop_front();
    next_ = response_.change().sequence() + 1;
    writing_ = true;
    StartWrite(&response_);
  }

  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  KpiCatalog* catalog_;
  std::shared_ptr<State> state_;
  int64_t next_ = 1;
  std::string kpi_id_;
  std::deque<v1::Change> buffer_;
  v1::WatchChangesResponse response_;
  bool writing_ = false;
  bool waiting_ = false;
  bool finished_ = false;
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
  return new WatchReactor(catalog_, *request);
}

}  // namespace suishin::kpi
