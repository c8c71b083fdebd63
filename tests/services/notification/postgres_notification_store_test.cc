// PostgresNotificationStore on a PostgreSQL schema of its own, whichever
// pass the suite runs in: what it writes reads as typed columns in plain
// SQL (for reports and BI tools), webhook secrets never stay in the database
// in the clear and open only with their key, a read cannot write, and event
// ids follow each other without gaps or reuse across failed bodies and
// restarts.
#include "services/notification/postgres_notification_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/postgres.h"
#include "common/proto_util.h"
#include "services/notification/secret_sealer.h"
#include "tests/support/test_store.h"

namespace suishin::notification {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);  // 2027-01-15T08:00:00Z
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

SecretSealer Sealer(char fill = 'k') { return *SecretSealer::FromKey(std::string(32, fill)); }

v1::Alert FiringAlert() {
  v1::Alert alert;
  alert.set_fingerprint("lagging/kpi-1/soya");
  alert.set_rule(v1::RULE_KIND_LAGGING);
  alert.set_kpi_id("kpi-1");
  alert.set_region_id("soya");
  alert.set_severity(v1::SEVERITY_WARNING);
  alert.set_state(v1::ALERT_STATE_FIRING);
  *alert.mutable_start_time() = ToProtoTimestamp(kNow);
  v1::AlertValues& values = *alert.mutable_values();
  values.mutable_fiscal_year()->set_year(2026);
  values.set_value(42.5);
  values.set_rate(0.425);
  values.set_expected_rate(0.75);
  values.set_pace_gap(-0.325);
  alert.set_summary("宗谷: 進捗が遅れています");
  return alert;
}

v1::Webhook SecretWebhook() {
  v1::Webhook webhook;
  webhook.set_id("webhook-1");
  webhook.set_url("https://example.org/hook");
  webhook.set_secret(kSecret);
  *webhook.mutable_create_time() = ToProtoTimestamp(kNow);
  return webhook;
}

class PostgresNotificationStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> url = suishin::testing::NewPostgresStore();
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    ASSERT_NO_FATAL_FAILURE(Open());
    absl::StatusOr<std::unique_ptr<PgConnection>> sql = PgConnection::Connect(url_);
    ASSERT_TRUE(sql.ok()) << sql.status();
    sql_ = *std::move(sql);
  }

  void Open() {
    store_.reset();
    auto store = PostgresNotificationStore::Open(url_, Sealer(), 2);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // Runs `sql` (no parameters) through the plain connection; no rows when
  // it fails.
  PgResult Query(const std::string& sql) {
    absl::StatusOr<PgResult> result = sql_->Exec(sql);
    if (result.ok()) return *std::move(result);
    ADD_FAILURE() << sql << ": " << result.status();
    return *sql_->Exec("SELECT 1 WHERE false");
  }

  std::string url_;
  std::unique_ptr<PostgresNotificationStore> store_;
  std::unique_ptr<PgConnection> sql_;
};

