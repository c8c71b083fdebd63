#include "tests/support/browser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/child_process.h"

extern char** environ;

namespace suishin::testing {

using google::protobuf::Struct;
using google::protobuf::Value;

namespace {

// Flags beyond the ones every caller of this class needs, with why.
//
// Not --disable-crashpad-for-testing, although the crashpad handlers it saves
// run outside the browser's process group (they exit when the browser does):
// with it Chromium 156's network service dies at its first request ("Crashing
// due to FD ownership violation") and every http:// navigation fails with
// net::ERR_ABORTED.
constexpr const char* kQuietFlags[] = {
    // Pages keep their timers and rendering at full speed whatever their
    // visibility, so a page's own polling behaves as it would in front.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    // No keyring over D-Bus (there is no session bus here).
    "--password-store=basic",
    // Screenshots of the same page are the same size whether it scrolls or not.
    "--hide-scrollbars",
};

// The largest CDP message read before the connection is given up.
constexpr size_t kMaxMessageBytes = size_t{256} << 20;
// The most errors a page keeps.
constexpr size_t kMaxErrors = 1000;
// How often WaitFor evaluates its condition.
constexpr absl::Duration kPollInterval = absl::Milliseconds(20);

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Milliseconds left until `deadline`, for poll(); at least 0, at most an int.
int MillisUntil(absl::Time deadline) {
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 1 << 30));
}

// Moves `fd` to a number >= 10, close-on-exec, so that the child's dup2 onto
// 0..4 neither clobbers it nor is a no-op that leaves close-on-exec set.
int MoveHigh(int fd) {
  if (fd < 0) return fd;
  const int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return high;
}

Value StringValue(absl::string_view s) {
  Value v;
  v.set_string_value(std::string(s));
  return v;
}

Value NumberValue(double n) {
  Value v;
  v.set_number_value(n);
  return v;
}

Value BoolValue(bool b) {
  Value v;
  v.set_bool_value(b);
  return v;
}

Value StructValue(Struct s) {
  Value v;
  *v.mutable_struct_value() = std::move(s);
  return v;
}

// A Struct of the given fields: Params({{"url", StringValue(url)}}).
Struct Params(std::initializer_list<std::pair<const char*, Value>> fields) {
  Struct s;
  for (const auto& [name, value] : fields) (*s.mutable_fields())[name] = value;
  return s;
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out);
  return out;
}

// The field `name` of `s`, or nullptr.
const Value* Field(const Struct& s, const std::string& name) {
  const auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

// The string field `name` of `s`, or "" when absent or not a string.
std::string StringField(const Struct& s, const std::string& name) {
  const Value* v = Field(s, name);
  return v != nullptr && v->kind_case() == Value::kStringValue ? v->string_value() : "";
}

// The object field `name` of `s`, or an empty Struct.
const Struct& StructField(const Struct& s, const std::string& name) {
  const Value* v = Field(s, name);
  return v != nullptr && v->kind_case() == Value::kStructValue ? v->struct_value()
                                                               : Struct::default_instance();
}

// A RemoteObject (a console.error argument, a thrown value) as text: a
// string as itself, another JSON value as JSON, else its description.
std::string DescribeRemoteObject(const Struct& object) {
  if (const Value* value = Field(object, "value"); value != nullptr) {
    return value->kind_case() == Value::kStringValue ? value->string_value() : ToJson(*value);
  }
  for (const char* name : {"description", "unserializableValue", "type"}) {
    const std::string text = StringField(object, name);
    if (!text.empty()) return text;
  }
  return "?";
}

// "at <url>:<line>" (1-based) for a Runtime.ExceptionDetails or a log entry,
// or "" when it names no URL.
std::string Location(const Struct& s) {
  const std::string url = StringField(s, "url");
  if (url.empty()) return "";
  const Value* line = Field(s, "lineNumber");
  if (line == nullptr || line->kind_case() != Value::kNumberValue)
    return absl::StrCat(" (", url, ")");
  return absl::StrCat(" (", url, ":", static_cast<int64_t>(line->number_value()) + 1, ")");
}

// The text of a Runtime.ExceptionDetails: the thrown error's description
// ("TypeError: x is null\n    at ..."), or what was thrown, or its summary.
std::string ExceptionText(const Struct& details) {
  const Struct& exception = StructField(details, "exception");
  if (!exception.fields().empty()) return DescribeRemoteObject(exception);
  return StringField(details, "text");
}

// The end of the browser's log, without D-Bus complaints (there is no bus
// here, and Chromium says so a dozen times at every start).
std::string LogTail(const std::string& path) {
  absl::StatusOr<std::string> log = ReadWholeFile(path);
  if (!log.ok()) return "(no log)";
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(*log, '\n', absl::SkipEmpty())) {
    if (!absl::StrContains(line, "dbus")) lines.emplace_back(line);
  }
  constexpr size_t kLines = 15;
  if (lines.size() > kLines) lines.erase(lines.begin(), lines.end() - kLines);
  return lines.empty() ? "(empty log)" : absl::StrJoin(lines, "\n");
}

