#include "services/kpi/replica_sync.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "services/kpi/kpi_catalog.h"
#include "services/kpi/kpi_writer.h"

namespace suishin::kpi {
namespace {

// Changes folded per read of the log.
constexpr int kFoldPage = 4096;

}  // namespace

ReplicaSync::ReplicaSync(KpiStore* store, FigureCache* cache, ReadModel* reads, SequenceFeed* feed,
                         int64_t applied, Options options)
    : store_(store),
      cache_(cache),
      reads_(reads),
      feed_(feed),
      options_(options),
      applied_(applied) {}

ReplicaSync::~ReplicaSync() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void ReplicaSync::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void ReplicaSync::Loop() {
  std::unique_ptr<StoreListener> listener = store_->Listen();
  while (!stopping_) {
    if (listener != nullptr) {
      listener->Wait(options_.poll_interval);
    } else {
      absl::SleepFor(options_.poll_interval);
    }
    if (stopping_) break;
    if (absl::Status status = CatchUp(); !status.ok()) {
      LogWarning("replica_catch_up_failed", {{"error", std::string(status.message())}});
    }
  }
}

absl::StatusOr<int64_t> ReplicaSync::FreshHead() {
  absl::MutexLock lock(&head_mu_);
  const uint64_t mine = ++arrivals_;
  while (covered_ < mine) {
    if (!reading_) {
      // A read begun now covers every caller so far, this one included.
      reading_ = true;
      const uint64_t cover = arrivals_;
      head_mu_.Unlock();
      absl::StatusOr<int64_t> head = store_->LogHead();
      head_reads_.fetch_add(1);
      head_mu_.Lock();
      reading_ = false;
      covered_ = cover;
      last_head_ = std::move(head);
      break;
    }
    // A read begun before this call: wait for it, then look again.
    head_mu_.Await(absl::Condition(
        +[](bool* reading) { return !*reading; }, &reading_));
  }
  return last_head_;
}

absl::Status ReplicaSync::CatchUp() {
  ASSIGN_OR_RETURN(const int64_t head, FreshHead());
  if (head <= applied_.load()) return absl::OkStatus();
  absl::MutexLock lock(&fold_mu_);
  while (applied_.load() < head) {
    ChangeQuery query;
    query.from_sequence = applied_.load() + 1;
    query.limit = kFoldPage;
    query.max_examined = kFoldPage;
    ChangePage page;
    RETURN_IF_ERROR(store_->Read([&](KpiTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(page, tx.Changes(query));
      return absl::OkStatus();
    }));
    if (page.scanned_through <= applied_.load()) break;  // nothing new after all
    // What the write path does after its own commit, for each KPI the page
    // moved, and the feed told in one go, in sequence order.
    absl::flat_hash_map<std::string, int64_t> last_by_kpi;
    std::vector<FeedEntry> entries;
    for (const v1::Change& change : page.changes) {
      last_by_kpi[change.kpi_id()] = change.sequence();
      if (change.kind() == v1::CHANGE_KIND_BASELINE_SET ||
          change.kind() == v1::CHANGE_KIND_TARGET_REVISED) {
        cache_->BaselinesOrTargetsChanged(change.kpi_id(), change.sequence());
      }
      if (entries.empty() || entries.back().kpi_id != change.kpi_id()) {
        FeedEntry entry;
        entry.sequence = change.sequence();
        entry.kpi_id = change.kpi_id();
        entries.push_back(std::move(entry));
      }
    }
    for (const auto& [kpi_id, sequence] : last_by_kpi) {
      cache_->Bump(kpi_id, sequence);
      reads_->Moved(kpi_id, sequence);
    }
    applied_ = page.scanned_through;
    feed_->Published(page.scanned_through, entries);
  }
  return absl::OkStatus();
}

std::unique_ptr<ReplicaSync> FollowReplicas(KpiStore* store, FigureCache* cache, ReadModel* reads,
                                            SequenceFeed* feed, KpiWriter* writer,
                                            KpiCatalog* catalog, ReplicaSync::Options options) {
  if (!store->Shared()) return nullptr;
  auto sync = std::make_unique<ReplicaSync>(store, cache, reads, feed, feed->last(), options);
  writer->set_replica_sync(sync.get());
  catalog->set_replica_sync(sync.get());
  sync->Start();
  return sync;
}

}  // namespace suishin::kpi
