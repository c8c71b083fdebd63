#include "common/redis_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"

namespace suishin {
namespace {

using ::suishin::testing::PickUnusedPort;
using ::suishin::testing::RedisServer;

// Polls `condition` until it holds or `timeout` passes; true if it held.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));  // Poll interval, bounded by `deadline`.
  }
  return true;
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  RedisOptions Options(int db = 0) const {
    absl::StatusOr<RedisOptions> options = ParseRedisUrl(server_->url());
    EXPECT_TRUE(options.ok()) << options.status();
    if (!options.ok()) return RedisOptions();
    options->db = db;
    return *options;
  }

  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisClientTest, SetGetDelIncrRoundTrip) {
  RedisClient redis(Options());
  ASSERT_TRUE(redis.Ping().ok());

  ASSERT_TRUE(redis.Set("plan:1", "今年度の主な取組").ok());
  absl::StatusOr<std::optional<std::string>> got = redis.Get("plan:1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::optional<std::string>("今年度の主な取組"));

  absl::StatusOr<int64_t> removed = redis.Del("plan:1");
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1);
  removed = redis.Del("plan:1");
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 0);

  got = redis.Get("plan:1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::nullopt);

  absl::StatusOr<int64_t> n = redis.Incr("counter");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  n = redis.Incr("counter");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
}

TEST_F(RedisClientTest, ValuesAndKeysAreBinarySafe) {
  RedisClient redis(Options());
  constexpr char kKey[] = "key\0with\0nuls";
  constexpr char kValue[] = "a\0b\r\n\xff\x00z 進捗率";  // NULs, CRLF, a non-UTF-8 byte, UTF-8.
  const std::string key(kKey, sizeof(kKey) - 1);
  const std::string value(kValue, sizeof(kValue) - 1);
  ASSERT_TRUE(redis.Set(key, value).ok());
  absl::StatusOr<std::optional<std::string>> got = redis.Get(key);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, value);
  EXPECT_EQ((*got)->size(), value.size());

  // The key is not truncated at its first NUL.
  got = redis.Get("key");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::nullopt);
}

