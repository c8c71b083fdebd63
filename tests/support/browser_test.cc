// Browser against a real Chromium and a small page served by cpp-httplib on
// 127.0.0.1: two tabs at once, clicks and typing through JS, Japanese text
// read back from a table a module script fills, screenshots, the errors a
// page reports, and what the calls return when things go wrong.
#include "tests/support/browser.h"

#include <httplib.h>
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace suishin::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

// The page under test: a table of KPIs filled by a module script from
// /kpis.json, a button that marks the first row done, an input echoed below.
constexpr char kIndexHtml[] = R"html(<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>進捗一覧</title></head>
<body>
<h1>推進計画 進捗一覧</h1>
<table id="kpis">
  <thead><tr><th>指標</th><th>進捗率</th><th>状態</th></tr></thead>
  <tbody></tbody>
</table>
<button id="complete">第1行を完了にする</button>
<input id="memo"> <span id="echo"></span>
<script type="module" src="/app.js"></script>
</body></html>
)html";

constexpr char kAppJs[] = R"js(
const body = document.querySelector('#kpis tbody');
const kpis = await (await fetch('/kpis.json')).json();
for (const kpi of kpis) {
  const row = body.insertRow();
  row.insertCell().textContent = kpi.name;
  row.insertCell().textContent = kpi.rate.toFixed(1) + '%';
  row.insertCell().textContent = kpi.state;
}
document.querySelector('#complete').addEventListener('click', () => {
  body.rows[0].cells[2].textContent = '完了';
});
document.querySelector('#memo').addEventListener('input', (e) => {
  document.querySelector('#echo').textContent = 'メモ: ' + e.target.value;
});
document.body.dataset.ready = 'yes';
)js";

constexpr char kKpisJson[] = R"json([
  {"name": "地域交流拠点の整備数", "rate": 100, "state": "進行中"},
  {"name": "移住相談件数", "rate": 62.5, "state": "進行中"}
])json";

// A page whose scripts go wrong in each way errors() reports.
constexpr char kBrokenHtml[] = R"html(<!doctype html>
<html><head><meta charset="utf-8"></head><body>
<script>console.error('予算の取得に失敗', 42);</script>
<script>undefinedFunction();</script>
<script type="module" src="/missing.js"></script>
</body></html>
)html";

// cpp-httplib on 127.0.0.1 and a port the kernel picked, serving the pages
// above, until destroyed.
class PageServer {
 public:
  PageServer() {
    const auto serve = [this](const char* path, const char* body, const char* type) {
      server_.Get(path, [body, type](const httplib::Request&, httplib::Response& res) {
        res.set_content(body, type);
      });
    };
    serve("/", kIndexHtml, "text/html; charset=utf-8");
    // A module script must come as JavaScript: Chromium refuses any other type.
    serve("/app.js", kAppJs, "text/javascript; charset=utf-8");
    serve("/kpis.json", kKpisJson, "application/json; charset=utf-8");
    serve("/broken", kBrokenHtml, "text/html; charset=utf-8");
    port_ = server_.bind_to_any_port("127.0.0.1");  // Listening from here on.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~PageServer() {
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  std::string url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
};

class BrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(server_.port(), 0);
    absl::StatusOr<std::unique_ptr<Browser>> browser = Browser::Start();
    if (absl::IsNotFound(browser.status())) GTEST_SKIP() << browser.status();
    ASSERT_TRUE(browser.ok()) << browser.status();
    browser_ = *std::move(browser);
    std::cout << browser_->product() << " answered after "
              << absl::FormatDuration(browser_->startup_time()) << "\n";
    RecordProperty("startup_ms", absl::ToInt64Milliseconds(browser_->startup_time()));
  }

  // A new tab showing `path` of the server, with its table filled.
  std::unique_ptr<Page> OpenKpiPage() {
    const absl::Time start = absl::Now();
    absl::StatusOr<std::unique_ptr<Page>> page = browser_->NewPage(server_.url("/"));
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return nullptr;
    const absl::Status ready =
        (*page)->WaitFor("document.body.dataset.ready === 'yes'", absl::Seconds(10));
    EXPECT_TRUE(ready.ok()) << ready;
    std::cout << "tab opened and filled in " << absl::FormatDuration(absl::Now() - start) << "\n";
    return *std::move(page);
  }

  PageServer server_;
  std::unique_ptr<Browser> browser_;
};

