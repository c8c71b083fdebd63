// ReadModel: what kpi-service's read RPCs answer from (GetProgress,
// GetAggregate, GetKpiTable).
//
// Per KPI it keeps an immutable snapshot: the KPI's data read in one unit of
// work at one generation (the sequence of its last change), the figures
// computed over it (kpi_figures.h), and the answers asked for most computed
// once when it is built: every region's progress series and every area's
// aggregate in every year the KPI has figures for. A warm read is a pointer
// load (the slot, then its snapshot), a lookup and a copy of the answer: no
// parsing, no store, nothing proportional to history it does not return.
//
// Freshness: the write path calls Moved(kpi, sequence) after a commit and
// before the write's RPC answers; a snapshot older than the KPI's last
// Moved sequence is never used, so a read after a write's answer always
// sees it. Without a current snapshot a read asks the FigureCache (this
// process's answers, then Redis: what another process computed at the same
// generation) and on a miss builds the snapshot from the store; a KPI the
// FigureCache answers for twice gets its snapshot too (a process started
// beside a warm Redis). Snapshots are replaced whole, never patched. Answers a snapshot did not
// compute ahead (GetProgress as of a year, an aggregate outside the KPI's
// years) are computed from it and kept in the FigureCache.
//
// With caching off (FigureCache::Options::enabled false, --cache=false) no
// answer is kept, here or in Redis: snapshots hold the KPI's data and
// figures only, and every read computes its answer from them (the cold
// figures of bench.sh: GetAggregate over 北海道 adds up its 179 市町村 level
// by level on every call). The store is read only to build a snapshot,
// when a KPI is first read or has moved, caching on or off.
//
// Thread-safe: readers never block each other or the writer; two readers
// that both miss may both build, and the newer snapshot stays.
#ifndef SUISHIN_SERVICES_KPI_READ_MODEL_H_
#define SUISHIN_SERVICES_KPI_READ_MODEL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/kpi/figure_cache.h"
#include "services/kpi/kpi_figures.h"
#include "services/kpi/kpi_store.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

// One KPI's figures at one generation, with its most asked answers.
struct KpiSnapshot {
  // With `ahead`, every region's progress and every area's aggregates are
  // computed now; without (caching off), none are: each read computes its own.
  KpiSnapshot(KpiData loaded, bool ahead);

  KpiData data;
  KpiFigures figures;  // over `data`
  // Per region: GetProgress without as_of, and the aggregates of a region
  // with regions below it from first_year on (one per year). Each answer is
  // handed to the FigureCache (Redis, for other processes) the first time
  // it is served: the published flags, the only state that changes.
  struct Region {
    v1::GetProgressResponse progress;
    std::string progress_bytes;  // progress, serialized
    mutable std::atomic<bool> progress_published{false};
    int first_year = 0;
    std::vector<v1::GetAggregateResponse> aggregates;
    std::vector<std::string> aggregate_bytes;  // aggregates, serialized
    std::unique_ptr<std::atomic<bool>[]> aggregates_published;
  };
  absl::node_hash_map<std::string, Region> regions;
  // Roughly what the snapshot takes: its data, and the kept answers (their
  // bytes and their messages).
  size_t bytes = 0;
};

class ReadModel {
 public:
  // How many bytes of snapshots are kept before they are all dropped and
  // built again as they are read (the FigureCache's policy too): a bound
  // on memory whatever the number of KPIs read.
  static constexpr size_t kDefaultMaxKeptBytes = size_t{256} << 20;

  // `store` and `cache` must outlive the model; `cache` also says whether
  // caching is on.
  ReadModel(KpiStore* store, FigureCache* cache, size_t max_kept_bytes = kDefaultMaxKeptBytes);

  ReadModel(const ReadModel&) = delete;
  ReadModel& operator=(const ReadModel&) = delete;

  absl::Status GetProgress(const v1::GetProgressRequest& request,
                           v1::GetProgressResponse* response);

