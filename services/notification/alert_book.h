// AlertBook: the alerts of notification-service, everything done to them,
// and the service's one write path.
//
// Evaluate turns the conditions rules.h finds for a KPI in a region into
// alert transitions: a condition that starts holding fires its alert (the
// fingerprint is rule, KPI and region), one that stops holding resolves it,
// one that goes on holding only refreshes its figures (a change of severity
// is an event of its own). Each transition is written with its history entry,
// its event (the log Subscribe serves) and one outbox entry per matching
// webhook, and the follower's cursor, in one body: evaluating the same data
// twice finds nothing to change and fires nothing twice.
//
// An alert a silence matches is kept and listed as silenced, but makes no
// event; when the silence ends, alerts still firing are delivered then.
// Active alerts are mirrored in Redis per region (alert_mirror.h); Redis is a
// mirror only, and everything works from SQLite when it is down.
//
// One write path, in the shape of LevelDB's DBImpl::Write: every write of
// the service — evaluations and the cursor, acknowledgements, silences,
// rules, webhooks, dead-letter replays and the webhook dispatcher's outbox
// updates — is a body handed to the book's one BatchWriter, which commits
// what is waiting together (a savepoint per body, one durable commit) and
// then, on its thread and in commit order, runs each body's `done`: the
// book publishes what the body changed (events to the feed, the Redis
// mirror, the dispatcher's wake-up, the follower's re-evaluation) and then
// tells the caller.
//
// Reads (ListAlerts, GetAlert, the List methods, ReadEvents, Cursor) run on
// a snapshot from the store's readers on the calling thread: they never wait
// for the writer, so listings and Subscribe never wait for an evaluation.
//
// The RPC writes (AcknowledgeAlert, CreateSilence, ExpireSilence, SetRule,
// CreateWebhook, DeleteWebhook, RotateWebhookSecret, ReplayDeadLetter) go in two steps:
//   1. on the calling thread, what needs no store: unknown fields and the
//      fields the service sets (ids, create times, `active`) dropped, every
//      field and bound checked. A refusal (INVALID_ARGUMENT naming the field
//      or the flag of the limit) calls `done` at once, on this thread;
//   2. a body handed to the writer, which returns at once. On the writer
//      thread the body checks what needs the store (NOT_FOUND; the counts:
//      RESOURCE_EXHAUSTED naming --max_rule_overrides, --max_silences or
//      --max_webhooks) and writes, all or nothing. `done` is called on the
//      writer thread: OK with `*response` filled once the commit is durable
//      and published, or the body's refusal (nothing of it stored; the
//      others of its group are unaffected). RESOURCE_EXHAUSTED at once when
//      too many writes wait (--max_queued_writes).
// `done` is called exactly once and must be quick. `request` may go as soon
// as the method returns; `response` must stay valid until `done` is called.
// Evaluate, ReleaseEndedSilences and Write block until their write is
// committed and published: for the follower's and dispatcher's threads,
// never for a gRPC thread or a `done`.
//
// Thread-safe. The destructor commits the writes still queued, calling their
// `done`, before it returns.
#ifndef SUISHIN_SERVICES_NOTIFICATION_ALERT_BOOK_H_
#define SUISHIN_SERVICES_NOTIFICATION_ALERT_BOOK_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/batch_writer.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/log_stream.h"
#include "common/redis_client.h"
#include "common/sequence_feed.h"
#include "services/notification/alert_mirror.h"
#include "services/notification/notification_store.h"
#include "services/notification/rules.h"
#include "services/notification/webhook_targets.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

// A KPI in a region, with its progress as kpi-service computed it.
struct Subject {
  kpi::v1::Kpi kpi;
  std::string region_id;
  kpi::v1::GetProgressResponse progress;
};

class AlertBook {
 public:
  // Told a write's outcome; see the file comment for when and where.
  using Done = std::function<void(absl::Status)>;

  struct Hooks {
    // Called after a commit that added outbox entries (wakes the dispatcher).
    std::function<void()> outbox_added = [] {};
    // Called after SetRule changed the rules of a KPI ("" for all): the
    // follower evaluates again.
    std::function<void(const std::string& kpi_id)> rules_changed = [](const std::string&) {};
  };

  struct Options {
    // Per-KPI rule overrides stored at most (--max_rule_overrides).
    int max_rule_overrides = 1000;
    // Silences live at once: not expired and not ended (--max_silences).
    int max_silences = 1000;
    // Webhooks registered at most (--max_webhooks).
    int max_webhooks = 100;
    // Characters of a webhook URL (--max_webhook_url_chars).
    int max_url_chars = 2000;
    // Where a webhook may point (--webhook_allow_targets): every address a
    // new webhook's host resolves to is checked when it is registered.
    TargetPolicy webhook_targets;
    // Writes that may wait for the writer (--max_queued_writes: the
    // process's limit) and writes committed together at most.
    size_t max_queued_writes = static_cast<size_t>(ProcessLimits().max_queued_writes);
    size_t max_group = 256;
  };

  // What one write changed, published after its commit (alert_book.cc).
  struct Outcome;

  // What the write path has done so far.
  struct WriteStats {
    // Writes handed to the writer, counted once they are in its queue.
    int64_t submitted = 0;
    // Groups committed, and the writes in them.
    int64_t groups = 0;
    int64_t writes = 0;
  };

  // `store`, `clock` and `redis` (may be null) must outlive the book. Loads
  // the last event id into the feed and refills the Redis mirror.
  static absl::StatusOr<std::unique_ptr<AlertBook>> Create(NotificationStore* store,
                                                           const Clock* clock, RedisClient* redis,
                                                           Hooks hooks, Options options);
  static absl::StatusOr<std::unique_ptr<AlertBook>> Create(NotificationStore* store,
                                                           const Clock* clock, RedisClient* redis,
                                                           Hooks hooks) {
    return Create(store, clock, redis, std::move(hooks), Options());
  }