TEST_F(BrowserTest, TwoTabsClickReadAndScreenshot) {
  std::unique_ptr<Page> first = OpenKpiPage();
  std::unique_ptr<Page> second = OpenKpiPage();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);

  // Both tabs are shown at once (each in its own window), so neither is throttled.
  for (Page* page : {first.get(), second.get()}) {
    absl::StatusOr<google::protobuf::Value> visibility = page->Evaluate("document.visibilityState");
    ASSERT_TRUE(visibility.ok()) << visibility.status();
    EXPECT_EQ(visibility->string_value(), "visible");
  }

  // The 進捗率 (progress rate) column, found by its header.
  absl::StatusOr<google::protobuf::Value> rates = first->Evaluate(R"js((() => {
      const headers = [...document.querySelectorAll('#kpis th')].map(th => th.textContent);
      const column = headers.indexOf('進捗率');
      return [...document.querySelectorAll('#kpis tbody tr')]
          .map(tr => tr.cells[column].textContent);
    })())js");
  ASSERT_TRUE(rates.ok()) << rates.status();
  ASSERT_EQ(rates->list_value().values_size(), 2);
  EXPECT_EQ(rates->list_value().values(0).string_value(), "100.0%");
  EXPECT_EQ(rates->list_value().values(1).string_value(), "62.5%");
  EXPECT_EQ(*first->Text("#kpis tbody tr:first-child td:first-child"), "地域交流拠点の整備数");

  // A click in the first tab changes the first tab only.
  ASSERT_TRUE(first->Click("#complete").ok());
  const std::string state = "#kpis tbody tr:first-child td:nth-child(3)";
  ASSERT_TRUE(first
                  ->WaitFor(absl::StrCat("document.querySelector(", JsString(state),
                                         ").textContent === '完了'"),
                            absl::Seconds(5))
                  .ok());
  EXPECT_EQ(*first->Text(state), "完了");
  EXPECT_EQ(*second->Text(state), "進行中");

  // Typing reaches the page's input listener.
  ASSERT_TRUE(second->Fill("#memo", "来週 \"確認\" </script>").ok());
  EXPECT_EQ(*second->Text("#echo"), "メモ: 来週 \"確認\" </script>");

  absl::StatusOr<std::string> png = first->Screenshot();
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_THAT(*png, StartsWith("\x89PNG\r\n\x1a\n"));
  EXPECT_GT(png->size(), 1000u);

  absl::StatusOr<TempDir> dir = TempDir::Create();
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(second->SaveScreenshot(dir->File("second.png")).ok());
  absl::StatusOr<std::string> saved = ReadWholeFile(dir->File("second.png"));
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_THAT(*saved, StartsWith("\x89PNG\r\n\x1a\n"));

  EXPECT_THAT(first->errors(), IsEmpty());
  EXPECT_THAT(second->errors(), IsEmpty());
}

TEST_F(BrowserTest, NavigationTimingIsReadable) {
  absl::StatusOr<std::unique_ptr<Page>> page = browser_->NewPage();
  ASSERT_TRUE(page.ok()) << page.status();
  const absl::Time start = absl::Now();
  ASSERT_TRUE((*page)->Navigate(server_.url("/")).ok());
  const absl::Duration navigate = absl::Now() - start;

  absl::StatusOr<google::protobuf::Value> timing =
      (*page)->Evaluate("performance.getEntriesByType('navigation')[0].toJSON()");
  ASSERT_TRUE(timing.ok()) << timing.status();
  const auto& fields = timing->struct_value().fields();
  ASSERT_TRUE(fields.count("loadEventEnd") && fields.count("responseStatus"));
  EXPECT_EQ(fields.at("responseStatus").number_value(), 200);
  // Navigate returns once the load event has fired, so it has also ended.
  EXPECT_GT(fields.at("loadEventEnd").number_value(), 0);
  std::cout << "Navigate took " << absl::FormatDuration(navigate) << "; loadEventEnd at "
            << fields.at("loadEventEnd").number_value() << " ms\n";
  RecordProperty("navigate_ms", absl::ToInt64Milliseconds(navigate));
}

TEST_F(BrowserTest, CollectsThePageErrors) {
  absl::StatusOr<std::unique_ptr<Page>> page = browser_->NewPage(server_.url("/broken"));
  ASSERT_TRUE(page.ok()) << page.status();
  // The failed module load may be reported just after the load event.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while ((*page)->errors().size() < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const std::vector<std::string> errors = (*page)->errors();
  ASSERT_THAT(errors, SizeIs(3)) << ::testing::PrintToString(errors);
  EXPECT_THAT(errors,
              UnorderedElementsAre(
                  "console.error: 予算の取得に失敗 42",
                  AllOf(StartsWith("exception: ReferenceError: undefinedFunction"),
                        HasSubstr("/broken:4)")),
                  AllOf(StartsWith("log network: "), HasSubstr("404"), HasSubstr("/missing.js"))));
}

