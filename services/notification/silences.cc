#include "services/notification/silences.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/notification/alert_filter.h"
#include "services/notification/book_util.h"
#include "services/notification/event_log.h"

namespace suishin::notification {

namespace {

using Body = NotificationStore::Body;

// In effect at `now`: started, not ended, not expired.
bool Active(const v1::Silence& silence, absl::Time now) {
  return silence.active() && FromProtoTimestamp(silence.start_time()) <= now &&
         now < FromProtoTimestamp(silence.end_time());
}

bool SilenceMatches(const v1::Silence& silence, const v1::Alert& alert) {
  for (const v1::Matcher& matcher : silence.matchers()) {
    std::string value;
    switch (matcher.field()) {
      case v1::MATCHER_FIELD_RULE:
        value = RuleName(alert.rule());
        break;
      case v1::MATCHER_FIELD_KPI:
        value = alert.kpi_id();
        break;
      case v1::MATCHER_FIELD_REGION:
        value = alert.region_id();
        break;
      case v1::MATCHER_FIELD_SEVERITY:
        value = SeverityName(alert.severity());
        break;
      default:
        return false;
    }
    if (value != matcher.value()) return false;
  }
  return !silence.matchers().empty();
}

absl::Status ValidateMatcher(absl::string_view field, const v1::Matcher& matcher) {
  switch (matcher.field()) {
    case v1::MATCHER_FIELD_RULE: {
      v1::RuleKind kind;
      if (!v1::RuleKind_Parse(absl::StrCat("RULE_KIND_", matcher.value()), &kind) ||
          kind == v1::RULE_KIND_UNSPECIFIED) {
        return FieldError(absl::StrCat(field, ".value"), matcher.value(),
                          "is not a rule (LAGGING, BELOW_THRESHOLD, DECLINING, STAGNANT, "
                          "MISSING, ACHIEVED)");
      }
      return absl::OkStatus();
    }
    case v1::MATCHER_FIELD_SEVERITY: {
      v1::Severity severity;
      if (!v1::Severity_Parse(absl::StrCat("SEVERITY_", matcher.value()), &severity) ||
          severity == v1::SEVERITY_UNSPECIFIED) {
        return FieldError(absl::StrCat(field, ".value"), matcher.value(),
                          "is not a severity (INFO, WARNING, CRITICAL)");
      }
      return absl::OkStatus();
    }
    case v1::MATCHER_FIELD_KPI:
    case v1::MATCHER_FIELD_REGION:
      return ValidateId(absl::StrCat(field, ".value"), matcher.value());
    default:
      return FieldError(absl::StrCat(field, ".field"), absl::StrCat(matcher.field()),
                        "must be RULE, KPI, REGION or SEVERITY");
  }
}

// Brings every firing alert's `silenced` in line with the silences in effect
// at `now`: an alert whose silences have all ended is delivered now.
absl::Status ApplySilencesToFiring(NotificationTransaction& tx, absl::Time now,
                                   WriteOutcome& outcome) {
  ASSIGN_OR_RETURN(std::vector<v1::Silence> silences, ActiveSilences(tx, now));
  ASSIGN_OR_RETURN(std::vector<v1::Webhook> webhooks, tx.Webhooks());
  ASSIGN_OR_RETURN(std::vector<v1::Alert> firing, tx.Alerts(/*include_resolved=*/false));
  for (v1::Alert& alert : firing) {
    const bool was_silenced = alert.silenced();
    if (!ApplySilences(silences, now, alert)) continue;
    RETURN_IF_ERROR(tx.PutAlert(alert));
    if (was_silenced && !alert.silenced()) {
      RETURN_IF_ERROR(RecordTransition(tx, v1::EVENT_KIND_FIRED, alert, now, "silence ended",
                                       webhooks, outcome));
    }
    outcome.changed.push_back(alert);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<v1::Silence>> ActiveSilences(NotificationTransaction& tx,
                                                        absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<v1::Silence> silences, tx.LiveSilences(now));
  std::vector<v1::Silence> active;
  for (v1::Silence& silence : silences) {
    if (Active(silence, now)) active.push_back(std::move(silence));
  }
  return active;
}

bool ApplySilences(const std::vector<v1::Silence>& active, absl::Time now, v1::Alert& alert) {
  const bool was = alert.silenced();
  alert.clear_silence_ids();
  for (const v1::Silence& silence : active) {
    if (Active(silence, now) && SilenceMatches(silence, alert)) alert.add_silence_ids(silence.id());
  }
  alert.set_silenced(alert.silence_ids_size() > 0);
  return was != alert.silenced();
}

absl::StatusOr<std::unique_ptr<Silences>> Silences::Open(NotificationStore* store,
                                                         NotificationWriter* writer,
                                                         const Clock* clock, Options options) {
  std::unique_ptr<Silences> silences(new Silences(store, writer, clock, options));
  bool any = false;
  RETURN_IF_ERROR(store->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(any, tx.AnySilence());
    return absl::OkStatus();
  }));
  silences->any_silence_ = any;
  return silences;
}

Silences::Done Silences::NoteStored(Done done) {
  return [this, done = std::move(done)](absl::Status status) {
    if (status.ok()) any_silence_ = true;
    done(std::move(status));
  };
}

void Silences::CreateSilence(const v1::CreateSilenceRequest& request,
                             v1::CreateSilenceResponse* response, Done done, std::string by) {
  auto outcome = std::make_shared<WriteOutcome>();
  auto prepare = [&]() -> absl::StatusOr<Body> {
    v1::Silence silence = request.silence();
    silence.DiscardUnknownFields();
    silence.clear_id();  // output only
    silence.clear_active();
    silence.set_principal(by);
    RETURN_IF_ERROR(ValidateListSize("silence.matchers", silence.matchers_size()));
    if (silence.matchers().empty()) {
      return FieldError("silence.matchers", "", "must have at least one matcher");
    }
    for (int i = 0; i < silence.matchers_size(); ++i) {
      RETURN_IF_ERROR(
          ValidateMatcher(absl::StrCat("silence.matchers[", i, "]"), silence.matchers(i)));
    }
    RETURN_IF_ERROR(ValidateName("silence.author", silence.author()));
    RETURN_IF_ERROR(ValidateLongText("silence.comment", silence.comment()));
    const absl::Time now = clock_->Now();
    if (!silence.has_start_time()) *silence.mutable_start_time() = ToProtoTimestamp(now);
    if (!silence.has_end_time()) return FieldError("silence.end_time", "", "is required");
    if (FromProtoTimestamp(silence.end_time()) <= FromProtoTimestamp(silence.start_time())) {
      return FieldError("silence.end_time",
                        absl::FormatTime(absl::RFC3339_sec, FromProtoTimestamp(silence.end_time()),
                                         absl::UTCTimeZone()),
                        "must be after the start time");
    }
    silence.set_id(NewId("silence"));
    silence.set_active(true);
    return Body([silence = std::move(silence), now, limit = options_.max_silences, outcome,
                 response](NotificationTransaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(int64_t live, tx.CountLiveSilences(now));
      if (live >= limit) {
        return CountError("silence", live, "silences are live", limit, "--max_silences");
      }
      RETURN_IF_ERROR(tx.PutSilence(silence));
      // Alerts it now holds back are marked silenced.
      RETURN_IF_ERROR(ApplySilencesToFiring(tx, now, *outcome));
      *response->mutable_silence() = silence;
      return absl::OkStatus();
    });
  };
  writer_->Submit(prepare(), outcome, NoteStored(std::move(done)));
}

void Silences::ExpireSilence(const v1::ExpireSilenceRequest& request,
                             v1::ExpireSilenceResponse* response, Done done) {
  auto outcome = std::make_shared<WriteOutcome>();
  auto prepare = [&]() -> absl::StatusOr<Body> {
    if (request.id().empty()) return FieldError("id", "", "is required");
    const absl::Time now = clock_->Now();
    return Body(
        [id = request.id(), now, outcome, response](NotificationTransaction& tx) -> absl::Status {
          ASSIGN_OR_RETURN(std::optional<v1::Silence> silence, tx.FindSilence(id));
          if (!silence) {
            return absl::NotFoundError(absl::StrCat("id: silence \"", id, "\" not found"));
          }
          silence->set_active(false);
          if (FromProtoTimestamp(silence->end_time()) > now) {
            *silence->mutable_end_time() = ToProtoTimestamp(now);
          }
          RETURN_IF_ERROR(tx.PutSilence(*silence));
          // Alerts it held back and that are still firing are delivered now.
          RETURN_IF_ERROR(ApplySilencesToFiring(tx, now, *outcome));
          *response->mutable_silence() = *std::move(silence);
          return absl::OkStatus();
        });
  };
  writer_->Submit(prepare(), outcome, std::move(done));
}

absl::Status Silences::ListSilences(const v1::ListSilencesRequest& request,
                                    v1::ListSilencesResponse* response) {
  ASSIGN_OR_RETURN(int page_size, EffectivePageSize("page_size", request.page_size()));
  ASSIGN_OR_RETURN(int64_t after, DecodePageToken("page_token", request.page_token()));
  const absl::Time now = clock_->Now();
  return store_->Read([&](NotificationTransaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Keyed<v1::Silence>> page,
                     tx.ListSilences(request.include_expired(), now, after, page_size + 1));
    FillPage(
        page, page_size,
        [&](v1::Silence silence) {
          // Live: not expired and not ended (started or not).
          if (!(silence.active() && now < FromProtoTimestamp(silence.end_time()))) {
            silence.set_active(false);
          }
          *response->add_silences() = std::move(silence);
        },
        response->mutable_next_page_token());
    return absl::OkStatus();
  });
}

absl::Status Silences::ReleaseEndedSilences() {
  if (!any_silence_) return absl::OkStatus();  // the common case: nothing to look at
  const absl::Time now = clock_->Now();
  auto outcome = std::make_shared<WriteOutcome>();
  return writer_->SubmitAndWait(
      [now, outcome](NotificationTransaction& tx) {
        return ApplySilencesToFiring(tx, now, *outcome);
      },
      outcome);
}

}  // namespace suishin::notification
