// HttpReceiver is a webhook receiver for tests: a small HTTP/1.1 server on
// 127.0.0.1 and a port the kernel picked, which records every request it is
// sent (method, path, headers, body, the time it had read it all) and
// answers each with the status a settable policy chooses: 200 by default, or
// 503 for the first N and then 200, or 400 always, or no answer at all.
//
// It reads Content-Length bodies (answering "Expect: 100-continue"), keeps
// connections alive unless the client sends "Connection: close" (or speaks
// HTTP/1.0), and refuses what it does not handle (chunked bodies: 501,
// oversized headers: 431, bodies over 64 MiB: 413), closing the connection.
// Refusals are answered without asking the policy, and are recorded too.
//
// Thread-safe. One thread accepts and one serves each connection; Stop()
// (or the destructor) wakes and joins them all, also those holding a request
// unanswered.
//
// Example:
//   absl::StatusOr<std::unique_ptr<HttpReceiver>> receiver = HttpReceiver::Start();
//   ASSERT_TRUE(receiver.ok()) << receiver.status();
//   (*receiver)->SetPolicy(HttpReceiver::FailFirst(2, 503));
//   ... deliver a webhook to (*receiver)->url() ...
//   ASSERT_TRUE((*receiver)->WaitForRequests(3, absl::Seconds(10)));
//   EXPECT_EQ((*receiver)->requests()[2].header("webhook-id"), event_id);
#ifndef SUISHIN_TESTS_SUPPORT_HTTP_RECEIVER_H_
#define SUISHIN_TESTS_SUPPORT_HTTP_RECEIVER_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace suishin::testing {

// One request as the receiver read it.
struct ReceivedRequest {
  std::string method;   // "POST"
  std::string path;     // The request target as sent: "/hook", "/hook?x=1".
  std::string version;  // "HTTP/1.1"
  // Field names lower-cased; a repeated field's values joined with ", ".
  std::map<std::string, std::string> headers;
  std::string body;
  absl::Time arrival;  // When the last byte of the request had been read.
  int status = 0;      // What the receiver answered, or one of the HttpReceiver::k* below.

  // The value of the field `name` (any case), or "" when absent.
  std::string header(absl::string_view name) const;
};

class HttpReceiver {
 public:
  // Chooses the answer to a request: an HTTP status (200..599) or one of:
  static constexpr int kNoAnswer = -1;            // Hold the request unanswered until Stop() or
                                                  // until the client hangs up.
  static constexpr int kCloseWithoutAnswer = -2;  // Close the connection at once.
  // Policies are called one at a time (never concurrently), so they may keep
  // state without locking; they must not call back into the receiver.
  using Policy = std::function<int(const ReceivedRequest&)>;

  // Every request gets `status`.
  static Policy Always(int status);
  // The first `n` requests (counted from when the policy is set) get
  // `status`, later ones 200.
  static Policy FailFirst(size_t n, int status);

  // Listens on 127.0.0.1:0 and starts serving with the policy Always(200).
  static absl::StatusOr<std::unique_ptr<HttpReceiver>> Start();

  // Stops the server (see Stop()).
  ~HttpReceiver();

  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>" + `path` (a '/' is put in front when missing).
  std::string url(absl::string_view path = "/hook") const;

  // Applies to requests read from now on.
  void SetPolicy(Policy policy);

  // Every request read so far, in the order they were read.
  std::vector<ReceivedRequest> requests() const;
  // Waits until at least `n` requests have been read; false if `timeout`
  // passes first.
  bool WaitForRequests(size_t n, absl::Duration timeout) const;

  // Closes every connection (unanswered requests stay unanswered) and the
  // listening socket, so that connecting is refused from then on, and joins
  // all threads. The recorded requests remain. Idempotent.
  void Stop();

 private:
  HttpReceiver(int listen_fd, int wake_fd, int port);

  void AcceptLoop();
  void Serve(int fd);
  // Holds a connection open, reading and dropping whatever arrives, until Stop() or EOF.
  void HoldOpen(int fd);
  // Blocks until `fd` is readable (true) or Stop() is called (false).
  bool WaitReadable(int fd) const;
  int Decide(const ReceivedRequest& request);
  void Record(const ReceivedRequest& request);

  // Both closed by Stop(), once every thread that polls them has been joined.
  const int listen_fd_;
  const int wake_fd_;  // An eventfd, made readable once and for all by Stop().
  const int port_;

  absl::Mutex stop_mu_;  // Serializes Stop().
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread acceptor_;

  mutable absl::Mutex mu_;
  std::vector<ReceivedRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> connections_ ABSL_GUARDED_BY(mu_);

  absl::Mutex policy_mu_;
  Policy policy_ ABSL_GUARDED_BY(policy_mu_);
};

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_HTTP_RECEIVER_H_