TEST_F(PostgresNotificationStoreTest, AlertsAndEventsReadAsTypedColumns) {
  const v1::Alert alert = FiringAlert();
  ASSERT_TRUE(store_
                  ->Run([&](NotificationTransaction& tx) -> absl::Status {
                    if (absl::Status put = tx.PutAlert(alert); !put.ok()) return put;
                    v1::AlertEvent event;
                    event.set_kind(v1::EVENT_KIND_FIRED);
                    *event.mutable_time() = ToProtoTimestamp(kNow);
                    *event.mutable_alert() = alert;
                    return tx.AppendEvent(event).status();
                  })
                  .ok());

  PgResult alerts = Query(
      "SELECT state, firing, kpi_id, region_id, fiscal_year, rate, expected_rate, pace_gap, "
      "suishin_micros(start_time), end_time IS NULL, rule, severity FROM alerts");
  ASSERT_EQ(alerts.rows(), 1);
  EXPECT_EQ(alerts.Text(0, 0), "ALERT_STATE_FIRING");
  EXPECT_EQ(alerts.Text(0, 1), "t");
  EXPECT_EQ(alerts.Text(0, 2), "kpi-1");
  EXPECT_EQ(alerts.Text(0, 3), "soya");
  EXPECT_EQ(alerts.Int(0, 4), 2026);
  EXPECT_DOUBLE_EQ(alerts.Double(0, 5), 0.425);
  EXPECT_DOUBLE_EQ(alerts.Double(0, 6), 0.75);
  EXPECT_DOUBLE_EQ(alerts.Double(0, 7), -0.325);
  EXPECT_EQ(alerts.Int(0, 8), absl::ToUnixMicros(kNow));
  EXPECT_EQ(alerts.Text(0, 9), "t") << "not resolved: no end time";
  EXPECT_EQ(alerts.Text(0, 10), "RULE_KIND_LAGGING");
  EXPECT_EQ(alerts.Text(0, 11), "SEVERITY_WARNING");

  // The types themselves, as a BI tool sees them.
  PgResult types = Query(
      "SELECT pg_typeof(rate)::text, pg_typeof(start_time)::text, pg_typeof(fiscal_year)::text "
      "FROM alerts");
  ASSERT_EQ(types.rows(), 1);
  EXPECT_EQ(types.Text(0, 0), "double precision");
  EXPECT_EQ(types.Text(0, 1), "timestamp with time zone");
  EXPECT_EQ(types.Text(0, 2), "integer");

  PgResult events =
      Query("SELECT id, pg_typeof(id)::text, kind, kpi_id, suishin_micros(time) FROM events");
  ASSERT_EQ(events.rows(), 1);
  EXPECT_EQ(events.Int(0, 0), 1);
  EXPECT_EQ(events.Text(0, 1), "bigint");
  EXPECT_EQ(events.Text(0, 2), "EVENT_KIND_FIRED");
  EXPECT_EQ(events.Text(0, 3), "kpi-1");
  EXPECT_EQ(events.Int(0, 4), absl::ToUnixMicros(kNow));

  // And the store reads back what it wrote, history kept apart.
  ASSERT_TRUE(store_
                  ->Read([&](NotificationTransaction& tx) -> absl::Status {
                    auto found = tx.FindAlert(alert.fingerprint());
                    EXPECT_TRUE(found.ok() && found->has_value());
                    if (found.ok() && found->has_value()) {
                      EXPECT_EQ((*found)->SerializeAsString(), alert.SerializeAsString());
                    }
                    auto read = tx.Events(0, 10);
                    EXPECT_TRUE(read.ok() && read->size() == 1u);
                    if (read.ok() && read->size() == 1u) {
                      EXPECT_EQ((*read)[0].id(), 1);
                    }
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_F(PostgresNotificationStoreTest, AWebhookSecretIsSealedInTheDatabase) {
  ASSERT_TRUE(
      store_->Run([](NotificationTransaction& tx) { return tx.PutWebhook(SecretWebhook()); }).ok());

  PgResult rows =
      Query("SELECT url, suishin_micros(create_time), data, webhooks::text FROM webhooks");
  ASSERT_EQ(rows.rows(), 1);
  EXPECT_EQ(rows.Text(0, 0), "https://example.org/hook");
  EXPECT_EQ(rows.Int(0, 1), absl::ToUnixMicros(kNow));
  const std::string data = rows.Bytes(0, 2);
  EXPECT_FALSE(absl::StrContains(data, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  EXPECT_TRUE(absl::StrContains(data, "sealed:v1:"));
  EXPECT_FALSE(absl::StrContains(rows.Text(0, 3), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
      << "in no column";

  // The store opens it again, also after a restart.
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_TRUE(store_
                  ->Read([](NotificationTransaction& tx) -> absl::Status {
                    auto webhook = tx.FindWebhook("webhook-1");
                    EXPECT_TRUE(webhook.ok() && webhook->has_value());
                    if (webhook.ok() && webhook->has_value()) {
                      EXPECT_EQ((*webhook)->secret(), kSecret);
                    }
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_F(PostgresNotificationStoreTest, AnotherKeyDoesNotOpenTheStore) {
  ASSERT_TRUE(
      store_->Run([](NotificationTransaction& tx) { return tx.PutWebhook(SecretWebhook()); }).ok());
  store_.reset();
  auto other = PostgresNotificationStore::Open(url_, Sealer('x'), 1);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition) << other.status();
}

TEST_F(PostgresNotificationStoreTest, ASecretStoredInTheClearIsSealedWhenTheStoreOpens) {
  // As a tool writing the row by hand might store it.
  const v1::Webhook plain = SecretWebhook();
  absl::StatusOr<int64_t> inserted =
      sql_->Run("INSERT INTO webhooks (id, url, data) VALUES ($1, $2, $3)",
                PgParams().Text(plain.id()).Text(plain.url()).Bytes(plain.SerializeAsString()));
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  ASSERT_NO_FATAL_FAILURE(Open());
  PgResult rows = Query("SELECT data FROM webhooks");
  ASSERT_EQ(rows.rows(), 1);
  EXPECT_FALSE(absl::StrContains(rows.Bytes(0, 0), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  ASSERT_TRUE(store_
                  ->Read([](NotificationTransaction& tx) -> absl::Status {
                    auto webhook = tx.FindWebhook("webhook-1");
                    EXPECT_TRUE(webhook.ok() && webhook->has_value());
                    if (webhook.ok() && webhook->has_value()) {
                      EXPECT_EQ((*webhook)->secret(), kSecret);
                    }
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_F(PostgresNotificationStoreTest, AWriteInsideAReadFailsWithFailedPrecondition) {
  absl::Status write;
  ASSERT_TRUE(store_
                  ->Read([&](NotificationTransaction& tx) -> absl::Status {
                    write = tx.PutAlert(FiringAlert());
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(write.code(), absl::StatusCode::kFailedPrecondition) << write;
  PgResult count = Query("SELECT COUNT(*) FROM alerts");
  ASSERT_EQ(count.rows(), 1);
  EXPECT_EQ(count.Int(0, 0), 0);
}

TEST_F(PostgresNotificationStoreTest, EventIdsLeaveNoGapForAFailedBodyAndAreNeverReused) {
  v1::AlertEvent event;
  event.set_kind(v1::EVENT_KIND_FIRED);
  *event.mutable_alert() = FiringAlert();
  std::vector<int64_t> ids;
  const NotificationStore::Body append = [&](NotificationTransaction& tx) -> absl::Status {
    absl::StatusOr<int64_t> id = tx.AppendEvent(event);
    if (!id.ok()) return id.status();
    ids.push_back(*id);
    return absl::OkStatus();
  };
  const NotificationStore::Body append_then_fail = [&](NotificationTransaction& tx) {
    if (absl::Status appended = append(tx); !appended.ok()) return appended;
    return absl::AbortedError("the body gives up");
  };
  std::vector<absl::Status> outcomes;
  ASSERT_TRUE(store_->RunGroup({&append, &append_then_fail, &append}, &outcomes).ok());
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_EQ(outcomes[1].code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(outcomes[2].ok());
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 2})) << "the failed body's id went to the next";

  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_TRUE(store_->Run(append).ok());
  EXPECT_EQ(ids.back(), 3);
  PgResult stored = Query("SELECT id FROM events ORDER BY id");
  ASSERT_EQ(stored.rows(), 3);
  for (int row = 0; row < stored.rows(); ++row) EXPECT_EQ(stored.Int(row, 0), row + 1);
}

// The leader's lease: one holder at a time, a new token at each change of
// holder, and a write fenced with an old token refused with nothing stored.
TEST_F(PostgresNotificationStoreTest, TheLeaseHasOneHolderAndAnOldTokenIsFencedOut) {
  const absl::Duration ttl = absl::Milliseconds(300);
  absl::StatusOr<int64_t> a = store_->AcquireLease("a", ttl);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_GT(*a, 0);
  EXPECT_EQ(*store_->AcquireLease("b", ttl), 0) << "taken while a's lease runs";
  EXPECT_EQ(*store_->AcquireLease("a", ttl), *a) << "a renewal keeps the token";
  absl::SleepFor(ttl + absl::Milliseconds(100));
  absl::StatusOr<int64_t> b = store_->AcquireLease("b", absl::Seconds(30));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_GT(*b, *a) << "a run-out lease is taken with a new token";
  EXPECT_EQ(*store_->AcquireLease("a", ttl), 0);

  // a, not knowing, writes with its old token: refused, nothing stored.
  v1::AlertEvent event;
  event.set_kind(v1::EVENT_KIND_FIRED);
  *event.mutable_alert() = FiringAlert();
  auto fenced_append = [&](int64_t token) {
    return store_->Run([&, token](NotificationTransaction& tx) -> absl::Status {
      if (absl::Status fenced = tx.CheckFence(token); !fenced.ok()) return fenced;
      return tx.AppendEvent(event).status();
    });
  };
  absl::Status stale = fenced_append(*a);
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition) << stale;
  EXPECT_EQ(Query("SELECT id FROM events").rows(), 0);
  EXPECT_TRUE(fenced_append(*b).ok());
  EXPECT_EQ(Query("SELECT id FROM events").rows(), 1);

  // Given up on a clean stop: another takes it at once.
  ASSERT_TRUE(store_->ReleaseLease("b", *b).ok());
  absl::StatusOr<int64_t> again = store_->AcquireLease("a", ttl);
  ASSERT_TRUE(again.ok());
  EXPECT_GT(*again, *b);
}

}  // namespace
}  // namespace suishin::notification
