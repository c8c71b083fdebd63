#include "tests/support/http_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace suishin::testing {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr uint64_t kMaxBodyBytes = 64 * 1024 * 1024;

absl::Status Errno(absl::string_view what) {
  const int saved_errno = errno;
  return absl::InternalError(
      absl::StrCat("HttpReceiver: ", what, ": ", std::strerror(saved_errno)));
}

absl::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// "HTTP/1.1 <status> <reason>" with the reason and a newline as the body
// (none for 204 and 304, which may not have one).
std::string Response(int status, bool close) {
  const bool bodyless = status == 204 || status == 304;
  const std::string body = bodyless ? "" : absl::StrCat(Reason(status), "\n");
  std::string out = absl::StrCat("HTTP/1.1 ", status, " ", Reason(status), "\r\n");
  if (!bodyless) {
    absl::StrAppend(
        &out, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: ", body.size(), "\r\n");
  }
  if (close) absl::StrAppend(&out, "Connection: close\r\n");
  absl::StrAppend(&out, "\r\n", body);
  return out;
}

// True when the comma-separated field value lists `token` (any case).
bool HasToken(absl::string_view value, absl::string_view token) {
  for (absl::string_view part : absl::StrSplit(value, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(part), token)) return true;
  }
  return false;
}

// False when `data`, the start of a request, cannot begin an HTTP/1.x
// request line: the method must be letters followed by a space.
bool StartsLikeARequest(absl::string_view data) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == ' ') return i > 0;
    if (!absl::ascii_isupper(static_cast<unsigned char>(data[i])) || i >= 32) return false;
  }
  return true;
}

// Parses the request line and fields of `head` (without the final blank
// line) into `request`. False when they are malformed.
bool ParseHead(absl::string_view head, ReceivedRequest& request) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  std::vector<absl::string_view> start = absl::StrSplit(lines[0], ' ');
  if (start.size() != 3 || start[0].empty() || start[1].empty() ||
      !absl::StartsWith(start[2], "HTTP/1.")) {
    return false;
  }
  request.method = std::string(start[0]);
  request.path = std::string(start[1]);
  request.version = std::string(start[2]);
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == 0 || colon == absl::string_view::npos) return false;
    const absl::string_view raw_name = lines[i].substr(0, colon);
    if (absl::StrContains(raw_name, ' ') || absl::StrContains(raw_name, '\t')) return false;
    const std::string name = absl::AsciiStrToLower(raw_name);
    const absl::string_view value = absl::StripAsciiWhitespace(lines[i].substr(colon + 1));
    auto [it, inserted] = request.headers.emplace(name, std::string(value));
    if (!inserted) absl::StrAppend(&it->second, ", ", value);
  }
  return true;
}

}  // namespace

std::string ReceivedRequest::header(absl::string_view name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? std::string() : it->second;
}

HttpReceiver::Policy HttpReceiver::Always(int status) {
  return [status](const ReceivedRequest&) { return status; };
}

HttpReceiver::Policy HttpReceiver::FailFirst(size_t n, int status) {
  auto seen = std::make_shared<size_t>(0);  // Policies are called one at a time.
  return [n, status, seen](const ReceivedRequest&) { return (*seen)++ < n ? status : 200; };
}

absl::StatusOr<std::unique_ptr<HttpReceiver>> HttpReceiver::Start() {
  const int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd < 0) return Errno("socket");
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(listen_fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd, 64) != 0 ||
      getsockname(listen_fd, reinterpret_cast<struct sockaddr*>(&addr), &len) != 0) {
    absl::Status status = Errno("listening on 127.0.0.1:0");
    close(listen_fd);
    return status;
  }
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    absl::Status status = Errno("eventfd");
    close(listen_fd);
    return status;
  }
  std::unique_ptr<HttpReceiver> receiver(
      new HttpReceiver(listen_fd, wake_fd, ntohs(addr.sin_port)));
  receiver->acceptor_ = std::thread([r = receiver.get()] { r->AcceptLoop(); });
  return receiver;
}

HttpReceiver::HttpReceiver(int listen_fd, int wake_fd, int port)
    : listen_fd_(listen_fd), wake_fd_(wake_fd), port_(port), policy_(Always(200)) {}

HttpReceiver::~HttpReceiver() { Stop(); }

std::string HttpReceiver::url(absl::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", port_, absl::StartsWith(path, "/") ? "" : "/", path);
}

