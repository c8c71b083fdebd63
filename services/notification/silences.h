// Silences: matchers over an alert's rule, KPI, region and severity that
// hold its events back for a while (as Alertmanager's do).
//
// An alert a silence matches is kept and listed as silenced but makes no
// event; when the silence ends (expired, or past its end time), alerts
// still firing are delivered then (ReleaseEndedSilences, called by the
// follower after each round). The free functions are how an evaluation
// (alerts.h) applies the silences in effect.
//
// CreateSilence and ExpireSilence check the request on the calling thread
// (INVALID_ARGUMENT naming the field; `done` at once), then hand the writer
// a body that checks the store (NOT_FOUND; RESOURCE_EXHAUSTED naming
// --max_silences) and writes, all or nothing; `done` on the writer thread
// once durable and published. `request` may go as soon as the method
// returns; `response` must stay valid until `done`. Thread-safe.
#ifndef SUISHIN_SERVICES_NOTIFICATION_SILENCES_H_
#define SUISHIN_SERVICES_NOTIFICATION_SILENCES_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "services/notification/notification_store.h"
#include "services/notification/notification_writer.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

// The silences in effect at `now` (started, not ended, not expired).
absl::StatusOr<std::vector<v1::Silence>> ActiveSilences(NotificationTransaction& tx,
                                                        absl::Time now);

// Sets alert.silenced and silence_ids from `active` (ActiveSilences); true
// when `silenced` changed.
bool ApplySilences(const std::vector<v1::Silence>& active, absl::Time now, v1::Alert& alert);

class Silences {
 public:
  using Done = NotificationWriter::Done;

  // Silences live at once at most (--max_silences).
  struct Options {
    int max_silences = 1000;
  };

  // `store`, `writer` and `clock` must outlive this. Reads whether any
  // silence was ever stored (ReleaseEndedSilences has nothing to do until one
  // is).
  static absl::StatusOr<std::unique_ptr<Silences>> Open(NotificationStore* store,
                                                        NotificationWriter* writer,
                                                        const Clock* clock, Options options);

  // `by` is who silences: the caller's principal (CallerOf), kept beside
  // the author the request names.
  void CreateSilence(const v1::CreateSilenceRequest& request, v1::CreateSilenceResponse* response,
                     Done done, std::string by = "");
  void ExpireSilence(const v1::ExpireSilenceRequest& request, v1::ExpireSilenceResponse* response,
                     Done done);
  absl::Status ListSilences(const v1::ListSilencesRequest& request,
                            v1::ListSilencesResponse* response);

  // Delivers the alerts that silences held back and that are still firing
  // once those silences have ended. Blocks until committed.
  absl::Status ReleaseEndedSilences();

 private:
  Silences(NotificationStore* store, NotificationWriter* writer, const Clock* clock,
           Options options)
      : store_(store), writer_(writer), clock_(clock), options_(options) {}

  // `done`, marking that a silence exists once one was stored.
  Done NoteStored(Done done);

  NotificationStore* const store_;
  NotificationWriter* const writer_;
  const Clock* const clock_;
  const Options options_;
  // False until a silence exists: ReleaseEndedSilences has nothing to do.
  std::atomic<bool> any_silence_{false};
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_SILENCES_H_
