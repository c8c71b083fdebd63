// RedisServer runs a real redis-server as a child process for a test: on
// 127.0.0.1, on a port that was free, with no persistence (--save "",
// --appendonly no) and its working directory and log in a fresh TempDir.
// Start() returns only once the server answers PING and reports this
// child's process id (so a stranger on the same port is never mistaken for
// it). The destructor stops the server; Stop() and Restart() let a test show
// what its code does while Redis is down and after it comes back.
//
// The binary is $SUISHIN_REDIS_SERVER when set (a path, or a name looked up in
// $PATH), else "redis-server" from $PATH.
//
// Not thread-safe: drive it from one thread. So that a crashed test leaves no
// redis-server behind, the server gets SIGKILL when the thread that started
// it exits (Linux's PR_SET_PDEATHSIG, which is tied to that thread, not the
// process): call Start() and Restart() from a thread that outlives the server
// (a test body or fixture is fine; a short-lived std::thread is not).
//
// Example:
//   absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
//   ASSERT_TRUE(redis.ok()) << redis.status();
//   absl::StatusOr<RedisOptions> options = ParseRedisUrl((*redis)->url());
//   ...
//   ASSERT_TRUE((*redis)->Stop().ok());     // Redis is down now.
//   ASSERT_TRUE((*redis)->Restart().ok());  // Back, on the same port, empty.
#ifndef SUISHIN_TESTS_SUPPORT_REDIS_SERVER_H_
#define SUISHIN_TESTS_SUPPORT_REDIS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/temp_dir.h"

namespace suishin::testing {

class RedisServer {
 public:
  // Starts a server and waits (up to 10 s) until it answers. Tries a few ports if the one
  // picked is taken meanwhile. NOT_FOUND when the binary cannot be found; otherwise an error
  // that includes the tail of the server's log.
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start();

  // Stops the server if it is running.
  ~RedisServer();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // The port, fixed for the object's life (Restart() reuses it).
  int port() const { return port_; }
  // "redis://127.0.0.1:<port>/0", for ParseRedisUrl.
  std::string url() const;
  // True between a successful Start()/Restart() and Stop().
  bool running() const { return pid_ > 0; }

  // Sends SIGTERM and waits for the process to exit (SIGKILL after 10 s, which is reported
  // as DEADLINE_EXCEEDED). OK, doing nothing, when already stopped. The data is lost.
  absl::Status Stop();
  // Stops the server if running, then starts it again on the same port and waits until it
  // answers, as Start() does. UNAVAILABLE if the port has been taken meanwhile.
  absl::Status Restart();

 private:
  RedisServer(TempDir dir, std::string binary) : dir_(std::move(dir)), binary_(std::move(binary)) {}

  // Spawns the server on `port` and waits for it. On failure nothing is left running, and
  // `*port_in_use` tells whether the server exited because the port was taken.
  absl::Status Launch(int port, bool* port_in_use);

  TempDir dir_;
  const std::string binary_;  // Resolved path.
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_REDIS_SERVER_H_
