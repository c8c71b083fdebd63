// Webhook secrets at rest and in rotation: the database file never holds a
// secret in the clear (sealed with a key from a file, bound to its webhook),
// secrets an older version stored in the clear are sealed when the store is
// opened, another key does not open them, and RotateWebhookSecret gives a new
// secret while the old one goes on signing for the overlap, so a receiver
// checking either secret verifies every delivery meanwhile.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/proto_util.h"
#include "common/sqlite.h"
#include "services/notification/secret_sealer.h"
#include "services/notification/sqlite_notification_store.h"
#include "services/notification/webhook_signer.h"
#include "tests/services/notification/notification_server.h"
#include "tests/support/http_receiver.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace suishin::notification {
namespace {

using ::suishin::testing::HttpReceiver;
using ::suishin::testing::ReceivedRequest;
using testing::AchievedSubject;
using testing::NotificationServer;
using testing::NotificationServerOptions;

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// True when `request` is signed by the secret `secret` (one of its signatures).
bool SignedBy(const ReceivedRequest& request, const std::string& secret) {
  absl::StatusOr<std::string> key = DecodeWebhookSecret(secret);
  int64_t timestamp = 0;
  return key.ok() && absl::SimpleAtoi(request.header("webhook-timestamp"), &timestamp) &&
         VerifyWebhook(*key, request.header("webhook-id"), timestamp, request.body,
                       request.header("webhook-signature"));
}

class WebhookSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = suishin::testing::TempDir::Create("webhook-secrets");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<suishin::testing::TempDir>(*std::move(dir));
    absl::StatusOr<std::unique_ptr<HttpReceiver>> receiver = HttpReceiver::Start();
    ASSERT_TRUE(receiver.ok()) << receiver.status();
    receiver_ = *std::move(receiver);
  }

  void Start() {
    server_.reset();
    NotificationServerOptions options;
    options.deliver_webhooks = true;
    options.dispatch.retry_delays = {absl::Milliseconds(10)};
    auto server = NotificationServer::Start(db(), std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }

  std::string db() const { return dir_->File("notification.db"); }

  v1::Webhook Create() {
    v1::CreateWebhookRequest request;
    request.mutable_webhook()->set_url(receiver_->url());
    v1::CreateWebhookResponse response;
    const grpc::Status status = stub_->CreateWebhook(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.webhook();
  }

  // Fires one new alert (ACHIEVED for kpi-<n>) and waits for its delivery.
  const ReceivedRequest Deliver(int n) {
    const size_t before = receiver_->requests().size();
    EXPECT_TRUE(server_->book()
                    .alerts()
                    .Evaluate({AchievedSubject(absl::StrCat("kpi-", n), "r-1")}, 0)
                    .ok());
    EXPECT_TRUE(receiver_->WaitForRequests(before + 1, absl::Seconds(10)));
    std::vector<ReceivedRequest> requests = receiver_->requests();
    return requests.empty() ? ReceivedRequest() : requests.back();
  }

  grpc::Status Rotate(const std::string& id, absl::Duration overlap,
                      v1::RotateWebhookSecretResponse* response, const std::string& secret = "") {
    v1::RotateWebhookSecretRequest request;
    request.set_id(id);
    request.set_secret(secret);
    request.mutable_overlap()->set_seconds(absl::ToInt64Seconds(overlap));
    request.mutable_overlap()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(overlap % absl::Seconds(1))));
    return stub_->RotateWebhookSecret(Context().get(), request, response);
  }

  std::unique_ptr<suishin::testing::TempDir> dir_;
  std::unique_ptr<HttpReceiver> receiver_;
  std::unique_ptr<NotificationServer> server_;
  std::unique_ptr<v1::NotificationService::Stub> stub_;
};

