#include "services/kpi/kpi_writer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/kpi/kpi_rules.h"
#include "services/kpi/value_writes.h"

namespace suishin::kpi {

absl::StatusOr<std::unique_ptr<KpiWriter>> KpiWriter::Create(KpiStore* store, FigureCache* cache,
                                                             ReadModel* reads, SequenceFeed* feed,
                                                             Options options, const Clock* clock) {
  std::vector<std::pair<std::string, int64_t>> generations;
  RETURN_IF_ERROR(store->Read([&](KpiTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(generations, tx.LastSequences());
    return absl::OkStatus();
  }));
  cache->LoadGenerations(generations);
  int64_t last = 0;
  for (const auto& [kpi, sequence] : generations) last = std::max(last, sequence);
  feed->Published(last);
  return std::unique_ptr<KpiWriter>(new KpiWriter(store, cache, reads, feed, options, clock));
}

KpiWriter::KpiWriter(KpiStore* store, FigureCache* cache, ReadModel* reads, SequenceFeed* feed,
                     Options options, const Clock* clock)
    : cache_(cache), reads_(reads), feed_(feed), clock_(clock) {
  BatchWriter<KpiTransaction>::Options writer_options;
  writer_options.name = "kpi-writer";
  writer_options.max_queued = options.max_queued;
  writer_options.max_group = options.max_group;
  writer_ = std::make_unique<BatchWriter<KpiTransaction>>(
      [store](const std::vector<const KpiStore::Body*>& bodies,
              std::vector<absl::Status>* outcomes) { return store->RunGroup(bodies, outcomes); },
      writer_options);
}

KpiWriter::~KpiWriter() { writer_.reset(); }

void KpiWriter::Publish(const ChangeSink& sink) {
  if (sink.empty()) return;
  for (const auto& [kpi_id, sequence] : sink.LastByKpi()) {
    cache_->Bump(kpi_id, sequence);
    reads_->Moved(kpi_id, sequence);
  }
  if (sync_ != nullptr) {
    // Other replicas' changes may sit between this one's: the feed learns
    // them all, in order, from the log. Should the store not answer now,
    // the sync's own thread catches up later.
    if (absl::Status status = sync_->CatchUp(); !status.ok()) {
      LogWarning("replica_catch_up_failed", {{"error", std::string(status.message())}});
    }
    return;
  }
  feed_->Published(sink.last(), sink.entries());
}

void KpiWriter::Submit(std::function<absl::Status(KpiTransaction&, ChangeSink&)> body, Done done,
                       std::string by) {
  // The sink lives from the body to its `done`, on the writer thread.
  auto sink = std::make_shared<ChangeSink>();
  writer_->Submit(
      [this, body = std::move(body), sink, by = std::move(by)](KpiTransaction& tx) {
        tx.set_principal(by);
        absl::Status status = body(tx, *sink);
        tx.set_principal("");
        // Whether it stays or not, the baselines it touched are no longer
        // what the cache remembers.
        for (const std::string& kpi_id : sink->baselines_changed()) {
          ++baseline_epochs_[kpi_id];
          baselines_.erase(kpi_id);
        }
        // Before the commit, so a stream that reads the change also knows
        // that figures computed from now on follow new baselines or targets.
        for (const std::string& kpi_id : sink->definitions_changed()) {
          cache_->BaselinesOrTargetsChanged(kpi_id, sink->last());
        }
        return status;
      },
      [this, sink, done = std::move(done)](absl::Status status) {
        if (status.ok()) Publish(*sink);
        done(std::move(status));
      });
}

void KpiWriter::CreateKpi(v1::Kpi kpi, v1::CreateKpiResponse* response, Done done, std::string by) {
  Submit(
      [this, kpi = std::move(kpi), response](KpiTransaction& tx,
                                             ChangeSink& sink) mutable -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<v1::Kpi> existing, tx.FindKpi(kpi.id()));
        if (existing) {
          return absl::AlreadyExistsError(
              absl::StrCat("kpi.id: KPI \"", kpi.id(), "\" already exists"));
        }
        const absl::Time now = clock_->Now();
        *kpi.mutable_create_time() = ToProtoTimestamp(now);
        RETURN_IF_ERROR(tx.PutKpi(kpi));
        v1::Change change =
            NewChange(v1::CHANGE_KIND_KPI_CREATED, kpi.id(), kpi.area_id(), 0, "", "", now);
        ASSIGN_OR_RETURN(const int64_t sequence, tx.AppendChange(change));
        sink.Added(kpi.id(), sequence);
        *response->mutable_kpi() = kpi;
        return absl::OkStatus();
      },
      std::move(done), std::move(by));
}

void KpiWriter::SubmitForKpi(
    absl::string_view field, const std::string& kpi_id,
    std::function<absl::Status(KpiTransaction&, const v1::Kpi&, ChangeSink&)> body, Done done,
    std::string by) {
  if (absl::Status status = ValidateId(field, kpi_id); !status.ok()) {
    done(status);
    return;
  }
  // A KPI read from the store is remembered once its write commits (a KPI
  // never changes after it is created; only committed ones are kept).
  auto learned = std::make_shared<std::shared_ptr<const v1::Kpi>>();
  Submit(
      [this, field = std::string(field), &kpi_id, body = std::move(body), learned](
          KpiTransaction& tx, ChangeSink& sink) -> absl::Status {
        if (auto known = kpis_.find(kpi_id); known != kpis_.end()) {
          return body(tx, *known->second, sink);
        }
        ASSIGN_OR_RETURN(v1::Kpi kpi, RequireKpi(tx, field, kpi_id));
        *learned = std::make_shared<const v1::Kpi>(std::move(kpi));
        return body(tx, **learned, sink);
      },
      [this, learned, done = std::move(done)](absl::Status status) {
        if (status.ok() && *learned) kpis_.try_emplace((*learned)->id(), *learned);
        done(std::move(status));
      },
      std::move(by));
}

