#include "services/kpi/kpi_service.h"

#include <grpcpp/alarm.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <chrono>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/log_stream.h"
#include "common/scope.h"
#include "common/validation.h"
#include "services/kpi/kpi_rules.h"

namespace suishin::kpi {
namespace {

// A stream refused before it started: it only says why.
template <typename Base>
class Refused : public Base {
 public:
  explicit Refused(const absl::Status& status) { this->Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

// ImportActuals: checks each message's rows as it arrives and keeps them
// (ImportBatch); when the client half-closes, hands the whole batch to the
// writer as one write. Nothing is stored before that, no transaction is open
// while the client is being waited for, and an import quiet for longer than
// its idle limit is ended with RESOURCE_EXHAUSTED, nothing stored. A limit
// reached (rows per message, rows in all) ends it at once.
class ImportReactor : public grpc::ServerReadReactor<v1::ImportActualsRequest> {
 public:
  ImportReactor(KpiCatalog* catalog, KpiWriter* writer, ScopeResolver* scopes,
                grpc::CallbackServerContext* context, v1::ImportActualsResponse* response,
                const KpiServiceImpl::Options& options, StreamSlots::Release release)
      : writer_(writer),
        scopes_(scopes),
        context_(context),
        response_(response),
        idle_timeout_(options.import_idle_timeout),
        release_(std::move(release)),
        batch_(options.import, [catalog](const std::string& id) { return catalog->FindKpi(id); }),
        timer_(std::make_shared<TimerState>()) {
    absl::MutexLock lock(&mu_);
    timer_->reactor = this;
    first_ = last_activity_ = absl::Now();
    // Tells the client at once that the import is accepted (its slot held).
    StartSendInitialMetadata();
    StartRead(&request_);
    ArmIdleTimerLocked(first_ + idle_timeout_);
  }

  void OnReadDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      if (ok) {
        ReceivedLocked();
        return;
      }
      // Half-closed (every row sent), or the client went away.
      if (context_->IsCancelled()) {
        FinishLocked(absl::CancelledError("the client cancelled the import; nothing stored"));
        return;
      }
      // Even with bad rows the batch goes to the writer: the good rows are
      // checked against the store too (a year before a stored baseline), so
      // the answer lists every bad row; the write then leaves nothing.
      committing_ = true;
    }
    // Outside the lock: the writer may answer at once (a full queue).
    Commit();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (!committing_) {
      FinishLocked(absl::CancelledError("the client cancelled the import; nothing stored"));
    }
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&timer_->mu);
      timer_->reactor = nullptr;
    }
    {
      absl::MutexLock lock(&mu_);
      if (alarm_) alarm_->Cancel();
    }
    release_();
    delete this;
  }

 private:
  // Shared with the idle timer's callback, which may run after the stream
  // ended: it then finds `reactor` null and does nothing.
  struct TimerState {
    absl::Mutex mu;
    ImportReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
  };

