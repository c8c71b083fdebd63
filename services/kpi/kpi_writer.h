// KpiWriter: kpi-service's one write path (LevelDB's DBImpl::Write shape).
//
// Every write — CreateKpi, SetBaseline, ReviseTarget, RecordActual and a
// whole ImportActuals stream — is checked as far as it can be without the
// store (kpi_rules.h) on the caller's thread, then handed as one body to the
// service's BatchWriter and this call returns. The writer thread commits the
// bodies waiting at that moment together (one transaction, a savepoint
// each, one fsync, synchronous=FULL); a body refused against the store
// (NOT_FOUND, a year before the baseline) fails only its own caller. After
// the commit, in commit order and before answering, the writer publishes
// what each write changed: the KPIs' cache generations (so a read after the
// answer never sees an older figure) and the change feed (WatchChanges
// streams wake, on the feed's own thread). Then `done` is called with the
// outcome; the response is filled only when it is OK.
//
// `done` runs on the writer thread (or at once on the caller's, when the
// request is refused before it is queued or the queue is full): it must be
// quick — finishing an RPC is. The request and response must stay alive
// until `done` is called (a gRPC call's do).
//
// Thread-safe.
//
// Example:
//   writer->RecordActual(*request, response, [reactor](absl::Status status) {
//     reactor->Finish(ToGrpcStatus(status));
//   });
#ifndef SUISHIN_SERVICES_KPI_KPI_WRITER_H_
#define SUISHIN_SERVICES_KPI_KPI_WRITER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/batch_writer.h"
#include "common/clock.h"
#include "common/sequence_feed.h"
#include "services/kpi/figure_cache.h"
#include "services/kpi/import_batch.h"
#include "services/kpi/kpi_store.h"
#include "services/kpi/read_model.h"
#include "services/kpi/replica_sync.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

class ChangeSink;

class KpiWriter {
 public:
  using Done = std::function<void(absl::Status)>;

  struct Options {
    // Writes that may wait (--max_queued_writes); writes committed together.
    size_t max_queued = 10000;
    size_t max_group = 256;
  };

  // Reads the change log's last sequences into `cache` (the generations) and
  // `feed`, and starts the writer thread. After each commit, before the
  // writes answer, it tells `cache` and `reads` which KPIs moved, then
  // `feed`. `store`, `cache`, `reads` and `feed` must outlive the writer.
  // `clock` stamps writes.
  static absl::StatusOr<std::unique_ptr<KpiWriter>> Create(KpiStore* store, FigureCache* cache,
                                                           ReadModel* reads, SequenceFeed* feed,
                                                           Options options,
                                                           const Clock* clock = SystemClock());

  KpiWriter(const KpiWriter&) = delete;
  KpiWriter& operator=(const KpiWriter&) = delete;
  // Commits what is queued, then stops.
  ~KpiWriter();

  // Stores `kpi` (from PrepareKpi and ScopeKpi) unless its id is taken
  // (ALREADY_EXISTS), with its KPI_CREATED change.
  //
  // `by` is who writes (the caller's principal, CallerOf): each change the
  // write appends records it (Change.principal); "" for none.
  void CreateKpi(v1::Kpi kpi, v1::CreateKpiResponse* response, Done done, std::string by = "");
  void SetBaseline(const v1::SetBaselineRequest& request, v1::SetBaselineResponse* response,
                   Done done, std::string by = "");
  void ReviseTarget(const v1::ReviseTargetRequest& request, v1::ReviseTargetResponse* response,
                    Done done, std::string by = "");
  void RecordActual(const v1::RecordActualRequest& request, v1::RecordActualResponse* response,
                    Done done, std::string by = "");
  // Applies an import's rows (ImportBatch::Apply) as one write.
  // INVALID_ARGUMENT, storing nothing, with the bad rows in `response` when
  // any row was bad; CANCELLED, storing nothing, when `cancelled()` is true
  // as the write begins. `batch` must stay alive until `done`.
  void Import(ImportBatch* batch, std::function<bool()> cancelled,
              v1::ImportActualsResponse* response, Done done, std::string by = "");

  BatchWriter<KpiTransaction>::Stats stats() const { return writer_->stats(); }

  // With several replicas on one store (replica_sync.h): after a commit the
  // feed is told through `sync`, which reads every replica's changes in
  // sequence order, and baselines are read in each write, never
  // remembered (another replica may change them). Set before the first write.
  void set_replica_sync(ReplicaSync* sync) { sync_ = sync; }

 private:
  KpiWriter(KpiStore* store, FigureCache* cache, ReadModel* reads, SequenceFeed* feed,
            Options options, const Clock* clock);

  // Queues `body`; after its commit publishes what `sink` collected, then
  // calls `done`.
  void Submit(std::function<absl::Status(KpiTransaction&, ChangeSink&)> body, Done done,
              std::string by);
  // Submit, for a write to one KPI: `kpi_id` checked first (`field` names
  // it), then the body gets the KPI as stored (NOT_FOUND when there is
  // none). `kpi_id` must stay alive until `done`.
  void SubmitForKpi(absl::string_view field, const std::string& kpi_id,
                    std::function<absl::Status(KpiTransaction&, const v1::Kpi&, ChangeSink&)> body,
                    Done done, std::string by);
  // After a commit: cache generations and the read model, then the feed.
  void Publish(const ChangeSink& sink);

  FigureCache* cache_;
  ReadModel* reads_;
  SequenceFeed* feed_;
  const Clock* clock_;
  ReplicaSync* sync_ = nullptr;
  // The KPIs writes have named, as committed: only the writer thread (its
  // bodies and their `done`) touches it, so it needs no lock. Bounded by
  // the KPIs that exist.
  absl::flat_hash_map<std::string, std::shared_ptr<const v1::Kpi>> kpis_;
  // The KPIs' baselines as committed, and how often each KPI's baselines
  // were touched: a body that sets one moves the epoch and drops the entry,
  // and a write remembers what it read only if the epoch has not moved.
  absl::flat_hash_map<std::string, std::shared_ptr<const std::vector<v1::Baseline>>> baselines_;
  absl::flat_hash_map<std::string, uint64_t> baseline_epochs_;
  std::unique_ptr<BatchWriter<KpiTransaction>> writer_;  // last: stops first
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_WRITER_H_