// A CDP error object ({code, message, data}) from the answer to `method` as a status.
absl::Status CdpError(absl::string_view method, const Struct& error) {
  const Value* code = Field(error, "code");
  const int64_t number = code != nullptr ? static_cast<int64_t>(code->number_value()) : 0;
  std::string text = absl::StrCat(method, ": ", StringField(error, "message"), " (", number, ")");
  if (const std::string data = StringField(error, "data"); !data.empty()) {
    absl::StrAppend(&text, ": ", data);
  }
  // -32601 method not found, -32602 invalid params: the caller asked wrongly.
  if (number == -32601 || number == -32602) return absl::InvalidArgumentError(text);
  return absl::FailedPreconditionError(text);
}

}  // namespace

namespace browser_internal {

// Receives one session's events, on the connection's reader thread. Must not
// call back into the Connection.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // An event of the session: its method ("Page.lifecycleEvent") and params.
  virtual void OnEvent(const std::string& method, const Struct& params) = 0;
  // The session is over: detached, or the whole connection closed.
  virtual void OnClosed(const std::string& reason) = 0;
};

// The CDP pipe to one browser. Call() sends a command and waits for its
// answer; a reader thread answers the calls by id and hands events to the
// sink subscribed to their sessionId. Thread-safe.
class Connection {
 public:
  // Takes ownership of `fd` (this side of the socket pair). `log_path` is the
  // browser's log, quoted when the browser goes away.
  Connection(int fd, std::string log_path) : fd_(fd), log_path_(std::move(log_path)) {
    reader_ = std::thread([this] { ReadLoop(); });
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    Close("the connection was destroyed");
    reader_.join();
    close(fd_);
  }

