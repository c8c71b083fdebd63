#include "services/kpi/value_writes.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/fiscal_year.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/kpi/kpi_rules.h"

namespace suishin::kpi {
namespace {

// Fills `change` with what every change carries, resetting the rest field by
// field rather than with Clear(), so a caller that reuses one message across
// many rows reuses its buffers and submessages too.
// Sets a string field only when it differs: an import's rows mostly repeat
// the row before's KPI, region, reporter and reason.
template <typename Setter>
void SetIfDifferent(const std::string& current, absl::string_view value, Setter set) {
  if (current != value) set(value.data(), value.size());
}

void FillChange(v1::Change* change, v1::ChangeKind kind, absl::string_view kpi_id,
                absl::string_view region_id, int year, absl::string_view author,
                absl::string_view reason, absl::Time now) {
  change->clear_sequence();
  change->set_kind(kind);
  const google::protobuf::Timestamp time = ToProtoTimestamp(now);
  change->mutable_change_time()->set_seconds(time.seconds());
  change->mutable_change_time()->set_nanos(time.nanos());
  SetIfDifferent(change->kpi_id(), kpi_id,
                 [change](const char* data, size_t size) { change->set_kpi_id(data, size); });
  SetIfDifferent(change->region_id(), region_id,
                 [change](const char* data, size_t size) { change->set_region_id(data, size); });
  if (year != 0) {
    change->mutable_fiscal_year()->set_year(year);  // labelled when read
  } else {
    change->clear_fiscal_year();
  }
  SetIfDifferent(change->author(), author,
                 [change](const char* data, size_t size) { change->set_author(data, size); });
  SetIfDifferent(change->reason(), reason,
                 [change](const char* data, size_t size) { change->set_reason(data, size); });
  change->clear_old_value();
  change->clear_new_value();
  change->clear_old_numerator();
  change->clear_new_numerator();
  change->clear_old_denominator();
  change->clear_new_denominator();
}

absl::StatusOr<int64_t> Append(KpiTransaction& tx, v1::Change& change, ChangeSink& sink) {
  ASSIGN_OR_RETURN(const int64_t sequence, tx.AppendChange(change));
  sink.Added(change.kpi_id(), sequence);
  return sequence;
}

}  // namespace

void ChangeSink::Added(const std::string& kpi_id, int64_t sequence) {
  // Consecutive changes of one KPI (an import's run) cost a comparison each.
  if (entries_.empty() || entries_.back().kpi_id != kpi_id) {
    FeedEntry entry;
    entry.sequence = sequence;
    entry.kpi_id = kpi_id;
    entries_.push_back(std::move(entry));
    run_lasts_.push_back(sequence);
  } else {
    run_lasts_.back() = sequence;
  }
  last_ = sequence;
}

absl::flat_hash_map<std::string, int64_t> ChangeSink::LastByKpi() const {
  absl::flat_hash_map<std::string, int64_t> last;
  for (size_t i = 0; i < entries_.size(); ++i) last[entries_[i].kpi_id] = run_lasts_[i];
  return last;
}

absl::StatusOr<v1::Kpi> RequireKpi(KpiTransaction& tx, absl::string_view field,
                                   absl::string_view id) {
  ASSIGN_OR_RETURN(std::optional<v1::Kpi> kpi, tx.FindKpi(id));
  if (!kpi) return absl::NotFoundError(absl::StrCat(field, ": KPI \"", id, "\" not found"));
  return *std::move(kpi);
}

v1::Change NewChange(v1::ChangeKind kind, absl::string_view kpi_id, absl::string_view region_id,
                     int year, absl::string_view author, absl::string_view reason, absl::Time now) {
  v1::Change change;
  FillChange(&change, kind, kpi_id, region_id, year, author, reason, now);
  return change;
}

absl::StatusOr<int64_t> ApplyBaseline(KpiTransaction& tx, const v1::Kpi& kpi,
                                      absl::string_view prefix, v1::Baseline baseline,
                                      absl::string_view author, absl::Time now, ChangeSink& sink) {
  RETURN_IF_ERROR(CheckRegion(kpi, Field(prefix, "region_id"), baseline.region_id()));
  RETURN_IF_ERROR(RequireYear(Field(prefix, "fiscal_year.year"), baseline.fiscal_year()));
  RETURN_IF_ERROR(CheckFigure(kpi, prefix, baseline.value(), OptionalNumerator(baseline),
                              OptionalDenominator(baseline)));
  RETURN_IF_ERROR(CheckAuthor("author", author));
  ASSIGN_OR_RETURN(std::vector<v1::Target> targets, tx.Targets(kpi.id()));
  for (const v1::Target& target : targets) {
    if (target.region_id() == baseline.region_id() &&
        target.fiscal_year().year() <= baseline.fiscal_year().year()) {
      return FieldError(Field(prefix, "fiscal_year.year"),
                        absl::StrCat(baseline.fiscal_year().year()),
                        absl::StrCat("must be before the target year ",
                                     FormatFiscalYear(target.fiscal_year().year())));
    }
  }
  baseline.DiscardUnknownFields();
  *baseline.mutable_fiscal_year() = Year(baseline.fiscal_year().year());
  sink.BaselinesChanged(kpi.id());
  ASSIGN_OR_RETURN(std::vector<v1::Baseline> baselines, tx.Baselines(kpi.id()));
  v1::Change change = NewChange(v1::CHANGE_KIND_BASELINE_SET, kpi.id(), baseline.region_id(),
                                baseline.fiscal_year().year(), author, "", now);
  for (const v1::Baseline& old : baselines) {
    if (old.region_id() != baseline.region_id()) continue;
    change.set_old_value(old.value());
    if (old.has_numerator()) change.set_old_numerator(old.numerator());
    if (old.has_denominator()) change.set_old_denominator(old.denominator());
  }
  change.set_new_value(baseline.value());
  if (baseline.has_numerator()) change.set_new_numerator(baseline.numerator());
  if (baseline.has_denominator()) change.set_new_denominator(baseline.denominator());
  RETURN_IF_ERROR(tx.PutBaseline(kpi.id(), baseline));
  return Append(tx, change, sink);
}

absl::StatusOr<std::pair<v1::Target, int64_t>> ApplyTarget(KpiTransaction& tx, const v1::Kpi& kpi,
                                                           absl::string_view prefix,
                                                           absl::string_view region_id, int year,
                                                           double value, absl::string_view author,
                                                           absl::string_view reason, absl::Time now,
                                                           ChangeSink& sink) {
  RETURN_IF_ERROR(CheckRegion(kpi, Field(prefix, "region_id"), region_id));
  common::v1::FiscalYear fiscal_year;
  fiscal_year.set_year(year);
  RETURN_IF_ERROR(RequireYear(Field(prefix, "fiscal_year.year"), fiscal_year));
  RETURN_IF_ERROR(CheckFigure(kpi, prefix, value, std::nullopt, std::nullopt));
  RETURN_IF_ERROR(CheckAuthor(Field(prefix, "author"), author));
  RETURN_IF_ERROR(CheckReason(Field(prefix, "reason"), reason));
  ASSIGN_OR_RETURN(std::vector<v1::Baseline> baselines, tx.Baselines(kpi.id()));
  for (const v1::Baseline& baseline : baselines) {
    if (baseline.region_id() == region_id && year <= baseline.fiscal_year().year()) {
      return FieldError(Field(prefix, "fiscal_year.year"), absl::StrCat(year),
                        absl::StrCat("must be after the baseline year ",
                                     FormatFiscalYear(baseline.fiscal_year().year())));
    }
  }
  ASSIGN_OR_RETURN(std::vector<v1::Target> targets, tx.Targets(kpi.id()));
  sink.TargetsChanged(kpi.id());
  v1::Target target;
  target.set_region_id(std::string(region_id));
  v1::Change change =
      NewChange(v1::CHANGE_KIND_TARGET_REVISED, kpi.id(), region_id, year, author, reason, now);
  for (const v1::Target& old : targets) {
    if (old.region_id() != region_id) continue;
    target = old;
    v1::TargetRevision* revision = target.add_revisions();
    *revision->mutable_fiscal_year() = old.fiscal_year();
    revision->set_value(old.value());
    *revision->mutable_revise_time() = ToProtoTimestamp(now);
    revision->set_author(std::string(author));
    revision->set_reason(std::string(reason));
    change.set_old_value(old.value());
  }
  *target.mutable_fiscal_year() = Year(year);
  target.set_value(value);
  change.set_new_value(value);
  RETURN_IF_ERROR(tx.PutTarget(kpi.id(), target));
  ASSIGN_OR_RETURN(int64_t sequence, Append(tx, change, sink));
  return std::make_pair(std::move(target), sequence);
}

absl::StatusOr<ActualOutcome> ApplyActual(KpiTransaction& tx, const ActualWrite& how,
                                          v1::Actual& actual, absl::string_view reason,
                                          absl::Time now, v1::Change& change, ChangeSink& sink) {
  const v1::Kpi& kpi = *how.kpi;
  if (!how.checked) {
    RETURN_IF_ERROR(CheckRegion(kpi, Field(how.prefix, "region_id"), actual.region_id()));
    RETURN_IF_ERROR(RequireYear(Field(how.prefix, "fiscal_year.year"), actual.fiscal_year()));
    RETURN_IF_ERROR(CheckFigure(kpi, how.prefix, actual.value(), OptionalNumerator(actual),
                                OptionalDenominator(actual)));
    RETURN_IF_ERROR(CheckAuthor(Field(how.prefix, "reported_by"), actual.reported_by()));
    RETURN_IF_ERROR(CheckReason("reason", reason));
  }
  const int year = actual.fiscal_year().year();
  for (const v1::Baseline& baseline : *how.baselines) {
    if (baseline.region_id() == actual.region_id() && year < baseline.fiscal_year().year()) {
      return FieldError(Field(how.prefix, "fiscal_year.year"), absl::StrCat(year),
                        absl::StrCat("is before the baseline year ",
                                     FormatFiscalYear(baseline.fiscal_year().year())));
    }
  }
  if (actual.kpi_id() != kpi.id()) actual.set_kpi_id(kpi.id());
  actual.mutable_fiscal_year()->clear_label();
  const google::protobuf::Timestamp time = ToProtoTimestamp(now);
  actual.mutable_report_time()->set_seconds(time.seconds());
  actual.mutable_report_time()->set_nanos(time.nanos());
  bool added = false;
  std::optional<v1::Actual> old;
  if (how.likely_new) {
    ASSIGN_OR_RETURN(added, tx.InsertActualIfAbsent(actual));
  } else {
    ASSIGN_OR_RETURN(old, tx.FindActual(kpi.id(), actual.region_id(), year));
    if (!old) {
      ASSIGN_OR_RETURN(added, tx.InsertActualIfAbsent(actual));
    }
  }
  if (!added) {
    if (!old) {
      ASSIGN_OR_RETURN(old, tx.FindActual(kpi.id(), actual.region_id(), year));
    }
    if (how.refuse_repeats && old && FromProtoTimestamp(old->report_time()) == now) {
      return FieldError(Field(how.prefix, "fiscal_year.year"), absl::StrCat(year),
                        "repeats the KPI, region and year of an earlier row of this import");
    }
    if (old && old->value() == actual.value() && old->has_numerator() == actual.has_numerator() &&
        old->numerator() == actual.numerator() && old->denominator() == actual.denominator()) {
      actual = *std::move(old);  // unchanged: what is stored stays, with its reporter and time
      return ActualOutcome{0, false};
    }
  }
  FillChange(&change, old ? v1::CHANGE_KIND_ACTUAL_CORRECTED : v1::CHANGE_KIND_ACTUAL_RECORDED,
             kpi.id(), actual.region_id(), year, actual.reported_by(), reason, now);
  if (old) {
    change.set_old_value(old->value());
    if (old->has_numerator()) change.set_old_numerator(old->numerator());
    if (old->has_denominator()) change.set_old_denominator(old->denominator());
  }
  change.set_new_value(actual.value());
  if (actual.has_numerator()) change.set_new_numerator(actual.numerator());
  if (actual.has_denominator()) change.set_new_denominator(actual.denominator());
  if (!added) RETURN_IF_ERROR(tx.PutActual(actual));
  ASSIGN_OR_RETURN(int64_t sequence, Append(tx, change, sink));
  return ActualOutcome{sequence, old.has_value()};
}

}  // namespace suishin::kpi
