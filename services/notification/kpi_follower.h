// KpiFollower: keeps notification-service's alerts in step with kpi-service.
//
// A reader thread follows kpi-service's WatchChanges stream from the durable
// cursor (EventLog::Cursor) and queues the changes; it reconnects with
// growing delays when either side restarts, resuming after the last change it
// received. An evaluator thread takes everything queued at once, works out
// which KPIs and regions it touches and hands their progress to
// Alerts::Evaluate together with the new cursor. Evaluation is
// idempotent, so no change is counted twice.
//
// The stream carries what evaluation needs (WatchChangesRequest.with_figures):
// an actual's change brings the new progress point of its region and of the
// area it feeds, as kpi-service decides them, and the follower patches the
// series it keeps (one per KPI and region, at most `max_series`). It asks
// kpi-service (GetProgress, each call with a deadline) only for a series it
// does not keep yet (at start, after a KPI is created or its baseline or
// target changes, when a change comes without figures: read back after a
// restart of kpi-service) and for a set-aside KPI's retry. Full evaluations
// after the first (periodic, or after the rules changed) evaluate the KPIs
// and series it keeps. A point older than the series it would patch (its generation
// says) changes nothing.
//
// When kpi-service as a whole does not answer (UNAVAILABLE, or deadlines
// missed with no call answered and a probe unanswered), the batch leaves
// the cursor where it was and is retried with growing delays, so no change
// is missed. When it answers but fails for one KPI (its reply is too large,
// INVALID_ARGUMENT, INTERNAL, a deadline that only it misses), that KPI is
// set aside (set_aside_kpis.h): logged, listed in GetStatus, and tried again
// with exponential backoff, all its regions at once, while the cursor moves
// on past its changes and every other KPI goes on being evaluated.
//
// Given a channel made by MakeChannel (common/channel.h), as main.cc gives
// it, the WatchChanges stream has keepalive: a stream whose peer vanished
// ends with UNAVAILABLE and is resumed from the last change received, like
// any other end.
//
// Besides changes, the evaluator evaluates every KPI in every region at
// start, every `full_evaluation_interval` (reporting deadlines pass without
// any change), and each KPI raised on the `requests` signal ("" for all;
// the book's writer raises a KPI whose rules changed); and it releases
// alerts whose silences ended. The evaluator waits on that signal alone:
// the reader wakes it through the same signal when changes arrive.
//
// Thread-safe: Start, Stop, RequestEvaluation, evaluated_through and
// set_aside may be called from any thread.
#ifndef SUISHIN_SERVICES_NOTIFICATION_KPI_FOLLOWER_H_
#define SUISHIN_SERVICES_NOTIFICATION_KPI_FOLLOWER_H_

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/work_signal.h"
#include "services/notification/alert_book.h"
#include "services/notification/set_aside_kpis.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"

namespace suishin::notification {

class KpiFollower {
 public:
  struct Options {
    absl::Duration rpc_timeout = absl::Seconds(5);
    absl::Duration full_evaluation_interval = absl::Hours(1);
    absl::Duration max_reconnect_delay = absl::Seconds(2);
    SetAsideKpis::Options set_aside;
    // Progress series kept between batches; past it, they are read again.
    size_t max_series = 100000;
  };

  // `kpi`, `book` and `requests` must outlive the follower, which is the
  // one that waits on `requests` (and closes it when it stops).
  KpiFollower(kpi::v1::KpiService::StubInterface* kpi, AlertBook* book, WorkSignal* requests,
              Options options);
  ~KpiFollower();

  KpiFollower(const KpiFollower&) = delete;
  KpiFollower& operator=(const KpiFollower&) = delete;

  void Start();
  // Stops both threads; changes received but not evaluated are read again
  // from the cursor next time.
  void Stop();

  // Evaluates every KPI (or one, by id) again soon: raises it on `requests`.
  void RequestEvaluation(const std::string& kpi_id = "") { requests_->Raise(kpi_id); }

  // The next change sequence evaluated and recorded (for tests and logs).
  int64_t evaluated_through() const;
  // The last change sequence received from kpi-service (metrics: the lag is
  // this less evaluated_through).
  int64_t received_through() const { return received_through_.load(std::memory_order_relaxed); }
  // GetProgress calls made so far (for tests and logs).
  int64_t progress_reads() const { return progress_reads_.load(std::memory_order_relaxed); }

  // The KPIs set aside (for GetStatus).
  const SetAsideKpis& set_aside() const { return set_aside_; }

 private:
  void ReadLoop();
  void EvaluateLoop();
  // What one batch came to.
  struct BatchResult {
    // False (after logging) when kpi-service as a whole or the store failed:
    // the batch is to be retried, nothing of it was recorded.
    bool done = false;
    // The full listing failed although kpi-service answered: retry it later.
    bool listing_failed = false;
  };

  // Fetches and evaluates `changes`, every KPI when `everything`, and every
  // region of `kpis_to_refresh` (of which `retries` are set-aside KPIs due
  // again: fetched afresh).
  BatchResult EvaluateBatch(const std::vector<kpi::v1::Change>& changes, bool everything,
                            const std::set<std::string>& kpis_to_refresh,
                            const std::set<std::string>& retries);
  // Every KPI, in pages that shrink when a page is too large to receive.
  absl::Status ListAllKpis();
  absl::StatusOr<std::shared_ptr<const kpi::v1::Kpi>> FetchKpi(const std::string& kpi_id);
  // True when kpi-service answers a cheap call (any answer but UNAVAILABLE
  // and DEADLINE_EXCEEDED).
  bool ServiceAnswers();
  // The series kept: forgets a KPI's, keeps a fetched one, patches one
  // with a point from the stream (of `generation`; an older point changes
  // nothing, a year the series does not span forgets it).
  void ForgetSeries(const std::string& kpi_id);
  void Remember(const Subject& subject);
  void Patch(const std::string& kpi_id, const kpi::v1::RegionPoint& figure, int64_t generation);

  kpi::v1::KpiService::StubInterface* kpi_;
  AlertBook* book_;
  // KPIs to evaluate again, and the reader's "changes arrived".
  WorkSignal* requests_;
  Options options_;

  mutable absl::Mutex mu_;
  std::deque<kpi::v1::Change> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t evaluated_through_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<grpc::ClientContext> stream_context_ ABSL_GUARDED_BY(mu_);

  SetAsideKpis set_aside_;

  // Evaluator thread only.
  std::map<std::string, std::shared_ptr<const kpi::v1::Kpi>> kpis_;
  // Each (KPI, region)'s progress as last read or patched, without its KPI.
  std::map<std::pair<std::string, std::string>, kpi::v1::GetProgressResponse> series_;
  // Whether a kpi-service call of the current batch answered.
  bool answered_ = false;
  // Every KPI was listed once: later full evaluations use kpis_ and series_.
  bool listed_ = false;

  std::atomic<int64_t> progress_reads_{0};
  std::atomic<int64_t> received_through_{0};

  std::thread reader_;
  std::thread evaluator_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_KPI_FOLLOWER_H_