  AlertBook(const AlertBook&) = delete;
  AlertBook& operator=(const AlertBook&) = delete;

  // ---- Background writes (blocking) ----

  // Evaluates every subject and records the outcome; sets the cursor to
  // `next_sequence` unless it is 0; one body.
  absl::Status Evaluate(std::vector<Subject> subjects, int64_t next_sequence);
  // Delivers the alerts that silences held back and that are still firing
  // once those silences have ended (expired or past their end time).
  absl::Status ReleaseEndedSilences();
  // Runs `body` through the one write path and waits for its commit (the
  // dispatcher's outbox updates). Publishes nothing.
  absl::Status Write(NotificationStore::Body body);

  // ---- Reads ----

  // The next kpi-service change sequence to read.
  absl::StatusOr<int64_t> Cursor();
  // Up to `limit` events after `after_id` that `filter` matches, in id
  // order, examining at most `max_examined` events: the batch says how far
  // it looked (LogBatch::scanned_through), so a filtered stream never reads
  // a stretch of non-matching events twice.
  absl::StatusOr<LogBatch<v1::AlertEvent>> ReadEvents(int64_t after_id,
                                                      const v1::AlertFilter& filter, int limit,
                                                      int max_examined = 4096);

  absl::Status ListAlerts(const v1::ListAlertsRequest& request, v1::ListAlertsResponse* response);
  absl::Status GetAlert(const v1::GetAlertRequest& request, v1::GetAlertResponse* response);
  absl::Status ListSilences(const v1::ListSilencesRequest& request,
                            v1::ListSilencesResponse* response);
  absl::Status ListRules(const v1::ListRulesRequest& request, v1::ListRulesResponse* response);
  absl::Status ListWebhooks(const v1::ListWebhooksRequest& request,
                            v1::ListWebhooksResponse* response);
  absl::Status ListDeadLetters(const v1::ListDeadLettersRequest& request,
                               v1::ListDeadLettersResponse* response);

  // ---- RPC writes (asynchronous; see the file comment) ----

  // `by` is who acknowledges, or silences: the caller's principal
  // (CallerOf), kept beside the display name the request gives.
  void AcknowledgeAlert(const v1::AcknowledgeAlertRequest& request,
                        v1::AcknowledgeAlertResponse* response, Done done, std::string by = "");
  void CreateSilence(const v1::CreateSilenceRequest& request, v1::CreateSilenceResponse* response,
                     Done done, std::string by = "");
  void ExpireSilence(const v1::ExpireSilenceRequest& request, v1::ExpireSilenceResponse* response,
                     Done done);
  void SetRule(const v1::SetRuleRequest& request, v1::SetRuleResponse* response, Done done);
  void CreateWebhook(const v1::CreateWebhookRequest& request, v1::CreateWebhookResponse* response,
                     Done done);
  void DeleteWebhook(const v1::DeleteWebhookRequest& request, v1::DeleteWebhookResponse* response,
                     Done done);
  // A new secret (given or made), the old one signing beside it for the
  // overlap (24 h unless set; at most 30 days).
  void RotateWebhookSecret(const v1::RotateWebhookSecretRequest& request,
                           v1::RotateWebhookSecretResponse* response, Done done);
  void ReplayDeadLetter(const v1::ReplayDeadLetterRequest& request,
                        v1::ReplayDeadLetterResponse* response, Done done);

  // Validates a filter (Subscribe, ListAlerts, a webhook's): known enum
  // values, ids, and at most --max_list_items values per list.
  static absl::Status ValidateFilter(absl::string_view field, const v1::AlertFilter& filter);
  // Which published events a stream with `filter` wants (empty: all).
  static SequenceFeed::Wants Wants(const v1::AlertFilter& filter);

  // Announces each event as it is committed, with its labels.
  SequenceFeed& events() { return events_; }

  // Redis calls that failed (the mirror is then refilled on the next read).
  int64_t redis_errors() const { return mirror_.errors(); }
  WriteStats write_stats() const;

 private:
  using Body = NotificationStore::Body;

  AlertBook(NotificationStore* store, const Clock* clock, RedisClient* redis, Hooks hooks,
            Options options);

  // Hands `body` to the writer (or `done` the refusal); on a durable commit
  // publishes `outcome` before calling `done`.
  void Submit(absl::StatusOr<Body> body, std::shared_ptr<Outcome> outcome, Done done);
  // Submit, waiting for the outcome.
  absl::Status SubmitAndWait(Body body, std::shared_ptr<Outcome> outcome);
  // After a commit, on the writer thread: the feed, the Redis mirror, the hooks.
  void Publish(const Outcome& outcome);

  NotificationStore* const store_;
  const Clock* const clock_;
  const Hooks hooks_;
  const Options options_;
  SequenceFeed events_;
  AlertMirror mirror_;
  // False until a silence exists: ReleaseEndedSilences has nothing to do.
  std::atomic<bool> any_silence_{false};
  std::atomic<int64_t> submitted_{0};
  // Last: destroyed first, committing what is queued while the rest is here.
  BatchWriter<NotificationTransaction> writer_;
};

// The fingerprint of an alert: a stable digest of rule, KPI and region.
std::string Fingerprint(v1::RuleKind rule, absl::string_view kpi_id, absl::string_view region_id);

// True when `filter` matches the alert (each list any-of, lists AND-ed).
bool Matches(const v1::AlertFilter& filter, const v1::Alert& alert);

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_ALERT_BOOK_H_
