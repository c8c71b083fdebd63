#include "services/notification/kpi_follower.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/channel.h"
#include "common/grpc_status.h"
#include "common/log.h"

namespace suishin::notification {

KpiFollower::KpiFollower(kpi::v1::KpiService::StubInterface* kpi, AlertBook* book, Options options)
    : kpi_(kpi), book_(book), options_(options) {}

KpiFollower::~KpiFollower() { Stop(); }

void KpiFollower::Start() {
  reader_ = std::thread([this] { ReadLoop(); });
  evaluator_ = std::thread([this] { EvaluateLoop(); });
}

void KpiFollower::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    if (stream_context_) stream_context_->TryCancel();
  }
  if (reader_.joinable()) reader_.join();
  if (evaluator_.joinable()) evaluator_.join();
}

void KpiFollower::RequestEvaluation(const std::string& kpi_id) {
  absl::MutexLock lock(&mu_);
  if (kpi_id.empty()) {
    evaluate_all_ = true;
  } else {
    evaluate_kpis_.insert(kpi_id);
  }
}

int64_t KpiFollower::evaluated_through() const {
  absl::MutexLock lock(&mu_);
  return evaluated_through_;
}

void KpiFollower::ReadLoop() {
  absl::StatusOr<int64_t> cursor = book_->Cursor();
  int64_t next = cursor.ok() ? *cursor : 1;
  absl::Duration delay = absl::Milliseconds(50);
  while (true) {
    kpi::v1::WatchChangesRequest request;
    request.set_from_sequence(next);
    grpc::ClientContext* context;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stream_context_ = std::make_unique<grpc::ClientContext>();
      context = stream_context_.get();
    }
    std::unique_ptr<grpc::ClientReaderInterface<kpi::v1::WatchChangesResponse>> stream =
        kpi_->WatchChanges(context, request);
    kpi::v1::WatchChangesResponse response;
    bool received = false;
    while (stream->Read(&response)) {
      received = true;
      next = response.change().sequence() + 1;
      absl::MutexLock lock(&mu_);
      queue_.push_back(std::move(*response.mutable_change()));
    }
    const grpc::Status status = stream->Finish();
    {
      absl::MutexLock lock(&mu_);
      stream_context_.reset();
      if (stopping_) return;
    }
    if (received) delay = absl::Milliseconds(50);
    LogWarning("kpi_stream_ended", {{"code", absl::StrCat(status.error_code())},
                                    {"error", status.error_message()},
                                    {"resume_from", absl::StrCat(next)},
                                    {"retry_in", absl::FormatDuration(delay)}});
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay);
    delay = std::min(delay * 2, options_.max_reconnect_delay);
  }
}

void KpiFollower::EvaluateLoop() {
  absl::Time next_full = absl::Now() + options_.full_evaluation_interval;
  absl::Duration retry = absl::Milliseconds(100);
  std::vector<kpi::v1::Change> pending;  // taken from the queue, not yet recorded
  while (true) {
    bool everything = false;
    std::set<std::string> kpis;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty() || evaluate_all_ || !evaluate_kpis_.empty();
      };
      if (pending.empty()) {
        mu_.AwaitWithDeadline(absl::Condition(&ready), next_full);
      }
      if (stopping_) return;
      while (!queue_.empty()) {
        pending.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      everything = evaluate_all_ || absl::Now() >= next_full;
      kpis.swap(evaluate_kpis_);
      evaluate_all_ = false;
    }
    if (everything) next_full = absl::Now() + options_.full_evaluation_interval;
    if (EvaluateBatch(pending, everything, kpis)) {
      pending.clear();
      retry = absl::Milliseconds(100);
      if (absl::Status status = book_->ReleaseEndedSilences(); !status.ok()) {
        LogWarning("silences_failed", {{"error", std::string(status.message())}});
      }
      continue;
    }
    // kpi-service (or the store) failed: keep what was taken and try again.
    if (everything) RequestEvaluation();
    for (const std::string& kpi : kpis) RequestEvaluation(kpi);
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), retry);
    retry = std::min(retry * 2, options_.max_reconnect_delay);
  }
}

