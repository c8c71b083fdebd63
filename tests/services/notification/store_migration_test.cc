// SqliteNotificationStore's schema upgrade: a file written by the first
// schema (silences without their live and end_us columns) opens with its
// silences listed and counted as they were.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/proto_util.h"
#include "common/sqlite.h"
#include "services/notification/sqlite_notification_store.h"
#include "tests/support/temp_dir.h"

namespace suishin::notification {
namespace {

// The schema notification-service wrote before migration 2.
constexpr char kSchemaOne[] = R"sql(
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
)sql";

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

v1::Silence StoredSilence(const std::string& id, bool active, absl::Time end) {
  v1::Silence silence;
  silence.set_id(id);
  v1::Matcher& matcher = *silence.add_matchers();
  matcher.set_field(v1::MATCHER_FIELD_REGION);
  matcher.set_value("soya");
  *silence.mutable_start_time() = ToProtoTimestamp(kNow - absl::Hours(2));
  *silence.mutable_end_time() = ToProtoTimestamp(end);
  silence.set_author("宗谷総合振興局");
  silence.set_comment("点検中");
  silence.set_active(active);
  return silence;
}

TEST(SqliteNotificationStoreTest, SilencesOfTheFirstSchemaAreLiveOrEndedAsBeforeTheUpgrade) {
  auto dir = suishin::testing::TempDir::Create("notification-migration");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string path = dir->File("notification.db");
  {
    auto db = Database::Open(path);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->Exec(kSchemaOne).ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 1").ok());
    auto insert = (*db)->Prepare("INSERT INTO silences (id, data) VALUES (?1, ?2)");
    ASSERT_TRUE(insert.ok()) << insert.status();
    for (const v1::Silence& silence :
         {StoredSilence("silence-live", true, kNow + absl::Hours(1)),
          StoredSilence("silence-expired", false, kNow - absl::Hours(1)),
          StoredSilence("silence-ended", true, kNow - absl::Minutes(1))}) {
      insert->Reset();
      insert->BindText(1, silence.id()).BindBlob(2, silence.SerializeAsString());
      ASSERT_TRUE(insert->Run().ok());
    }
  }
  auto store = SqliteNotificationStore::Open(path, *SecretSealer::LoadOrCreate(path + ".key"), 1);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)
                  ->Read([&](NotificationTransaction& tx) -> absl::Status {
                    auto live = tx.LiveSilences(kNow);
                    EXPECT_TRUE(live.ok()) << live.status();
                    EXPECT_EQ(live->size(), 1u);
                    if (!live->empty()) {
                      EXPECT_EQ((*live)[0].id(), "silence-live");
                    }
                    auto count = tx.CountLiveSilences(kNow);
                    EXPECT_TRUE(count.ok());
                    EXPECT_EQ(*count, 1);
                    auto all = tx.ListSilences(/*include_ended=*/true, kNow, 0, 10);
                    EXPECT_TRUE(all.ok());
                    EXPECT_EQ(all->size(), 3u);
                    auto any = tx.AnySilence();
                    EXPECT_TRUE(any.ok() && *any);
                    return absl::OkStatus();
                  })
                  .ok());
}

}  // namespace
}  // namespace suishin::notification
