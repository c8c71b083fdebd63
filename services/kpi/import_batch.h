// ImportBatch: the rows of one ImportActuals stream, checked as they arrive
// and kept, compactly, until the client half-closes; then applied in one
// write.
//
// Rows are checked against the KPIs' definitions (kpi_rules.h) the moment
// their message arrives, on the gRPC thread, outside any transaction: a bad
// row is recorded (its line, field and message) and the import goes on
// reading, so the client learns about every bad row in one go. An actual or
// baseline repeated within the import is refused naming the first line (an
// actual repeated is found when it is applied: it was recorded at this very
// import's time).
// What only the store can tell (a baseline year after a stored target's, an
// actual before the stored baseline year) is checked when the batch is
// applied, inside the write; a row refused there fails the whole import
// the same way.
//
// Bounded: at most `max_rows` rows in all and `max_rows_per_message` per
// message (a limit reached refuses the import at once, naming the flag);
// rows are kept in about 60 bytes each, ids and authors interned; at most
// `max_row_errors` errors are kept (with the total counted), so even 10,000
// bad rows make a small answer. Not thread-safe: one stream feeds it, then
// the writer applies it.
//
// Example (what the ImportActuals reactor does):
//   ImportBatch batch(options, lookup);
//   for each message: RETURN_IF_ERROR(batch.Add(message.rows()));  // a limit
//   at the half-close: writer.Import(&batch, ...) → batch.Apply(tx, now, sink, &response)
//   in the write: OK, or INVALID_ARGUMENT with every bad row found (capped)
#ifndef SUISHIN_SERVICES_KPI_IMPORT_BATCH_H_
#define SUISHIN_SERVICES_KPI_IMPORT_BATCH_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "services/kpi/kpi_store.h"
#include "suishin/kpi/v1/kpi.pb.h"

namespace suishin::kpi {

class ChangeSink;

class ImportBatch {
 public:
  struct Options {
    // Rows in one import (--import_max_rows).
    int64_t max_rows = 1000000;
    // Rows in one message of the stream (--import_max_rows_per_message).
    int max_rows_per_message = 10000;
    // Row errors kept and returned; the rest are only counted
    // (--import_max_row_errors).
    int max_row_errors = 20;
  };

  // A KPI's definition by id, nullopt when there is none; an error when the
  // store could not say. Called once per KPI the import names.
  using KpiLookup = std::function<absl::StatusOr<std::optional<v1::Kpi>>(const std::string& id)>;

  ImportBatch(Options options, KpiLookup lookup);

  ImportBatch(const ImportBatch&) = delete;
  ImportBatch& operator=(const ImportBatch&) = delete;

  // Checks and keeps the rows of one message. Bad rows are recorded, not
  // returned. Returns INVALID_ARGUMENT naming the limit when the message or
  // the import has too many rows, or the lookup's error: then the import is
  // refused as a whole.
  absl::Status Add(const google::protobuf::RepeatedPtrField<v1::ImportRow>& rows);

  // Rows received so far (good and bad).
  int64_t rows_received() const { return received_; }
  // Bad rows found so far, in all.
  int64_t error_count() const { return error_count_; }

  // Puts the first bad rows (at most max_row_errors), error_count and
  // rows_applied = 0 into `response`.
  void FillErrors(v1::ImportActualsResponse* response) const;
  // The message of the refusal: "3 of 10 rows refused, nothing stored;
  // line 4: value: must not be negative (got \"-1\")".
  std::string RefusalMessage() const;

  // Applies every good row in `tx`, grouped by KPI so each KPI's changes
  // form one run of the change log. Rows the store refuses are recorded as
  // errors; when there are any (from here or from Add), fills `response`
  // with them and returns INVALID_ARGUMENT (the caller's write then leaves
  // nothing); a store failure is returned as it is. Reports each change to
  // `sink`. Sets rows_applied and last_sequence in `response`.
  absl::Status Apply(KpiTransaction& tx, absl::Time now, ChangeSink& sink,
                     v1::ImportActualsResponse* response);

 private:
  // One row as kept: ids interned (index into names_), no proto overhead.
  struct Row {
    int64_t line;
    double value;
    double numerator;
    double denominator;
    uint32_t kpi;     // index into kpis_
    uint32_t region;  // index into names_
    uint32_t author;  // index into names_
    uint32_t reason;  // index into names_
    int16_t year;
    uint8_t kind;  // v1::RowKind, never UNSPECIFIED
    bool has_ratio;
  };
  struct KpiEntry {
    std::string id;
    std::optional<v1::Kpi> kpi;  // nullopt: no such KPI
  };

  void Refuse(int64_t line, const absl::Status& status);
  uint32_t Intern(const std::string& text);
  // The line of the first row with `repeat`'s kind, KPI, region and year.
  int64_t FirstLineOf(const Row& repeat) const;
  absl::StatusOr<uint32_t> KpiIndex(const std::string& id);

  Options options_;
  KpiLookup lookup_;
  std::vector<Row> rows_;
  std::vector<KpiEntry> kpis_;
  absl::flat_hash_map<std::string, uint32_t> kpi_index_;
  std::vector<std::string> names_;
  absl::flat_hash_map<std::string, uint32_t> name_index_;
  // (KPI, region) of the baselines in the import → the row's line.
  absl::flat_hash_map<uint64_t, int64_t> baselines_;
  // What the last good row named, checked and interned: the next row that
  // names the same skips the checks and lookups. The region is only valid
  // for the KPI (a new KPI starts afresh).
  struct Recent {
    std::optional<uint32_t> kpi;
    std::string kpi_id;
    std::optional<uint32_t> region;
    std::string region_id;
    std::optional<uint32_t> author;
    std::string author_text;
    std::optional<uint32_t> reason;
    std::string reason_text;
  };
  Recent recent_;
  int64_t received_ = 0;
  int64_t error_count_ = 0;
  std::vector<v1::RowError> errors_;
};

}  // namespace suishin::kpi

#endif  // SUISHIN_SERVICES_KPI_IMPORT_BATCH_H_
