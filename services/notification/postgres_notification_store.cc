// PostgresNotificationStore: the schema, the transaction every body reads
// and writes through, and the group commit. Each method mirrors its twin in
// sqlite_notification_store.cc (the same rows, orders and errors); where
// PostgreSQL needs another way to get there, the comment says why.
#include "services/notification/postgres_notification_store.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "common/text.h"
#include "google/protobuf/descriptor.h"

namespace suishin::notification {
namespace {

// What every write group NOTIFYs at its commit, and Listen LISTENs to.
constexpr char kChannel[] = "suishin_notification";

// The schema starts at today's shape: the SQLite file's migrations replay a
// history a PostgreSQL database never had. Text columns that lists are
// ordered by use the "C" collation, so they sort byte by byte as SQLite
// does, whatever the database's locale.
const std::vector<PgMigration>& Schema() {
  static const auto* migrations = new std::vector<PgMigration>{
      {1, R"sql(
CREATE TABLE cursor (
  id integer PRIMARY KEY CHECK (id = 1),
  next_sequence bigint NOT NULL
);
INSERT INTO cursor VALUES (1, 1);
-- The last alert event id handed out. Not a sequence: a sequence moves on
-- when a body rolls back (the next event would leave a gap, and the store
-- promises none) and, with writers on several replicas, its ids can commit
-- out of order, so a subscriber resuming after id n could miss a smaller
-- one committed later. This row is rolled back with its body and stays
-- locked until the commit.
CREATE TABLE event_ids (
  id integer PRIMARY KEY CHECK (id = 1),
  last_id bigint NOT NULL
);
INSERT INTO event_ids VALUES (1, 0);
CREATE TABLE rules (
  kind integer NOT NULL,
  kind_name text NOT NULL,
  kpi_id text COLLATE "C" NOT NULL,
  enabled boolean NOT NULL,
  severity text NOT NULL,
  warning_gap double precision,
  critical_gap double precision,
  clear_gap double precision,
  threshold_percent double precision,
  min_steps integer,
  deadline_month integer,
  deadline_day integer,
  data bytea NOT NULL,
  PRIMARY KEY (kind, kpi_id)
);
CREATE TABLE alerts (
  fingerprint text COLLATE "C" PRIMARY KEY,
  rule text NOT NULL,
  kpi_id text COLLATE "C" NOT NULL,
  region_id text COLLATE "C" NOT NULL,
  severity text NOT NULL,
  state text NOT NULL,
  firing boolean GENERATED ALWAYS AS (state = 'ALERT_STATE_FIRING') STORED,
  fiscal_year integer,
  value double precision,
  rate double precision,
  expected_rate double precision,
  pace_gap double precision,
  start_time timestamptz,
  end_time timestamptz,
  summary text NOT NULL,
  silenced boolean NOT NULL,
  acknowledged_by text,
  acknowledge_time timestamptz,
  data bytea NOT NULL
);
CREATE INDEX alerts_by_kpi ON alerts (kpi_id, region_id);
CREATE TABLE alert_history (
  key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  fingerprint text COLLATE "C" NOT NULL,
  time timestamptz,
  state text NOT NULL,
  severity text NOT NULL,
  fiscal_year integer,
  value double precision,
  rate double precision,
  expected_rate double precision,
  pace_gap double precision,
  note text NOT NULL,
  data bytea NOT NULL
);
CREATE INDEX alert_history_by_alert ON alert_history (fingerprint, key);
CREATE TABLE events (
  id bigint PRIMARY KEY,
  kind text NOT NULL,
  time timestamptz,
  fingerprint text COLLATE "C" NOT NULL,
  rule text NOT NULL,
  kpi_id text COLLATE "C" NOT NULL,
  region_id text COLLATE "C" NOT NULL,
  severity text NOT NULL,
  state text NOT NULL,
  data bytea NOT NULL
);
CREATE TABLE silences (
  key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text COLLATE "C" NOT NULL UNIQUE,
  active boolean NOT NULL,
  start_time timestamptz,
  end_time timestamptz NOT NULL,
  author text NOT NULL,
  comment text NOT NULL,
  data bytea NOT NULL
);
CREATE INDEX silences_live ON silences (active, end_time);
CREATE TABLE webhooks (
  key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text COLLATE "C" NOT NULL UNIQUE,
  url text NOT NULL,
  create_time timestamptz,
  previous_secret_expire_time timestamptz,
  data bytea NOT NULL
);
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id text COLLATE "C" NOT NULL,
  event_id bigint NOT NULL,
  payload text NOT NULL,
  attempts integer NOT NULL,
  next_attempt timestamptz NOT NULL,
  last_error text NOT NULL
);
CREATE INDEX outbox_by_webhook ON outbox (webhook_id, next_attempt, id);
CREATE TABLE dead_letters (
  key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text COLLATE "C" NOT NULL UNIQUE,
  webhook_id text COLLATE "C" NOT NULL,
  event_id bigint NOT NULL,
  attempts integer NOT NULL,
  last_error text NOT NULL,
  time timestamptz,
  data bytea NOT NULL
);
CREATE INDEX dead_letters_by_webhook ON dead_letters (webhook_id, key);
)sql"},
      {2, R"sql(
-- The leader's lease: one row. A replica takes it when it has run out and
-- renews it while it leads; token grows at every change of holder and is
-- the fencing token every write of the leader checks (CheckFence).
CREATE TABLE leader_lease (
  id integer PRIMARY KEY CHECK (id = 1),
  holder text NOT NULL,
  token bigint NOT NULL,
  expires timestamptz NOT NULL
);
INSERT INTO leader_lease VALUES (1, '', 0, TIMESTAMPTZ 'epoch');
)sql"},
  };
  return *migrations;
}

// google.protobuf.Timestamp's range, well inside timestamptz's: a time
// outside it (absl::InfiniteFuture) would overflow suishin_time.
constexpr absl::Time kFirstTime = absl::FromUnixSeconds(-62135596800);  // 0001-01-01
constexpr absl::Time kLastTime = absl::FromUnixSeconds(253402300799);   // 9999-12-31

PgParams& Time(PgParams& params, absl::Time time) {
  return params.Micros(std::clamp(time, kFirstTime, kLastTime));
}

// A Timestamp field as a timestamptz parameter: NULL when it is unset.
PgParams& OptionalTime(PgParams& params, bool has, const google::protobuf::Timestamp& timestamp) {
  return has ? Time(params, FromProtoTimestamp(timestamp)) : params.Null();
}

PgParams& Bool(PgParams& params, bool value) { return params.Text(value ? "true" : "false"); }

// Text the way a PostgreSQL text column takes it: UTF-8 without NUL bytes.
// SQLite keeps any bytes, and some text is cut at a byte count (a failed
// delivery's error), so it may end in half a character, which PostgreSQL
// would refuse, failing the whole write. Bad bytes become U+FFFD.
std::string PgText(absl::string_view text) {
  if (!FirstInvalidUtf8(text) && text.find('\0') == absl::string_view::npos) {
    return std::string(text);
  }
  std::string out;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeUtf8At(text, pos);
    if (c.valid && c.code_point != 0) {
      out.append(text.data() + pos, c.size);
    } else {
      AppendUtf8(kReplacementCharacter, &out);
    }
    pos += c.size;
  }
  return out;
}