  // Sends `method` with `params` to the session `session_id` ("" for the
  // browser itself) and returns the result. DEADLINE_EXCEEDED when no answer
  // comes by `deadline`, UNAVAILABLE once the connection is closed, and the
  // error the browser answered (see CdpError) otherwise.
  absl::StatusOr<Struct> Call(absl::string_view method, const Struct& params,
                              absl::string_view session_id, absl::Time deadline) {
    int64_t id = 0;
    {
      absl::MutexLock lock(&mu_);
      if (!closed_reason_.empty()) return absl::UnavailableError(closed_reason_);
      id = next_id_++;
      pending_.emplace(id, std::nullopt);
    }
    Struct message;
    auto& fields = *message.mutable_fields();
    fields["id"] = NumberValue(static_cast<double>(id));
    fields["method"] = StringValue(method);
    fields["params"] = StructValue(params);
    if (!session_id.empty()) fields["sessionId"] = StringValue(session_id);
    std::string bytes = ToJson(message);
    bytes.push_back('\0');
    if (absl::Status written = Write(bytes, deadline); !written.ok()) {
      absl::MutexLock lock(&mu_);
      pending_.erase(id);
      return written;
    }

    absl::MutexLock lock(&mu_);
    const auto answered = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      const auto it = pending_.find(id);
      return (it != pending_.end() && it->second.has_value()) || !closed_reason_.empty();
    };
    mu_.AwaitWithDeadline(absl::Condition(&answered), deadline);
    std::optional<Struct> answer = std::move(pending_[id]);
    pending_.erase(id);
    if (!answer.has_value()) {
      if (!closed_reason_.empty()) return absl::UnavailableError(closed_reason_);
      return absl::DeadlineExceededError(
          absl::StrCat(method, ": no answer from the browser in time"));
    }
    if (const Value* error = Field(*answer, "error"); error != nullptr) {
      return CdpError(method, error->struct_value());
    }
    return StructField(*answer, "result");
  }

  // Sends the events of `session_id` to `sink` from now on.
  void Subscribe(const std::string& session_id, std::shared_ptr<EventSink> sink) {
    absl::MutexLock lock(&mu_);
    sinks_[session_id] = std::move(sink);
  }

  void Unsubscribe(const std::string& session_id) {
    absl::MutexLock lock(&mu_);
    sinks_.erase(session_id);
  }

  // Fails pending and later calls with UNAVAILABLE(`reason`) and stops the
  // reader. The browser sees the pipe close.
  void Close(const std::string& reason) {
    {
      absl::MutexLock lock(&mu_);
      if (closed_reason_.empty()) closed_reason_ = reason;
    }
    shutdown(fd_, SHUT_RDWR);  // The reader's read() returns 0.
  }

 private:
  // Writes all of `bytes` by `deadline`. A message half written spoils the
  // stream, so a timeout then closes the connection.
  absl::Status Write(absl::string_view bytes, absl::Time deadline) {
    absl::MutexLock lock(&write_mu_);
    const size_t total = bytes.size();
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd fd = {fd_, POLLOUT, 0};
        if (poll(&fd, 1, MillisUntil(deadline)) == 0) {
          if (bytes.size() != total) Close("a command could not be written whole in time");
          return absl::DeadlineExceededError("the browser is not reading the DevTools pipe");
        }
        continue;
      }
      const int error = errno;
      absl::MutexLock state_lock(&mu_);
      if (error == EPIPE || error == ECONNRESET) {
        // The browser is gone; the reader is about to say so, with its log.
        const auto closed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return !closed_reason_.empty();
        };
        mu_.AwaitWithDeadline(absl::Condition(&closed), deadline);
      }
      if (!closed_reason_.empty()) return absl::UnavailableError(closed_reason_);
      return absl::UnavailableError(
          absl::StrCat("writing the DevTools pipe: ", std::strerror(error)));
    }
    return absl::OkStatus();
  }

  // Reads NUL-terminated messages until the pipe closes, then fails
  // everything still waiting.
  void ReadLoop() {
    std::string buffer;
    size_t scanned = 0;  // buffer[0, scanned) holds no NUL.
    char chunk[1 << 16];
    std::string reason;
    while (reason.empty()) {
      const ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      // A peer that exits with our commands unread resets the connection.
      if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        reason = "the browser closed the DevTools pipe (it exited or crashed)";
      } else if (n < 0) {
        reason = absl::StrCat("reading the DevTools pipe: ", std::strerror(errno));
      }
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t end; (end = buffer.find('\0', scanned)) != std::string::npos; scanned = end + 1) {
        Dispatch(absl::string_view(buffer).substr(start, end - start));
        start = end + 1;
      }
      buffer.erase(0, start);
      scanned = buffer.size();
      if (buffer.size() > kMaxMessageBytes) reason = "a DevTools message over 256 MiB";
    }
    MarkClosed(reason);
  }

  // Routes one message: an answer to its caller, an event to its session's sink.
  void Dispatch(absl::string_view text) {
    Struct message;
    const auto parsed = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(text.data(), text.size()), &message);
    if (!parsed.ok()) {
      // Not a JSON text protobuf reads (one nested over 100 deep, say). An
      // answer still begins {"id":N, so its caller hears why now rather than
      // timing out; an unreadable event is dropped.
      const absl::string_view prefix = "{\"id\":";
      int64_t id = 0;
      if (!absl::StartsWith(text, prefix) ||
          !absl::SimpleAtoi(text.substr(prefix.size(), text.find(',') - prefix.size()), &id)) {
        return;
      }
      Struct error = Params({
          {"code", NumberValue(0)},
          {"message",
           StringValue(absl::StrCat("unreadable answer: ", parsed.message().ToString()))},
      });
      absl::MutexLock lock(&mu_);
      if (auto it = pending_.find(id); it != pending_.end()) {
        it->second = Params({{"error", StructValue(std::move(error))}});
      }
      return;
    }

    if (const Value* id = Field(message, "id"); id != nullptr) {
      absl::MutexLock lock(&mu_);
      // An answer nobody waits for (its caller timed out) is dropped.
      const auto it = pending_.find(static_cast<int64_t>(id->number_value()));
      if (it != pending_.end()) it->second = std::move(message);
      return;
    }

    const std::string method = StringField(message, "method");
    const Struct& params = StructField(message, "params");
    std::string session_id = StringField(message, "sessionId");
    const bool detached = session_id.empty() && method == "Target.detachedFromTarget";
    if (detached) session_id = StringField(params, "sessionId");
    std::shared_ptr<EventSink> sink;
    {
      absl::MutexLock lock(&mu_);
      const auto it = sinks_.find(session_id);
      if (it == sinks_.end()) return;
      sink = it->second;
    }
    if (detached) {
      sink->OnClosed("the page's target went away (closed or crashed)");
    } else {
      sink->OnEvent(method, params);
    }
  }

  // Closes with `reason` (unless Close() gave one first) plus the end of the
  // browser's log, and tells every sink.
  void MarkClosed(const std::string& reason) {
    bool requested = false;
    {
      absl::MutexLock lock(&mu_);
      requested = !closed_reason_.empty();
    }
    const std::string described =
        requested ? "" : absl::StrCat(reason, "; the end of its log:\n", LogTail(log_path_));
    std::map<std::string, std::shared_ptr<EventSink>> sinks;
    std::string final_reason;
    {
      absl::MutexLock lock(&mu_);
      if (closed_reason_.empty()) closed_reason_ = described;
      final_reason = closed_reason_;
      sinks.swap(sinks_);
    }
    for (const auto& [session, sink] : sinks) sink->OnClosed(final_reason);
  }

  const int fd_;
  const std::string log_path_;
  absl::Mutex write_mu_;  // Held while one message is written, so messages never interleave.
  absl::Mutex mu_;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Calls waiting for their answer, by id; the answer once it has come.
  std::map<int64_t, std::optional<Struct>> pending_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<EventSink>> sinks_ ABSL_GUARDED_BY(mu_);
  // Why the connection is closed; empty while it is open.
  std::string closed_reason_ ABSL_GUARDED_BY(mu_);
  std::thread reader_;
};