  // An answer as bytes on the wire (a serialized response), and what keeps
  // them alive: the snapshot they belong to, or a string of their own.
  struct Wire {
    std::shared_ptr<const void> owner;
    absl::string_view bytes;
  };
  // GetProgress and GetAggregate, serialized: a warm answer is the kept
  // bytes themselves, not even copied (kpi-service sends them as they are).
  absl::StatusOr<Wire> GetProgressWire(const v1::GetProgressRequest& request);
  absl::StatusOr<Wire> GetAggregateWire(const v1::GetAggregateRequest& request);
  // GetKpiTable, serialized: kept per (project, year, with_municipalities)
  // while none of its KPIs has moved and no KPI has been added.
  absl::StatusOr<Wire> GetKpiTableWire(const v1::GetKpiTableRequest& request);
  absl::Status GetAggregate(const v1::GetAggregateRequest& request,
                            v1::GetAggregateResponse* response);
  absl::Status GetKpiTable(const v1::GetKpiTableRequest& request,
                           v1::GetKpiTableResponse* response);

  // The write path: `kpi_id` committed a change with `sequence`. Called
  // before the write answers; snapshots older than it are dropped.
  void Moved(const std::string& kpi_id, int64_t sequence);

  // A current snapshot of `kpi_id` (NOT_FOUND naming `field` when there is
  // no such KPI): the kept one, or one built now and kept.
  absl::StatusOr<std::shared_ptr<const KpiSnapshot>> Snapshot(absl::string_view field,
                                                              const std::string& kpi_id);

 private:
  struct Slot {
    // The sequence of the last change the write path reported.
    std::atomic<int64_t> generation{0};
    // Answers the FigureCache gave for the KPI since it last moved: from the
    // second on, the KPI is read often enough to keep a snapshot of.
    std::atomic<int> cache_answers{0};
    // Read and replaced with std::atomic_load / std::atomic_store.
    std::shared_ptr<const KpiSnapshot> snapshot;
  };
  using Slots = absl::flat_hash_map<std::string, std::shared_ptr<Slot>>;

  // The slot of `kpi_id`, nullptr when there is none yet.
  std::shared_ptr<Slot> FindSlot(absl::string_view kpi_id) const;
  // The slot of `kpi_id`, added when there is none.
  std::shared_ptr<Slot> AddSlot(const std::string& kpi_id);
  // A kept snapshot that is current, or nullptr.
  std::shared_ptr<const KpiSnapshot> Current(absl::string_view kpi_id) const;
  // An answer came from the FigureCache: builds the snapshot when the KPI
  // is asked for again (the answer stands either way).
  void AnsweredByCache(const std::string& kpi_id);
  // Hands a snapshot's answer to the FigureCache the first time it is served.
  void Publish(std::atomic<bool>& published, const std::string& kpi_id, absl::string_view kind,
               absl::string_view args, const std::string& bytes);
  // GetKpiTable; the generation of each KPI's snapshot it used in `used`
  // (when not null).
  absl::Status ComputeTable(const v1::GetKpiTableRequest& request,
                            v1::GetKpiTableResponse* response,
                            std::vector<std::pair<std::string, int64_t>>* used);
  // Reads the KPI whole and computes its snapshot.
  absl::StatusOr<std::shared_ptr<const KpiSnapshot>> Build(absl::string_view field,
                                                           const std::string& kpi_id);

  // A table as sent, and what it was computed from.
  struct KeptTable {
    int64_t slots_added = 0;                                   // slots_added_ then
    std::vector<std::pair<std::string, int64_t>> generations;  // of its KPIs' snapshots
    std::shared_ptr<const std::string> bytes;
  };

  // Drops every kept snapshot (the bound was reached).
  void DropAll();

  KpiStore* store_;
  FigureCache* cache_;
  // Caching is on: snapshots compute their answers ahead, answers go to
  // the FigureCache, tables are kept.
  const bool ahead_;
  const size_t max_kept_bytes_;
  std::atomic<int64_t> kept_bytes_{0};
  // Bumped whenever a slot is added (a KPI created, or first read): a kept
  // table may lack a KPI created since.
  std::atomic<int64_t> slots_added_{0};
  absl::Mutex tables_mu_;
  absl::flat_hash_map<std::string, KeptTable> tables_ ABSL_GUARDED_BY(tables_mu_);
  // Copy on write: readers load the map with std::atomic_load; a new KPI's
  // slot copies it under add_mu_ (rare: once per KPI).
  std::shared_ptr<const Slots> slots_;
  absl::Mutex add_mu_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_READ_MODEL_H_