// An enum value by its name in the proto (ALERT_STATE_FIRING), which reads
// well in a report and is what the JSON API shows; its number when this
// build does not know it.
std::string EnumName(const google::protobuf::EnumDescriptor* type, int number) {
  const google::protobuf::EnumValueDescriptor* value = type->FindValueByNumber(number);
  return value != nullptr ? value->name() : absl::StrCat(number);
}

// The typed columns of AlertValues: fiscal_year (NULL when unset), value,
// rate, expected_rate, pace_gap.
PgParams& Values(PgParams& params, const v1::AlertValues& values) {
  if (values.fiscal_year().year() != 0) {
    params.Int(values.fiscal_year().year());
  } else {
    params.Null();
  }
  return params.OptionalDouble(values.has_value(), values.value())
      .OptionalDouble(values.has_rate(), values.rate())
      .OptionalDouble(values.has_expected_rate(), values.expected_rate())
      .OptionalDouble(values.has_pace_gap(), values.pace_gap());
}

PgParams& OptionalInt(PgParams& params, bool has, int64_t value) {
  return has ? params.Int(value) : params.Null();
}

// LIMIT n; SQLite reads a negative limit as none, PostgreSQL refuses it.
PgParams& Limit(PgParams& params, int limit) {
  return limit < 0 ? params.Null() : params.Int(limit);
}

class PgTransaction : public NotificationTransaction {
 public:
  // `writable` is false inside a Read: then every write fails.
  PgTransaction(PgConnection& db, bool writable, const SecretSealer& sealer)
      : db_(db), writable_(writable), sealer_(sealer) {}

  absl::StatusOr<int64_t> Cursor() override {
    ASSIGN_OR_RETURN(PgResult result, db_.Exec("SELECT next_sequence FROM cursor WHERE id = 1"));
    return result.rows() > 0 ? result.Int(0, 0) : 1;
  }

  absl::Status SetCursor(int64_t next_sequence) override {
    RETURN_IF_ERROR(CheckWritable());
    return db_
        .Run("UPDATE cursor SET next_sequence = $1 WHERE id = 1", PgParams().Int(next_sequence))
        .status();
  }