void HttpReceiver::SetPolicy(Policy policy) {
  absl::MutexLock lock(&policy_mu_);
  policy_ = std::move(policy);
}

std::vector<ReceivedRequest> HttpReceiver::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

bool HttpReceiver::WaitForRequests(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return requests_.size() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

void HttpReceiver::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  const uint64_t one = 1;
  // The eventfd stays readable from now on: every poll() on it returns at once.
  while (write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  if (acceptor_.joinable()) acceptor_.join();
  // The acceptor has gone, so no connection thread is added any more.
  std::vector<std::thread> connections;
  {
    absl::MutexLock lock(&mu_);
    connections.swap(connections_);
  }
  for (std::thread& t : connections) t.join();
  // No thread uses the descriptors any more. From now on connecting is refused.
  close(listen_fd_);
  close(wake_fd_);
}

bool HttpReceiver::WaitReadable(int fd) const {
  struct pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    const int n = poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents != 0) return false;
    if (fds[0].revents != 0) return true;  // Readable, or an error/hang-up recv() will report.
  }
}

void HttpReceiver::AcceptLoop() {
  while (WaitReadable(listen_fd_)) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // EINTR, ECONNABORTED, or a transient shortage: try again.
    absl::MutexLock lock(&mu_);
    connections_.emplace_back([this, fd] {
      Serve(fd);
      close(fd);
    });
  }
}

int HttpReceiver::Decide(const ReceivedRequest& request) {
  absl::MutexLock lock(&policy_mu_);
  return policy_(request);
}

void HttpReceiver::Record(const ReceivedRequest& request) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(request);
}

void HttpReceiver::HoldOpen(int fd) {
  char scratch[4096];
  while (WaitReadable(fd)) {
    const ssize_t n = recv(fd, scratch, sizeof(scratch), 0);
    if (n == 0 || (n < 0 && errno != EINTR)) return;
  }
}

void HttpReceiver::Serve(int fd) {
  std::string buffer;
  // Appends what the client sends next; false on EOF, error or Stop().
  auto read_more = [&]() {
    char chunk[16 * 1024];
    while (WaitReadable(fd)) {
      const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
      return true;
    }
    return false;
  };
  // Answers a request the receiver cannot take, records it, and ends the connection.
  auto refuse = [&](ReceivedRequest& request, int status) {
    request.arrival = absl::Now();
    request.status = status;
    Record(request);
    SendAll(fd, Response(status, /*close=*/true));
  };

  while (true) {
    ReceivedRequest request;
    size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (buffer.size() > kMaxHeaderBytes) return refuse(request, 431);
      // Fail fast on what cannot be HTTP (a TLS ClientHello, say) rather than wait for a
      // blank line that never comes.
      if (!StartsLikeARequest(buffer)) return refuse(request, 400);
      if (!read_more()) return;
    }
    if (head_end > kMaxHeaderBytes) return refuse(request, 431);
    if (!ParseHead(absl::string_view(buffer).substr(0, head_end), request)) {
      return refuse(request, 400);
    }
    buffer.erase(0, head_end + 4);

    if (request.headers.count("transfer-encoding") != 0) return refuse(request, 501);
    uint64_t length = 0;
    if (auto it = request.headers.find("content-length"); it != request.headers.end()) {
      if (!absl::SimpleAtoi(it->second, &length)) return refuse(request, 400);
      if (length > kMaxBodyBytes) return refuse(request, 413);
    }
    if (HasToken(request.header("expect"), "100-continue") && buffer.size() < length &&
        !SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) {
      return;
    }
    while (buffer.size() < length) {
      if (!read_more()) return;
    }
    request.body = buffer.substr(0, length);
    buffer.erase(0, length);
    request.arrival = absl::Now();

    const std::string connection = request.header("connection");
    const bool close = request.version == "HTTP/1.0" ? !HasToken(connection, "keep-alive")
                                                     : HasToken(connection, "close");
    int status = Decide(request);
    if (status != kNoAnswer && status != kCloseWithoutAnswer && (status < 100 || status > 599)) {
      status = 500;  // A policy bug; the 500 shows up in the test's expectations.
    }
    request.status = status;
    Record(request);

    if (status == kCloseWithoutAnswer) return;
    if (status == kNoAnswer) return HoldOpen(fd);
    if (!SendAll(fd, Response(status, close)) || close) return;
  }
}

}  // namespace suishin::testing