// What one page's events have said: which loads finished, what went wrong,
// whether the page is gone. Thread-safe.
class PageEvents : public EventSink {
 public:
  void OnEvent(const std::string& method, const Struct& params) override {
    absl::MutexLock lock(&mu_);
    if (method == "Page.lifecycleEvent") {
      if (StringField(params, "name") == "load") loaded_.insert(StringField(params, "loaderId"));
    } else if (method == "Runtime.exceptionThrown") {
      const Struct& details = StructField(params, "exceptionDetails");
      AddError(absl::StrCat("exception: ", ExceptionText(details), Location(details)));
    } else if (method == "Runtime.consoleAPICalled") {
      const std::string type = StringField(params, "type");
      if (type != "error" && type != "assert") return;
      std::vector<std::string> args;
      const Value* list = Field(params, "args");
      if (list != nullptr) {
        for (const Value& arg : list->list_value().values()) {
          args.push_back(DescribeRemoteObject(arg.struct_value()));
        }
      }
      AddError(absl::StrCat("console.", type, ": ", absl::StrJoin(args, " ")));
    } else if (method == "Log.entryAdded") {
      const Struct& entry = StructField(params, "entry");
      if (StringField(entry, "level") != "error") return;
      // Headless Chromium asks for /favicon.ico by itself, whether the page
      // names an icon or not; its 404 is not the page's error.
      if (absl::EndsWith(StringField(entry, "url"), "/favicon.ico")) return;
      AddError(absl::StrCat("log ", StringField(entry, "source"), ": ", StringField(entry, "text"),
                            Location(entry)));
    } else if (method == "Inspector.targetCrashed") {
      AddError("the page crashed");
      if (closed_reason_.empty()) closed_reason_ = "the page crashed";
    }
  }

  void OnClosed(const std::string& reason) override {
    absl::MutexLock lock(&mu_);
    if (closed_reason_.empty()) closed_reason_ = reason;
  }

  std::vector<std::string> errors() const {
    absl::MutexLock lock(&mu_);
    return errors_;
  }

  // Waits for the load event of the document that `loader_id` loads.
  // UNAVAILABLE if the page goes away first, DEADLINE_EXCEEDED at `deadline`.
  absl::Status WaitForLoad(const std::string& loader_id, absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    const auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return loaded_.count(loader_id) > 0 || !closed_reason_.empty();
    };
    mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
    if (loaded_.count(loader_id) > 0) return absl::OkStatus();
    if (!closed_reason_.empty()) return absl::UnavailableError(closed_reason_);
    return absl::DeadlineExceededError("the page did not fire its load event");
  }

 private:
  void AddError(std::string error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (errors_.size() < kMaxErrors) errors_.push_back(std::move(error));
  }

  mutable absl::Mutex mu_;
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
  // The loaderIds of documents whose load event has fired.
  std::set<std::string> loaded_ ABSL_GUARDED_BY(mu_);
  // Why the page is gone; empty while it is there.
  std::string closed_reason_ ABSL_GUARDED_BY(mu_);
};

}  // namespace browser_internal