  absl::StatusOr<std::vector<v1::Rule>> Rules() override {
    return Messages<v1::Rule>("SELECT data FROM rules ORDER BY kind, kpi_id", PgParams(), "rules");
  }

  absl::Status PutRule(const v1::Rule& rule) override {
    RETURN_IF_ERROR(CheckWritable());
    PgParams params;
    params.Int(rule.kind())
        .Text(EnumName(v1::RuleKind_descriptor(), rule.kind()))
        .Text(PgText(rule.kpi_id()));
    Bool(params, rule.enabled()).Text(EnumName(v1::Severity_descriptor(), rule.severity()));
    params.OptionalDouble(rule.has_warning_gap(), rule.warning_gap())
        .OptionalDouble(rule.has_critical_gap(), rule.critical_gap())
        .OptionalDouble(rule.has_clear_gap(), rule.clear_gap())
        .OptionalDouble(rule.has_threshold_percent(), rule.threshold_percent());
    OptionalInt(params, rule.has_min_steps(), rule.min_steps());
    OptionalInt(params, rule.has_deadline_month(), rule.deadline_month());
    OptionalInt(params, rule.has_deadline_day(), rule.deadline_day());
    params.Bytes(rule.SerializeAsString());
    RETURN_IF_ERROR(
        db_.Run("INSERT INTO rules (kind, kind_name, kpi_id, enabled, severity, warning_gap, "
                "critical_gap, clear_gap, threshold_percent, min_steps, deadline_month, "
                "deadline_day, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                "$13) "
                "ON CONFLICT (kind, kpi_id) DO UPDATE SET kind_name = excluded.kind_name, "
                "enabled = excluded.enabled, severity = excluded.severity, "
                "warning_gap = excluded.warning_gap, critical_gap = excluded.critical_gap, "
                "clear_gap = excluded.clear_gap, threshold_percent = excluded.threshold_percent, "
                "min_steps = excluded.min_steps, deadline_month = excluded.deadline_month, "
                "deadline_day = excluded.deadline_day, data = excluded.data",
                params)
            .status());
    // The leader evaluates the KPI again, whichever replica took the change.
    return db_
        .Exec("SELECT pg_notify($1, 'rules:' || $2)",
              PgParams().Text(kChannel).Text(PgText(rule.kpi_id())))
        .status();
  }

  absl::Status CheckFence(int64_t token) override {
    // FOR SHARE: a takeover's UPDATE of the row waits for this transaction,
    // so nothing of it commits after another replica leads.
    ASSIGN_OR_RETURN(PgResult rows,
                     db_.Exec("SELECT 1 FROM leader_lease WHERE id = 1 AND token = $1 FOR SHARE",
                              PgParams().Int(token)));
    if (rows.rows() == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("fenced: lease token ", token, " is no longer the leader's"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<v1::Alert>> FindAlert(absl::string_view fingerprint) override {
    return FindOne<v1::Alert>("SELECT data FROM alerts WHERE fingerprint = $1", fingerprint,
                              "alerts");
  }

  absl::StatusOr<std::vector<v1::Alert>> AlertsOf(absl::string_view kpi_id,
                                                  absl::string_view region_id) override {
    return Messages<v1::Alert>("SELECT data FROM alerts WHERE kpi_id = $1 AND region_id = $2",
                               PgParams().Text(PgText(kpi_id)).Text(PgText(region_id)), "alerts");
  }

  absl::StatusOr<std::vector<v1::Alert>> Alerts(bool include_resolved) override {
    PgParams params;
    Bool(params, include_resolved);
    return Messages<v1::Alert>(
        "SELECT data FROM alerts WHERE $1::boolean OR firing "
        "ORDER BY firing DESC, kpi_id, region_id, fingerprint",
        params, "alerts");
  }

  absl::Status PutAlert(const v1::Alert& alert) override {
    RETURN_IF_ERROR(CheckWritable());
    v1::Alert stored = alert;
    stored.clear_history();
    PgParams params;
    params.Text(PgText(alert.fingerprint()))
        .Text(EnumName(v1::RuleKind_descriptor(), alert.rule()))
        .Text(PgText(alert.kpi_id()))
        .Text(PgText(alert.region_id()))
        .Text(EnumName(v1::Severity_descriptor(), alert.severity()))
        .Text(EnumName(v1::AlertState_descriptor(), alert.state()));
    Values(params, alert.values());
    OptionalTime(params, alert.has_start_time(), alert.start_time());
    OptionalTime(params, alert.has_end_time(), alert.end_time());
    params.Text(PgText(alert.summary()));
    Bool(params, alert.silenced());
    if (alert.has_acknowledgement()) {
      params.Text(PgText(alert.acknowledgement().author()));
    } else {
      params.Null();
    }
    OptionalTime(params, alert.acknowledgement().has_time(), alert.acknowledgement().time());
    params.Bytes(stored.SerializeAsString());
    // As in SQLite, a stored alert keeps its KPI and region: its
    // fingerprint names them.
    return db_
        .Run(
            "INSERT INTO alerts (fingerprint, rule, kpi_id, region_id, severity, state, "
            "fiscal_year, value, rate, expected_rate, pace_gap, start_time, end_time, summary, "
            "silenced, acknowledged_by, acknowledge_time, data) VALUES ($1, $2, $3, $4, $5, $6, "
            "$7, $8, $9, $10, $11, suishin_time($12), suishin_time($13), $14, $15, $16, "
            "suishin_time($17), $18) ON CONFLICT (fingerprint) DO UPDATE SET "
            "rule = excluded.rule, severity = excluded.severity, state = excluded.state, "
            "fiscal_year = excluded.fiscal_year, value = excluded.value, rate = excluded.rate, "
            "expected_rate = excluded.expected_rate, pace_gap = excluded.pace_gap, "
            "start_time = excluded.start_time, end_time = excluded.end_time, "
            "summary = excluded.summary, silenced = excluded.silenced, "
            "acknowledged_by = excluded.acknowledged_by, "
            "acknowledge_time = excluded.acknowledge_time, data = excluded.data",
            params)
        .status();
  }

  absl::Status AppendHistory(absl::string_view fingerprint,
                             const v1::AlertHistoryEntry& entry) override {
    RETURN_IF_ERROR(CheckWritable());
    PgParams params;
    params.Text(PgText(fingerprint));
    OptionalTime(params, entry.has_time(), entry.time())
        .Text(EnumName(v1::AlertState_descriptor(), entry.state()))
        .Text(EnumName(v1::Severity_descriptor(), entry.severity()));
    Values(params, entry.values()).Text(PgText(entry.note())).Bytes(entry.SerializeAsString());
    return db_
        .Run(
            "INSERT INTO alert_history (fingerprint, time, state, severity, fiscal_year, value, "
            "rate, expected_rate, pace_gap, note, data) VALUES ($1, suishin_time($2), $3, $4, "
            "$5, $6, $7, $8, $9, $10, $11)",
            params)
        .status();
  }

  absl::StatusOr<std::vector<Keyed<v1::AlertHistoryEntry>>> History(absl::string_view fingerprint,
                                                                    int64_t after_key,
                                                                    int limit) override {
    PgParams params;
    params.Text(PgText(fingerprint)).Int(after_key);
    return KeyedMessages<v1::AlertHistoryEntry>(
        "SELECT key, data FROM alert_history WHERE fingerprint = $1 AND key > $2 "
        "ORDER BY key LIMIT $3",
        Limit(params, limit), "alert_history");
  }

  absl::StatusOr<int64_t> AppendEvent(const v1::AlertEvent& event) override {
    RETURN_IF_ERROR(CheckWritable());
    v1::AlertEvent stored = event;
    stored.clear_id();
    const v1::Alert& alert = event.alert();
    PgParams params;
    params.Text(EnumName(v1::EventKind_descriptor(), event.kind()));
    OptionalTime(params, event.has_time(), event.time())
        .Text(PgText(alert.fingerprint()))
        .Text(EnumName(v1::RuleKind_descriptor(), alert.rule()))
        .Text(PgText(alert.kpi_id()))
        .Text(PgText(alert.region_id()))
        .Text(EnumName(v1::Severity_descriptor(), alert.severity()))
        .Text(EnumName(v1::AlertState_descriptor(), alert.state()))
        .Bytes(stored.SerializeAsString());
    // The id and the event in one round trip; the casts, because a
    // parameter in a SELECT list takes no type from the column it fills.
    ASSIGN_OR_RETURN(
        PgResult result,
        db_.Exec("WITH next AS (UPDATE event_ids SET last_id = last_id + 1 WHERE id = 1 "
                 "RETURNING last_id) INSERT INTO events (id, kind, time, fingerprint, rule, "
                 "kpi_id, region_id, severity, state, data) SELECT last_id, $1::text, "
                 "suishin_time($2::bigint), $3::text, $4::text, $5::text, $6::text, $7::text, "
                 "$8::text, $9::bytea FROM next RETURNING id",
                 params));
    if (result.rows() != 1) return absl::InternalError("notification store: event_ids has no row");
    return result.Int(0, 0);
  }

  absl::StatusOr<std::vector<v1::AlertEvent>> Events(int64_t after_id, int limit) override {
    PgParams params;
    params.Int(after_id);
    ASSIGN_OR_RETURN(PgResult result,
                     db_.Exec("SELECT id, data FROM events WHERE id > $1 ORDER BY id LIMIT $2",
                              Limit(params, limit)));
    std::vector<v1::AlertEvent> out;
    out.reserve(result.rows());
    for (int row = 0; row < result.rows(); ++row) {
      ASSIGN_OR_RETURN(v1::AlertEvent event, Parse<v1::AlertEvent>(result, row, 1, "events"));
      event.set_id(result.Int(row, 0));
      out.push_back(std::move(event));
    }
    return out;
  }

  absl::StatusOr<int64_t> LastEventId() override {
    return Count("SELECT COALESCE(MAX(id), 0) FROM events", PgParams());
  }

  absl::StatusOr<std::vector<v1::Silence>> LiveSilences(absl::Time now) override {
    PgParams params;
    return Messages<v1::Silence>(
        "SELECT data FROM silences WHERE active AND end_time > suishin_time($1) ORDER BY key",
        Time(params, now), "silences");
  }

  absl::StatusOr<int64_t> CountLiveSilences(absl::Time now) override {
    PgParams params;
    return Count("SELECT COUNT(*) FROM silences WHERE active AND end_time > suishin_time($1)",
                 Time(params, now));
  }

  absl::StatusOr<std::vector<Keyed<v1::Silence>>> ListSilences(bool include_ended, absl::Time now,
                                                               int64_t after_key,
                                                               int limit) override {
    PgParams params;
    params.Int(after_key);
    Bool(params, include_ended);
    Time(params, now);
    return KeyedMessages<v1::Silence>(
        "SELECT key, data FROM silences WHERE key > $1 AND ($2::boolean OR "
        "(active AND end_time > suishin_time($3))) ORDER BY key LIMIT $4",
        Limit(params, limit), "silences");
  }

  absl::StatusOr<bool> AnySilence() override {
    ASSIGN_OR_RETURN(int64_t any,
                     Count("SELECT (EXISTS (SELECT 1 FROM silences))::integer", PgParams()));
    return any != 0;
  }

  absl::StatusOr<std::optional<v1::Silence>> FindSilence(absl::string_view id) override {
    return FindOne<v1::Silence>("SELECT data FROM silences WHERE id = $1", id, "silences");
  }

  absl::Status PutSilence(const v1::Silence& silence) override {
    RETURN_IF_ERROR(CheckWritable());
    PgParams params;
    params.Text(PgText(silence.id()));
    Bool(params, silence.active());
    OptionalTime(params, silence.has_start_time(), silence.start_time());
    // Never NULL: an unset end is the epoch, long past, as SQLite's end_us 0.
    Time(params, FromProtoTimestamp(silence.end_time()))
        .Text(PgText(silence.author()))
        .Text(PgText(silence.comment()))
        .Bytes(silence.SerializeAsString());
    return db_
        .Run(
            "INSERT INTO silences (id, active, start_time, end_time, author, comment, data) "
            "VALUES ($1, $2, suishin_time($3), suishin_time($4), $5, $6, $7) "
            "ON CONFLICT (id) DO UPDATE SET active = excluded.active, "
            "start_time = excluded.start_time, end_time = excluded.end_time, "
            "author = excluded.author, comment = excluded.comment, data = excluded.data",
            params)
        .status();
  }

  absl::StatusOr<std::vector<v1::Webhook>> Webhooks() override {
    ASSIGN_OR_RETURN(
        std::vector<v1::Webhook> webhooks,
        Messages<v1::Webhook>("SELECT data FROM webhooks ORDER BY key", PgParams(), "webhooks"));
    for (v1::Webhook& webhook : webhooks) RETURN_IF_ERROR(Unseal(webhook));
    return webhooks;
  }

  absl::StatusOr<std::vector<Keyed<v1::Webhook>>> ListWebhooks(int64_t after_key,
                                                               int limit) override {
    PgParams params;
    params.Int(after_key);
    ASSIGN_OR_RETURN(std::vector<Keyed<v1::Webhook>> webhooks,
                     KeyedMessages<v1::Webhook>(
                         "SELECT key, data FROM webhooks WHERE key > $1 ORDER BY key LIMIT $2",
                         Limit(params, limit), "webhooks"));
    for (Keyed<v1::Webhook>& webhook : webhooks) RETURN_IF_ERROR(Unseal(webhook.value));
    return webhooks;
  }

  absl::StatusOr<int64_t> CountDeliveries() override {
    return Count("SELECT COUNT(*) FROM outbox", PgParams());
  }

  absl::StatusOr<int64_t> CountDeadLetters() override {
    return Count("SELECT COUNT(*) FROM dead_letters", PgParams());
  }

  absl::StatusOr<int64_t> CountWebhooks() override {
    return Count("SELECT COUNT(*) FROM webhooks", PgParams());
  }

  absl::StatusOr<std::optional<v1::Webhook>> FindWebhook(absl::string_view id) override {
    ASSIGN_OR_RETURN(
        std::optional<v1::Webhook> webhook,
        FindOne<v1::Webhook>("SELECT data FROM webhooks WHERE id = $1", id, "webhooks"));
    if (webhook) RETURN_IF_ERROR(Unseal(*webhook));
    return webhook;
  }

  absl::Status PutWebhook(const v1::Webhook& webhook) override {
    RETURN_IF_ERROR(CheckWritable());
    v1::Webhook sealed = webhook;
    sealed.set_secret(sealer_.Seal(webhook.id(), webhook.secret()));
    if (!webhook.previous_secret().empty()) {
      sealed.set_previous_secret(sealer_.Seal(webhook.id(), webhook.previous_secret()));
    }
    PgParams params;
    params.Text(PgText(webhook.id())).Text(PgText(webhook.url()));
    OptionalTime(params, webhook.has_create_time(), webhook.create_time());
    OptionalTime(params, webhook.has_previous_secret_expire_time(),
                 webhook.previous_secret_expire_time())
        .Bytes(sealed.SerializeAsString());
    return db_
        .Run(
            "INSERT INTO webhooks (id, url, create_time, previous_secret_expire_time, data) "
            "VALUES ($1, $2, suishin_time($3), suishin_time($4), $5) ON CONFLICT (id) "
            "DO UPDATE SET url = excluded.url, create_time = excluded.create_time, "
            "previous_secret_expire_time = excluded.previous_secret_expire_time, "
            "data = excluded.data",
            params)
        .status();
  }

  // Seals every secret stored in the clear (a row written by hand or by a
  // tool); fails when a sealed one does not open with this key.
  absl::Status SealStoredSecrets() {
    ASSIGN_OR_RETURN(
        std::vector<v1::Webhook> stored,
        Messages<v1::Webhook>("SELECT data FROM webhooks ORDER BY key", PgParams(), "webhooks"));
    for (v1::Webhook& webhook : stored) {
      if (SecretSealer::IsSealed(webhook.secret())) {
        RETURN_IF_ERROR(Unseal(webhook));
        continue;
      }
      RETURN_IF_ERROR(PutWebhook(webhook));
    }
    return absl::OkStatus();
  }

  absl::Status DeleteWebhook(absl::string_view id) override {
    RETURN_IF_ERROR(CheckWritable());
    const std::string key = PgText(id);
    for (absl::string_view sql :
         {"DELETE FROM webhooks WHERE id = $1", "DELETE FROM outbox WHERE webhook_id = $1"}) {
      RETURN_IF_ERROR(db_.Run(sql, PgParams().Text(key)).status());
    }
    return absl::OkStatus();
  }

  absl::Status AddDelivery(const Delivery& delivery) override {
    RETURN_IF_ERROR(CheckWritable());
    PgParams params;
    params.Text(PgText(delivery.webhook_id))
        .Int(delivery.event_id)
        .Text(PgText(delivery.payload))
        .Int(delivery.attempts);
    Time(params, delivery.next_attempt).Text(PgText(delivery.last_error));
    return db_
        .Run(
            "INSERT INTO outbox (webhook_id, event_id, payload, attempts, next_attempt, "
            "last_error) VALUES ($1, $2, $3, $4, suishin_time($5), $6)",
            params)
        .status();
  }

  absl::StatusOr<std::vector<std::pair<std::string, absl::Time>>> SoonestByWebhook() override {
    // Ordered as SQLite's GROUP BY happens to return them.
    ASSIGN_OR_RETURN(PgResult result,
                     db_.Exec("SELECT webhook_id, suishin_micros(MIN(next_attempt)) FROM outbox "
                              "GROUP BY webhook_id ORDER BY webhook_id"));
    std::vector<std::pair<std::string, absl::Time>> out;
    out.reserve(result.rows());
    for (int row = 0; row < result.rows(); ++row) {
      out.emplace_back(std::string(result.Text(row, 0)), absl::FromUnixMicros(result.Int(row, 1)));
    }
    return out;
  }

  absl::StatusOr<std::optional<Delivery>> NextDelivery(absl::string_view webhook_id) override {
    ASSIGN_OR_RETURN(PgResult result,
                     db_.Exec("SELECT id, webhook_id, event_id, payload, attempts, "
                              "suishin_micros(next_attempt), last_error FROM outbox "
                              "WHERE webhook_id = $1 ORDER BY next_attempt, id LIMIT 1",
                              PgParams().Text(PgText(webhook_id))));
    if (result.rows() == 0) return std::optional<Delivery>();
    Delivery delivery;
    delivery.id = result.Int(0, 0);
    delivery.webhook_id = std::string(result.Text(0, 1));
    delivery.event_id = result.Int(0, 2);
    delivery.payload = std::string(result.Text(0, 3));
    delivery.attempts = static_cast<int>(result.Int(0, 4));
    delivery.next_attempt = absl::FromUnixMicros(result.Int(0, 5));
    delivery.last_error = std::string(result.Text(0, 6));
    return std::optional<Delivery>(std::move(delivery));
  }

  absl::Status UpdateDelivery(const Delivery& delivery) override {
    RETURN_IF_ERROR(CheckWritable());
    PgParams params;
    params.Int(delivery.id).Int(delivery.attempts);
    Time(params, delivery.next_attempt).Text(PgText(delivery.last_error));
    return db_
        .Run(
            "UPDATE outbox SET attempts = $2, next_attempt = suishin_time($3), "
            "last_error = $4 WHERE id = $1",
            params)
        .status();
  }

  absl::Status DeleteDelivery(int64_t id) override {
    RETURN_IF_ERROR(CheckWritable());
    return db_.Run("DELETE FROM outbox WHERE id = $1", PgParams().Int(id)).status();
  }

  absl::Status PutDeadLetter(const v1::DeadLetter& letter) override {
    RETURN_IF_ERROR(CheckWritable());
    PgParams params;
    params.Text(PgText(letter.id()))
        .Text(PgText(letter.webhook_id()))
        .Int(letter.event_id())
        .Int(letter.attempts())
        .Text(PgText(letter.last_error()));
    OptionalTime(params, letter.has_time(), letter.time()).Bytes(letter.SerializeAsString());
    // As in SQLite, a letter stays listed under the webhook it was first
    // stored for.
    return db_
        .Run(
            "INSERT INTO dead_letters (id, webhook_id, event_id, attempts, last_error, time, "
            "data) VALUES ($1, $2, $3, $4, $5, suishin_time($6), $7) ON CONFLICT (id) DO UPDATE "
            "SET event_id = excluded.event_id, attempts = excluded.attempts, "
            "last_error = excluded.last_error, time = excluded.time, data = excluded.data",
            params)
        .status();
  }

  absl::StatusOr<std::vector<Keyed<v1::DeadLetter>>> DeadLetters(absl::string_view webhook_id,
                                                                 int64_t after_key,
                                                                 int limit) override {
    PgParams params;
    if (webhook_id.empty()) {
      params.Int(after_key);
      return KeyedMessages<v1::DeadLetter>(
          "SELECT key, data FROM dead_letters WHERE key > $1 ORDER BY key LIMIT $2",
          Limit(params, limit), "dead_letters");
    }
    params.Text(PgText(webhook_id)).Int(after_key);
    return KeyedMessages<v1::DeadLetter>(
        "SELECT key, data FROM dead_letters WHERE webhook_id = $1 AND key > $2 "
        "ORDER BY key LIMIT $3",
        Limit(params, limit), "dead_letters");
  }

  absl::StatusOr<std::optional<v1::DeadLetter>> FindDeadLetter(absl::string_view id) override {
    return FindOne<v1::DeadLetter>("SELECT data FROM dead_letters WHERE id = $1", id,
                                   "dead_letters");
  }

  absl::Status DeleteDeadLetter(absl::string_view id) override {
    RETURN_IF_ERROR(CheckWritable());
    return db_.Run("DELETE FROM dead_letters WHERE id = $1", PgParams().Text(PgText(id))).status();
  }

 private:
  absl::Status CheckWritable() const {
    if (writable_) return absl::OkStatus();
    return absl::FailedPreconditionError(
        "notification store: a write inside a read-only transaction");
  }

  // The first column of the first row as a number (0 for no row).
  absl::StatusOr<int64_t> Count(absl::string_view sql, const PgParams& params) {
    ASSIGN_OR_RETURN(PgResult result, db_.Exec(sql, params));
    return result.rows() > 0 ? result.Int(0, 0) : 0;
  }

  template <typename T>
  static absl::StatusOr<T> Parse(const PgResult& result, int row, int column,
                                 absl::string_view table) {
    T message;
    if (!message.ParseFromString(result.Bytes(row, column))) {
      return absl::DataLossError(absl::StrCat("a row of ", table, " does not parse"));
    }
    return message;
  }

  // The message in column 0 of every row.
  template <typename T>
  absl::StatusOr<std::vector<T>> Messages(absl::string_view sql, const PgParams& params,
                                          absl::string_view table) {
    ASSIGN_OR_RETURN(PgResult result, db_.Exec(sql, params));
    std::vector<T> out;
    out.reserve(result.rows());
    for (int row = 0; row < result.rows(); ++row) {
      ASSIGN_OR_RETURN(T message, Parse<T>(result, row, 0, table));
      out.push_back(std::move(message));
    }
    return out;
  }

  // Rows of (key, data).
  template <typename T>
  absl::StatusOr<std::vector<Keyed<T>>> KeyedMessages(absl::string_view sql, const PgParams& params,
                                                      absl::string_view table) {
    ASSIGN_OR_RETURN(PgResult result, db_.Exec(sql, params));
    std::vector<Keyed<T>> out;
    out.reserve(result.rows());
    for (int row = 0; row < result.rows(); ++row) {
      ASSIGN_OR_RETURN(T message, Parse<T>(result, row, 1, table));
      out.push_back({result.Int(row, 0), std::move(message)});
    }
    return out;
  }

  // The message of the row `sql` finds by `key` ($1), or nullopt.
  template <typename T>
  absl::StatusOr<std::optional<T>> FindOne(absl::string_view sql, absl::string_view key,
                                           absl::string_view table) {
    ASSIGN_OR_RETURN(PgResult result, db_.Exec(sql, PgParams().Text(PgText(key))));
    if (result.rows() == 0) return std::optional<T>();
    ASSIGN_OR_RETURN(T message, Parse<T>(result, 0, 0, table));
    return std::optional<T>(std::move(message));
  }

  // The webhook's secrets as they were before PutWebhook sealed them.
  absl::Status Unseal(v1::Webhook& webhook) const { return sealer_.UnsealWebhook(webhook); }

  PgConnection& db_;
  const bool writable_;
  const SecretSealer& sealer_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresNotificationStore>> PostgresNotificationStore::Open(
    const std::string& url, SecretSealer sealer, int readers) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> db, PgConnection::Connect(url));
  RETURN_IF_ERROR(db->Migrate(Schema()));
  RETURN_IF_ERROR(db->InTransaction([&]() {
    PgTransaction transaction(*db, /*writable=*/true, sealer);
    return transaction.SealStoredSecrets();
  }));
  ASSIGN_OR_RETURN(std::unique_ptr<PgPool> pool, PgPool::Open(url, readers));
  return std::unique_ptr<PostgresNotificationStore>(
      new PostgresNotificationStore(url, std::move(db), std::move(pool), std::move(sealer)));
}

absl::Status PostgresNotificationStore::RunGroup(const std::vector<const Body*>& bodies,
                                                 std::vector<absl::Status>* outcomes) {
  absl::MutexLock lock(&mu_);
  PgTransaction transaction(*db_, /*writable=*/true, sealer_);
  std::vector<std::function<absl::Status()>> steps;
  steps.reserve(bodies.size());
  for (const Body* body : bodies) {
    steps.push_back([&transaction, body] { return (*body)(transaction); });
  }
  // Replicas sharing the database take turns, a group at a time, so a body
  // that reads and then writes (a limit checked, a counter advanced) sees
  // no other writer's change in between, as with SQLite's single writer.
  // The cursor row is the lock: it is this schema's own, and PostgreSQL
  // holds it until the commit or rollback.
  PgConnection& db = *db_;
  return db.InGroupTransaction(
      [&db]() -> absl::Status {
        RETURN_IF_ERROR(db.Exec("SELECT 1 FROM cursor WHERE id = 1 FOR UPDATE").status());
        // Delivered at COMMIT, and only then: the other replicas look.
        return db.Exec("SELECT pg_notify($1, 'events')", PgParams().Text(kChannel)).status();
      },
      steps, outcomes);
}

std::unique_ptr<StoreListener> PostgresNotificationStore::Listen() {
  return ListenTo(url_, kChannel);
}

absl::StatusOr<int64_t> PostgresNotificationStore::AcquireLease(const std::string& holder,
                                                                absl::Duration ttl) {
  // One statement: renewed while it is the holder's and running, taken
  // (a new token) when it has run out; untouched (no row) otherwise.
  ASSIGN_OR_RETURN(
      PgResult rows,
      readers_->Query(
          "UPDATE leader_lease SET "
          "token = CASE WHEN holder = $1 AND expires > now() THEN token ELSE token + 1 END, "
          "holder = $1, expires = now() + $2::bigint * INTERVAL '1 millisecond' "
          "WHERE id = 1 AND (holder = $1 OR expires <= now()) RETURNING token",
          PgParams().Text(holder).Int(absl::ToInt64Milliseconds(ttl))));
  return rows.rows() > 0 ? rows.Int(0, 0) : 0;
}

absl::Status PostgresNotificationStore::ReleaseLease(const std::string& holder, int64_t token) {
  return readers_
      ->Query("UPDATE leader_lease SET expires = now() WHERE id = 1 AND holder = $1 AND token = $2",
              PgParams().Text(holder).Int(token))
      .status();
}

absl::Status PostgresNotificationStore::Read(const Body& body) {
  return readers_->Read([&](PgConnection& db) {
    PgTransaction transaction(db, /*writable=*/false, sealer_);
    return body(transaction);
  });
}

}  // namespace suishin::notification