absl::StatusOr<kpi::v1::Kpi> KpiFollower::FetchKpi(const std::string& kpi_id) {
  auto it = kpis_.find(kpi_id);
  if (it != kpis_.end()) return it->second;
  kpi::v1::GetKpiRequest request;
  request.set_id(kpi_id);
  kpi::v1::GetKpiResponse response;
  auto context = NewClientContext(options_.rpc_timeout);
  grpc::Status status = kpi_->GetKpi(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return kpis_[kpi_id] = response.kpi();
}

bool KpiFollower::EvaluateBatch(const std::vector<kpi::v1::Change>& changes, bool everything,
                                const std::set<std::string>& kpis_to_refresh) {
  // (KPI, region) pairs to evaluate.
  std::set<std::pair<std::string, std::string>> pairs;
  auto add_kpi = [&](const kpi::v1::Kpi& kpi) {
    for (const std::string& region : kpi.region_ids()) pairs.emplace(kpi.id(), region);
  };
  auto fail = [](absl::string_view what, const absl::Status& status) {
    LogWarning("evaluation_failed",
               {{"while", std::string(what)}, {"error", std::string(status.message())}});
    return false;
  };
  if (everything) {
    kpis_.clear();
    kpi::v1::ListKpisRequest request;
    request.set_page_size(1000);
    while (true) {
      kpi::v1::ListKpisResponse response;
      auto context = NewClientContext(options_.rpc_timeout);
      grpc::Status status = kpi_->ListKpis(context.get(), request, &response);
      if (!status.ok()) return fail("ListKpis", FromGrpcStatus(status));
      for (const kpi::v1::Kpi& kpi : response.kpis()) {
        kpis_[kpi.id()] = kpi;
        add_kpi(kpi);
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
  }
  for (const std::string& kpi_id : kpis_to_refresh) {
    absl::StatusOr<kpi::v1::Kpi> kpi = FetchKpi(kpi_id);
    if (kpi.ok()) add_kpi(*kpi);
    // A KPI that does not exist (an override for a KPI yet to come) is skipped.
  }
  int64_t last_sequence = 0;
  for (const kpi::v1::Change& change : changes) {
    last_sequence = std::max(last_sequence, change.sequence());
    if (change.kind() == kpi::v1::CHANGE_KIND_KPI_CREATED) kpis_.erase(change.kpi_id());
    absl::StatusOr<kpi::v1::Kpi> kpi = FetchKpi(change.kpi_id());
    if (!kpi.ok()) {
      if (kpi.status().code() == absl::StatusCode::kNotFound) continue;
      return fail("GetKpi", kpi.status());
    }
    if (change.kind() == kpi::v1::CHANGE_KIND_KPI_CREATED) {
      add_kpi(*kpi);
      continue;
    }
    pairs.emplace(kpi->id(), change.region_id());
    // A subprefecture's figures make the area's when the area is computed.
    if (kpi->aggregation() != kpi::v1::AGGREGATION_RULE_REPORTED) {
      pairs.emplace(kpi->id(), kpi->area_id());
    }
  }
  std::vector<Subject> subjects;
  subjects.reserve(pairs.size());
  for (const auto& [kpi_id, region_id] : pairs) {
    absl::StatusOr<kpi::v1::Kpi> kpi = FetchKpi(kpi_id);
    if (!kpi.ok()) return fail("GetKpi", kpi.status());
    Subject& subject = subjects.emplace_back();
    subject.kpi = *kpi;
    subject.region_id = region_id;
  }
  // Every subject's progress at once (async calls), at most kInFlight at a
  // time: one call after another would leave the evaluator mostly waiting.
  constexpr size_t kInFlight = 32;
  for (size_t begin = 0; begin < subjects.size(); begin += kInFlight) {
    const size_t end = std::min(subjects.size(), begin + kInFlight);
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<kpi::v1::GetProgressRequest> requests(end - begin);
    std::vector<grpc::Status> statuses(end - begin);
    absl::BlockingCounter done(static_cast<int>(end - begin));
    for (size_t i = begin; i < end; ++i) {
      requests[i - begin].set_kpi_id(subjects[i].kpi.id());
      requests[i - begin].set_region_id(subjects[i].region_id);
      contexts.push_back(NewClientContext(options_.rpc_timeout));
      kpi_->async()->GetProgress(contexts.back().get(), &requests[i - begin], &subjects[i].progress,
                                 [&statuses, &done, slot = i - begin](grpc::Status status) {
                                   statuses[slot] = std::move(status);
                                   done.DecrementCount();
                                 });
    }
    done.Wait();
    for (const grpc::Status& status : statuses) {
      if (!status.ok()) return fail("GetProgress", FromGrpcStatus(status));
    }
  }
  const int64_t next = last_sequence > 0 ? last_sequence + 1 : 0;
  if (absl::Status status = book_->Evaluate(subjects, next); !status.ok()) {
    return fail("Evaluate", status);
  }
  if (next > 0) {
    absl::MutexLock lock(&mu_);
    evaluated_through_ = next;
  }
  return true;
}

}  // namespace suishin::notification