// --- Page ---

Page::Page(std::shared_ptr<browser_internal::Connection> connection,
           std::shared_ptr<browser_internal::PageEvents> events, std::string target_id,
           std::string session_id, absl::Duration command_timeout)
    : connection_(std::move(connection)),
      events_(std::move(events)),
      target_id_(std::move(target_id)),
      session_id_(std::move(session_id)),
      command_timeout_(command_timeout) {}

Page::~Page() {
  connection_->Unsubscribe(session_id_);
  (void)connection_->Call("Target.closeTarget", Params({{"targetId", StringValue(target_id_)}}), "",
                          absl::Now() + std::min(command_timeout_, absl::Seconds(5)));
}

absl::StatusOr<Struct> Page::Send(const std::string& method, const Struct& params) {
  return connection_->Call(method, params, session_id_, absl::Now() + command_timeout_);
}

absl::Status Page::Navigate(const std::string& url) {
  const absl::Time deadline = absl::Now() + command_timeout_;
  ASSIGN_OR_RETURN(const Struct navigated,
                   connection_->Call("Page.navigate", Params({{"url", StringValue(url)}}),
                                     session_id_, deadline));
  if (const std::string error = StringField(navigated, "errorText"); !error.empty()) {
    return absl::UnavailableError(absl::StrCat("navigating to ", url, ": ", error));
  }
  const std::string loader_id = StringField(navigated, "loaderId");
  if (loader_id.empty()) return absl::OkStatus();  // Same document: nothing loads.
  const absl::Status loaded = events_->WaitForLoad(loader_id, deadline);
  if (loaded.ok()) return loaded;
  return absl::Status(loaded.code(), absl::StrCat("navigating to ", url, ": ", loaded.message()));
}

absl::StatusOr<Value> Page::Evaluate(const std::string& expression) {
  return EvaluateBefore(expression, absl::Now() + command_timeout_);
}

absl::StatusOr<Value> Page::EvaluateBefore(const std::string& expression, absl::Time deadline) {
  ASSIGN_OR_RETURN(const Struct evaluated,
                   connection_->Call("Runtime.evaluate",
                                     Params({
                                         {"expression", StringValue(expression)},
                                         {"returnByValue", BoolValue(true)},
                                         {"awaitPromise", BoolValue(true)},
                                         // As if a user's click ran it (el.click() activates).
                                         {"userGesture", BoolValue(true)},
                                     }),
                                     session_id_, deadline));
  if (Field(evaluated, "exceptionDetails") != nullptr) {
    return absl::FailedPreconditionError(ExceptionText(StructField(evaluated, "exceptionDetails")));
  }
  const Struct& result = StructField(evaluated, "result");
  if (const Value* value = Field(result, "value"); value != nullptr) return *value;
  if (const std::string special = StringField(result, "unserializableValue"); !special.empty()) {
    // NaN, Infinity, -Infinity, -0 are numbers; a BigInt ("12n") stays text.
    if (absl::EndsWith(special, "n")) return StringValue(special);
    return NumberValue(std::strtod(special.c_str(), nullptr));
  }
  if (StringField(result, "type") == "undefined") {
    Value null;
    null.set_null_value(google::protobuf::NULL_VALUE);
    return null;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the expression's value (", DescribeRemoteObject(result), ") cannot be returned by value"));
}

absl::Status Page::WaitFor(const std::string& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  // The newlines let the condition end in a // comment.
  const std::string expression = absl::StrCat("(async () => !!(await (\n", condition, "\n)))()");
  std::string last = "false";
  while (true) {
    // Each evaluation gets at least a second, so a zero timeout still looks once.
    const absl::Time eval_deadline = std::min(absl::Now() + command_timeout_,
                                              std::max(deadline, absl::Now() + absl::Seconds(1)));
    absl::StatusOr<Value> value = EvaluateBefore(expression, eval_deadline);
    if (value.ok() && value->bool_value()) return absl::OkStatus();
    if (!value.ok()) {
      if (absl::IsUnavailable(value.status())) return value.status();
      // A condition that does not parse will never hold.
      if (absl::StartsWith(value.status().message(), "SyntaxError")) {
        return absl::InvalidArgumentError(
            absl::StrCat("WaitFor(", condition, "): ", value.status().message()));
      }
      last = std::string(value.status().message());
    } else {
      last = "false";
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("WaitFor(", condition, "): not true after ",
                                                      absl::FormatDuration(timeout),
                                                      "; last evaluation: ", last));
    }
    absl::SleepFor(std::min(kPollInterval, deadline - now));
  }
}

