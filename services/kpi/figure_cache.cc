#include "services/kpi/figure_cache.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace suishin::kpi {

FigureCache::FigureCache(SharedCache* shared, Options options)
    : shared_(shared), options_(options) {}

void FigureCache::LoadGenerations(const std::vector<std::pair<std::string, int64_t>>& generations) {
  absl::MutexLock lock(&mu_);
  for (const auto& [kpi_id, sequence] : generations) {
    generations_[kpi_id] = sequence;
    definition_generations_[kpi_id] = sequence;
  }
}

namespace {

using Generations = absl::flat_hash_map<std::string, int64_t>;

void Raise(Generations& generations, absl::string_view kpi_id, int64_t sequence) {
  int64_t& generation = generations[kpi_id];
  generation = std::max(generation, sequence);
}

int64_t Of(const Generations& generations, absl::string_view kpi_id) {
  auto it = generations.find(kpi_id);
  return it == generations.end() ? 0 : it->second;
}

}  // namespace

void FigureCache::Bump(absl::string_view kpi_id, int64_t sequence) {
  absl::MutexLock lock(&mu_);
  Raise(generations_, kpi_id, sequence);
}

int64_t FigureCache::Generation(absl::string_view kpi_id) const {
  absl::ReaderMutexLock lock(&mu_);
  return Of(generations_, kpi_id);
}

void FigureCache::BaselinesOrTargetsChanged(absl::string_view kpi_id, int64_t sequence) {
  absl::MutexLock lock(&mu_);
  Raise(definition_generations_, kpi_id, sequence);
}

int64_t FigureCache::BaselinesOrTargetsGeneration(absl::string_view kpi_id) const {
  absl::ReaderMutexLock lock(&mu_);
  return Of(definition_generations_, kpi_id);
}

std::string FigureCache::Key(absl::string_view kpi_id, absl::string_view kind,
                             absl::string_view args) const {
  const std::string name =
      absl::StrCat("kpi:", kpi_id, ":g", Generation(kpi_id), ":", kind, ":", args);
  return shared_ != nullptr ? shared_->Key(name) : absl::StrCat("suishin:", name);
}

std::optional<std::string> FigureCache::Get(const std::string& key) {
  if (!options_.enabled) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = local_.find(key);
    if (it != local_.end()) {
      local_hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second;
    }
  }
  if (shared_ != nullptr) {
    absl::StatusOr<std::optional<std::string>> reply = shared_->Get(key);
    absl::MutexLock lock(&mu_);
    if (!reply.ok()) {
      redis_errors_.fetch_add(1, std::memory_order_relaxed);
    } else if (reply->has_value()) {
      redis_hits_.fetch_add(1, std::memory_order_relaxed);
      if (local_.size() >= options_.max_local_entries) local_.clear();
      local_[key] = **reply;
      return *reply;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return std::nullopt;
}

void FigureCache::Put(const std::string& key, const std::string& value) {
  if (!options_.enabled) return;
  {
    absl::MutexLock lock(&mu_);
    if (local_.size() >= options_.max_local_entries) local_.clear();
    local_[key] = value;
  }
  if (shared_ != nullptr && !shared_->Set(key, value, options_.redis_ttl).ok()) {
    redis_errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

void FigureCache::CountLocalHit() { local_hits_.fetch_add(1, std::memory_order_relaxed); }

FigureCache::Stats FigureCache::stats() const {
  Stats stats;
  stats.local_hits = local_hits_.load(std::memory_order_relaxed);
  stats.redis_hits = redis_hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  stats.redis_errors = redis_errors_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace suishin::kpi