TEST_F(RedisClientTest, SetWithTtlSetsExpiry) {
  RedisClient redis(Options());
  ASSERT_TRUE(redis.Set("with-ttl", "v", absl::Seconds(100)).ok());
  absl::StatusOr<RedisReply> pttl = redis.Command({"PTTL", "with-ttl"});
  ASSERT_TRUE(pttl.ok()) << pttl.status();
  ASSERT_EQ(pttl->type, RedisReply::Type::kInteger);
  EXPECT_GT(pttl->integer, 90'000);
  EXPECT_LE(pttl->integer, 100'000);

  // Sub-millisecond TTLs round up rather than becoming an invalid PX 0.
  ASSERT_TRUE(redis.Set("tiny-ttl", "v", absl::Microseconds(1)).ok());
}

TEST_F(RedisClientTest, SetWithoutTtlDoesNotExpire) {
  RedisClient redis(Options());
  ASSERT_TRUE(redis.Set("no-ttl", "v").ok());
  absl::StatusOr<RedisReply> ttl = redis.Command({"TTL", "no-ttl"});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(ttl->integer, -1);  // Exists, no expiry.
}

TEST_F(RedisClientTest, SetRejectsNegativeTtl) {
  RedisClient redis(Options());
  EXPECT_EQ(redis.Set("k", "v", absl::Seconds(-1)).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RedisClientTest, PipelineReturnsRepliesInOrder) {
  RedisClient redis(Options());
  absl::StatusOr<std::vector<RedisReply>> replies = redis.Pipeline({
      {"SET", "a", "10"},
      {"INCR", "a"},
      {"GET", "a"},
      {"GET", "missing"},
      {"RPUSH", "list", "x", "y"},
      {"LRANGE", "list", "0", "-1"},
  });
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 6u);
  EXPECT_EQ((*replies)[0].type, RedisReply::Type::kStatus);
  EXPECT_EQ((*replies)[0].str, "OK");
  EXPECT_EQ((*replies)[1].type, RedisReply::Type::kInteger);
  EXPECT_EQ((*replies)[1].integer, 11);
  EXPECT_EQ((*replies)[2].type, RedisReply::Type::kString);
  EXPECT_EQ((*replies)[2].str, "11");
  EXPECT_EQ((*replies)[3].type, RedisReply::Type::kNil);
  EXPECT_EQ((*replies)[4].integer, 2);
  ASSERT_EQ((*replies)[5].type, RedisReply::Type::kArray);
  ASSERT_EQ((*replies)[5].elements.size(), 2u);
  EXPECT_EQ((*replies)[5].elements[0].str, "x");
  EXPECT_EQ((*replies)[5].elements[1].str, "y");
}

TEST_F(RedisClientTest, EmptyPipelineIsEmptyAndEmptyCommandIsInvalid) {
  RedisClient redis(Options());
  absl::StatusOr<std::vector<RedisReply>> none = redis.Pipeline({});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(redis.Pipeline({{"PING"}, {}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(redis.Command({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RedisClientTest, ErrorReplyIsAnErrorStatusAndTheConnectionStaysUsable) {
  RedisClient redis(Options());
  ASSERT_TRUE(redis.Set("name", "abc").ok());

  absl::StatusOr<int64_t> n = redis.Incr("name");
  EXPECT_EQ(n.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(n.status().message(), "not an integer")) << n.status();

  absl::StatusOr<RedisReply> wrong_type = redis.Command({"LPUSH", "name", "x"});
  EXPECT_EQ(wrong_type.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(wrong_type.status().message(), "WRONGTYPE"));

  absl::StatusOr<RedisReply> unknown = redis.Command({"NO-SUCH-COMMAND"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInternal);

  EXPECT_TRUE(redis.Ping().ok());
  absl::StatusOr<std::optional<std::string>> got = redis.Get("name");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::optional<std::string>("abc"));
}

TEST_F(RedisClientTest, ErrorInPipelineIsReturnedAndRepliesStayInStep) {
  RedisClient redis(Options());
  absl::StatusOr<std::vector<RedisReply>> replies = redis.Pipeline({
      {"SET", "s", "abc"},
      {"INCR", "s"},  // Fails.
      {"SET", "after", "ran"},
  });
  EXPECT_EQ(replies.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(replies.status().message(), "pipeline command 1"))
      << replies.status();

  // The commands after the failing one ran, and the next call gets its own reply.
  absl::StatusOr<std::optional<std::string>> got = redis.Get("after");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::optional<std::string>("ran"));
}

TEST_F(RedisClientTest, AuthenticatesAsAnAclUserOrWithThePasswordAndIsRefusedOtherwise) {
  RedisClient admin(Options());
  // A user that may touch only its installation's keys, and a password for
  // the default user (the admin's connection is already authenticated).
  ASSERT_TRUE(
      admin.Command({"ACL", "SETUSER", "suishin", "on", ">s3cret-user", "~dohoku:*", "+@all"})
          .ok());
  ASSERT_TRUE(admin.Command({"CONFIG", "SET", "requirepass", "s3cret-default"}).ok());

  RedisOptions user = Options(2);
  user.user = "suishin";
  user.password = "s3cret-user";
  RedisClient as_user(user);
  EXPECT_TRUE(as_user.Set("dohoku:k", "v").ok());
  EXPECT_EQ(*as_user.Get("dohoku:k"), std::optional<std::string>("v")) << "and SELECTed db 2";
  const absl::Status outside = as_user.Set("other:k", "v");
  EXPECT_FALSE(outside.ok()) << "the ACL applies: the server knows who this is";

  RedisOptions password = Options();
  password.password = "s3cret-default";
  EXPECT_TRUE(RedisClient(password).Set("any", "v").ok());

  RedisOptions anonymous = Options();
  EXPECT_FALSE(RedisClient(anonymous).Set("any", "v").ok()) << "NOAUTH";

  RedisOptions wrong = Options();
  wrong.user = "suishin";
  wrong.password = "not-the-s3cret";
  const absl::Status refused = RedisClient(wrong).Set("dohoku:k", "v");
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "AUTH as suishin")) << refused;
  EXPECT_FALSE(absl::StrContains(refused.message(), "s3cret")) << refused;
  ASSERT_TRUE(admin.Command({"CONFIG", "SET", "requirepass", ""}).ok());
}

TEST_F(RedisClientTest, SelectsTheConfiguredDb) {
  RedisClient db3(Options(3));
  RedisClient db0(Options(0));
  ASSERT_TRUE(db3.Set("k", "in-3").ok());

  absl::StatusOr<std::optional<std::string>> got = db0.Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::nullopt);
  got = db3.Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::optional<std::string>("in-3"));
}

TEST_F(RedisClientTest, DbOutOfRangeIsFailedPrecondition) {
  RedisClient redis(Options(99));  // The server has the default 16 databases.
  absl::Status status = redis.Ping();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "SELECT 99")) << status;
}

TEST_F(RedisClientTest, ConnectionClosedByServerWhileIdleIsRemadeTransparently) {
  RedisClient redis(Options());
  RedisClient admin(Options());
  absl::StatusOr<RedisReply> id = redis.Command({"CLIENT", "ID"});
  ASSERT_TRUE(id.ok()) << id.status();
  absl::StatusOr<RedisReply> killed =
      admin.Command({"CLIENT", "KILL", "ID", std::to_string(id->integer)});
  ASSERT_TRUE(killed.ok()) << killed.status();
  ASSERT_EQ(killed->integer, 1);

  EXPECT_TRUE(redis.Ping().ok());
  absl::StatusOr<RedisReply> new_id = redis.Command({"CLIENT", "ID"});
  ASSERT_TRUE(new_id.ok()) << new_id.status();
  EXPECT_NE(new_id->integer, id->integer);
}

TEST_F(RedisClientTest, UnavailableWhileServerIsDownAndBackAfterRestart) {
  RedisOptions options = Options(2);  // Non-zero db: SELECT must be re-sent on reconnect.
  options.reconnect_backoff = absl::Milliseconds(50);
  RedisClient redis(options);
  ASSERT_TRUE(redis.Set("before", "1").ok());

  ASSERT_TRUE(server_->Stop().ok());
  const absl::Time start = absl::Now();
  EXPECT_EQ(redis.Ping().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(redis.Get("before").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(redis.Incr("n").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(redis.Pipeline({{"PING"}}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));

  ASSERT_TRUE(server_->Restart().ok());
  // The same client recovers once its backoff has passed.
  ASSERT_TRUE(WaitFor([&] { return redis.Ping().ok(); }, absl::Seconds(10)));
  ASSERT_TRUE(redis.Set("after", "2").ok());

  // Still in db 2 after the reconnect.
  RedisClient db2(Options(2));
  RedisClient db0(Options(0));
  absl::StatusOr<std::optional<std::string>> got = db2.Get("after");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::optional<std::string>("2"));
  got = db0.Get("after");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::nullopt);
}

TEST_F(RedisClientTest, FailedConnectFailsFastForTheBackoff) {
  RedisOptions options = Options();
  options.reconnect_backoff = absl::Hours(1);
  RedisClient redis(options);
  ASSERT_TRUE(server_->Stop().ok());
  absl::Status first = redis.Ping();
  EXPECT_EQ(first.code(), absl::StatusCode::kUnavailable) << first;

  // Even with the server back, the client does not try again during the backoff.
  ASSERT_TRUE(server_->Restart().ok());
  absl::Status second = redis.Ping();
  EXPECT_EQ(second.code(), absl::StatusCode::kUnavailable) << second;
  EXPECT_TRUE(absl::StrContains(second.message(), "not retrying")) << second;
}

TEST_F(RedisClientTest, ConcurrentIncrsFromEightThreadsAllCount) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  RedisClient redis(Options());
  std::vector<std::vector<int64_t>> seen(kThreads);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<int64_t> n = redis.Incr("shared");
        if (n.ok()) {
          seen[t].push_back(*n);
        } else {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  absl::StatusOr<std::optional<std::string>> final_value = redis.Get("shared");
  ASSERT_TRUE(final_value.ok()) << final_value.status();
  EXPECT_EQ(*final_value, std::optional<std::string>(std::to_string(kThreads * kPerThread)));

  // Every reply went to the thread that asked: each value 1..N*8 was seen exactly once.
  std::vector<int64_t> all;
  for (const auto& values : seen) all.insert(all.end(), values.begin(), values.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<int64_t>(i + 1));
}

// Without a running server.

TEST(RedisClientUnavailableTest, NoServerIsUnavailableQuickly) {
  const int port = PickUnusedPort();
  ASSERT_GT(port, 0);
  RedisOptions options;
  options.port = port;  // Nothing listens here.
  RedisClient redis(options);

  const absl::Time start = absl::Now();
  absl::Status status = redis.Ping();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(redis.Get("k").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(redis.Set("k", "v").code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(RedisClientUnavailableTest, ServerThatNeverRepliesTimesOut) {
  // A socket that listens but never accepts or answers: connect succeeds, the reply never comes.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &len), 0);

  RedisOptions options;
  options.port = ntohs(addr.sin_port);
  options.command_timeout = absl::Milliseconds(100);
  RedisClient redis(options);
  const absl::Time start = absl::Now();
  absl::Status status = redis.Ping();
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "timed out")) << status;
  EXPECT_GE(elapsed, absl::Milliseconds(90));
  EXPECT_LT(elapsed, absl::Seconds(2));
  close(fd);
}

TEST(RedisClientUnavailableTest, PeerClosingMidWriteIsUnavailableNotSigpipe) {
  // A peer that accepts and closes at once (FIN, then RST for the unread data) while the
  // client is still writing a large command. The client's next write() fails with EPIPE,
  // which raises SIGPIPE (fatal by default) unless the client guards against it.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &len), 0);
  std::thread peer([fd] {
    const int conn = accept(fd, nullptr, nullptr);
    if (conn < 0) return;
    shutdown(conn, SHUT_WR);
    close(conn);
  });

  RedisOptions options;
  options.port = ntohs(addr.sin_port);
  options.command_timeout = absl::Seconds(5);
  RedisClient redis(options);
  absl::Status status = redis.Set("big", std::string(32 << 20, 'x'));
  peer.join();
  close(fd);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

// ParseRedisUrl.

struct GoodUrl {
  const char* url;
  const char* host;
  int port;
  int db;
};

TEST(ParseRedisUrlTest, AcceptsGoodForms) {
  const GoodUrl cases[] = {
      {"redis://127.0.0.1:6380/0", "127.0.0.1", 6380, 0},
      {"redis://localhost", "localhost", 6379, 0},
      {"redis://cache:6379", "cache", 6379, 0},
      {"redis://cache/3", "cache", 6379, 3},
      {"redis://cache:1/15", "cache", 1, 15},
      {"redis://cache:65535/", "cache", 65535, 0},
      {"redis://[::1]:6381/2", "::1", 6381, 2},
      {"redis://[::1]", "::1", 6379, 0},
      {"REDIS://Cache:7000", "Cache", 7000, 0},
  };
  for (const GoodUrl& c : cases) {
    SCOPED_TRACE(c.url);
    absl::StatusOr<RedisOptions> options = ParseRedisUrl(c.url);
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->host, c.host);
    EXPECT_EQ(options->port, c.port);
    EXPECT_EQ(options->db, c.db);
    EXPECT_EQ(options->command_timeout, RedisOptions().command_timeout);
  }
}

TEST(ParseRedisUrlTest, RejectsBadFormsNamingTheUrl) {
  const char* const cases[] = {
      "",
      "127.0.0.1:6379",
      "http://cache:6379",
      "rediss://cache:6379",
      "redis://",
      "redis://:6379",
      "redis://cache:",
      "redis://cache:0",
      "redis://cache:65536",
      "redis://cache:-1",
      "redis://cache:+80",
      "redis://cache: 80",
      "redis://cache:abc",
      "redis://cache/x",
      "redis://cache/-1",
      "redis://cache/1/2",
      "redis://user@cache:6379",
      "redis://cache:6379/0?timeout=1",
      "redis://[::1",
      "redis://[::1]x",
      "redis://ca che",
  };
  for (const char* url : cases) {
    SCOPED_TRACE(url);
    absl::StatusOr<RedisOptions> options = ParseRedisUrl(url);
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(options.status().message(), absl::StrCat("\"", url, "\"")))
        << options.status();
  }
}

TEST(ParseRedisUrlTest, TakesAUserAndPasswordAndNeverShowsThePassword) {
  absl::StatusOr<RedisOptions> acl = ParseRedisUrl("redis://suishin:p%40ss%3Aw0rd@cache:6380/1");
  ASSERT_TRUE(acl.ok()) << acl.status();
  EXPECT_EQ(acl->user, "suishin");
  EXPECT_EQ(acl->password, "p@ss:w0rd");
  EXPECT_EQ(acl->host, "cache");
  EXPECT_EQ(acl->port, 6380);
  EXPECT_EQ(acl->db, 1);
  absl::StatusOr<RedisOptions> plain = ParseRedisUrl("redis://:s3cret@[::1]");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->user, "");
  EXPECT_EQ(plain->password, "s3cret");
  EXPECT_EQ(plain->host, "::1");
  EXPECT_EQ(ParseRedisUrl("redis://cache")->password, "");

  EXPECT_EQ(RedactRedisUrl("redis://suishin:s3cret@cache:6380/1"),
            "redis://suishin:***@cache:6380/1");
  EXPECT_EQ(RedactRedisUrl("redis://:s3cret@cache"), "redis://:***@cache");
  EXPECT_EQ(RedactRedisUrl("redis://cache:6379/0"), "redis://cache:6379/0");
  for (const char* url :
       {"redis://:s3cret@cache:0", "redis://u:s3cret@cache/x", "redis://:s3cret@cache/0?x=1",
        "redis://u:%zzs3cret@cache", "redis://u:@cache"}) {
    SCOPED_TRACE(url);
    absl::StatusOr<RedisOptions> refused = ParseRedisUrl(url);
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(absl::StrContains(refused.status().message(), "s3cret")) << refused.status();
    EXPECT_TRUE(absl::StrContains(refused.status().message(), RedactRedisUrl(url)))
        << refused.status();
  }
}

TEST(RedisKeyPrefixTest, IsAShortNameOfSafeCharacters) {
  for (const char* good : {"suishin", "dohoku-2026", "pref_a.b", "a"}) {
    EXPECT_TRUE(ValidateRedisKeyPrefix(good).ok()) << good;
  }
  for (const char* bad : {"", "a:b", "has space", "日本", "x*"}) {
    const absl::Status status = ValidateRedisKeyPrefix(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StartsWith(status.message(), "--redis_key_prefix=")) << status;
  }
  RedisOptions options;
  options.key_prefix = "dohoku";
  EXPECT_EQ(RedisClient(options).Key("alerts:soya"), "dohoku:alerts:soya");
}

}  // namespace
}  // namespace suishin
