// FigureCache: computed progress and aggregates, cached in this process and
// in Redis, keyed by each KPI's generation so no reader sees an old figure
// after a write returns.
//
// A KPI's generation is the sequence of its last change. Every write bumps it
// (Bump) before the write's RPC returns, and every key carries it, so figures
// computed before the write are simply never asked for again. Lookups try the
// process's own map first, then Redis; Redis is only a cache: when it is down
// or slow, lookups miss and the caller computes from SQLite, and figures flow
// back into Redis once it answers again.
//
// Thread-safe.
//
// Example:
//   const std::string key = cache.Key(kpi_id, "aggregate", "dohoku/2018");
//   if (auto hit = cache.Get(key)) return Parse(*hit);
//   ... compute ...
//   cache.Put(key, figure.SerializeAsString());
#ifndef SUISHIN_SERVICES_KPI_FIGURE_CACHE_H_
#define SUISHIN_SERVICES_KPI_FIGURE_CACHE_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/shared_cache.h"

namespace suishin::kpi {

class FigureCache {
 public:
  struct Options {
    // False turns caching off: every Get misses and Put does nothing.
    bool enabled = true;
    // How many entries this process keeps before it starts over.
    size_t max_local_entries = 200000;
    // How long Redis keeps an entry.
    absl::Duration redis_ttl = absl::Hours(1);
  };

  struct Stats {
    int64_t local_hits = 0;
    int64_t redis_hits = 0;
    int64_t misses = 0;
    // Redis calls that failed (down, timed out); each counted as a miss or a
    // skipped Put.
    int64_t redis_errors = 0;
  };

  // `shared` (Redis in production; common/shared_cache.h) may be null (none
  // configured); it must outlive the cache.
  FigureCache(SharedCache* shared, Options options);

  FigureCache(const FigureCache&) = delete;
  FigureCache& operator=(const FigureCache&) = delete;

  // Sets every KPI's generation at start-up (from the change log), and its
  // baselines' and targets' (not known from the log: taken to be as recent).
  void LoadGenerations(const std::vector<std::pair<std::string, int64_t>>& generations);
  // Raises a KPI's generation to `sequence` (never lowers it).
  void Bump(absl::string_view kpi_id, int64_t sequence);
  // 0 for a KPI with no change yet.
  int64_t Generation(absl::string_view kpi_id) const;

  // A write is about to commit a baseline or target of the KPI with a change
  // sequence of at most `sequence`: called before the commit, so a reader
  // that sees the change also sees this (a write that then fails leaves it
  // too high, which only costs a reader some figures). Never lowers it.
  void BaselinesOrTargetsChanged(absl::string_view kpi_id, int64_t sequence);
  // The sequence of the KPI's last baseline or target change, at least; 0
  // for none since start-up.
  int64_t BaselinesOrTargetsGeneration(absl::string_view kpi_id) const;

  // The key of a figure of `kpi_id` at its current generation.
  std::string Key(absl::string_view kpi_id, absl::string_view kind, absl::string_view args) const;

  std::optional<std::string> Get(const std::string& key);
  void Put(const std::string& key, const std::string& value);

  // A figure answered from this process's own read model (read_model.h),
  // counted with the local hits.
  void CountLocalHit();

  // Whether caching is on.
  bool enabled() const { return options_.enabled; }

  Stats stats() const;

 private:
  SharedCache* shared_;
  Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int64_t> generations_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> definition_generations_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> local_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> local_hits_{0};
  std::atomic<int64_t> redis_hits_{0};
  std::atomic<int64_t> misses_{0};
  std::atomic<int64_t> redis_errors_{0};
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_FIGURE_CACHE_H_
