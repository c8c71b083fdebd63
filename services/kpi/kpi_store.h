// Where kpi-service keeps its data: KPI definitions, baselines, targets with
// their revisions, yearly actuals, and the ordered change log.
//
// Writes come as groups of bodies (a function given a KpiTransaction): the
// group is one durable commit, and each body is all or nothing on its own
// (BatchWriter hands the service's writes to RunGroup). The rules live in
// kpi-service's write path; the store only keeps and finds records. Every
// write to a KPI's values goes with an AppendChange in the same body, so the
// change log and the data can never disagree, and a change's sequence is
// durable once its group is.
//
// The change log is kept in runs: consecutive changes of one KPI share a
// row, so an import of a million rows writes a thousand log rows, not a
// million; an index by KPI serves WatchChanges and GetHistory of one KPI.
#ifndef SUISHIN_SERVICES_KPI_KPI_STORE_H_
#define SUISHIN_SERVICES_KPI_KPI_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/store_listener.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

// A stored KPI with the key that orders it (insertion order).
struct KeyedKpi {
  int64_t key;
  v1::Kpi kpi;
};

// Which changes to read.
struct ChangeQuery {
  // Only sequences at or after this.
  int64_t from_sequence = 1;
  // When not empty, only this KPI; then only this region; then only this year.
  std::string kpi_id;
  std::string region_id;
  int fiscal_year = 0;
  // At most this many changes...
  int limit = 1000;
  // ...and no more than this many examined (matching or not) in one read.
  int max_examined = 100000;
};

// What a read of the change log found.
struct ChangePage {
  // The matching changes, in sequence order.
  std::vector<v1::Change> changes;
  // The last sequence examined, matching or not; the log's last sequence
  // when the read reached its end (0 when the log is empty). The next read
  // of the same query starts after it.
  int64_t scanned_through = 0;
  // True when the read reached the end of the log.
  bool at_end = false;
};

class KpiTransaction {
 public:
  virtual ~KpiTransaction() = default;

  // Who makes the changes appended from now on (the caller's principal):
  // AppendChange records it in each (Change.principal). "" for none.
  void set_principal(std::string principal) { principal_ = std::move(principal); }
  const std::string& principal() const { return principal_; }

  // ---- Definitions ----
  // nullopt when there is no such KPI.
  virtual absl::StatusOr<std::optional<v1::Kpi>> FindKpi(absl::string_view id) = 0;
  // KPIs (of one project when `project_id` is not empty) with keys after
  // `after_key`, in key order, at most `limit`.
  virtual absl::StatusOr<std::vector<KeyedKpi>> ListKpis(absl::string_view project_id,
                                                         int64_t after_key, int limit) = 0;
  // Adds a KPI, or replaces the one with the same id (keeping its key).
  virtual absl::Status PutKpi(const v1::Kpi& kpi) = 0;

  // ---- Baselines and targets: at most one of each per KPI and region ----
  virtual absl::StatusOr<std::vector<v1::Baseline>> Baselines(absl::string_view kpi_id) = 0;
  virtual absl::Status PutBaseline(absl::string_view kpi_id, const v1::Baseline& baseline) = 0;
  virtual absl::StatusOr<std::vector<v1::Target>> Targets(absl::string_view kpi_id) = 0;
  virtual absl::Status PutTarget(absl::string_view kpi_id, const v1::Target& target) = 0;

  // ---- Actuals: at most one per KPI, region and fiscal year ----
  virtual absl::StatusOr<std::optional<v1::Actual>> FindActual(absl::string_view kpi_id,
                                                               absl::string_view region_id,
                                                               int fiscal_year) = 0;
  // Actuals of a KPI (in one region when `region_id` is not empty), ordered
  // by region and year.
  virtual absl::StatusOr<std::vector<v1::Actual>> Actuals(absl::string_view kpi_id,
                                                          absl::string_view region_id) = 0;
  // Actuals of a KPI in one fiscal year, every region, ordered by region.
  virtual absl::StatusOr<std::vector<v1::Actual>> ActualsInYear(absl::string_view kpi_id,
                                                                int fiscal_year) = 0;
  // Adds an actual, or replaces the one for the same KPI, region and year.
  virtual absl::Status PutActual(const v1::Actual& actual) = 0;
  // Adds an actual if there is none for its KPI, region and year: true when
  // added, false (storing nothing) when one is there.
  virtual absl::StatusOr<bool> InsertActualIfAbsent(const v1::Actual& actual) = 0;

  // ---- The change log ----
  // Appends `change` (its sequence must be unset) and returns the sequence
  // it got: the next after the last, without gaps, in commit order. `change`
  // is borrowed while it is encoded and left as it was but for its
  // principal, which becomes the transaction's. Only in a write.
  virtual absl::StatusOr<int64_t> AppendChange(v1::Change& change) = 0;
  // Changes matching `query`, in sequence order, and how far the read looked.
  virtual absl::StatusOr<ChangePage> Changes(const ChangeQuery& query) = 0;
  // The last sequence of each KPI: its cache generation.
  virtual absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> LastSequences() = 0;
  // The last sequence of the log; 0 when it is empty.
  virtual absl::StatusOr<int64_t> LastSequence() = 0;
  // The last sequence of one KPI (its generation); 0 when it has none.
  virtual absl::StatusOr<int64_t> LastSequenceOf(absl::string_view kpi_id) = 0;

 private:
  std::string principal_;
};

class KpiStore {
 public:
  using Body = std::function<absl::Status(KpiTransaction&)>;

  virtual ~KpiStore() = default;

  // Runs `bodies` in order as one group: each body is all or nothing (a body
  // that fails leaves no trace, and the sequences it took are given to the
  // next), the group is one durable commit. Fills one status per body: its
  // own, or the commit's error (then nothing of the group is stored).
  // Returns the commit's status. Called by one writer at a time (the
  // service's BatchWriter); safe from several threads all the same.
  virtual absl::Status RunGroup(const std::vector<const Body*>& bodies,
                                std::vector<absl::Status>* outcomes) = 0;

  // Runs `body`, which only reads, on a consistent snapshot of everything
  // committed when it starts. It never waits for a write in progress, and
  // several run at once.
  virtual absl::Status Read(const Body& body) = 0;

  // The change log's last sequence as committed now (0 when empty): one
  // cheap read, for a replica that checks whether others have written.
  virtual absl::StatusOr<int64_t> LogHead() {
    int64_t head = 0;
    absl::Status read = Read([&](KpiTransaction& tx) -> absl::Status {
      absl::StatusOr<int64_t> last = tx.LastSequence();
      if (!last.ok()) return last.status();
      head = *last;
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
    return head;
  }

  // True when other processes may write to this store too (several
  // replicas on one database); then Listen announces their commits.
  virtual bool Shared() const { return false; }
  // A listener for the commits of other processes; nullptr when the store
  // is not shared.
  virtual std::unique_ptr<StoreListener> Listen() { return nullptr; }

  // One body alone, as a group of one: for start-up and tests; the service's
  // writes go through its BatchWriter.
  absl::Status Run(const Body& body) {
    std::vector<absl::Status> outcomes;
    RunGroup({&body}, &outcomes).IgnoreError();
    return outcomes.empty() ? absl::InternalError("no outcome") : outcomes[0];
  }
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_KPI_STORE_H_
