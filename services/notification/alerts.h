// Alerts: what notification-service raises when a KPI lags, and everything
// that happens to one (fired, refreshed, severity changed, acknowledged,
// resolved).
//
// Evaluate turns the conditions rules.h finds for a KPI in a region into
// alert transitions: a condition that starts holding fires its alert (the
// fingerprint is rule, KPI and region), one that stops holding resolves it,
// one that goes on holding only refreshes its figures (a change of severity
// is an event of its own). Each transition is written with its history
// entry, its event and one outbox entry per matching webhook
// (RecordTransition, event_log.h), and the follower's cursor, in one body:
// evaluating the same data twice finds nothing to change and fires nothing
// twice. Silences in effect mark an alert silenced (silences.h).
//
// Active alerts are mirrored in Redis per region (alert_mirror.h): a listing
// of one region's active alerts is answered from there; Redis is a mirror
// only, and everything works from SQLite when it is down.
//
// AcknowledgeAlert checks the request on the calling thread (INVALID_ARGUMENT
// naming the field; `done` at once), then hands the writer a body (NOT_FOUND
// for an unknown fingerprint); `done` on the writer thread once durable and
// published. `response` must stay valid until `done`. Reads run on a
// snapshot and never wait for the writer. Thread-safe.
#ifndef SUISHIN_SERVICES_NOTIFICATION_ALERTS_H_
#define SUISHIN_SERVICES_NOTIFICATION_ALERTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "services/notification/alert_mirror.h"
#include "services/notification/notification_store.h"
#include "services/notification/notification_writer.h"
#include "suishin/kpi/v1/kpi.pb.h"
#include "suishin/notification/v1/notification.pb.h"

namespace suishin::notification {

// A KPI in a region, with its progress as kpi-service computed it (its
// `kpi` field unset: the KPI is shared by every region's subject, never
// copied per region).
struct Subject {
  std::shared_ptr<const kpi::v1::Kpi> kpi;
  std::string region_id;
  kpi::v1::GetProgressResponse progress;
};

class Alerts {
 public:
  using Done = NotificationWriter::Done;

  // All must outlive this; `mirror` may be null (no Redis).
  Alerts(NotificationStore* store, NotificationWriter* writer, const Clock* clock,
         AlertMirror* mirror)
      : store_(store), writer_(writer), clock_(clock), mirror_(mirror) {}

  // Evaluates every subject and records the outcome; sets the cursor to
  // `next_sequence` unless it is 0; one body. Blocks until committed.
  absl::Status Evaluate(std::vector<Subject> subjects, int64_t next_sequence);

  absl::Status ListAlerts(const v1::ListAlertsRequest& request, v1::ListAlertsResponse* response);
  absl::Status GetAlert(const v1::GetAlertRequest& request, v1::GetAlertResponse* response);

  // `by` is who acknowledges: the caller's principal (CallerOf), kept beside
  // the display name the request gives.
  void AcknowledgeAlert(const v1::AcknowledgeAlertRequest& request,
                        v1::AcknowledgeAlertResponse* response, Done done, std::string by = "");

 private:
  NotificationStore* const store_;
  NotificationWriter* const writer_;
  const Clock* const clock_;
  AlertMirror* const mirror_;
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_ALERTS_H_