absl::Status Page::Click(const std::string& selector) {
  ASSIGN_OR_RETURN(
      const Value clicked,
      Evaluate(absl::StrCat("(() => { const e = document.querySelector(", JsString(selector),
                            "); if (!e) return false; e.click(); return true; })()")));
  if (!clicked.bool_value())
    return absl::NotFoundError(absl::StrCat("no element matches ", selector));
  return absl::OkStatus();
}

absl::Status Page::Fill(const std::string& selector, const std::string& value) {
  // The prototype's setter, not e.value = ...: frameworks that wrap the
  // element's own setter (React) then see the change as typing.
  ASSIGN_OR_RETURN(
      const Value filled,
      Evaluate(absl::StrCat(
          "(() => { const e = document.querySelector(", JsString(selector),
          "); if (!e) return false; e.focus();"
          " const proto = e instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype"
          " : e instanceof HTMLSelectElement ? HTMLSelectElement.prototype"
          " : HTMLInputElement.prototype;"
          " Object.getOwnPropertyDescriptor(proto, 'value').set.call(e, ",
          JsString(value),
          "); e.dispatchEvent(new Event('input', {bubbles: true}));"
          " e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()")));
  if (!filled.bool_value())
    return absl::NotFoundError(absl::StrCat("no element matches ", selector));
  return absl::OkStatus();
}

absl::StatusOr<std::string> Page::Text(const std::string& selector) {
  ASSIGN_OR_RETURN(
      const Value text,
      Evaluate(absl::StrCat("(() => { const e = document.querySelector(", JsString(selector),
                            "); return e ? e.innerText : null; })()")));
  if (text.kind_case() != Value::kStringValue) {
    return absl::NotFoundError(absl::StrCat("no element matches ", selector));
  }
  return text.string_value();
}

absl::StatusOr<std::string> Page::Screenshot() {
  ASSIGN_OR_RETURN(const Struct shot,
                   Send("Page.captureScreenshot", Params({{"format", StringValue("png")}})));
  std::string png;
  if (!absl::Base64Unescape(StringField(shot, "data"), &png) || png.empty()) {
    return absl::InternalError("Page.captureScreenshot: no base64 PNG in the answer");
  }
  return png;
}

absl::Status Page::SaveScreenshot(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string png, Screenshot());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(png.data(), static_cast<std::streamsize>(png.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(path, ": cannot be written"));
  return absl::OkStatus();
}

std::vector<std::string> Page::errors() const { return events_->errors(); }

// --- Browser ---

Browser::Browser(BrowserOptions options, TempDir dir, pid_t pid,
                 std::shared_ptr<browser_internal::Connection> connection)
    : options_(std::move(options)),
      dir_(std::move(dir)),
      pid_(pid),
      connection_(std::move(connection)) {}