  void ReceivedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    last_activity_ = absl::Now();
    if (absl::Status allowed = AuthorizeScope(*context_, request_, *scopes_); !allowed.ok()) {
      FinishLocked(allowed);  // a row outside the caller's regions: nothing stored
      return;
    }
    if (absl::Status status = batch_.Add(request_.rows()); !status.ok()) {
      FinishLocked(status);  // a limit, or the store could not say what a KPI is
      return;
    }
    request_.Clear();
    StartRead(&request_);
  }

  void ArmIdleTimerLocked(absl::Time when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // A fired alarm is kept until the stream ends, not destroyed from inside
    // its own callback.
    if (alarm_) retired_.push_back(std::move(alarm_));
    alarm_ = std::make_unique<grpc::Alarm>();
    std::shared_ptr<TimerState> state = timer_;
    alarm_->Set(absl::ToChronoTime(when), [state](bool fired) {
      if (!fired) return;  // cancelled
      absl::MutexLock lock(&state->mu);
      if (state->reactor != nullptr) state->reactor->OnIdleCheck();
    });
  }

  void OnIdleCheck() {
    absl::MutexLock lock(&mu_);
    if (finished_ || committing_) return;
    const absl::Time deadline = last_activity_ + idle_timeout_;
    if (absl::Now() < deadline) {
      ArmIdleTimerLocked(deadline);
      return;
    }
    LogWarning("import_idle", {{"peer", context_->peer()},
                               {"rows", absl::StrCat(batch_.rows_received())},
                               {"idle_s", absl::StrCat(absl::ToInt64Seconds(idle_timeout_))}});
    FinishLocked(absl::ResourceExhaustedError(
        absl::StrCat("ImportActuals: no message for ", absl::FormatDuration(idle_timeout_),
                     ", the limit for an open import (--import_idle_timeout_s); nothing stored")));
  }

  // Hands the batch to the writer; from here on only the writer touches it.
  void Commit() {
    const absl::Time start = absl::Now();
    writer_->Import(
        &batch_, [context = context_] { return context->IsCancelled(); }, response_,
        [this, start](absl::Status status) {
          LogInfo("import", {{"rows", absl::StrCat(batch_.rows_received())},
                             {"applied", absl::StrCat(response_->rows_applied())},
                             {"refused", absl::StrCat(batch_.error_count())},
                             {"seconds", absl::StrCat(absl::ToDoubleSeconds(absl::Now() - first_))},
                             {"commit_s", absl::StrCat(absl::ToDoubleSeconds(absl::Now() - start))},
                             {"status", std::string(absl::StatusCodeToString(status.code()))}});
          absl::MutexLock lock(&mu_);
          FinishLocked(status);
        },
        CallerOf(*context_).subject);
  }

  // Finishes once. A refusal with bad rows carries the response (capped
  // errors and their count) in the status details, readable by any client.
  void FinishLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    if (alarm_) alarm_->Cancel();
    // The slot is free once the answer is decided, so a client that starts
    // its next import as soon as it has this answer finds it free.
    release_();
    if (status.code() == absl::StatusCode::kInvalidArgument && response_->error_count() > 0) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(status.message()),
                          response_->SerializeAsString()));
      return;
    }
    if (!status.ok()) {
      response_->set_rows_applied(0);
      response_->set_last_sequence(0);
    }
    Finish(ToGrpcStatus(status));
  }

  KpiWriter* writer_;
  ScopeResolver* scopes_;
  grpc::CallbackServerContext* context_;
  v1::ImportActualsResponse* response_;
  const absl::Duration idle_timeout_;
  StreamSlots::Release release_;

  absl::Mutex mu_;
  // Filled under mu_ while messages arrive; the writer's alone once
  // committing_ is set.
  ImportBatch batch_;
  v1::ImportActualsRequest request_;  // one read outstanding at a time
  std::shared_ptr<TimerState> timer_;
  std::unique_ptr<grpc::Alarm> alarm_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<grpc::Alarm>> retired_ ABSL_GUARDED_BY(mu_);
  absl::Time first_ ABSL_GUARDED_BY(mu_);
  absl::Time last_activity_ ABSL_GUARDED_BY(mu_);
  bool committing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// Finishes a unary call from KpiWriter's `done`.
KpiWriter::Done FinishWith(grpc::ServerUnaryReactor* reactor) {
  return [reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); };
}

}  // namespace

KpiServiceImpl::KpiServiceImpl(KpiCatalog* catalog, KpiWriter* writer, PlanDirectory* plans,
                               SequenceFeed* feed, Options options)
    : catalog_(catalog),
      writer_(writer),
      plans_(plans),
      feed_(feed),
      options_(options),
      imports_(options.max_concurrent_imports, options.max_concurrent_imports,
               "--import_max_concurrent", "--import_max_concurrent"),
      watches_(ProcessLimits().max_streams_per_client, ProcessLimits().max_streams) {}