TEST(SecretSealerTest, ASealedSecretOpensOnlyForItsWebhookWithItsKey) {
  absl::StatusOr<SecretSealer> sealer = SecretSealer::FromKey(std::string(32, 'a'));
  absl::StatusOr<SecretSealer> other = SecretSealer::FromKey(std::string(32, 'b'));
  ASSERT_TRUE(sealer.ok() && other.ok());
  const std::string sealed = sealer->Seal("webhook-1", "whsec_secret");
  EXPECT_TRUE(SecretSealer::IsSealed(sealed));
  EXPECT_FALSE(absl::StrContains(sealed, "whsec_secret"));
  EXPECT_NE(sealer->Seal("webhook-1", "whsec_secret"), sealed) << "a fresh nonce each time";
  EXPECT_EQ(*sealer->Unseal("webhook-1", sealed), "whsec_secret");
  EXPECT_EQ(sealer->Unseal("webhook-2", sealed).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "copied onto another webhook";
  EXPECT_EQ(other->Unseal("webhook-1", sealed).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(sealer->Unseal("webhook-1", "whsec_secret").ok()) << "not sealed text";
  EXPECT_FALSE(SecretSealer::FromKey("short").ok());
}

TEST(SecretSealerTest, TheKeyFileIsMadeOnceAndRefusedWhenItHoldsNoKey) {
  auto dir = suishin::testing::TempDir::Create("sealer");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string path = dir->File("webhook.key");
  absl::StatusOr<SecretSealer> made = SecretSealer::LoadOrCreate(path);
  ASSERT_TRUE(made.ok()) << made.status();
  absl::StatusOr<SecretSealer> loaded = SecretSealer::LoadOrCreate(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded->Unseal("w", made->Seal("w", "s")), "s") << "the same key";
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const std::string bad = dir->File("bad.key");
  std::ofstream(bad) << "not a key\n";
  const absl::StatusOr<SecretSealer> refused = SecretSealer::LoadOrCreate(bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), bad)) << refused.status();
}

TEST_F(WebhookSecretsTest, TheDatabaseNeverHoldsASecretInTheClear) {
  // It looks into the SQLite file; postgres_notification_store_test shows
  // the same of PostgreSQL.
  if (::suishin::testing::PostgresPass()) GTEST_SKIP() << "a SQLite file check";
  ASSERT_NO_FATAL_FAILURE(Start());
  const v1::Webhook created = Create();
  ASSERT_TRUE(absl::StartsWith(created.secret(), "whsec_")) << "shown once, at creation";
  EXPECT_TRUE(SignedBy(Deliver(1), created.secret()));
  server_.reset();  // every write committed and checkpointed
  const std::string secret_base64 = created.secret().substr(6);
  for (const std::string& file : {db(), db() + "-wal"}) {
    const std::string bytes = FileBytes(file);
    EXPECT_FALSE(absl::StrContains(bytes, secret_base64)) << file;
  }
  EXPECT_TRUE(absl::StrContains(FileBytes(db()), "sealed:v1:"));

  // Opened again with the same key file: still signs with the same secret.
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_TRUE(SignedBy(Deliver(2), created.secret()));
  v1::ListWebhooksResponse listed;
  ASSERT_TRUE(stub_->ListWebhooks(Context().get(), {}, &listed).ok());
  ASSERT_EQ(listed.webhooks_size(), 1);
  EXPECT_EQ(listed.webhooks(0).secret(), "");
}

TEST_F(WebhookSecretsTest, AnotherKeyDoesNotOpenTheSecretsAndTheStoreSaysSo) {
  // It looks into the SQLite file; postgres_notification_store_test shows
  // the same of PostgreSQL.
  if (::suishin::testing::PostgresPass()) GTEST_SKIP() << "a SQLite file check";
  ASSERT_NO_FATAL_FAILURE(Start());
  Create();
  server_.reset();
  absl::StatusOr<SecretSealer> other = SecretSealer::FromKey(std::string(32, 'k'));
  ASSERT_TRUE(other.ok());
  auto store = SqliteNotificationStore::Open(db(), *std::move(other), 1);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(store.status().message(), "--webhook_secret_key_file"))
      << store.status();
}

