// The HTTP leg of webhook delivery: one POST, one answer.
//
// WebhookTransport is what the delivery worker calls for each attempt; the
// real one is libcurl's (NewCurlTransport), and tests may supply their own to
// show failures a live receiver cannot be made to produce on demand. The
// transport does not judge answers: any HTTP status, 2xx or not, is a result
// the caller classifies (retry on 5xx and 429, give up on other 4xx). Only
// when no HTTP answer arrives at all is the result an error.
//
// Example:
//   std::unique_ptr<WebhookTransport> transport = NewCurlTransport(TargetPolicy());
//   absl::StatusOr<HttpResult> result = transport->Post(
//       endpoint.url(), {{"webhook-id", id}, {"webhook-timestamp", ts}, {"webhook-signature",
//       sig}}, body, absl::Seconds(15));
//   if (!result.ok()) { /* no answer: retry later */ }
//   else if (result->status >= 200 && result->status < 300) { /* delivered */ }
#ifndef SUISHIN_SERVICES_NOTIFICATION_HTTP_CLIENT_H_
#define SUISHIN_SERVICES_NOTIFICATION_HTTP_CLIENT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/notification/webhook_targets.h"

namespace suishin::notification {

// What the receiver answered.
struct HttpResult {
  int status = 0;    // The HTTP status code, 100..599.
  std::string body;  // The response body, cut at kMaxHttpResultBody bytes.
};

// Longer response bodies are truncated (and the rest discarded): a receiver's
// answer is kept only for operators to read.
inline constexpr size_t kMaxHttpResultBody = 64 * 1024;

// Sends webhook requests. Implementations are safe to call from several
// threads at once.
class WebhookTransport {
 public:
  virtual ~WebhookTransport() = default;

  // POSTs `body` to `url` (http:// or https://) with `headers` (name, value)
  // and waits at most `timeout` for the whole exchange. Redirects are not
  // followed: a 3xx comes back as a result.
  //
  // Returns the status and body of any HTTP answer. Otherwise:
  //   INVALID_ARGUMENT  `url` is malformed or not http(s), a header name or
  //                     value holds a control character or a name is not a
  //                     token, or `timeout` is not positive and finite;
  //   DEADLINE_EXCEEDED no complete answer within `timeout`;
  //   PERMISSION_DENIED the address connected to is not an allowed target;
  //   UNAVAILABLE       the host could not be resolved or reached, the TLS
  //                     handshake or certificate check failed, the connection
  //                     broke or closed without an answer, or similar;
  //   INTERNAL or RESOURCE_EXHAUSTED  the HTTP library failed to start or ran
  //                     out of memory;
  // with the underlying library's error text in the message (never the URL
  // or header values, which may carry credentials). Never throws.
  virtual absl::StatusOr<HttpResult> Post(
      const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
      const std::string& body, absl::Duration timeout) = 0;
};

// The libcurl transport. It initializes libcurl once per process, reuses
// connections through a small pool of handles, never installs signal
// handlers (CURLOPT_NOSIGNAL), verifies TLS certificates against the system's
// CA store, and honours the usual proxy environment variables (http_proxy,
// https_proxy, no_proxy). When the caller gives no Content-Type header it
// sends "Content-Type: application/json", and it never sends
// "Expect: 100-continue". Thread-safe.
//
// Every connection it opens is checked against `targets` just before it
// connects (webhook_targets.h): an address that is not allowed fails the
// POST with PERMISSION_DENIED naming it, whatever the URL's spelling and
// whatever the name resolved to before. Through a proxy, the address
// connected to is the proxy's, so a proxy on a private address must be
// allowed.
std::unique_ptr<WebhookTransport> NewCurlTransport(TargetPolicy targets);

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_HTTP_CLIENT_H_