KpiServiceImpl::~KpiServiceImpl() = default;

grpc::ServerUnaryReactor* KpiServiceImpl::CreateKpi(grpc::CallbackServerContext* context,
                                                    const v1::CreateKpiRequest* request,
                                                    v1::CreateKpiResponse* response) {
  absl::StatusOr<v1::Kpi> kpi = PrepareKpi(*request);
  if (!kpi.ok()) return FinishUnary(context, kpi.status());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string project_id = kpi->project_id();  // kpi moves into the callback
  plans_->ResolveProject("kpi.project_id", project_id, context,
                         [this, context, reactor, response,
                          kpi = *std::move(kpi)](absl::StatusOr<ProjectScope> scope) {
                           if (!scope.ok()) {
                             reactor->Finish(ToGrpcStatus(scope.status()));
                             return;
                           }
                           absl::StatusOr<v1::Kpi> scoped = ScopeKpi(kpi, *scope);
                           if (!scoped.ok()) {
                             reactor->Finish(ToGrpcStatus(scoped.status()));
                             return;
                           }
                           // The area as the project gives it, when the request left it out.
                           v1::CreateKpiRequest where;
                           where.mutable_kpi()->set_area_id(scoped->area_id());
                           if (absl::Status allowed = AuthorizeScope(*context, where, *plans_);
                               !allowed.ok()) {
                             reactor->Finish(ToGrpcStatus(allowed));
                             return;
                           }
                           writer_->CreateKpi(*std::move(scoped), response, FinishWith(reactor),
                                              CallerOf(*context).subject);
                         });
  return reactor;
}

#define SUISHIN_KPI_WRITE(Method)                                                            \
  grpc::ServerUnaryReactor* KpiServiceImpl::Method(grpc::CallbackServerContext* context,     \
                                                   const v1::Method##Request* request,       \
                                                   v1::Method##Response* response) {         \
    if (absl::Status allowed = AuthorizeScope(*context, *request, *plans_); !allowed.ok()) { \
      return FinishUnary(context, allowed);                                                  \
    }                                                                                        \
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();                           \
    writer_->Method(*request, response, FinishWith(reactor), CallerOf(*context).subject);    \
    return reactor;                                                                          \
  }

SUISHIN_KPI_WRITE(SetBaseline)
SUISHIN_KPI_WRITE(ReviseTarget)
SUISHIN_KPI_WRITE(RecordActual)

#undef SUISHIN_KPI_WRITE

#define SUISHIN_KPI_READ(Method)                                                         \
  grpc::ServerUnaryReactor* KpiServiceImpl::Method(grpc::CallbackServerContext* context, \
                                                   const v1::Method##Request* request,   \
                                                   v1::Method##Response* response) {     \
    return FinishUnary(context, catalog_->Method(*request, response));                   \
  }

SUISHIN_KPI_READ(GetKpi)
SUISHIN_KPI_READ(ListKpis)
SUISHIN_KPI_READ(GetHistory)

#undef SUISHIN_KPI_READ

namespace {

// `wire`'s bytes as a ByteBuffer that keeps its owner alive, not a copy.
grpc::ByteBuffer WireBuffer(ReadModel::Wire wire) {
  auto* owner = new std::shared_ptr<const void>(std::move(wire.owner));
  grpc::Slice slice(
      const_cast<char*>(wire.bytes.data()), wire.bytes.size(),
      [](void* kept) { delete static_cast<std::shared_ptr<const void>*>(kept); }, owner);
  return grpc::ByteBuffer(&slice, 1);
}

// A raw read: the request parsed, the answer's bytes sent as they are.
template <typename Request>
grpc::ServerUnaryReactor* FinishWire(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* bytes, grpc::ByteBuffer* response,
    const std::function<absl::StatusOr<ReadModel::Wire>(const Request&)>& read) {
  Request request;
  grpc::ByteBuffer copy(*bytes);  // Deserialize consumes its buffer
  if (grpc::Status parsed = grpc::SerializationTraits<Request>::Deserialize(&copy, &request);
      !parsed.ok()) {
    return FinishUnary(context, absl::InvalidArgumentError(absl::StrCat(
                                    "the request is not a ", Request::descriptor()->name(), ": ",
                                    parsed.error_message())));
  }
  absl::StatusOr<ReadModel::Wire> wire = read(request);
  if (!wire.ok()) return FinishUnary(context, wire.status());
  *response = WireBuffer(*std::move(wire));
  return FinishUnary(context, absl::OkStatus());
}

}  // namespace