TEST_F(BrowserTest, EvaluateReturnsValuesAndThrownErrors) {
  absl::StatusOr<std::unique_ptr<Page>> page = browser_->NewPage();
  ASSERT_TRUE(page.ok()) << page.status();

  absl::StatusOr<google::protobuf::Value> sum = (*page)->Evaluate("Promise.resolve(40 + 2)");
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->number_value(), 42);
  absl::StatusOr<google::protobuf::Value> nothing = (*page)->Evaluate("undefined");
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  EXPECT_EQ(nothing->kind_case(), google::protobuf::Value::kNullValue);

  // JsString quotes anything into a literal that evaluates back to itself.
  const std::string awkward = "引用\"符\" \\ '\n\t</script>\u2028 😀";
  absl::StatusOr<google::protobuf::Value> echoed = (*page)->Evaluate(JsString(awkward));
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(echoed->string_value(), awkward);

  absl::StatusOr<google::protobuf::Value> thrown = (*page)->Evaluate("null.field");
  EXPECT_EQ(thrown.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(thrown.status().message()),
              StartsWith("TypeError: Cannot read properties of null"));
  absl::StatusOr<google::protobuf::Value> rejected =
      (*page)->Evaluate("Promise.reject(new Error('却下'))");
  EXPECT_THAT(std::string(rejected.status().message()), StartsWith("Error: 却下"));

  // Nested deeper than protobuf's JSON parser goes (100): an error, not a timeout.
  absl::StatusOr<google::protobuf::Value> deep = (*page)->Evaluate(
      "(() => { let a = []; for (let i = 0; i < 150; i++) a = [a]; return a; })()");
  EXPECT_THAT(std::string(deep.status().message()), HasSubstr("unreadable answer"));

  EXPECT_TRUE(absl::IsNotFound((*page)->Click("#absent")));
  EXPECT_TRUE(absl::IsNotFound((*page)->Text("#absent").status()));
  EXPECT_TRUE(absl::IsInvalidArgument((*page)->WaitFor("1 +", absl::Seconds(5))));

  const absl::Time start = absl::Now();
  const absl::Status never = (*page)->WaitFor("window.neverSet === true", absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(never)) << never;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  // Evaluating on a page does not count as one of its errors.
  EXPECT_THAT((*page)->errors(), IsEmpty());
}

TEST_F(BrowserTest, RefusedConnectionIsAnError) {
  const int closed_port = PickUnusedPort();
  ASSERT_GT(closed_port, 0);
  absl::StatusOr<std::unique_ptr<Page>> page =
      browser_->NewPage(absl::StrCat("http://127.0.0.1:", closed_port, "/"));
  EXPECT_TRUE(absl::IsUnavailable(page.status())) << page.status();
  EXPECT_THAT(std::string(page.status().message()), HasSubstr("net::ERR_CONNECTION_REFUSED"));
}

TEST_F(BrowserTest, ADeadBrowserFailsCallsAtOnce) {
  absl::StatusOr<std::unique_ptr<Page>> page = browser_->NewPage();
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(kill(browser_->pid(), SIGKILL), 0);

  const absl::Time start = absl::Now();
  absl::StatusOr<google::protobuf::Value> value = (*page)->Evaluate("1");
  EXPECT_TRUE(absl::IsUnavailable(value.status())) << value.status();
  EXPECT_THAT(std::string(value.status().message()), HasSubstr("closed the DevTools pipe"));
  EXPECT_TRUE(absl::IsUnavailable((*page)->WaitFor("true", absl::Seconds(10))));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(absl::IsUnavailable(browser_->NewPage().status()));
}

TEST(BrowserStartTest, MissingBinaryIsNotFound) {
  BrowserOptions options;
  options.binary = "/nonexistent/chromium";
  absl::StatusOr<std::unique_ptr<Browser>> browser = Browser::Start(options);
  EXPECT_TRUE(absl::IsNotFound(browser.status())) << browser.status();
  EXPECT_THAT(std::string(browser.status().message()), HasSubstr("/nonexistent/chromium"));
}

TEST(BrowserStartTest, ABinaryThatExitsIsUnavailableAtOnce) {
  BrowserOptions options;
  options.binary = "/bin/false";  // Exits without reading the pipe.
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Browser>> browser = Browser::Start(options);
  EXPECT_TRUE(absl::IsUnavailable(browser.status())) << browser.status();
  EXPECT_THAT(std::string(browser.status().message()), HasSubstr("closed the DevTools pipe"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace suishin::testing