Browser::~Browser() {
  connection_->Close("the browser was stopped");
  if (pid_ > 1) {
    // The group holds the zygotes and renderers too; the browser, unreaped,
    // keeps the group id from being reused until waitpid below.
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // dir_ is removed after this body: nothing writes to it any more.
}

absl::StatusOr<std::unique_ptr<Browser>> Browser::Start(const BrowserOptions& options) {
  struct stat st;
  if (stat(options.binary.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      access(options.binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat(options.binary, " is not an executable file (apt-get install chromium)"));
  }
  ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("chromium"));
  const std::string profile = dir.File("profile");
  const std::string log_path = dir.File("chromium.log");
  if (mkdir(profile.c_str(), 0700) != 0) return ErrnoError(absl::StrCat("mkdir ", profile));

  // Everything the child needs is made before fork(): in a threaded process
  // the child may only make async-signal-safe calls.
  std::vector<std::string> argv = {
      options.binary,
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--remote-debugging-pipe",
      absl::StrCat("--user-data-dir=", profile),
      absl::StrCat("--window-size=", options.window_width, ",", options.window_height),
  };
  argv.insert(argv.end(), std::begin(kQuietFlags), std::end(kQuietFlags));
  argv.push_back("about:blank");
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  // HOME in the temp dir too: Chromium keeps an NSS database under ~/.pki.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "HOME=")) env.emplace_back(*e);
  }
  env.push_back(absl::StrCat("HOME=", dir.path()));
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return ErrnoError("socketpair");
  const int ours = pair[0];
  const int theirs = MoveHigh(pair[1]);
  const int in = MoveHigh(open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int log = MoveHigh(open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  const auto close_child_ends = [&] {
    for (int fd : {theirs, in, log}) {
      if (fd >= 0) close(fd);
    }
  };
  if (theirs < 0 || in < 0 || log < 0) {
    absl::Status status = ErrnoError("making the browser's descriptors");
    close_child_ends();
    close(ours);
    return status;
  }

  const absl::Time started = absl::Now();
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    absl::Status status = ErrnoError("fork");
    close_child_ends();
    close(ours);
    return status;
  }
  if (pid == 0) {
    setpgid(0, 0);  // Its own group, so the destructor can kill it with its children.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);  // The parent died before prctl.
    // Commands in on 3, answers and events out on 4: both ends of one socket.
    if (dup2(in, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 || dup2(theirs, 3) < 0 ||
        dup2(theirs, 4) < 0) {
      _exit(126);
    }
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);  // Also here, so the group exists whichever runs first.
  close_child_ends();

  std::unique_ptr<Browser> browser(
      new Browser(options, std::move(dir), pid,
                  std::make_shared<browser_internal::Connection>(ours, log_path)));
  // Commands written before the browser is up wait in the socket; the first
  // answer means it is ready.
  absl::StatusOr<Struct> version = browser->connection_->Call("Browser.getVersion", Struct(), "",
                                                              started + options.start_timeout);
  if (!version.ok()) {
    // A closed pipe's message already ends with the log.
    const std::string log =
        absl::IsUnavailable(version.status()) ? "" : absl::StrCat("\n", LogTail(log_path));
    return absl::UnavailableError(
        absl::StrCat(options.binary, " did not start: ", version.status().message(), log));
  }
  browser->startup_time_ = absl::Now() - started;
  browser->product_ = StringField(*version, "product");
  return browser;
}

absl::StatusOr<std::unique_ptr<Page>> Browser::NewPage(const std::string& url) {
  const auto deadline = [&] { return absl::Now() + options_.command_timeout; };
  // A new window rather than a tab: a background tab is "hidden", and Chromium
  // pauses its animation frames.
  ASSIGN_OR_RETURN(const Struct created,
                   connection_->Call("Target.createTarget",
                                     Params({{"url", StringValue("about:blank")},
                                             {"newWindow", BoolValue(true)}}),
                                     "", deadline()));
  const std::string target_id = StringField(created, "targetId");
  absl::StatusOr<Struct> attached = connection_->Call(
      "Target.attachToTarget",
      Params({{"targetId", StringValue(target_id)}, {"flatten", BoolValue(true)}}), "", deadline());
  if (!attached.ok()) {
    (void)connection_->Call("Target.closeTarget", Params({{"targetId", StringValue(target_id)}}),
                            "", deadline());
    return attached.status();
  }
  const std::string session_id = StringField(*attached, "sessionId");
  auto events = std::make_shared<browser_internal::PageEvents>();
  connection_->Subscribe(session_id, events);
  // From here the Page's destructor closes the tab if a step fails.
  std::unique_ptr<Page> page(
      new Page(connection_, std::move(events), target_id, session_id, options_.command_timeout));
  for (const char* domain : {"Page.enable", "Runtime.enable", "Log.enable"}) {
    RETURN_IF_ERROR(page->Send(domain, Struct()).status());
  }
  RETURN_IF_ERROR(
      page->Send("Page.setLifecycleEventsEnabled", Params({{"enabled", BoolValue(true)}}))
          .status());
  if (url != "about:blank") RETURN_IF_ERROR(page->Navigate(url));
  return page;
}

std::string JsString(absl::string_view text) { return ToJson(StringValue(text)); }

}  // namespace suishin::testing