grpc::ServerUnaryReactor* KpiServiceImpl::GetProgress(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return FinishWire<v1::GetProgressRequest>(
      context, request, response,
      [this](const v1::GetProgressRequest& read) { return catalog_->GetProgressWire(read); });
}

grpc::ServerUnaryReactor* KpiServiceImpl::GetKpiTable(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return FinishWire<v1::GetKpiTableRequest>(
      context, request, response,
      [this](const v1::GetKpiTableRequest& read) { return catalog_->GetKpiTableWire(read); });
}

grpc::ServerUnaryReactor* KpiServiceImpl::GetAggregate(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return FinishWire<v1::GetAggregateRequest>(
      context, request, response,
      [this](const v1::GetAggregateRequest& read) { return catalog_->GetAggregateWire(read); });
}

grpc::ServerReadReactor<v1::ImportActualsRequest>* KpiServiceImpl::ImportActuals(
    grpc::CallbackServerContext* context, v1::ImportActualsResponse* response) {
  absl::StatusOr<StreamSlots::Release> slot = imports_.Acquire(context->peer(), "ImportActuals");
  if (!slot.ok()) {
    return new Refused<grpc::ServerReadReactor<v1::ImportActualsRequest>>(slot.status());
  }
  return new ImportReactor(catalog_, writer_, plans_, context, response, options_,
                           *std::move(slot));
}

grpc::ServerWriteReactor<v1::WatchChangesResponse>* KpiServiceImpl::WatchChanges(
    grpc::CallbackServerContext* context, const v1::WatchChangesRequest* request) {
  if (!request->kpi_id().empty()) {
    if (absl::Status status = ValidateId("kpi_id", request->kpi_id()); !status.ok()) {
      return new Refused<grpc::ServerWriteReactor<v1::WatchChangesResponse>>(status);
    }
  }
  if (request->from_sequence() < 0) {
    return new Refused<grpc::ServerWriteReactor<v1::WatchChangesResponse>>(FieldError(
        "from_sequence", absl::StrCat(request->from_sequence()), "must not be negative"));
  }
  absl::StatusOr<StreamSlots::Release> slot = watches_.Acquire(context->peer(), "WatchChanges");
  if (!slot.ok()) {
    return new Refused<grpc::ServerWriteReactor<v1::WatchChangesResponse>>(slot.status());
  }
  const std::string kpi_id = request->kpi_id();
  SequenceFeed::Wants wants;
  if (!kpi_id.empty()) {
    wants = [kpi_id](const FeedEntry& entry) { return entry.kpi_id == kpi_id; };
  }
  return new LogStreamReactor<v1::Change, v1::WatchChangesResponse>(
      feed_, request->from_sequence() - 1,
      [catalog = catalog_, kpi_id, with_figures = request->with_figures()](int64_t after,
                                                                           int limit) {
        return catalog->ReadChanges(after, kpi_id, limit, with_figures);
      },
      [](v1::Change change, v1::WatchChangesResponse* response) {
        *response->mutable_change() = std::move(change);
      },
      [](const v1::Change& change) { return change.sequence(); }, std::move(wants),
      *std::move(slot));
}

}  // namespace suishin::kpi
