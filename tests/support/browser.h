// A real, headless Chromium for tests, driven over the Chrome DevTools
// Protocol (CDP) through --remote-debugging-pipe: no WebSocket, no Node.
//
// Browser starts /usr/bin/chromium with a fresh profile in a temp dir, in its
// own process group (all of it but the crashpad handlers, which leave the
// group and exit when the browser does), and speaks CDP over a socket pair
// handed to it as fds 3 (commands in) and 4 (responses and events out); each
// message is a JSON text ended by a NUL byte. A reader thread routes responses to their callers by
// id and events to their page by sessionId. Each Page is one tab in its own
// window (so two pages are both "visible" and neither is throttled), attached
// with Target.attachToTarget {flatten: true}.
//
// Every call has a bound (BrowserOptions::command_timeout, or the timeout a
// method takes), so a hung browser fails the test instead of hanging it. When
// the browser goes away, calls fail with UNAVAILABLE naming the cause and the
// tail of its log.
//
// Example:
//   absl::StatusOr<std::unique_ptr<Browser>> browser = Browser::Start();
//   if (absl::IsNotFound(browser.status())) GTEST_SKIP() << browser.status();
//   ASSERT_TRUE(browser.ok()) << browser.status();
//   absl::StatusOr<std::unique_ptr<Page>> page = (*browser)->NewPage(url);
//   ASSERT_TRUE(page.ok()) << page.status();
//   ASSERT_TRUE((*page)->WaitFor("document.querySelectorAll('td').length > 3",
//                               absl::Seconds(5)).ok());
//   ASSERT_TRUE((*page)->Click("#refresh").ok());
//   EXPECT_EQ(*(*page)->Text("#rate"), "100.0%");
//   EXPECT_THAT((*page)->errors(), ::testing::IsEmpty());
//
// Measured on this machine (Chromium 156, 2 shared cores): Start() ~0.3-0.7 s;
// the first tab ~0.6 s to open and run its scripts, later ones ~0.2-0.4 s;
// Navigate to a small page on 127.0.0.1 ~0.1 s.
//
// Thread-safe: a Browser and its Pages may be used from several threads. The
// browser gets SIGKILL if the thread that called Start() exits
// (PR_SET_PDEATHSIG), so start it from the test body or fixture. A Page may
// outlive its Browser; its calls then fail with UNAVAILABLE.
#ifndef SUISHIN_TESTS_SUPPORT_BROWSER_H_
#define SUISHIN_TESTS_SUPPORT_BROWSER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "tests/support/temp_dir.h"

namespace suishin::testing {

namespace browser_internal {
class Connection;  // The CDP pipe: writes commands, routes what it reads.
class PageEvents;  // What one page's events have said: loads, errors, closure.
}  // namespace browser_internal

struct BrowserOptions {
  // The Chromium to start. Debian's launcher script; it execs
  // /usr/lib/chromium/chromium with the flags of /etc/chromium.d.
  std::string binary = "/usr/bin/chromium";
  // --window-size; a page's viewport is a little smaller (1280x813 for the
  // default: headless keeps room for the window's frame).
  int window_width = 1280;
  int window_height = 900;
  // Bound on start-up, up to the first answer on the pipe.
  absl::Duration start_timeout = absl::Seconds(30);
  // Bound on each CDP command, and on Navigate's wait for the load event.
  absl::Duration command_timeout = absl::Seconds(30);
};

// One tab. Made by Browser::NewPage; closes its tab when destroyed.
class Page {
 public:
  Page(const Page&) = delete;
  Page& operator=(const Page&) = delete;
  // Closes the tab (best effort, bounded).
  ~Page();

  // Loads `url` and waits for its load event. UNAVAILABLE with Chromium's
  // net error ("net::ERR_CONNECTION_REFUSED") when it cannot be loaded; an
  // HTTP error status still loads (read it with
  // Evaluate("performance.getEntriesByType('navigation')[0].responseStatus")).
  // A same-document navigation (only the #fragment changes) returns at once.
  absl::Status Navigate(const std::string& url);

  // Runtime.evaluate of `expression` in the page, awaiting a promise and
  // returning the result by value, as JSON.stringify would see it: undefined
  // becomes null, NaN and Infinity are numbers, a BigInt is the string "12n",
  // and a DOM node, Map or function comes back as an empty object. A thrown
  // exception or rejection is FAILED_PRECONDITION with its text ("TypeError:
  // ..."); so is a value Chromium cannot send (window: "Object reference chain
  // is too long"; a Symbol), or one nested deeper than protobuf's JSON parser
  // reads (100 levels).
  absl::StatusOr<google::protobuf::Value> Evaluate(const std::string& expression);

