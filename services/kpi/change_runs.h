// The change log's runs, as both stores keep them: consecutive changes of
// one KPI share a row, each change a suishin.kpi.v1.Change without its
// sequence and KPI (the row's first sequence + its place, and the row's KPI)
// and without the time, kind, author, reason, region and principal it shares
// with the change before it. One row per run instead of one per change keeps
// a large import's log cheap to write, on SQLite and PostgreSQL alike.
//
// Each change is stored as: varint flags, varint length, the Change's bytes,
// where a field whose flag is not set was left out because it equals the
// same field of the change before it in the run (the first change has every
// flag set).
#ifndef SUISHIN_SERVICES_KPI_CHANGE_RUNS_H_
#define SUISHIN_SERVICES_KPI_CHANGE_RUNS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/kpi/kpi_store.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

// Changes of one KPI in a run row at most.
constexpr int kMaxRun = 1024;

// The shared fields of the change before, while a run is encoded or decoded.
struct RunContext {
  bool valid = false;
  google::protobuf::Timestamp time;
  v1::ChangeKind kind = v1::CHANGE_KIND_UNSPECIFIED;
  std::string author;
  std::string reason;
  std::string region;
  std::string principal;

  void Remember(const v1::Change& change);
};

// Appends `change` (without its KPI) to a run's data, leaving out what it
// shares with the change before (`context`), which it then becomes. The
// change is borrowed: fields are moved out while it is encoded, and back.
void EncodeInto(v1::Change& change, RunContext& context, std::string* data);

// Calls `each(change)` for every change of a run row, with its sequence and
// KPI filled in, until it returns false. DATA_LOSS when the row is damaged.
absl::Status DecodeRun(int64_t first_sequence, int64_t last_sequence, absl::string_view kpi_id,
                       absl::string_view data, const std::function<bool(v1::Change&)>& each);

// A run being built by a write: the changes one body appends to one KPI,
// until another KPI's change, kMaxRun changes or the body's end flushes it.
struct RunBuilder {
  std::string kpi;
  int64_t first = 0;
  int64_t last = 0;
  int count = 0;
  std::string data;
  RunContext context;

  // True when `change` cannot join the run being built (flush it first).
  bool Breaks(const v1::Change& change) const {
    return count > 0 && (change.kpi_id() != kpi || count >= kMaxRun);
  }
  // Adds `change` (borrowed, with its principal set) under `sequence`.
  void Add(v1::Change& change, int64_t sequence);
  // Forgets the run (written, or its body failed).
  void Clear() { count = 0; }

 private:
  std::string scratch_;
};

// The steps of one write group, as both stores run them: each body, then
// the run it was building written; a body that fails is rolled back to its
// savepoint by the caller, so here it forgets its run and gives its
// sequences back to the next body (`next_sequence`). `Tx` has FlushRun()
// and DiscardRun().
template <typename Tx>
std::vector<std::function<absl::Status()>> GroupSteps(
    const std::vector<const KpiStore::Body*>& bodies, Tx& transaction, int64_t& next_sequence) {
  std::vector<std::function<absl::Status()>> steps;
  steps.reserve(bodies.size());
  for (const KpiStore::Body* body : bodies) {
    steps.push_back([&transaction, &next_sequence, body]() -> absl::Status {
      const int64_t mark = next_sequence;
      absl::Status status = (*body)(transaction);
      if (status.ok()) status = transaction.FlushRun();
      if (!status.ok()) {
        transaction.DiscardRun();
        next_sequence = mark;
      }
      return status;
    });
  }
  return steps;
}

// Reads a ChangePage out of run rows given in first-sequence order, from
// the run holding the query's from_sequence (or the first after it) on.
class ChangePageBuilder {
 public:
  explicit ChangePageBuilder(const ChangeQuery& query);

  // The first sequence wanted (at least 1).
  int64_t from() const { return from_; }
  // Adds one run row: false once the page is full (read no further).
  absl::StatusOr<bool> AddRun(int64_t first, int64_t last, absl::string_view kpi_id,
                              absl::string_view data);
  // The page. `at_end`: the rows ran out; then `log_last` is the log's last
  // sequence, which the read has looked through whatever its filter.
  ChangePage Finish(bool at_end, int64_t log_last);

 private:
  const ChangeQuery& query_;
  const int64_t from_;
  ChangePage page_;
  int examined_ = 0;
  bool full_ = false;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_CHANGE_RUNS_H_
