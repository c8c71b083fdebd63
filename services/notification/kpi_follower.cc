#include "services/notification/kpi_follower.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/channel.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/proto_util.h"

namespace suishin::notification {

namespace {

// kpi-service as a whole is not answering: retry the batch, set nothing aside.
bool ServiceDown(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable;
}

// "GetProgress soya: RESOURCE_EXHAUSTED: Received message larger than max ..."
std::string Reason(absl::string_view what, const absl::Status& status) {
  return absl::StrCat(what, ": ", absl::StatusCodeToString(status.code()), ": ",
                      status.message().substr(0, 300));
}

}  // namespace

KpiFollower::KpiFollower(kpi::v1::KpiService::StubInterface* kpi, AlertBook* book,
                         WorkSignal* requests, Options options)
    : kpi_(kpi),
      book_(book),
      requests_(requests),
      options_(options),
      set_aside_(options.set_aside) {}

KpiFollower::~KpiFollower() { Stop(); }

void KpiFollower::Start() {
  requests_->Raise("");  // everything, at start
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
  requests_->Close();
  if (reader_.joinable()) reader_.join();
  if (evaluator_.joinable()) evaluator_.join();
}

int64_t KpiFollower::evaluated_through() const {
  absl::MutexLock lock(&mu_);
  return evaluated_through_;
}

void KpiFollower::ReadLoop() {
  absl::StatusOr<int64_t> cursor = book_->events().Cursor();
  int64_t next = cursor.ok() ? *cursor : 1;
  absl::Duration delay = absl::Milliseconds(50);
  while (true) {
    kpi::v1::WatchChangesRequest request;
    request.set_from_sequence(next);
    request.set_with_figures(true);
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
      received_through_.store(next - 1, std::memory_order_relaxed);
      {
        absl::MutexLock lock(&mu_);
        queue_.push_back(std::move(*response.mutable_change()));
      }
      requests_->Wake();
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
  absl::Duration listing_retry = absl::Seconds(1);
  std::vector<kpi::v1::Change> pending;  // taken from the queue, not yet recorded
  while (true) {
    absl::Time deadline = absl::InfinitePast();  // pending work: only look
    if (pending.empty()) {
      deadline = next_full;
      if (std::optional<absl::Time> due = set_aside_.NextAttempt()) {
        deadline = std::min(deadline, *due);
      }
    }
    WorkSignal::Raised raised = requests_->WaitUntil(deadline);
    if (raised.closed) return;
    std::set<std::string> kpis = std::move(raised.keys);
    std::set<std::string> retries;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      while (!queue_.empty()) {
        pending.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const bool everything = raised.all || absl::Now() >= next_full;
    for (const std::string& kpi_id : set_aside_.Due(absl::Now())) {
      kpis.insert(kpi_id);
      retries.insert(kpi_id);
    }
    if (everything) next_full = absl::Now() + options_.full_evaluation_interval;
    const BatchResult result = EvaluateBatch(pending, everything, kpis, retries);
    if (result.done) {
      pending.clear();
      retry = absl::Milliseconds(100);
      if (result.listing_failed) {
        next_full = absl::Now() + listing_retry;
        listing_retry = std::min(listing_retry * 2, options_.set_aside.max_delay);
      } else if (everything) {
        listing_retry = absl::Seconds(1);
      }
      if (absl::Status status = book_->silences().ReleaseEndedSilences(); !status.ok()) {
        LogWarning("silences_failed", {{"error", std::string(status.message())}});
      }
      continue;
    }
    // kpi-service (or the store) failed: keep what was taken and try again.
    if (everything) RequestEvaluation();
    for (const std::string& kpi : kpis) {
      if (!retries.count(kpi)) RequestEvaluation(kpi);
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), retry);
    retry = std::min(retry * 2, options_.max_reconnect_delay);
  }
}

absl::StatusOr<std::shared_ptr<const kpi::v1::Kpi>> KpiFollower::FetchKpi(
    const std::string& kpi_id) {
  auto it = kpis_.find(kpi_id);
  if (it != kpis_.end()) return it->second;
  kpi::v1::GetKpiRequest request;
  request.set_id(kpi_id);
  kpi::v1::GetKpiResponse response;
  auto context = NewClientContext(options_.rpc_timeout);
  grpc::Status status = kpi_->GetKpi(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  answered_ = true;
  return kpis_[kpi_id] = std::make_shared<const kpi::v1::Kpi>(std::move(*response.mutable_kpi()));
}

absl::Status KpiFollower::ListAllKpis() {
  kpis_.clear();
  kpi::v1::ListKpisRequest request;
  request.set_page_size(1000);
  while (true) {
    kpi::v1::ListKpisResponse response;
    auto context = NewClientContext(options_.rpc_timeout);
    grpc::Status status = kpi_->ListKpis(context.get(), request, &response);
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED && request.page_size() > 1) {
      // A page too large to receive: ask for smaller ones.
      request.set_page_size(std::max(1, request.page_size() / 8));
      continue;
    }
    if (!status.ok()) return FromGrpcStatus(status);
    answered_ = true;
    for (kpi::v1::Kpi& kpi : *response.mutable_kpis()) {
      const std::string id = kpi.id();
      kpis_[id] = std::make_shared<const kpi::v1::Kpi>(std::move(kpi));
    }
    if (response.next_page_token().empty()) return absl::OkStatus();
    request.set_page_token(response.next_page_token());
  }
}

void KpiFollower::ForgetSeries(const std::string& kpi_id) {
  series_.erase(series_.lower_bound({kpi_id, ""}), series_.lower_bound({kpi_id + '\0', ""}));
}

void KpiFollower::Remember(const Subject& subject) {
  if (series_.size() >= options_.max_series) series_.clear();  // start over
  kpi::v1::GetProgressResponse& kept = series_[{subject.kpi->id(), subject.region_id}];
  kept = subject.progress;  // without its KPI: the subject shares it
}

void KpiFollower::Patch(const std::string& kpi_id, const kpi::v1::RegionPoint& figure,
                        int64_t generation) {
  auto known = series_.find({kpi_id, figure.region_id()});
  if (known == series_.end()) return;  // read when evaluated
  kpi::v1::GetProgressResponse& series = known->second;
  if (generation <= series.generation()) return;  // the series is as new
  for (kpi::v1::ProgressPoint& point : *series.mutable_points()) {
    if (point.fiscal_year().year() == figure.point().fiscal_year().year()) {
      point = figure.point();
      return;
    }
  }
  // A year the series does not span (its range moves): read it again.
  series_.erase(known);
}

bool KpiFollower::ServiceAnswers() {
  kpi::v1::ListKpisRequest request;
  request.set_page_size(1);
  kpi::v1::ListKpisResponse response;
  auto context = NewClientContext(options_.rpc_timeout);
  const grpc::Status status = kpi_->ListKpis(context.get(), request, &response);
  return status.error_code() != grpc::StatusCode::UNAVAILABLE &&
         status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED;
}

KpiFollower::BatchResult KpiFollower::EvaluateBatch(const std::vector<kpi::v1::Change>& changes,
                                                    bool everything,
                                                    const std::set<std::string>& kpis_to_refresh,
                                                    const std::set<std::string>& retries) {
  BatchResult result;
  answered_ = false;
  // (KPI, region) pairs to evaluate.
  std::set<std::pair<std::string, std::string>> pairs;
  auto add_kpi = [&](const std::shared_ptr<const kpi::v1::Kpi>& kpi) {
    for (const std::string& region : kpi->region_ids()) pairs.emplace(kpi->id(), region);
  };
  auto fail = [](absl::string_view what, const absl::Status& status) {
    LogWarning("evaluation_failed",
               {{"while", std::string(what)}, {"error", std::string(status.message())}});
    return BatchResult();
  };
  // The first error of each KPI whose evaluation failed on its own.
  std::map<std::string, std::string> failed;
  bool down = false;
  absl::Status down_status;
  auto note = [&](const std::string& kpi_id, absl::string_view what, const absl::Status& status) {
    if (ServiceDown(status)) {
      if (!down) down_status = absl::Status(status.code(), Reason(what, status));
      down = true;
      return;
    }
    failed.emplace(kpi_id, Reason(what, status));
  };
  // Set aside and not due: its retry evaluates all its regions.
  auto waiting = [&](const std::string& kpi_id) {
    return set_aside_.Contains(kpi_id) && !kpis_to_refresh.count(kpi_id);
  };
  if (everything && !listed_) {
    // At start (or until a listing succeeds): every KPI, every series read.
    absl::Status listed = ListAllKpis();
    if (!listed.ok()) {
      if (ServiceDown(listed) || listed.code() == absl::StatusCode::kDeadlineExceeded) {
        return fail("ListKpis", listed);
      }
      // kpi-service answered, but the listing cannot be had: evaluate the
      // rest, and list again later.
      LogWarning("full_evaluation_failed",
                 {{"error", Reason("ListKpis", listed)}, {"action", "retrying later"}});
      result.listing_failed = true;
    }
    listed_ = !result.listing_failed;
    series_.clear();
  }
  if (everything) {
    // Every KPI the follower knows (the stream announces new ones), from
    // the series it keeps: a periodic evaluation (deadlines pass) or one
    // after the rules changed asks kpi-service only for series it lacks.
    for (const auto& [kpi_id, kpi] : kpis_) {
      if (!waiting(kpi_id)) add_kpi(kpi);
    }
  }
  for (const std::string& kpi_id : kpis_to_refresh) {
    if (retries.count(kpi_id)) {  // afresh: it may have been fixed
      kpis_.erase(kpi_id);
      ForgetSeries(kpi_id);
    }
    absl::StatusOr<std::shared_ptr<const kpi::v1::Kpi>> kpi = FetchKpi(kpi_id);
    if (kpi.ok()) {
      add_kpi(*kpi);
    } else if (kpi.status().code() == absl::StatusCode::kNotFound) {
      // A KPI that does not exist (an override for a KPI yet to come, or a
      // set-aside KPI since deleted) is skipped.
      set_aside_.Cleared(kpi_id);
    } else {
      note(kpi_id, "GetKpi", kpi.status());
    }
  }
  int64_t last_sequence = 0;
  for (const kpi::v1::Change& change : changes) {
    last_sequence = std::max(last_sequence, change.sequence());
    if (waiting(change.kpi_id()) || failed.count(change.kpi_id())) continue;
    if (change.kind() == kpi::v1::CHANGE_KIND_KPI_CREATED) kpis_.erase(change.kpi_id());
    absl::StatusOr<std::shared_ptr<const kpi::v1::Kpi>> kpi = FetchKpi(change.kpi_id());
    if (!kpi.ok()) {
      if (kpi.status().code() != absl::StatusCode::kNotFound) {
        note(change.kpi_id(), "GetKpi", kpi.status());
      }
      continue;
    }
    if (change.figures().empty()) {
      // A new KPI, a baseline or target (every point may move), or an actual
      // whose figures the stream could not give: read every region again.
      ForgetSeries(change.kpi_id());
      add_kpi(*kpi);
      continue;
    }
    for (const kpi::v1::RegionPoint& figure : change.figures()) {
      pairs.emplace((*kpi)->id(), figure.region_id());
      Patch((*kpi)->id(), figure, change.figures_generation());
    }
  }
  if (down) return fail("GetKpi", down_status);
  std::vector<Subject> subjects;
  subjects.reserve(pairs.size());
  std::vector<size_t> to_fetch;
  for (const auto& [kpi_id, region_id] : pairs) {
    if (failed.count(kpi_id)) continue;
    auto kpi = kpis_.find(kpi_id);
    if (kpi == kpis_.end()) continue;  // not fetched: noted above
    Subject& subject = subjects.emplace_back();
    subject.kpi = kpi->second;
    subject.region_id = region_id;
    auto known = series_.find({kpi_id, region_id});
    if (known != series_.end()) {
      subject.progress = known->second;
    } else {
      to_fetch.push_back(subjects.size() - 1);
    }
  }
  // The series not known yet, all at once (async calls), at most kInFlight
  // at a time: one call after another would leave the evaluator mostly
  // waiting.
  constexpr size_t kInFlight = 32;
  std::vector<bool> fetched(subjects.size(), true);
  for (size_t begin = 0; begin < to_fetch.size(); begin += kInFlight) {
    const size_t end = std::min(to_fetch.size(), begin + kInFlight);
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<kpi::v1::GetProgressRequest> requests(end - begin);
    std::vector<grpc::Status> statuses(end - begin);
    absl::BlockingCounter done(static_cast<int>(end - begin));
    for (size_t i = begin; i < end; ++i) {
      Subject& subject = subjects[to_fetch[i]];
      requests[i - begin].set_kpi_id(subject.kpi->id());
      requests[i - begin].set_region_id(subject.region_id);
      contexts.push_back(NewClientContext(options_.rpc_timeout));
      kpi_->async()->GetProgress(contexts.back().get(), &requests[i - begin], &subject.progress,
                                 [&statuses, &done, slot = i - begin](grpc::Status status) {
                                   statuses[slot] = std::move(status);
                                   done.DecrementCount();
                                 });
    }
    done.Wait();
    progress_reads_.fetch_add(end - begin, std::memory_order_relaxed);
    for (size_t i = begin; i < end; ++i) {
      Subject& subject = subjects[to_fetch[i]];
      const grpc::Status& status = statuses[i - begin];
      if (status.ok()) {
        answered_ = true;
        subject.progress.clear_kpi();  // the subject shares it
        Remember(subject);
        continue;
      }
      fetched[to_fetch[i]] = false;
      note(subject.kpi->id(), absl::StrCat("GetProgress ", subject.region_id),
           FromGrpcStatus(status));
    }
  }
  if (down) return fail("GetProgress", down_status);
  // Deadlines missed and nothing answered: kpi-service may be down rather
  // than slow for these KPIs. A cheap call tells which.
  if (!failed.empty() && !answered_) {
    bool only_deadlines = true;
    for (const auto& [kpi_id, reason] : failed) {
      only_deadlines = only_deadlines && absl::StrContains(reason, "DEADLINE_EXCEEDED");
    }
    if (only_deadlines && !ServiceAnswers()) {
      return fail("GetProgress", absl::DeadlineExceededError(failed.begin()->second));
    }
  }
  std::vector<Subject> evaluated;
  std::set<std::string> evaluated_kpis;
  evaluated.reserve(subjects.size());
  for (size_t i = 0; i < subjects.size(); ++i) {
    if (!fetched[i] || failed.count(subjects[i].kpi->id())) continue;
    evaluated_kpis.insert(subjects[i].kpi->id());
    evaluated.push_back(std::move(subjects[i]));
  }
  const int64_t next = last_sequence > 0 ? last_sequence + 1 : 0;
  if (absl::Status status = book_->alerts().Evaluate(std::move(evaluated), next); !status.ok()) {
    return fail("Evaluate", status);
  }
  const absl::Time now = absl::Now();
  for (const auto& [kpi_id, reason] : failed) {
    const v1::SetAsideKpi entry = set_aside_.Failed(kpi_id, reason, now);
    kpis_.erase(kpi_id);  // fetched afresh when it is tried again
    ForgetSeries(kpi_id);
    LogWarning(
        "kpi_set_aside",
        {{"kpi", kpi_id},
         {"reason", reason},
         {"failures", absl::StrCat(entry.failures())},
         {"retry_in", absl::FormatDuration(FromProtoTimestamp(entry.next_attempt_time()) - now)}});
  }
  for (const std::string& kpi_id : evaluated_kpis) {
    if (set_aside_.Cleared(kpi_id)) LogInfo("kpi_restored", {{"kpi", kpi_id}});
  }
  if (next > 0) {
    absl::MutexLock lock(&mu_);
    evaluated_through_ = next;
  }
  result.done = true;
  return result;
}

}  // namespace suishin::notification