TEST_F(WebhookSecretsTest, ASecretStoredInTheClearIsSealedWhenTheStoreOpens) {
  // It looks into the SQLite file; postgres_notification_store_test shows
  // the same of PostgreSQL.
  if (::suishin::testing::PostgresPass()) GTEST_SKIP() << "a SQLite file check";
  ASSERT_NO_FATAL_FAILURE(Start());
  server_.reset();
  // As a version before sealing stored it.
  v1::Webhook plain;
  plain.set_id("webhook-old");
  plain.set_url(receiver_->url());
  plain.set_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  *plain.mutable_create_time() = ToProtoTimestamp(absl::Now());
  {
    absl::StatusOr<std::unique_ptr<Database>> raw = Database::Open(db());
    ASSERT_TRUE(raw.ok()) << raw.status();
    absl::StatusOr<Statement> insert =
        (*raw)->Prepare("INSERT INTO webhooks (id, data) VALUES (?1, ?2)");
    ASSERT_TRUE(insert.ok()) << insert.status();
    const std::string data = plain.SerializeAsString();
    insert->BindText(1, plain.id()).BindBlob(2, data);
    ASSERT_TRUE(insert->Run().ok());
  }
  ASSERT_NO_FATAL_FAILURE(Start());
  server_.reset();
  EXPECT_FALSE(absl::StrContains(FileBytes(db()) + FileBytes(db() + "-wal"),
                                 "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_TRUE(SignedBy(Deliver(1), plain.secret()));
}

TEST_F(WebhookSecretsTest, DuringTheOverlapEitherSecretVerifiesEveryDelivery) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const v1::Webhook created = Create();
  v1::RotateWebhookSecretResponse rotated;
  const grpc::Status status = Rotate(created.id(), absl::Seconds(2), &rotated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string fresh = rotated.webhook().secret();
  ASSERT_TRUE(absl::StartsWith(fresh, "whsec_")) << "the service made it: shown once";
  EXPECT_NE(fresh, created.secret());
  EXPECT_EQ(rotated.webhook().previous_secret(), "");
  const absl::Time overlap_ends =
      FromProtoTimestamp(rotated.webhook().previous_secret_expire_time());
  EXPECT_GT(overlap_ends, absl::Now());

  // A receiver that still checks the old secret, and one that checks the new.
  for (int n = 1; n <= 3; ++n) {
    const ReceivedRequest request = Deliver(n);
    EXPECT_TRUE(SignedBy(request, created.secret())) << n;
    EXPECT_TRUE(SignedBy(request, fresh)) << n;
  }
  v1::ListWebhooksResponse listed;
  ASSERT_TRUE(stub_->ListWebhooks(Context().get(), {}, &listed).ok());
  ASSERT_EQ(listed.webhooks_size(), 1);
  EXPECT_EQ(listed.webhooks(0).previous_secret(), "");
  EXPECT_TRUE(listed.webhooks(0).has_previous_secret_expire_time());

  // After the overlap, only the new secret signs.
  absl::SleepFor(overlap_ends - absl::Now() + absl::Milliseconds(100));
  const ReceivedRequest late = Deliver(4);
  EXPECT_TRUE(SignedBy(late, fresh));
  EXPECT_FALSE(SignedBy(late, created.secret()));

  // A rotation without overlap, to a secret the operator chose: only it.
  const std::string chosen = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  ASSERT_TRUE(Rotate(created.id(), absl::ZeroDuration(), &rotated, chosen).ok());
  EXPECT_EQ(rotated.webhook().secret(), "") << "a secret the caller gave is not echoed";
  const ReceivedRequest now = Deliver(5);
  EXPECT_TRUE(SignedBy(now, chosen));
  EXPECT_FALSE(SignedBy(now, fresh));
}

TEST_F(WebhookSecretsTest, BadRotationsAreRefusedNamingTheFieldAndChangeNothing) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const v1::Webhook created = Create();
  v1::RotateWebhookSecretResponse response;
  EXPECT_EQ(Rotate("webhook-nope", absl::Hours(1), &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  const grpc::Status bad_secret = Rotate(created.id(), absl::Hours(1), &response, "whsec_c2hvcnQ=");
  EXPECT_EQ(bad_secret.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(bad_secret.error_message(), "secret: "))
      << bad_secret.error_message();
  EXPECT_FALSE(absl::StrContains(bad_secret.error_message(), "c2hvcnQ"));
  const grpc::Status too_long = Rotate(created.id(), absl::Hours(24 * 31), &response);
  EXPECT_EQ(too_long.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(too_long.error_message(), "overlap: ")) << too_long.error_message();
  EXPECT_EQ(Rotate("", absl::Hours(1), &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Still the first secret alone.
  const ReceivedRequest request = Deliver(1);
  EXPECT_TRUE(SignedBy(request, created.secret()));
  EXPECT_EQ(request.header("webhook-signature").find(' '), std::string::npos);
}

}  // namespace
}  // namespace suishin::notification
