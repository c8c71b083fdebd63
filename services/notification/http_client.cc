#include "services/notification/http_client.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace suishin::notification {
namespace {

// Idle handles kept for reuse (each keeps its open connections). More
// concurrent posts than this still work; their handles are freed afterwards.
constexpr size_t kMaxIdleHandles = 8;

constexpr char kUserAgent[] = "suishin-notification/1";

// curl_global_init, once per process; its result for every caller. libcurl
// is never cleaned up: transports may live until the process exits.
CURLcode GlobalInit() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  return code;
}

struct HandleDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using Handle = std::unique_ptr<CURL, HandleDeleter>;

struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

// CURLOPT_WRITEFUNCTION: keeps the first kMaxHttpResultBody bytes. It must not
// let an exception unwind through libcurl's C frames; returning less than it
// was given makes curl stop with CURLE_WRITE_ERROR.
size_t AppendBody(char* data, size_t size, size_t count, void* user) noexcept {
  auto* body = static_cast<std::string*>(user);
  const size_t n = size * count;
  try {
    if (body->size() < kMaxHttpResultBody) {
      body->append(data, std::min(n, kMaxHttpResultBody - body->size()));
    }
  } catch (...) {
    return 0;
  }
  return n;
}

// RFC 9110 token characters, the only ones allowed in a field name.
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::StrContains("!#$%&'*+-.^_`|~", c);
}

absl::Status ValidateHeader(const std::string& name, const std::string& value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
    return absl::InvalidArgumentError(
        absl::StrCat("headers: \"", absl::CHexEscape(name), "\" is not a valid header name"));
  }
  // Values are not repeated in the message: they may be credentials.
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("headers[\"", name, "\"]: the value holds a control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status CurlError(CURLcode code, const char* detail) {
  std::string text = curl_easy_strerror(code);
  if (detail != nullptr && detail[0] != '\0') absl::StrAppend(&text, ": ", detail);
  if (code == CURLE_URL_MALFORMAT) return absl::InvalidArgumentError(absl::StrCat("url: ", text));
  const std::string message = absl::StrCat("webhook POST: ", text);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(message);
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
      return absl::InternalError(message);
    default:
      // Resolution, connection, TLS, a broken or empty answer, a reply that is
      // not HTTP/1.x or 2 (curl calls that CURLE_UNSUPPORTED_PROTOCOL, but the
      // scheme was checked before): the endpoint, not the request, is at fault.
      return absl::UnavailableError(message);
  }
}

// What CURLOPT_OPENSOCKETFUNCTION checks each connection's address against.
struct SocketCheck {
  const TargetPolicy* policy = nullptr;
  std::string host;
  absl::Status refused;  // the first address refused
};

