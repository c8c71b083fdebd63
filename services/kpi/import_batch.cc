#include "services/kpi/import_batch.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/kpi/kpi_rules.h"
#include "services/kpi/value_writes.h"

namespace suishin::kpi {
namespace {

// The field a status names: what comes before ": " in its message.
std::string FieldOf(absl::string_view message) {
  const size_t colon = message.find(": ");
  return std::string(colon == absl::string_view::npos ? "" : message.substr(0, colon));
}

// A baseline's (KPI, region) as one number, to find repeats.
uint64_t RepeatKey(uint32_t kpi, uint32_t region) {
  return (static_cast<uint64_t>(kpi) << 32) | region;
}

}  // namespace

ImportBatch::ImportBatch(Options options, KpiLookup lookup)
    : options_(options), lookup_(std::move(lookup)) {}

void ImportBatch::Refuse(int64_t line, const absl::Status& status) {
  ++error_count_;
  if (static_cast<int>(errors_.size()) >= options_.max_row_errors) return;
  v1::RowError& error = errors_.emplace_back();
  error.set_line(line);
  error.set_field(FieldOf(status.message()));
  // A message names a value, which may be long: keep the answer small.
  absl::string_view message = status.message();
  error.set_message(std::string(message.substr(0, 300)));
}

int64_t ImportBatch::FirstLineOf(const Row& repeat) const {
  for (const Row& row : rows_) {
    if (row.kind == repeat.kind && row.kpi == repeat.kpi && row.region == repeat.region &&
        row.year == repeat.year) {
      return row.line;
    }
  }
  return repeat.line;
}

uint32_t ImportBatch::Intern(const std::string& text) {
  auto [it, inserted] = name_index_.try_emplace(text, static_cast<uint32_t>(names_.size()));
  if (inserted) names_.push_back(text);
  return it->second;
}

absl::StatusOr<uint32_t> ImportBatch::KpiIndex(const std::string& id) {
  auto it = kpi_index_.find(id);
  if (it != kpi_index_.end()) return it->second;
  ASSIGN_OR_RETURN(std::optional<v1::Kpi> kpi, lookup_(id));
  const auto index = static_cast<uint32_t>(kpis_.size());
  kpis_.push_back({id, std::move(kpi)});
  kpi_index_.emplace(id, index);
  return index;
}

absl::Status ImportBatch::Add(const google::protobuf::RepeatedPtrField<v1::ImportRow>& rows) {
  if (rows.size() > options_.max_rows_per_message) {
    return LimitError("rows in one ImportActualsRequest", rows.size(),
                      options_.max_rows_per_message, "--import_max_rows_per_message");
  }
  if (received_ + rows.size() > options_.max_rows) {
    return LimitError("rows in one import", received_ + rows.size(), options_.max_rows,
                      "--import_max_rows");
  }
  received_ += rows.size();
  // Bounded: the KPIs of one import are at most its rows, but each costs a
  // store read; a flood of distinct unknown ids is cut short.
  for (const v1::ImportRow& row : rows) {
    // Files come grouped: most rows name the KPI, region, reporter and
    // reason the row before named, already checked and interned (recent_).
    if (!recent_.kpi || row.kpi_id() != recent_.kpi_id) {
      recent_ = Recent();
      if (absl::Status status = ValidateId("kpi_id", row.kpi_id()); !status.ok()) {
        Refuse(row.line(), status);
        continue;
      }
      ASSIGN_OR_RETURN(const uint32_t index, KpiIndex(row.kpi_id()));
      recent_.kpi = index;
      recent_.kpi_id = row.kpi_id();
    }
    const uint32_t kpi_index = *recent_.kpi;
    const KpiEntry& entry = kpis_[kpi_index];
    if (!entry.kpi) {
      Refuse(row.line(), FieldError("kpi_id", row.kpi_id(), "is not a KPI kpi-service knows"));
      continue;
    }
    const v1::Kpi& kpi = *entry.kpi;
    const v1::RowKind kind =
        row.kind() == v1::ROW_KIND_UNSPECIFIED ? v1::ROW_KIND_ACTUAL : row.kind();
    absl::Status status;
    if (kind != v1::ROW_KIND_ACTUAL && kind != v1::ROW_KIND_BASELINE &&
        kind != v1::ROW_KIND_TARGET) {
      status = FieldError("kind", absl::StrCat(row.kind()), "must be ACTUAL, BASELINE or TARGET");
    }
    if (status.ok() && !(recent_.region && row.region_id() == recent_.region_id)) {
      status = CheckRegion(kpi, "region_id", row.region_id());
      if (status.ok()) {
        recent_.region = Intern(row.region_id());
        recent_.region_id = row.region_id();
      }
    }
    if (status.ok()) status = RequireYear("fiscal_year.year", row.fiscal_year());
    const bool ratio = kind != v1::ROW_KIND_TARGET;
    if (status.ok()) {
      status = CheckFigure(kpi, "", row.value(), ratio ? OptionalNumerator(row) : std::nullopt,
                           ratio ? OptionalDenominator(row) : std::nullopt);
    }
    if (status.ok() && !(recent_.author && row.reported_by() == recent_.author_text)) {
      status = CheckAuthor("reported_by", row.reported_by());
      if (status.ok()) {
        recent_.author = Intern(row.reported_by());
        recent_.author_text = row.reported_by();
      }
    }
    if (status.ok() && !(recent_.reason && row.reason() == recent_.reason_text)) {
      status = CheckReason("reason", row.reason());
      if (status.ok()) {
        recent_.reason = Intern(row.reason());
        recent_.reason_text = row.reason();
      }
    }
    if (!status.ok()) {
      Refuse(row.line(), status);
      continue;
    }
    Row kept;
    kept.line = row.line();
    kept.kind = static_cast<uint8_t>(kind);
    kept.kpi = kpi_index;
    kept.region = *recent_.region;
    kept.year = static_cast<int16_t>(row.fiscal_year().year());
    kept.value = row.value();
    kept.has_ratio = ratio && row.has_numerator();
    kept.numerator = kept.has_ratio ? row.numerator() : 0;
    kept.denominator = kept.has_ratio ? row.denominator() : 0;
    kept.author = *recent_.author;
    kept.reason = *recent_.reason;
    // A baseline twice in one import is a mistake in the file (an actual
    // twice is found as it is applied; a target may come several times: its
    // revisions, oldest first).
    if (kind == v1::ROW_KIND_BASELINE) {
      auto [it, inserted] = baselines_.emplace(RepeatKey(kept.kpi, kept.region), row.line());
      if (!inserted) {
        Refuse(row.line(), FieldError("region_id", row.region_id(),
                                      absl::StrCat("has a second baseline for KPI \"", row.kpi_id(),
                                                   "\"; the first is on line ", it->second)));
        continue;
      }
    }
    rows_.push_back(kept);
  }
  return absl::OkStatus();
}

void ImportBatch::FillErrors(v1::ImportActualsResponse* response) const {
  response->set_rows_applied(0);
  response->set_last_sequence(0);
  response->set_error_count(error_count_);
  response->clear_errors();
  std::vector<v1::RowError> errors = errors_;  // file order, whichever check found them
  std::stable_sort(errors.begin(), errors.end(), [](const v1::RowError& a, const v1::RowError& b) {
    return a.line() < b.line();
  });
  for (v1::RowError& error : errors) *response->add_errors() = std::move(error);
}

std::string ImportBatch::RefusalMessage() const {
  std::string message =
      absl::StrCat(error_count_, " of ", received_, " rows refused, nothing stored");
  if (!errors_.empty()) {
    absl::StrAppend(&message, "; line ", errors_[0].line(), ": ", errors_[0].message());
  }
  return message;
}

absl::Status ImportBatch::Apply(KpiTransaction& tx, absl::Time now, ChangeSink& sink,
                                v1::ImportActualsResponse* response) {
  // Each KPI's rows together, in file order within it: one run of the change
  // log per KPI, and each KPI's definition and baselines read once.
  std::vector<uint32_t> order(rows_.size());
  std::iota(order.begin(), order.end(), 0);
  auto by_kpi = [this](uint32_t a, uint32_t b) { return rows_[a].kpi < rows_[b].kpi; };
  if (!std::is_sorted(order.begin(), order.end(), by_kpi)) {  // files usually come grouped
    std::stable_sort(order.begin(), order.end(), by_kpi);
  }
  // At the store's precision (microseconds), like every report time.
  now = absl::FromUnixMicros(absl::ToUnixMicros(now));
  int64_t applied = 0;
  uint32_t current = UINT32_MAX;
  std::optional<v1::Kpi> kpi;
  std::optional<std::vector<v1::Baseline>> baselines;
  v1::Actual actual;
  v1::Change change;
  for (const uint32_t index : order) {
    const Row& row = rows_[index];
    if (row.kpi != current) {
      current = row.kpi;
      // Read again inside the write: the KPI is as the transaction sees it.
      ASSIGN_OR_RETURN(kpi, tx.FindKpi(kpis_[row.kpi].id));
      baselines.reset();
    }
    auto refuse = [&](const absl::Status& status) { Refuse(row.line, status); };
    if (!kpi) {
      refuse(FieldError("kpi_id", kpis_[row.kpi].id, "is not a KPI kpi-service knows"));
      continue;
    }
    const std::string& region = names_[row.region];
    absl::Status status;
    switch (static_cast<v1::RowKind>(row.kind)) {
      case v1::ROW_KIND_ACTUAL: {
        if (!baselines) {
          ASSIGN_OR_RETURN(baselines, tx.Baselines(kpi->id()));
        }
        // Field by field, not Clear(): the scratch message keeps its buffers.
        if (actual.region_id() != region) actual.set_region_id(region);
        actual.mutable_fiscal_year()->set_year(row.year);
        actual.set_value(row.value);
        if (row.has_ratio) {
          actual.set_numerator(row.numerator);
          actual.set_denominator(row.denominator);
        } else {
          actual.clear_numerator();
          actual.clear_denominator();
        }
        if (actual.reported_by() != names_[row.author]) actual.set_reported_by(names_[row.author]);
        ActualWrite how;
        how.kpi = &*kpi;
        how.baselines = &*baselines;
        how.checked = true;
        how.refuse_repeats = true;
        how.likely_new = true;
        absl::StatusOr<ActualOutcome> outcome =
            ApplyActual(tx, how, actual, names_[row.reason], now, change, sink);
        status = outcome.status();
        if (!status.ok() && static_cast<int>(errors_.size()) < options_.max_row_errors &&
            absl::StrContains(status.message(), "earlier row of this import")) {
          status = absl::Status(status.code(),
                                absl::StrCat(status.message(), " (line ", FirstLineOf(row), ")"));
        }
        if (outcome.ok() && outcome->sequence > 0) response->set_last_sequence(outcome->sequence);
        break;
      }
      case v1::ROW_KIND_BASELINE: {
        v1::Baseline baseline;
        baseline.set_region_id(region);
        baseline.mutable_fiscal_year()->set_year(row.year);
        baseline.set_value(row.value);
        if (row.has_ratio) {
          baseline.set_numerator(row.numerator);
          baseline.set_denominator(row.denominator);
        }
        absl::StatusOr<int64_t> sequence =
            ApplyBaseline(tx, *kpi, "", baseline, names_[row.author], now, sink);
        status = sequence.status();
        if (sequence.ok()) response->set_last_sequence(*sequence);
        baselines.reset();
        break;
      }
      case v1::ROW_KIND_TARGET: {
        auto target = ApplyTarget(tx, *kpi, "", region, row.year, row.value, names_[row.author],
                                  names_[row.reason], now, sink);
        status = target.status();
        if (target.ok()) response->set_last_sequence(target->second);
        break;
      }
      default:
        status = FieldError("kind", absl::StrCat(row.kind), "must be ACTUAL, BASELINE or TARGET");
    }
    if (!status.ok()) {
      if (status.code() != absl::StatusCode::kInvalidArgument) return status;  // the store
      refuse(status);
      continue;
    }
    ++applied;
  }
  if (error_count_ > 0) {
    FillErrors(response);
    return absl::InvalidArgumentError(RefusalMessage());
  }
  response->set_rows_applied(applied);
  return absl::OkStatus();
}

}  // namespace suishin::kpi
