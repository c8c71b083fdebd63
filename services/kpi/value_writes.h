// The writes of a KPI's values inside a transaction: a baseline, a target
// (keeping the one it replaces as a revision), an actual (a correction keeps
// the old figure in its change). Each is checked against what is stored and
// appends its change-log entry in the same transaction, and reports the
// change to a ChangeSink so the write path can publish it after the commit.
//
// Shared by the unary writes and ImportActuals: both run these on the
// writer thread, inside a body of the service's BatchWriter. Not thread-safe
// (a transaction belongs to one thread).
#ifndef SUISHIN_SERVICES_KPI_VALUE_WRITES_H_
#define SUISHIN_SERVICES_KPI_VALUE_WRITES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/sequence_feed.h"
#include "services/kpi/kpi_store.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

// What one write appended to the change log, for after its commit: the
// feed's entries (one per run of one KPI's changes) and each KPI's last
// sequence (its new cache generation).
class ChangeSink {
 public:
  void Added(const std::string& kpi_id, int64_t sequence);
  // The write set (or tried to set) a baseline, or a target, of the KPI.
  void BaselinesChanged(const std::string& kpi_id) {
    baselines_changed_.push_back(kpi_id);
    definitions_changed_.push_back(kpi_id);
  }
  void TargetsChanged(const std::string& kpi_id) { definitions_changed_.push_back(kpi_id); }
  const std::vector<std::string>& baselines_changed() const { return baselines_changed_; }
  // The KPIs whose baselines or targets the write set or tried to set.
  const std::vector<std::string>& definitions_changed() const { return definitions_changed_; }

  const std::vector<FeedEntry>& entries() const { return entries_; }
  // Each KPI's last sequence.
  absl::flat_hash_map<std::string, int64_t> LastByKpi() const;
  int64_t last() const { return last_; }
  bool empty() const { return last_ == 0; }

 private:
  std::vector<FeedEntry> entries_;
  std::vector<int64_t> run_lasts_;  // the last sequence of each entry's run
  int64_t last_ = 0;
  std::vector<std::string> baselines_changed_;
  std::vector<std::string> definitions_changed_;
};

// The KPI with id `id` as stored, or NOT_FOUND naming `field`.
absl::StatusOr<v1::Kpi> RequireKpi(KpiTransaction& tx, absl::string_view field,
                                   absl::string_view id);

// Sets the baseline of `baseline.region_id()` (checked here: region, year,
// figure, author; its year must be before the region's stored target year).
// Returns the change's sequence.
absl::StatusOr<int64_t> ApplyBaseline(KpiTransaction& tx, const v1::Kpi& kpi,
                                      absl::string_view prefix, v1::Baseline baseline,
                                      absl::string_view author, absl::Time now, ChangeSink& sink);

// Sets or revises the target of `region_id` (checked here; its year must be
// after the region's stored baseline year). Returns the target as stored
// (with its revisions) and the change's sequence.
absl::StatusOr<std::pair<v1::Target, int64_t>> ApplyTarget(KpiTransaction& tx, const v1::Kpi& kpi,
                                                           absl::string_view prefix,
                                                           absl::string_view region_id, int year,
                                                           double value, absl::string_view author,
                                                           absl::string_view reason, absl::Time now,
                                                           ChangeSink& sink);

// How ApplyActual is asked.
struct ActualWrite {
  const v1::Kpi* kpi = nullptr;
  // The KPI's baselines as stored in the transaction (an actual may not come
  // before its region's baseline year).
  const std::vector<v1::Baseline>* baselines = nullptr;
  // Prefix of field names in messages ("actual").
  absl::string_view prefix;
  // True when the fields were checked already (an import row): skips the
  // checks kpi_rules.h makes.
  bool checked = false;
  // An import: a figure already recorded at `now` came from an earlier row
  // of the same import, and is refused rather than corrected.
  bool refuse_repeats = false;
  // Most rows are new (an import): insert first and read the old figure
  // only when one is there. Otherwise (a single write, often a correction)
  // read first.
  bool likely_new = false;
};

struct ActualOutcome {
  // The change's sequence; 0 when the same figure was already there.
  int64_t sequence = 0;
  // True when an earlier figure was replaced.
  bool corrected = false;
};

// Records `actual` (kpi_id, report time and labels are set here) and its
// change. Afterwards `actual` is the record as stored (when the same figure
// was there already, the stored one, with its reporter and time). `change`
// is scratch space a caller may reuse across rows.
absl::StatusOr<ActualOutcome> ApplyActual(KpiTransaction& tx, const ActualWrite& how,
                                          v1::Actual& actual, absl::string_view reason,
                                          absl::Time now, v1::Change& change, ChangeSink& sink);

// A new change with what every change carries.
v1::Change NewChange(v1::ChangeKind kind, absl::string_view kpi_id, absl::string_view region_id,
                     int year, absl::string_view author, absl::string_view reason, absl::Time now);

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_VALUE_WRITES_H_