// CURLOPT_OPENSOCKETFUNCTION: the address about to be connected to, checked
// (TargetPolicy::CheckAddress) before the socket exists.
curl_socket_t OpenCheckedSocket(void* data, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto* check = static_cast<SocketCheck*>(data);
  std::optional<IpAddress> ip = IpAddress::FromSockaddr(&address->addr);
  absl::Status allowed =
      ip ? check->policy->CheckAddress(*ip, check->host)
         : absl::PermissionDeniedError(
               absl::StrCat("webhook target \"", check->host, "\": not an IP address family"));
  if (!allowed.ok()) {
    if (check->refused.ok()) check->refused = std::move(allowed);
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

class CurlTransport : public WebhookTransport {
 public:
  explicit CurlTransport(TargetPolicy targets) : targets_(std::move(targets)) {}
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  absl::StatusOr<HttpResult> Post(const std::string& url,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body, absl::Duration timeout) override {
    try {
      return PostOrThrow(url, headers, body, timeout);
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError("webhook POST: out of memory");
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("webhook POST: ", e.what()));
    }
  }

 private:
  absl::StatusOr<HttpResult> PostOrThrow(
      const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
      const std::string& body, absl::Duration timeout) {
    if (!absl::StartsWithIgnoreCase(url, "http://") &&
        !absl::StartsWithIgnoreCase(url, "https://")) {
      // The URL itself is left out: webhook URLs often carry a token.
      return absl::InvalidArgumentError("url: must be an http:// or https:// URL");
    }
    SocketCheck check;
    check.policy = &targets_;
    {
      absl::StatusOr<std::string> host = UrlHost("url", url);
      // The URL itself is left out of errors: webhook URLs often carry a token.
      if (!host.ok()) return absl::InvalidArgumentError("url: not a valid http(s) URL");
      check.host = *std::move(host);
    }
    if (timeout <= absl::ZeroDuration() || timeout == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("timeout: must be positive and finite (got ",
                                                     absl::FormatDuration(timeout), ")"));
    }
    // Round up: a 0 would mean "no timeout" to curl.
    const long timeout_ms = static_cast<long>(std::max<int64_t>(
        1, absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1)))));

    bool has_content_type = false;
    bool has_expect = false;
    HeaderList header_list;
    // curl_slist_append returns the head of the list, new only when the list was empty.
    auto append = [&header_list](const std::string& line) {
      curl_slist* head = curl_slist_append(header_list.get(), line.c_str());
      if (head == nullptr) return false;
      if (header_list == nullptr) header_list.reset(head);
      return true;
    };
    for (const auto& [name, value] : headers) {
      if (absl::Status s = ValidateHeader(name, value); !s.ok()) return s;
      has_content_type = has_content_type || absl::EqualsIgnoreCase(name, "content-type");
      has_expect = has_expect || absl::EqualsIgnoreCase(name, "expect");
      // "name:" alone would make curl drop the header; "name;" sends it empty.
      if (!append(value.empty() ? absl::StrCat(name, ";") : absl::StrCat(name, ": ", value))) {
        return absl::InternalError("webhook POST: out of memory building headers");
      }
    }
    if ((!has_content_type && !append("Content-Type: application/json")) ||
        (!has_expect && !append("Expect:"))) {
      return absl::InternalError("webhook POST: out of memory building headers");
    }

    if (const CURLcode init = GlobalInit(); init != CURLE_OK) {
      return absl::InternalError(
          absl::StrCat("webhook POST: curl_global_init: ", curl_easy_strerror(init)));
    }
    Handle handle = Acquire();
    if (handle == nullptr) return absl::InternalError("webhook POST: curl_easy_init failed");
    CURL* const h = handle.get();

    HttpResult result;
    char error[CURL_ERROR_SIZE] = {};
    CURLcode code = CURLE_OK;
    auto set = [&](CURLoption option, auto value) {
      if (code == CURLE_OK) code = curl_easy_setopt(h, option, value);
    };
    set(CURLOPT_ERRORBUFFER, error);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_URL, url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    set(CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDS, body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    set(CURLOPT_HTTPHEADER, header_list.get());
    set(CURLOPT_USERAGENT, kUserAgent);
    set(CURLOPT_TIMEOUT_MS, timeout_ms);
    set(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    set(CURLOPT_WRITEFUNCTION, &AppendBody);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&result.body));
    set(CURLOPT_OPENSOCKETFUNCTION, &OpenCheckedSocket);
    set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(&check));
    if (code != CURLE_OK) {
      Release(std::move(handle));
      return absl::InternalError(
          absl::StrCat("webhook POST: setting up curl: ", curl_easy_strerror(code)));
    }

    code = curl_easy_perform(h);
    long status = 0;
    if (code == CURLE_OK) code = curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    absl::Status failure = code == CURLE_OK ? absl::OkStatus() : CurlError(code, error);
    Release(std::move(handle));
    // A refused address fails the POST only when no other address answered.
    if (!failure.ok()) return check.refused.ok() ? failure : check.refused;
    if (status < 100 || status > 599) {
      return absl::UnavailableError(
          absl::StrCat("webhook POST: the answer has no valid HTTP status (", status, ")"));
    }
    result.status = static_cast<int>(status);
    return result;
  }

  Handle Acquire() {
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        Handle handle = std::move(idle_.back());
        idle_.pop_back();
        return handle;
      }
    }
    return Handle(curl_easy_init());
  }

  // Back to the pool, with every option (and so every pointer into this
  // call's locals) cleared; open connections stay for the next request.
  void Release(Handle handle) {
    curl_easy_reset(handle.get());
    absl::MutexLock lock(&mu_);
    if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(handle));
  }

  const TargetPolicy targets_;
  absl::Mutex mu_;
  std::vector<Handle> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<WebhookTransport> NewCurlTransport(TargetPolicy targets) {
  (void)GlobalInit();  // Early, from the thread that wires the service up.
  return std::make_unique<CurlTransport>(std::move(targets));
}

}  // namespace suishin::notification
