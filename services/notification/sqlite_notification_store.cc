#include "services/notification/sqlite_notification_store.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "common/status_macros.h"

namespace suishin::notification {
namespace {

// Migration 2: fills the silences' new columns from their messages.
absl::Status FillSilenceColumns(Database& db) {
  ASSIGN_OR_RETURN(Statement select, db.Prepare("SELECT key, data FROM silences"));
  ASSIGN_OR_RETURN(Statement update,
                   db.Prepare("UPDATE silences SET live = ?2, end_us = ?3 WHERE key = ?1"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return absl::OkStatus();
    ASSIGN_OR_RETURN(v1::Silence silence, ParseColumn<v1::Silence>(select, 1, "silences"));
    update.Reset();
    update.BindInt(1, select.ColumnInt(0))
        .BindInt(2, silence.active() ? 1 : 0)
        .BindInt(3, absl::ToUnixMicros(FromProtoTimestamp(silence.end_time())));
    RETURN_IF_ERROR(update.Run());
  }
}

const std::vector<Migration>& Schema() {
  static const auto* migrations = new std::vector<Migration>{
      {1, R"sql(
CREATE TABLE cursor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  next_sequence INTEGER NOT NULL
);
INSERT INTO cursor VALUES (1, 1);
CREATE TABLE rules (
  kind INTEGER NOT NULL,
  kpi_id TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (kind, kpi_id)
);
CREATE TABLE alerts (
  fingerprint TEXT PRIMARY KEY,
  kpi_id TEXT NOT NULL,
  region_id TEXT NOT NULL,
  firing INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX alerts_by_kpi ON alerts (kpi_id, region_id);
CREATE TABLE alert_history (
  key INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX alert_history_by_alert ON alert_history (fingerprint, key);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE silences (
  key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  data BLOB NOT NULL
);
CREATE TABLE webhooks (
  key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  data BLOB NOT NULL
);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  webhook_id TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_us INTEGER NOT NULL,
  last_error TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_us, id);
CREATE TABLE dead_letters (
  key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  webhook_id TEXT NOT NULL,
  data BLOB NOT NULL
);
)sql"},
      // Bounded lists: live silences found without reading every one ever
      // made, each endpoint's outbox queue and dead letters by an index.
      {2, R"sql(
ALTER TABLE silences ADD COLUMN live INTEGER NOT NULL DEFAULT 1;
ALTER TABLE silences ADD COLUMN end_us INTEGER NOT NULL DEFAULT 0;
CREATE INDEX silences_live ON silences (live, end_us);
DROP INDEX outbox_due;
CREATE INDEX outbox_by_webhook ON outbox (webhook_id, next_attempt_us, id);
CREATE INDEX dead_letters_by_webhook ON dead_letters (webhook_id, key);
)sql",
       FillSilenceColumns},
  };
  return *migrations;
}

class SqliteTransaction : public NotificationTransaction {
 public:
  // `writable` is false inside a Read: then every write fails.
  SqliteTransaction(Database& db, bool writable, const SecretSealer& sealer)
      : db_(db), writable_(writable), sealer_(sealer) {}

  absl::StatusOr<int64_t> Cursor() override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT next_sequence FROM cursor WHERE id = 1"));
    ASSIGN_OR_RETURN(bool row, statement->Step());
    return row ? statement->ColumnInt(0) : 1;
  }