  // Evaluates `condition` (a JS expression; a promise is awaited) every 20 ms
  // until it is truthy. Evaluations that throw count as false. DEADLINE_EXCEEDED
  // after `timeout`, naming the last result or exception.
  absl::Status WaitFor(const std::string& condition, absl::Duration timeout);

  // element.click() on the first element matching the CSS `selector`.
  // NOT_FOUND when none matches.
  absl::Status Click(const std::string& selector);
  // Sets the value of the <input>, <textarea> or <select> matching `selector`
  // the way typing does (focus, the native value setter, then "input" and
  // "change" events that bubble). NOT_FOUND when none matches.
  absl::Status Fill(const std::string& selector, const std::string& value);
  // innerText of the first element matching `selector`. NOT_FOUND when none.
  absl::StatusOr<std::string> Text(const std::string& selector);

  // The viewport as PNG bytes (Page.captureScreenshot).
  absl::StatusOr<std::string> Screenshot();
  // Screenshot() written to `path`; INTERNAL when it cannot be written.
  absl::Status SaveScreenshot(const std::string& path);

  // What went wrong in the page since it was opened, oldest first, one entry
  // each: uncaught exceptions and rejections ("exception: ..."),
  // console.error/console.assert ("console.error: ..."), and errors the
  // browser logged for it, such as a script or fetch that failed to load
  // ("log network: ..."), except a missing /favicon.ico, which the browser
  // asks for on its own. Kept to the first 1000.
  std::vector<std::string> errors() const;

  // Sends a raw CDP `method` with `params` on this page's session and returns
  // its result. For what the methods above do not cover.
  absl::StatusOr<google::protobuf::Struct> Send(const std::string& method,
                                                const google::protobuf::Struct& params);

  const std::string& target_id() const { return target_id_; }

 private:
  friend class Browser;
  Page(std::shared_ptr<browser_internal::Connection> connection,
       std::shared_ptr<browser_internal::PageEvents> events, std::string target_id,
       std::string session_id, absl::Duration command_timeout);

  // Evaluate, bounded by `deadline`.
  absl::StatusOr<google::protobuf::Value> EvaluateBefore(const std::string& expression,
                                                         absl::Time deadline);

  const std::shared_ptr<browser_internal::Connection> connection_;
  const std::shared_ptr<browser_internal::PageEvents> events_;
  const std::string target_id_;
  const std::string session_id_;  // Sent with every command for this tab.
  const absl::Duration command_timeout_;
};

// A running headless Chromium. Killed (its whole process group) and its
// profile removed when destroyed.
class Browser {
 public:
  // Starts the browser and waits until it answers on the pipe.
  // NOT_FOUND when options.binary is not an executable file (Chromium is not
  // installed: callers GTEST_SKIP with the message); INTERNAL when it cannot
  // be started; UNAVAILABLE (with the tail of its log) when it exits or does
  // not answer within options.start_timeout.
  static absl::StatusOr<std::unique_ptr<Browser>> Start(const BrowserOptions& options = {});

  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;
  ~Browser();

  // Opens a new tab in a new window, attaches to it, enables the events
  // errors() collects, and navigates it to `url` unless that is about:blank.
  absl::StatusOr<std::unique_ptr<Page>> NewPage(const std::string& url = "about:blank");

  // "Chrome/156.0.8078.114", from Browser.getVersion.
  const std::string& product() const { return product_; }
  // From fork() to the first answer on the pipe.
  absl::Duration startup_time() const { return startup_time_; }
  pid_t pid() const { return pid_; }

 private:
  Browser(BrowserOptions options, TempDir dir, pid_t pid,
          std::shared_ptr<browser_internal::Connection> connection);

  const BrowserOptions options_;
  TempDir dir_;      // The profile and the browser's log; removed after the browser is dead.
  const pid_t pid_;  // Also the process group id.
  const std::shared_ptr<browser_internal::Connection> connection_;
  std::string product_;
  absl::Duration startup_time_;
};

// `text` (UTF-8) as a JavaScript string literal (JSON-quoted), for building
// expressions: page.Evaluate("document.title === " + JsString(title)).
std::string JsString(absl::string_view text);

}  // namespace suishin::testing

#endif  // SUISHIN_TESTS_SUPPORT_BROWSER_H_
