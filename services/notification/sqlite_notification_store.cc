#include "services/notification/sqlite_notification_store.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace suishin::notification {
namespace {

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
  };
  return *migrations;
}

class SqliteTransaction : public NotificationTransaction {
 public:
  explicit SqliteTransaction(Database& db) : db_(db) {}

  absl::StatusOr<int64_t> Cursor() override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT next_sequence FROM cursor WHERE id = 1"));
    ASSIGN_OR_RETURN(bool row, statement->Step());
    return row ? statement->ColumnInt(0) : 1;
  }

  absl::Status SetCursor(int64_t next_sequence) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("UPDATE cursor SET next_sequence = ?1 WHERE id = 1"));
    statement->BindInt(1, next_sequence);
    return statement->Run();
  }

  absl::StatusOr<std::vector<v1::Rule>> Rules() override {
    return ReadAll<v1::Rule>("SELECT data FROM rules ORDER BY kind, kpi_id", "", "rules");
  }

  absl::Status PutRule(const v1::Rule& rule) override {
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
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("INSERT INTO alert_history (fingerprint, data) VALUES (?1, ?2)"));
    statement->BindText(1, fingerprint).BindBlob(2, entry.SerializeAsString());
    return statement->Run();
  }

  absl::StatusOr<std::vector<v1::AlertHistoryEntry>> History(
      absl::string_view fingerprint) override {
    return ReadAll<v1::AlertHistoryEntry>(
        "SELECT data FROM alert_history WHERE fingerprint = ? ORDER BY key", fingerprint,
        "alert_history");
  }

  absl::StatusOr<int64_t> AppendEvent(const v1::AlertEvent& event) override {
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

  absl::StatusOr<std::vector<v1::Silence>> Silences() override {
    return ReadAll<v1::Silence>("SELECT data FROM silences ORDER BY key", "", "silences");
  }

  absl::StatusOr<std::optional<v1::Silence>> FindSilence(absl::string_view id) override {
    return FindOne<v1::Silence>("SELECT data FROM silences WHERE id = ?", id, "silences");
  }

  absl::Status PutSilence(const v1::Silence& silence) override {
    return Put(
        "INSERT INTO silences (id, data) VALUES (?1, ?2) ON CONFLICT (id) "
        "DO UPDATE SET data = excluded.data",
        silence.id(), silence.SerializeAsString());
  }

  absl::StatusOr<std::vector<v1::Webhook>> Webhooks() override {
    return ReadAll<v1::Webhook>("SELECT data FROM webhooks ORDER BY key", "", "webhooks");
  }

  absl::StatusOr<std::optional<v1::Webhook>> FindWebhook(absl::string_view id) override {
    return FindOne<v1::Webhook>("SELECT data FROM webhooks WHERE id = ?", id, "webhooks");
  }

  absl::Status PutWebhook(const v1::Webhook& webhook) override {
    return Put(
        "INSERT INTO webhooks (id, data) VALUES (?1, ?2) ON CONFLICT (id) "
        "DO UPDATE SET data = excluded.data",
        webhook.id(), webhook.SerializeAsString());
  }

  absl::Status DeleteWebhook(absl::string_view id) override {
    for (absl::string_view sql :
         {"DELETE FROM webhooks WHERE id = ?", "DELETE FROM outbox WHERE webhook_id = ?"}) {
      ASSIGN_OR_RETURN(Statement * statement, db_.Cached(sql));
      statement->BindText(1, id);
      RETURN_IF_ERROR(statement->Run());
    }
    return absl::OkStatus();
  }

  absl::Status AddDelivery(const Delivery& delivery) override {
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

  absl::StatusOr<std::vector<Delivery>> DueDeliveries(absl::Time now, int limit) override {
    ASSIGN_OR_RETURN(Statement * statement,
                     db_.Cached("SELECT id, webhook_id, event_id, payload, attempts, "
                                "next_attempt_us, last_error FROM outbox "
                                "WHERE next_attempt_us <= ?1 ORDER BY next_attempt_us, id "
                                "LIMIT ?2"));
    statement->BindInt(1, absl::ToUnixMicros(now)).BindInt(2, limit);
    std::vector<Delivery> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, statement->Step());
      if (!row) return out;
      Delivery delivery;
      delivery.id = statement->ColumnInt(0);
      delivery.webhook_id = statement->ColumnText(1);
      delivery.event_id = statement->ColumnInt(2);
      delivery.payload = statement->ColumnText(3);
      delivery.attempts = static_cast<int>(statement->ColumnInt(4));
      delivery.next_attempt = absl::FromUnixMicros(statement->ColumnInt(5));
      delivery.last_error = statement->ColumnText(6);
      out.push_back(std::move(delivery));
    }
  }

  absl::StatusOr<std::optional<absl::Time>> NextDue() override {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("SELECT MIN(next_attempt_us) FROM outbox"));
    ASSIGN_OR_RETURN(bool row, statement->Step());
    if (!row || statement->ColumnIsNull(0)) return std::optional<absl::Time>();
    return std::optional<absl::Time>(absl::FromUnixMicros(statement->ColumnInt(0)));
  }

  absl::Status UpdateDelivery(const Delivery& delivery) override {
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
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("DELETE FROM outbox WHERE id = ?"));
    statement->BindInt(1, id);
    return statement->Run();
  }

  absl::Status PutDeadLetter(const v1::DeadLetter& letter) override {
    ASSIGN_OR_RETURN(
        Statement * statement,
        db_.Cached("INSERT INTO dead_letters (id, webhook_id, data) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT (id) DO UPDATE SET data = excluded.data"));
    statement->BindText(1, letter.id())
        .BindText(2, letter.webhook_id())
        .BindBlob(3, letter.SerializeAsString());
    return statement->Run();
  }

  absl::StatusOr<std::vector<v1::DeadLetter>> DeadLetters(absl::string_view webhook_id) override {
    return ReadAll<v1::DeadLetter>(
        "SELECT data FROM dead_letters WHERE ?1 = '' OR webhook_id = ?1 ORDER BY key", webhook_id,
        "dead_letters");
  }

  absl::StatusOr<std::optional<v1::DeadLetter>> FindDeadLetter(absl::string_view id) override {
    return FindOne<v1::DeadLetter>("SELECT data FROM dead_letters WHERE id = ?", id,
                                   "dead_letters");
  }

  absl::Status DeleteDeadLetter(absl::string_view id) override {
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached("DELETE FROM dead_letters WHERE id = ?"));
    statement->BindText(1, id);
    return statement->Run();
  }

 private:
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
    ASSIGN_OR_RETURN(Statement * statement, db_.Cached(sql));
    statement->BindText(1, id).BindBlob(2, data);
    return statement->Run();
  }

  Database& db_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteNotificationStore>> SqliteNotificationStore::Open(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
  RETURN_IF_ERROR(db->Migrate(Schema()));
  return std::unique_ptr<SqliteNotificationStore>(new SqliteNotificationStore(std::move(db)));
}

absl::Status SqliteNotificationStore::Run(
    const std::function<absl::Status(NotificationTransaction&)>& body) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction transaction(*db_);
  return db_->InTransaction([&] { return body(transaction); });
}

}  // namespace suishin::notification
