// ReplicaSync: keeps one kpi-service replica in step with the writes of the
// others that share its PostgreSQL store.
//
// A replica's in-process state follows the change log: each KPI's cache
// generation (FigureCache), its read-model snapshot (ReadModel::Moved), the
// baselines-or-targets generation that decides whether a change's figures
// still fit, and the SequenceFeed that wakes WatchChanges streams. With one
// process the write path moves all of it. With several, a write on replica A
// moves A only: ReplicaSync folds into this replica every change committed
// by anyone, in sequence order, reading the log from the store.
//
// When it runs:
// - CatchUp() before every figure read (KpiCatalog): one read of the log's
//   head, and only when it moved, the changes since. A read that starts
//   after a write returned on any replica therefore sees it: the write is
//   committed (its sequence is under the head) before it answers. Reads
//   that arrive together share one head read that began after all of them.
// - after each local commit (KpiWriter), instead of publishing to the feed
//   directly, so the feed learns every replica's changes in one order;
// - on its own thread, woken by the store's announcements (PostgreSQL
//   LISTEN/NOTIFY) or every poll interval when none come, so streams on
//   this replica wake for writes made on another without a read to prompt
//   them.
//
// Thread-safe.
#ifndef SUISHIN_SERVICES_KPI_REPLICA_SYNC_H_
#define SUISHIN_SERVICES_KPI_REPLICA_SYNC_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/sequence_feed.h"
#include "services/kpi/figure_cache.h"
#include "services/kpi/kpi_store.h"
#include "services/kpi/read_model.h"

namespace suishin::kpi {

class ReplicaSync {
 public:
  struct Options {
    // How long the thread waits for an announcement before it reads the
    // log's head anyway (the polling fallback).
    absl::Duration poll_interval = absl::Milliseconds(500);
  };

  // Everything must outlive the sync. `applied` is the sequence this
  // replica's state already covers (the head its writer started from).
  ReplicaSync(KpiStore* store, FigureCache* cache, ReadModel* reads, SequenceFeed* feed,
              int64_t applied, Options options);
  // Stops the thread (within one poll interval).
  ~ReplicaSync();

  ReplicaSync(const ReplicaSync&) = delete;
  ReplicaSync& operator=(const ReplicaSync&) = delete;

  // Starts the thread that follows announcements and polls.
  void Start();

  // Folds in every change committed before the call. An error (the store
  // unreachable) leaves the state as it was, to be caught up next time.
  absl::Status CatchUp();

  // The last sequence folded in.
  int64_t applied() const { return applied_.load(); }

  // Reads of the log's head made so far (for tests and metrics).
  int64_t head_reads() const { return head_reads_.load(); }

 private:
  void Loop();
  // The log's head as read by a read that began after this call did.
  // Callers at the same time share one read (one query for a crowd of
  // figure reads, not one each), as a group commit shares one fsync.
  absl::StatusOr<int64_t> FreshHead();

  KpiStore* const store_;
  FigureCache* const cache_;
  ReadModel* const reads_;
  SequenceFeed* const feed_;
  const Options options_;
  // Folds run one at a time, in sequence order.
  absl::Mutex fold_mu_;
  std::atomic<int64_t> applied_;
  std::atomic<bool> stopping_{false};
  // FreshHead: callers so far, callers the last finished read covers, and
  // whether a read runs now.
  absl::Mutex head_mu_;
  uint64_t arrivals_ ABSL_GUARDED_BY(head_mu_) = 0;
  uint64_t covered_ ABSL_GUARDED_BY(head_mu_) = 0;
  bool reading_ ABSL_GUARDED_BY(head_mu_) = false;
  absl::StatusOr<int64_t> last_head_ ABSL_GUARDED_BY(head_mu_) = 0;
  std::atomic<int64_t> head_reads_{0};
  std::thread thread_;
};

class KpiWriter;
class KpiCatalog;

// When `store` is shared by replicas (PostgreSQL), a started ReplicaSync
// from what `writer` has loaded (the feed's last sequence), wired into
// `writer` and `catalog`; nullptr for a store of one process. Destroy it
// after the writer.
std::unique_ptr<ReplicaSync> FollowReplicas(KpiStore* store, FigureCache* cache, ReadModel* reads,
                                            SequenceFeed* feed, KpiWriter* writer,
                                            KpiCatalog* catalog, ReplicaSync::Options options);

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_REPLICA_SYNC_H_