  absl::Status SetCursor(int64_t next_sequence) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("UPDATE cursor SET next_sequence = ?1 WHERE id = 1"));
    statement->BindInt(1, next_sequence);
    return statement->Run();
  }

  absl::StatusOr<std::vector<v1::Rule>> Rules() override {
    return ReadAll<v1::Rule>("SELECT data FROM rules ORDER BY kind, kpi_id", "", "rules");
  }

  absl::Status PutRule(const v1::Rule& rule) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("INSERT INTO rules VALUES (?1, ?2, ?3) ON CONFLICT (kind, kpi_id) "
                                "DO UPDATE SET data = excluded.data"));
    statement->BindInt(1, rule.kind())
        .BindText(2, rule.kpi_id())
        .BindBlob(3, rule.SerializeAsString());
    return statement->Run();
  }

  absl::StatusOr<std::optional<v1::Alert>> FindAlert(absl::string_view fingerprint) override {
    return FindOne<v1::Alert>("SELECT data FROM alerts WHERE fingerprint = ?", fingerprint,
                              "alerts");
  }

  absl::StatusOr<std::vector<v1::Alert>> AlertsOf(absl::string_view kpi_id,
                                                  absl::string_view region_id) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT data FROM alerts WHERE kpi_id = ?1 AND region_id = ?2"));
    statement->BindText(1, kpi_id).BindText(2, region_id);
    return ReadMessages<v1::Alert>(*statement, 0, "alerts");
  }

  absl::StatusOr<std::vector<v1::Alert>> Alerts(bool include_resolved) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT data FROM alerts WHERE ?1 OR firing "
                                "ORDER BY firing DESC, kpi_id, region_id, fingerprint"));
    statement->BindInt(1, include_resolved ? 1 : 0);
    return ReadMessages<v1::Alert>(*statement, 0, "alerts");
  }

  absl::Status PutAlert(const v1::Alert& alert) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(
        Statement * statement,
        db_.Cached("INSERT INTO alerts VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (fingerprint) "
                   "DO UPDATE SET firing = excluded.firing, data = excluded.data"));
    v1::Alert stored = alert;
    stored.clear_history();
    statement->BindText(1, alert.fingerprint())
        .BindText(2, alert.kpi_id())
        .BindText(3, alert.region_id())
        .BindInt(4, alert.state() == v1::ALERT_STATE_FIRING ? 1 : 0)
        .BindBlob(5, stored.SerializeAsString());
    return statement->Run();
  }

  absl::Status AppendHistory(absl::string_view fingerprint,
                             const v1::AlertHistoryEntry& entry) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("INSERT INTO alert_history (fingerprint, data) VALUES (?1, ?2)"));
    statement->BindText(1, fingerprint).BindBlob(2, entry.SerializeAsString());
    return statement->Run();
  }

  absl::StatusOr<std::vector<Keyed<v1::AlertHistoryEntry>>> History(absl::string_view fingerprint,
                                                                    int64_t after_key,
                                                                    int limit) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT key, data FROM alert_history WHERE fingerprint = ?1 "
                                "AND key > ?2 ORDER BY key LIMIT ?3"));
    statement->BindText(1, fingerprint).BindInt(2, after_key).BindInt(3, limit);
    return ReadKeyed<v1::AlertHistoryEntry>(*statement, "alert_history");
  }

  absl::StatusOr<int64_t> AppendEvent(const v1::AlertEvent& event) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("INSERT INTO events (data) VALUES (?1)"));
    v1::AlertEvent stored = event;
    stored.clear_id();
    statement->BindBlob(1, stored.SerializeAsString());
    RETURN_IF_ERROR(statement->Run());
    return sqlite3_last_insert_rowid(db_.handle());
  }

  absl::StatusOr<std::vector<v1::AlertEvent>> Events(int64_t after_id, int limit) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT id, data FROM events WHERE id > ?1 ORDER BY id LIMIT ?2"));
    statement->BindInt(1, after_id).BindInt(2, limit);
    std::vector<v1::AlertEvent> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement->Step());
      if (!row) return out;
      ASSIGN_OR_RETURN(v1::AlertEvent event, ParseColumn<v1::AlertEvent>(*statement, 1, "events"));
      event.set_id(statement->ColumnInt(0));
      out.push_back(std::move(event));
    }
  }

  absl::StatusOr<int64_t> LastEventId() override {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("SELECT COALESCE(MAX(id), 0) FROM events"));
    ASSIGN_OR_RETURN(bool row, statement->Step());
    return row ? statement->ColumnInt(0) : 0;
  }

  absl::StatusOr<std::vector<v1::Silence>> LiveSilences(absl::Time now) override {
    ASSIGN_OR_RETURN(
        Statement * statement,
        db_.Cached("SELECT data FROM silences WHERE live AND end_us > ?1 ORDER BY key"));
    statement->BindInt(1, absl::ToUnixMicros(now));
    return ReadMessages<v1::Silence>(*statement, 0, "silences");
  }

  absl::StatusOr<int64_t> CountLiveSilences(absl::Time now) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT COUNT(*) FROM silences WHERE live AND end_us > ?1"));
    statement->BindInt(1, absl::ToUnixMicros(now));
    return Count(*statement);
  }

  absl::StatusOr<std::vector<Keyed<v1::Silence>>> ListSilences(bool include_ended, absl::Time now,
                                                               int64_t after_key,
                                                               int limit) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT key, data FROM silences WHERE key > ?1 "
                                "AND (?2 OR (live AND end_us > ?3)) ORDER BY key LIMIT ?4"));
    statement->BindInt(1, after_key)
        .BindInt(2, include_ended ? 1 : 0)
        .BindInt(3, absl::ToUnixMicros(now))
        .BindInt(4, limit);
    return ReadKeyed<v1::Silence>(*statement, "silences");
  }

  absl::StatusOr<bool> AnySilence() override {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("SELECT EXISTS (SELECT 1 FROM silences)"));
    ASSIGN_OR_RETURN(int64_t any, Count(*statement));
    return any != 0;
  }

  absl::StatusOr<std::optional<v1::Silence>> FindSilence(absl::string_view id) override {
    return FindOne<v1::Silence>("SELECT data FROM silences WHERE id = ?", id, "silences");
  }

  absl::Status PutSilence(const v1::Silence& silence) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("INSERT INTO silences (id, data, live, end_us) "
                                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET "
                                "data = excluded.data, live = excluded.live, "
                                "end_us = excluded.end_us"));
    statement->BindText(1, silence.id())
        .BindBlob(2, silence.SerializeAsString())
        .BindInt(3, silence.active() ? 1 : 0)
        .BindInt(4, absl::ToUnixMicros(FromProtoTimestamp(silence.end_time())));
    return statement->Run();
  }

  absl::StatusOr<std::vector<v1::Webhook>> Webhooks() override {
    ASSIGN_OR_RETURN(
        std::vector<v1::Webhook> webhooks,
        ReadAll<v1::Webhook>("SELECT data FROM webhooks ORDER BY key", "", "webhooks"));
    for (v1::Webhook& webhook : webhooks) RETURN_IF_ERROR(Unseal(webhook));
    return webhooks;
  }

  absl::StatusOr<std::vector<Keyed<v1::Webhook>>> ListWebhooks(int64_t after_key,
                                                               int limit) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT key, data FROM webhooks WHERE key > ?1 ORDER BY key "
                                "LIMIT ?2"));
    statement->BindInt(1, after_key).BindInt(2, limit);
    ASSIGN_OR_RETURN(std::vector<Keyed<v1::Webhook>> webhooks,
                     ReadKeyed<v1::Webhook>(*statement, "webhooks"));
    for (Keyed<v1::Webhook>& webhook : webhooks) RETURN_IF_ERROR(Unseal(webhook.value));
    return webhooks;
  }

  absl::StatusOr<int64_t> CountDeliveries() override {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("SELECT COUNT(*) FROM outbox"));
    return Count(*statement);
  }

  absl::StatusOr<int64_t> CountDeadLetters() override {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("SELECT COUNT(*) FROM dead_letters"));
    return Count(*statement);
  }

  absl::StatusOr<int64_t> CountWebhooks() override {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("SELECT COUNT(*) FROM webhooks"));
    return Count(*statement);
  }

  absl::StatusOr<std::optional<v1::Webhook>> FindWebhook(absl::string_view id) override {
    ASSIGN_OR_RETURN(
        std::optional<v1::Webhook> webhook,
        FindOne<v1::Webhook>("SELECT data FROM webhooks WHERE id = ?", id, "webhooks"));
    if (webhook) RETURN_IF_ERROR(Unseal(*webhook));
    return webhook;
  }

  absl::Status PutWebhook(const v1::Webhook& webhook) override {
    v1::Webhook sealed = webhook;
    sealed.set_secret(sealer_.Seal(webhook.id(), webhook.secret()));
    if (!webhook.previous_secret().empty()) {
      sealed.set_previous_secret(sealer_.Seal(webhook.id(), webhook.previous_secret()));
    }
    return Put(
        "INSERT INTO webhooks (id, data) VALUES (?1, ?2) ON CONFLICT (id) "
        "DO UPDATE SET data = excluded.data",
        webhook.id(), sealed.SerializeAsString());
  }

  // Seals every secret stored in the clear (by a version before sealing);
  // fails when a sealed one does not open with this key.
  absl::Status SealStoredSecrets() {
    ASSIGN_OR_RETURN(
        std::vector<v1::Webhook> stored,
        ReadAll<v1::Webhook>("SELECT data FROM webhooks ORDER BY key", "", "webhooks"));
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
    for (absl::string_view sql :
         {"DELETE FROM webhooks WHERE id = ?", "DELETE FROM outbox WHERE webhook_id = ?"}) {
      ASSIGN_OR_RETURN(Statement * statement, db_.Cached(sql));
      statement->BindText(1, id);
      RETURN_IF_ERROR(statement->Run());
    }
    return absl::OkStatus();
  }

  absl::Status AddDelivery(const Delivery& delivery) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("INSERT INTO outbox (webhook_id, event_id, payload, attempts, "
                                "next_attempt_us, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    statement->BindText(1, delivery.webhook_id)
        .BindInt(2, delivery.event_id)
        .BindText(3, delivery.payload)
        .BindInt(4, delivery.attempts)
        .BindInt(5, absl::ToUnixMicros(delivery.next_attempt))
        .BindText(6, delivery.last_error);
    return statement->Run();
  }

  absl::StatusOr<std::vector<std::pair<std::string, absl::Time>>> SoonestByWebhook() override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT webhook_id, MIN(next_attempt_us) FROM outbox "
                                "GROUP BY webhook_id"));
    std::vector<std::pair<std::string, absl::Time>> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement->Step());
      if (!row) return out;
      out.emplace_back(statement->ColumnText(0), absl::FromUnixMicros(statement->ColumnInt(1)));
    }
  }

  absl::StatusOr<std::optional<Delivery>> NextDelivery(absl::string_view webhook_id) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT id, webhook_id, event_id, payload, attempts, "
                                "next_attempt_us, last_error FROM outbox WHERE webhook_id = ?1 "
                                "ORDER BY next_attempt_us, id LIMIT 1"));
    statement->BindText(1, webhook_id);
    ASSIGN_OR_RETURN(bool row, statement->Step());
    if (!row) return std::optional<Delivery>();
    Delivery delivery;
    delivery.id = statement->ColumnInt(0);
    delivery.webhook_id = statement->ColumnText(1);
    delivery.event_id = statement->ColumnInt(2);
    delivery.payload = statement->ColumnText(3);
    delivery.attempts = static_cast<int>(statement->ColumnInt(4));
    delivery.next_attempt = absl::FromUnixMicros(statement->ColumnInt(5));
    delivery.last_error = statement->ColumnText(6);
    return std::optional<Delivery>(std::move(delivery));
  }

  absl::Status UpdateDelivery(const Delivery& delivery) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("UPDATE outbox SET attempts = ?2, next_attempt_us = ?3, "
                                "last_error = ?4 WHERE id = ?1"));
    statement->BindInt(1, delivery.id)
        .BindInt(2, delivery.attempts)
        .BindInt(3, absl::ToUnixMicros(delivery.next_attempt))
        .BindText(4, delivery.last_error);
    return statement->Run();
  }

  absl::Status DeleteDelivery(int64_t id) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("DELETE FROM outbox WHERE id = ?"));
    statement->BindInt(1, id);
    return statement->Run();
  }

  absl::Status PutDeadLetter(const v1::DeadLetter& letter) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(
        Statement * statement,
        db_.Cached("INSERT INTO dead_letters (id, webhook_id, data) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT (id) DO UPDATE SET data = excluded.data"));
    statement->BindText(1, letter.id())
        .BindText(2, letter.webhook_id())
        .BindBlob(3, letter.SerializeAsString());
    return statement->Run();
  }

  absl::StatusOr<std::vector<Keyed<v1::DeadLetter>>> DeadLetters(absl::string_view webhook_id,
                                                                 int64_t after_key,
                                                                 int limit) override {
    ASSIGN_OR_RETURN(
        Statement * statement,
        db_.Cached(webhook_id.empty() ? "SELECT key, data FROM dead_letters WHERE ?1 = '' "
                                        "AND key > ?2 ORDER BY key LIMIT ?3"
                                      : "SELECT key, data FROM dead_letters WHERE webhook_id = ?1 "
                                        "AND key > ?2 ORDER BY key LIMIT ?3"));
    statement->BindText(1, webhook_id).BindInt(2, after_key).BindInt(3, limit);
    return ReadKeyed<v1::DeadLetter>(*statement, "dead_letters");
  }

  absl::StatusOr<std::optional<v1::DeadLetter>> FindDeadLetter(absl::string_view id) override {
    return FindOne<v1::DeadLetter>("SELECT data FROM dead_letters WHERE id = ?", id,
                                   "dead_letters");
  }

  absl::Status DeleteDeadLetter(absl::string_view id) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("DELETE FROM dead_letters WHERE id = ?"));
    statement->BindText(1, id);
    return statement->Run();
  }

 private:
  absl::Status CheckWritable() const {
    if (writable_) return absl::OkStatus();
    return absl::FailedPreconditionError(
        "notification store: a write inside a read-only transaction");
  }

  static absl::StatusOr<int64_t> Count(Statement& statement) {
    ASSIGN_OR_RETURN(bool row, statement.Step());
    return row ? statement.ColumnInt(0) : 0;
  }

  // Rows of one message column; `sql` takes `arg` as ?1 when it has one.
  template <typename T>
  absl::StatusOr<std::vector<T>> ReadAll(absl::string_view sql, absl::string_view arg,
                                         absl::string_view table) {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached(sql));
    if (sql.find('?') != absl::string_view::npos) statement->BindText(1, arg);
    return ReadMessages<T>(*statement, 0, table);
  }

  template <typename T>
  absl::StatusOr<std::optional<T>> FindOne(absl::string_view sql, absl::string_view key,
                                           absl::string_view table) {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached(sql));
    statement->BindText(1, key);
    return ReadMessage<T>(*statement, 0, table);
  }

  absl::Status Put(absl::string_view sql, absl::string_view id, const std::string& data) {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached(sql));
    statement->BindText(1, id).BindBlob(2, data);
    return statement->Run();
  }

  // The webhook's secrets as they were before PutWebhook sealed them.
  absl::Status Unseal(v1::Webhook& webhook) const { return sealer_.UnsealWebhook(webhook); }

  Database& db_;
  const bool writable_;
  const SecretSealer& sealer_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteNotificationStore>> SqliteNotificationStore::Open(
    const std::string& path, SecretSealer sealer, int readers) {
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
  RETURN_IF_ERROR(db->Migrate(Schema()));
  RETURN_IF_ERROR(db->InTransaction([&]() {
    SqliteTransaction transaction(*db, /*writable=*/true, sealer);
    return transaction.SealStoredSecrets();
  }));
  ASSIGN_OR_RETURN(std::unique_ptr<ReaderPool> pool, ReaderPool::Open(path, readers));
  ASSIGN_OR_RETURN(std::unique_ptr<Checkpointer> checkpointer, Checkpointer::Start(db.get(), path));
  return std::unique_ptr<SqliteNotificationStore>(new SqliteNotificationStore(
      std::move(db), std::move(pool), std::move(checkpointer), std::move(sealer)));
}

absl::Status SqliteNotificationStore::RunGroup(const std::vector<const Body*>& bodies,
                                               std::vector<absl::Status>* outcomes) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction transaction(*db_, /*writable=*/true, sealer_);
  return RunBodiesInGroup<NotificationTransaction>(*db_, transaction, bodies, outcomes);
}

absl::Status SqliteNotificationStore::Read(const Body& body) {
  return readers_->Read([&](Database& db) {
    SqliteTransaction transaction(db, /*writable=*/false, sealer_);
    return body(transaction);
  });
}

}  // namespace suishin::notification