void KpiWriter::SetBaseline(const v1::SetBaselineRequest& request,
                            v1::SetBaselineResponse* response, Done done, std::string by) {
  SubmitForKpi(
      "kpi_id", request.kpi_id(),
      [this, &request, response](KpiTransaction& tx, const v1::Kpi& kpi,
                                 ChangeSink& sink) -> absl::Status {
        ASSIGN_OR_RETURN(const int64_t sequence,
                         ApplyBaseline(tx, kpi, "baseline", request.baseline(), request.author(),
                                       clock_->Now(), sink));
        *response->mutable_baseline() = request.baseline();
        response->mutable_baseline()->DiscardUnknownFields();
        *response->mutable_baseline()->mutable_fiscal_year() =
            Year(request.baseline().fiscal_year().year());
        response->set_sequence(sequence);
        return absl::OkStatus();
      },
      std::move(done), std::move(by));
}

void KpiWriter::ReviseTarget(const v1::ReviseTargetRequest& request,
                             v1::ReviseTargetResponse* response, Done done, std::string by) {
  SubmitForKpi(
      "kpi_id", request.kpi_id(),
      [this, &request, response](KpiTransaction& tx, const v1::Kpi& kpi,
                                 ChangeSink& sink) -> absl::Status {
        ASSIGN_OR_RETURN(
            auto applied,
            ApplyTarget(tx, kpi, "", request.region_id(), request.fiscal_year().year(),
                        request.value(), request.author(), request.reason(), clock_->Now(), sink));
        *response->mutable_target() = std::move(applied.first);
        response->set_sequence(applied.second);
        return absl::OkStatus();
      },
      std::move(done), std::move(by));
}

void KpiWriter::RecordActual(const v1::RecordActualRequest& request,
                             v1::RecordActualResponse* response, Done done, std::string by) {
  // The KPI's baselines, read from the store when the cache does not have
  // them, are remembered once this write commits, unless a baseline of the
  // KPI changed meanwhile (its epoch moved).
  struct Learned {
    std::string kpi_id;
    uint64_t epoch = 0;
    std::shared_ptr<const std::vector<v1::Baseline>> baselines;
  };
  auto learned = std::make_shared<Learned>();
  SubmitForKpi(
      "actual.kpi_id", request.actual().kpi_id(),
      [this, &request, response, learned](KpiTransaction& tx, const v1::Kpi& kpi,
                                          ChangeSink& sink) -> absl::Status {
        std::shared_ptr<const std::vector<v1::Baseline>> cached;
        if (auto it = baselines_.find(kpi.id()); sync_ == nullptr && it != baselines_.end()) {
          cached = it->second;
        }
        if (!cached) {
          ASSIGN_OR_RETURN(std::vector<v1::Baseline> read, tx.Baselines(kpi.id()));
          cached = std::make_shared<const std::vector<v1::Baseline>>(std::move(read));
          learned->kpi_id = kpi.id();
          learned->epoch = baseline_epochs_[kpi.id()];
          learned->baselines = cached;
        }
        const std::vector<v1::Baseline>& baselines = *cached;
        v1::Actual actual = request.actual();
        actual.DiscardUnknownFields();
        v1::Change change;
        ActualWrite how;
        how.kpi = &kpi;
        how.baselines = &baselines;
        how.prefix = "actual";
        // At the store's precision, so the answer is what a read gives back.
        const absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(clock_->Now()));
        ASSIGN_OR_RETURN(ActualOutcome outcome,
                         ApplyActual(tx, how, actual, request.reason(), now, change, sink));
        // What is stored now: this figure, whether new, corrected or the same.
        *actual.mutable_fiscal_year() = Year(actual.fiscal_year().year());
        *response->mutable_actual() = std::move(actual);
        response->set_corrected(outcome.corrected);
        response->set_sequence(outcome.sequence);
        return absl::OkStatus();
      },
      [this, learned, done = std::move(done)](absl::Status status) {
        if (status.ok() && sync_ == nullptr && learned->baselines &&
            baseline_epochs_[learned->kpi_id] == learned->epoch) {
          baselines_.try_emplace(learned->kpi_id, learned->baselines);
        }
        done(std::move(status));
      },
      std::move(by));
}

void KpiWriter::Import(ImportBatch* batch, std::function<bool()> cancelled,
                       v1::ImportActualsResponse* response, Done done, std::string by) {
  Submit(
      [this, batch, cancelled = std::move(cancelled), response](KpiTransaction& tx,
                                                                ChangeSink& sink) -> absl::Status {
        if (cancelled()) {
          return absl::CancelledError("the client cancelled the import; nothing stored");
        }
        return batch->Apply(tx, clock_->Now(), sink, response);
      },
      std::move(done), std::move(by));
}

}  // namespace suishin::kpi
