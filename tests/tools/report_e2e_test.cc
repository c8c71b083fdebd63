// End to end: `suishinctl report` (the real binary) against the real
// plan-service, kpi-service and notification-service binaries loaded with the
// seed dataset. What the report must carry is read from the dataset file and
// from GetKpiTable here, never retyped.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/channel.h"
#include "common/fiscal_year.h"
#include "common/proto_util.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "suishin/kpi/v1/kpi.grpc.pb.h"
#include "suishin/notification/v1/notification.grpc.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tools/suishinctl/kpi_views.h"

namespace suishin::testing {
namespace {

using plan::v1::Initiative;

constexpr absl::Duration kChromiumTimeout = absl::Seconds(90);

const std::string kSeedDataset = SUISHIN_SOURCE_DIR "/data/seed/dohoku-2019.json";
const std::string kChromium = "/usr/bin/chromium";
// notification-service's clock: past every reporting deadline of the seed,
// so that it fires its 17 alerts.
constexpr char kNow[] = "--now=2026-11-29T12:00:00+09:00";
constexpr size_t kSeedAlerts = 17;
constexpr char kProject[] = "dohoku-anzen-anshin";
constexpr int kYear = 2019;  // The seed's 令和元年度.

int CountOccurrences(absl::string_view haystack, absl::string_view needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != absl::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// The part of `text` from `begin` (included) to the first `end` after it
// (excluded); "" when `begin` is not there.
std::string Between(absl::string_view text, absl::string_view begin, absl::string_view end) {
  const size_t from = text.find(begin);
  if (from == absl::string_view::npos) return "";
  const size_t to = text.find(end, from + begin.size());
  return std::string(text.substr(from, to == absl::string_view::npos ? text.npos : to - from));
}

// `html` without its tags.
std::string StripTags(absl::string_view html) {
  std::string out;
  bool in_tag = false;
  for (char c : html) {
    if (c == '<') in_tag = true;
    if (!in_tag) out += c;
    if (c == '>') in_tag = false;
  }
  return out;
}

// The test's own HTML escaping, to compare with what the report wrote.
std::string Escape(absl::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The text of the element whose start tag contains `marker`: from the end
// of that tag to the next '<'.
std::optional<std::string> CellText(absl::string_view row, absl::string_view marker) {
  const size_t at = row.find(marker);
  if (at == absl::string_view::npos) return std::nullopt;
  const size_t open = row.find('>', at);
  const size_t close = row.find('<', open);
  if (open == absl::string_view::npos || close == absl::string_view::npos) return std::nullopt;
  return std::string(row.substr(open + 1, close - open - 1));
}

dataset::v1::Dataset SeedDataset() {
  dataset::v1::Dataset dataset;
  const absl::Status status = ReadJsonFile(kSeedDataset, &dataset);
  EXPECT_TRUE(status.ok()) << status;
  return dataset;
}

std::string RegionNameIn(const dataset::v1::Dataset& dataset, const std::string& id) {
  for (const auto& region : dataset.plan().regions()) {
    if (region.id() == id) return region.name();
  }
  ADD_FAILURE() << "no region " << id << " in the dataset";
  return id;
}

// The label of a region's row: "道北連携地域" for the KPI's area, else the name.
std::string RowLabelIn(const dataset::v1::Dataset& dataset, const kpi::v1::Kpi& kpi,
                       const std::string& id) {
  const std::string name = RegionNameIn(dataset, id);
  return id == kpi.area_id() ? absl::StrCat(name, "連携地域") : name;
}

// An initiative's line as the management table writes it: the text, the
// responsible bodies in （）, the region tags as 【宗谷】.
std::string ExpectedLine(const dataset::v1::Dataset& dataset, const Initiative& initiative) {
  std::string line = initiative.text();
  if (!initiative.responsible_bodies().empty()) {
    absl::StrAppend(&line, "（", absl::StrJoin(initiative.responsible_bodies(), "、"), "）");
  }
  for (const std::string& id : initiative.region_ids()) {
    absl::StrAppend(&line, "【", RegionNameIn(dataset, id), "】");
  }
  return line;
}

// Whether the report for kYear shows `initiative`, and in which column.
struct Placement {
  bool shown = false;
  bool next_year_table = false;  // 次年度の取組 (its own table), else page 1's.
  int column = 0;                // In page 1's table: 実績 0, 課題 1, 今年度 2.
  std::string heading;           // The Markdown section's heading.
};

Placement PlacementOf(const Initiative& initiative) {
  const int year = initiative.fiscal_year().year();
  switch (initiative.stage()) {
    case plan::v1::INITIATIVE_STAGE_ACHIEVEMENT:
      return {year == kYear, false, 0, "これまでの主な取組実績"};
    case plan::v1::INITIATIVE_STAGE_CHALLENGE:
      return {year == kYear, false, 1, "今後の取組を進める上での主な課題"};
    case plan::v1::INITIATIVE_STAGE_CURRENT:
      return {
          year == kYear, false, 2,
          absl::StrCat("今年度の主な取組（", JapaneseFiscalYear(kYear), "（", kYear, "年度））")};
    case plan::v1::INITIATIVE_STAGE_NEXT:
      return {year == kYear + 1, true, 0,
              absl::StrCat("次年度の取組（", JapaneseFiscalYear(kYear + 1), "（", kYear + 1,
                           "年度））")};
    default:
      return {};
  }
}

std::string PillarTitle(const dataset::v1::Dataset& dataset, const Initiative& initiative) {
  for (const auto& project : dataset.plan().projects()) {
    if (project.id() != initiative.project_id()) continue;
    for (const auto& pillar : project.pillars()) {
      if (pillar.id() == initiative.pillar_id()) return pillar.title();
    }
  }
  ADD_FAILURE() << "no pillar " << initiative.pillar_id();
  return "";
}

// What one KPI's table must show, from the dataset and from GetKpiTable:
// for each region label, the baseline, the target with its earlier values,
// the figure and the rate of each year.
struct RegionFigures {
  std::optional<std::string> baseline;
  std::optional<std::string> target;
  std::vector<std::string> revisions;  // "見直し前38カ所"
  std::map<int, std::string> values;   // year → "11カ所"
  std::map<int, std::string> rates;    // year → "25.6%"
};
using KpiFigures = std::map<std::string, RegionFigures>;  // region id → figures

// The figures of `record` (the dataset's) and of `table` (the service's
// computed area figures and every rate).
KpiFigures ExpectedFigures(const kpi::v1::KpiRecord& record, const kpi::v1::KpiTable& table,
                           int* figures) {
  const kpi::v1::Kpi& kpi = record.kpi();
  KpiFigures out;
  for (const auto& baseline : record.baselines()) {
    out[baseline.region_id()].baseline = ctl::ValueWithUnit(baseline.value(), kpi);
    ++*figures;
  }
  for (const auto& target : record.targets()) {
    RegionFigures& region = out[target.region_id()];
    region.target = ctl::ValueWithUnit(target.value(), kpi);
    ++*figures;
    for (const auto& revision : target.revisions()) {
      region.revisions.push_back(
          absl::StrCat("見直し前", ctl::ValueWithUnit(revision.value(), kpi)));
      ++*figures;
    }
  }
  for (const auto& actual : record.actuals()) {
    if (actual.fiscal_year().year() > kYear) continue;
    out[actual.region_id()].values[actual.fiscal_year().year()] =
        ctl::ValueWithUnit(actual.value(), kpi);
    ++*figures;
  }
  // The service's figures: the area's computed ones, and every rate.
  for (const auto& row : table.rows()) {
    RegionFigures& region = out[row.region_id()];
    if (row.has_baseline() && !region.baseline) {
      region.baseline = ctl::ValueWithUnit(row.baseline().value(), kpi);
    }
    if (row.has_target() && !region.target) {
      region.target = ctl::ValueWithUnit(row.target().value(), kpi);
      for (const auto& revision : row.target().revisions()) {
        region.revisions.push_back(
            absl::StrCat("見直し前", ctl::ValueWithUnit(revision.value(), kpi)));
      }
    }
    for (const auto& point : row.points()) {
      if (!point.has_value()) continue;
      const int year = point.fiscal_year().year();
      const std::string value = ctl::ValueWithUnit(point.value(), kpi);
      if (region.values.count(year) > 0) {
        EXPECT_EQ(region.values[year], value) << kpi.id() << " " << row.region_id() << " " << year;
      }
      region.values[year] = value;
      EXPECT_FALSE(point.rate_display().empty()) << kpi.id() << " " << row.region_id() << year;
      region.rates[year] = point.rate_display();
    }
  }
  return out;
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("suishinctl-report");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_.emplace(*std::move(dir));
    StartPlanService(*dir_, "plan", &plan_server_);
    if (HasFatalFailure()) return;
    plan_address_ = plan_server_->address();
    StartKpiService(*dir_, "kpi", plan_address_, &kpi_server_);
    if (HasFatalFailure()) return;
    kpi_address_ = kpi_server_->address();
    // Until StartNotification: a port nothing listens on, never the default.
    notification_address_ = absl::StrCat("127.0.0.1:", PickUnusedPort());
    const RunResult import = Suishinctl({"import", kSeedDataset});
    ASSERT_EQ(import.exit_code, 0) << import.out << import.err << kpi_server_->Log();
    dataset_ = SeedDataset();
  }

  void TearDown() override {
    StopService(&notification_server_);
    StopService(&kpi_server_);
    StopService(&plan_server_);
  }

  // notification-service following the test's kpi-service, and its 17 seed
  // alerts firing.
  void StartNotificationAndWaitForAlerts() {
    StartService(*dir_, "notification",
                 {kNotificationServiceBinary, "--notification_listen=127.0.0.1:0",
                  "--notification_db=" + dir_->File("notification.db"),
                  "--kpi_address=" + kpi_address_, "--redis_url=", kNow, "--shutdown_grace_ms=500"},
                 &notification_server_);
    if (HasFatalFailure()) return;
    notification_address_ = notification_server_->address();
    notification_stub_ =
        notification::v1::NotificationService::NewStub(MakeChannel(notification_address_));
    // Asks again after every alert event until all are listed.
    grpc::ClientContext watch;
    watch.set_deadline(absl::ToChronoTime(absl::Now() + kServiceStartTimeout));
    auto events = notification_stub_->Subscribe(&watch, notification::v1::SubscribeRequest());
    size_t listed = 0;
    notification::v1::SubscribeResponse event;
    do {
      listed = FiringAlerts().size();
      if (listed == kSeedAlerts) break;
    } while (events->Read(&event));
    watch.TryCancel();
    const grpc::Status status = events->Finish();
    ASSERT_EQ(listed, kSeedAlerts) << status.error_message() << "\n" << notification_server_->Log();
  }

  std::vector<notification::v1::Alert> FiringAlerts() {
    notification::v1::ListAlertsRequest request;
    request.set_page_size(1000);
    notification::v1::ListAlertsResponse response;
    std::unique_ptr<grpc::ClientContext> context = NewClientContext(absl::Seconds(10));
    const grpc::Status status = notification_stub_->ListAlerts(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.alerts().begin(), response.alerts().end()};
  }

  // GetKpiTable as of kYear, straight from kpi-service.
  kpi::v1::GetKpiTableResponse KpiTables() {
    auto stub = kpi::v1::KpiService::NewStub(MakeChannel(kpi_address_));
    kpi::v1::GetKpiTableRequest request;
    request.set_project_id(kProject);
    request.mutable_as_of()->set_year(kYear);
    kpi::v1::GetKpiTableResponse response;
    std::unique_ptr<grpc::ClientContext> context = NewClientContext(absl::Seconds(10));
    const grpc::Status status = stub->GetKpiTable(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  const kpi::v1::KpiTable& TableOf(const kpi::v1::GetKpiTableResponse& tables,
                                   const std::string& kpi_id) {
    for (const auto& table : tables.tables()) {
      if (table.kpi().id() == kpi_id) return table;
    }
    ADD_FAILURE() << "GetKpiTable has no table of " << kpi_id;
    static const kpi::v1::KpiTable* const kNone = new kpi::v1::KpiTable();
    return *kNone;
  }

  RunResult Suishinctl(std::vector<std::string> args) {
    return RunSuishinctl(
        SuishinctlArgv(std::move(args), plan_address_, kpi_address_, notification_address_), {},
        dir_->path());
  }

  // Writes the report with -o and returns the file's text.
  std::string Report(const std::string& format, const std::string& year = "R元") {
    const std::string path = dir_->File(absl::StrCat("report.", format));
    const RunResult run = Suishinctl(
        {"report", "--project", kProject, "--year", year, "--format", format, "-o", path});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_TRUE(absl::StartsWith(run.out, path + ": ")) << run.out;
    absl::StatusOr<std::string> text = ReadWholeFile(path);
    EXPECT_TRUE(text.ok()) << text.status();
    return text.ok() ? *text : "";
  }

  std::optional<TempDir> dir_;
  std::optional<ServiceProcess> plan_server_;
  std::optional<ServiceProcess> kpi_server_;
  std::optional<ServiceProcess> notification_server_;
  std::string plan_address_;
  std::string kpi_address_;
  std::string notification_address_;
  std::unique_ptr<notification::v1::NotificationService::Stub> notification_stub_;
  dataset::v1::Dataset dataset_;
};

TEST_F(ReportTest, HtmlCarriesEveryInitiativeAndFigureOfTheSeed) {
  ASSERT_NO_FATAL_FAILURE(StartNotificationAndWaitForAlerts());
  const std::string html = Report("html");
  ASSERT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>")) << html.substr(0, 200);
  EXPECT_TRUE(absl::StrContains(html, "@page { size: A4 landscape;"));
  EXPECT_TRUE(absl::StrContains(html, "@media print"));
  for (const char* section : {"【概要・目的】", "【施策展開】", "【ＫＰＩの状況】"}) {
    EXPECT_TRUE(absl::StrContains(html, section)) << section;
  }
  const auto& project = dataset_.plan().projects(0);
  EXPECT_TRUE(absl::StrContains(html, Escape(project.title())));
  EXPECT_TRUE(absl::StrContains(html, Escape(project.overview())));
  for (const auto& pillar : project.pillars()) {
    EXPECT_TRUE(absl::StrContains(html, absl::StrCat("<li>■", Escape(pillar.title()), "</li>")))
        << pillar.title();
  }

  // Every initiative, once, in its column under its pillar, with its bodies
  // and tags.
  const std::string this_year = Between(html, "<table class=\"stages this-year\">", "</table>");
  const std::string next_year = Between(html, "<table class=\"stages next-year\">", "</table>");
  ASSERT_FALSE(this_year.empty());
  ASSERT_FALSE(next_year.empty());
  int initiatives = 0;
  for (const Initiative& initiative : dataset_.plan().initiatives()) {
    const Placement placement = PlacementOf(initiative);
    ASSERT_TRUE(placement.shown) << initiative.id() << ": the seed's lines are all for R元/R2";
    ++initiatives;
    const std::string li = absl::StrCat("<li data-id=\"", Escape(initiative.id()), "\">");
    EXPECT_EQ(CountOccurrences(html, li), 1) << initiative.id();
    const std::string band =
        Between(placement.next_year_table ? next_year : this_year,
                absl::StrCat("<tbody class=\"band\" data-pillar=\"", initiative.pillar_id(), "\">"),
                "</tbody>");
    ASSERT_FALSE(band.empty()) << initiative.id();
    EXPECT_TRUE(
        absl::StrContains(band, absl::StrCat("<th colspan=\"", placement.next_year_table ? 1 : 3,
                                             "\">■", Escape(PillarTitle(dataset_, initiative)))))
        << band;
    std::vector<std::string> cells = absl::StrSplit(band, "<td>");
    ASSERT_EQ(cells.size(), placement.next_year_table ? 2u : 4u) << band;
    const std::string& cell = cells[placement.column + 1];
    const std::string item = Between(cell, li, "</li>");
    ASSERT_FALSE(item.empty()) << initiative.id() << " is not in column " << placement.column
                               << ":\n"
                               << band;
    EXPECT_EQ(StripTags(item), Escape(ExpectedLine(dataset_, initiative))) << item;
  }
  EXPECT_EQ(initiatives, dataset_.plan().initiatives_size());

  // Every figure: the dataset's baselines, targets (with 見直し前) and
  // actuals, the service's area figures, and every 進捗率 as GetKpiTable
  // gives it, each in its region's row and year's column.
  const kpi::v1::GetKpiTableResponse tables = KpiTables();
  int figures = 0;
  int rates = 0;
  for (const auto& record : dataset_.kpi().kpis()) {
    const std::string section =
        Between(html, absl::StrCat("<section class=\"kpi\" id=\"kpi-", record.kpi().id(), "\""),
                "</section>");
    ASSERT_FALSE(section.empty()) << record.kpi().id();
    EXPECT_TRUE(absl::StrContains(section, absl::StrCat("○", Escape(record.kpi().name()))));
    const KpiFigures expected =
        ExpectedFigures(record, TableOf(tables, record.kpi().id()), &figures);
    ASSERT_EQ(expected.size(), static_cast<size_t>(record.kpi().region_ids_size()));
    for (const auto& [region, want] : expected) {
      const std::string tr = absl::StrCat("data-region=\"", region, "\">");
      const std::string values = Between(section, "<tr class=\"values\" " + tr, "</tr>");
      const std::string rate_row = Between(section, "<tr class=\"rates\" " + tr, "</tr>");
      ASSERT_FALSE(values.empty()) << record.kpi().id() << " " << region;
      ASSERT_FALSE(rate_row.empty()) << record.kpi().id() << " " << region;
      EXPECT_EQ(StripTags(Between(values, "<th", "</th>")),
                Escape(RowLabelIn(dataset_, record.kpi(), region)));
      ASSERT_TRUE(want.baseline.has_value()) << region;
      EXPECT_EQ(CellText(values, "class=\"value baseline\""), Escape(*want.baseline)) << values;
      ASSERT_TRUE(want.target.has_value()) << region;
      const std::string target = StripTags(Between(values, "<td class=\"target\"", "</td>"));
      EXPECT_TRUE(absl::StartsWith(target, Escape(*want.target))) << target;
      for (const std::string& revision : want.revisions) {
        EXPECT_TRUE(absl::StrContains(target, absl::StrCat("（", Escape(revision), "）")))
            << target;
      }
      for (const auto& [year, value] : want.values) {
        EXPECT_EQ(CellText(values, absl::StrCat("data-year=\"", year, "\"")), Escape(value))
            << record.kpi().id() << " " << region << " " << year << "\n"
            << values;
      }
      for (const auto& [year, rate] : want.rates) {
        EXPECT_EQ(CellText(rate_row, absl::StrCat("data-year=\"", year, "\"")), Escape(rate))
            << record.kpi().id() << " " << region << " " << year << "\n"
            << rate_row;
        ++rates;
      }
    }
  }
  int actuals = 0;
  for (const auto& record : dataset_.kpi().kpis()) actuals += record.actuals_size();
  EXPECT_GE(figures, actuals) << "every actual of the seed was checked";
  EXPECT_GE(rates, actuals) << "every actual of the seed has a rate";

  // The firing alerts, each once.
  EXPECT_FALSE(absl::StrContains(html, "通知サービスに接続できません"));
  const std::vector<notification::v1::Alert> firing = FiringAlerts();
  EXPECT_EQ(CountOccurrences(html, "data-fingerprint=\""), static_cast<int>(firing.size()));
  for (const auto& alert : firing) {
    EXPECT_EQ(
        CountOccurrences(html, absl::StrCat("data-fingerprint=\"", alert.fingerprint(), "\"")), 1)
        << alert.summary();
  }

  // Self-contained: nothing to fetch, nothing to run.
  for (const char* external : {"<script", "<link", "<img", "<iframe", "<object", "@import", "url(",
                               "http://", "https://", "@font-face"}) {
    EXPECT_FALSE(absl::StrContains(html, external)) << external;
  }
}

TEST_F(ReportTest, HtmlHasAProgressChartPerKpiRegion) {
  const std::string html = Report("html");
  const kpi::v1::GetKpiTableResponse tables = KpiTables();
  int charts = 0;
  for (const auto& record : dataset_.kpi().kpis()) {
    const std::string section =
        Between(html, absl::StrCat("<section class=\"kpi\" id=\"kpi-", record.kpi().id(), "\""),
                "</section>");
    ASSERT_FALSE(section.empty()) << record.kpi().id();
    EXPECT_EQ(CountOccurrences(section, "<svg class=\"progress-chart\""),
              record.kpi().region_ids_size())
        << section;
    for (const auto& row : TableOf(tables, record.kpi().id()).rows()) {
      const std::string marker = absl::StrCat("data-region=\"", row.region_id(), "\"><title>");
      const size_t at = section.find(marker);
      ASSERT_NE(at, std::string::npos) << record.kpi().id() << " " << row.region_id();
      const size_t begin = section.rfind("<svg", at);
      const std::string chart = section.substr(begin, section.find("</svg>", at) - begin);
      ++charts;
      int actuals = 0;
      for (const auto& point : row.points()) actuals += point.has_value() ? 1 : 0;
      EXPECT_EQ(CountOccurrences(chart, "<circle class=\"actual-point"), actuals) << chart;
      EXPECT_GE(CountOccurrences(chart, "<polyline class=\"actual\""), 1) << chart;
      EXPECT_EQ(CountOccurrences(chart, "<line class=\"pace\""), 1) << chart;
      EXPECT_EQ(CountOccurrences(chart, "<path class=\"target\""), 1) << chart;
      EXPECT_EQ(CountOccurrences(chart, "<circle class=\"baseline\""), 1) << chart;
      EXPECT_EQ(CountOccurrences(chart, "<text class=\"year\""), 2) << chart;
      EXPECT_TRUE(absl::StrContains(
          chart, absl::StrCat(">", EraFiscalYear(row.baseline().fiscal_year().year()), "</text>")))
          << chart;
      EXPECT_TRUE(absl::StrContains(
          chart, absl::StrCat(">", EraFiscalYear(row.target().fiscal_year().year()), "</text>")))
          << chart;
      EXPECT_FALSE(absl::StrContains(chart, "href")) << chart;
    }
  }
  EXPECT_EQ(charts, 8) << "two KPIs of four regions each in the seed";
}

TEST_F(ReportTest, MarkdownCarriesEveryInitiativeAndFigureOfTheSeed) {
  ASSERT_NO_FATAL_FAILURE(StartNotificationAndWaitForAlerts());
  const std::string md = Report("md");
  const std::vector<std::string> lines = absl::StrSplit(md, '\n');
  // Section heading → its lines.
  std::map<std::string, std::vector<std::string>> sections;
  std::string current;
  for (const std::string& line : lines) {
    if (absl::StartsWith(line, "## ")) {
      current = line.substr(3);
      continue;
    }
    if (!current.empty()) sections[current].push_back(line);
  }
  const auto& project = dataset_.plan().projects(0);
  EXPECT_TRUE(absl::StartsWith(md, absl::StrCat("# ", project.title(), "\n"))) << md;
  ASSERT_EQ(sections.count("【概要・目的】"), 1u) << md;
  EXPECT_TRUE(
      absl::StrContains(absl::StrJoin(sections["【概要・目的】"], "\n"), project.overview()));
  for (const auto& pillar : project.pillars()) {
    EXPECT_EQ(std::count(sections["【施策展開】"].begin(), sections["【施策展開】"].end(),
                         absl::StrCat("- ■", pillar.title())),
              1)
        << pillar.title();
  }

  // Some lines are written alike in several columns (子どもの貧困対策…): each
  // as often as the dataset has it.
  std::map<std::string, int> occurrences;
  for (const Initiative& initiative : dataset_.plan().initiatives()) {
    ++occurrences[absl::StrCat("- ", ExpectedLine(dataset_, initiative))];
  }
  for (const Initiative& initiative : dataset_.plan().initiatives()) {
    const Placement placement = PlacementOf(initiative);
    ASSERT_TRUE(placement.shown) << initiative.id();
    const std::string item = absl::StrCat("- ", ExpectedLine(dataset_, initiative));
    EXPECT_EQ(std::count(lines.begin(), lines.end(), item), occurrences[item]) << item;
    ASSERT_EQ(sections.count(placement.heading), 1u) << placement.heading << "\n" << md;
    // Under its pillar's ■ heading in its section.
    const std::vector<std::string>& section = sections[placement.heading];
    std::string pillar;
    bool found = false;
    for (const std::string& line : section) {
      if (absl::StartsWith(line, "### ■")) pillar = line.substr(strlen("### ■"));
      if (line == item) {
        found = true;
        EXPECT_EQ(pillar, PillarTitle(dataset_, initiative)) << item;
      }
    }
    EXPECT_TRUE(found) << item << " not in " << placement.heading;
  }

  const kpi::v1::GetKpiTableResponse tables = KpiTables();
  std::string kpi_heading;
  for (const auto& [heading, body] : sections) {
    if (absl::StartsWith(heading, "【ＫＰＩの状況】")) kpi_heading = heading;
  }
  ASSERT_FALSE(kpi_heading.empty()) << md;
  const std::vector<std::string>& kpi_lines = sections[kpi_heading];
  int figures = 0;
  int rates = 0;
  for (const auto& record : dataset_.kpi().kpis()) {
    const kpi::v1::Kpi& kpi = record.kpi();
    // The table under "### ○<name>…": header, alignment, then two rows per region.
    const auto heading =
        std::find_if(kpi_lines.begin(), kpi_lines.end(), [&](const std::string& l) {
          return absl::StartsWith(l, absl::StrCat("### ○", kpi.name(), "（"));
        });
    ASSERT_NE(heading, kpi_lines.end()) << kpi.name() << "\n" << md;
    std::vector<std::vector<std::string>> rows;
    for (auto it = heading + 2; it != kpi_lines.end() && absl::StartsWith(*it, "|"); ++it) {
      absl::string_view row = *it;
      absl::ConsumePrefix(&row, "| ");
      absl::ConsumeSuffix(&row, " |");
      rows.push_back(absl::StrSplit(row, " | "));
    }
    ASSERT_EQ(rows.size(), 2 + 2 * static_cast<size_t>(kpi.region_ids_size())) << md;
    std::map<int, size_t> column_of;  // year → column
    for (size_t c = 2; c + 1 < rows[0].size(); ++c) {
      for (int year = kMinFiscalYear; year <= kMaxFiscalYear; ++year) {
        if (rows[0][c] == EraFiscalYear(year)) column_of[year] = c;
      }
    }
    const KpiFigures expected = ExpectedFigures(record, TableOf(tables, kpi.id()), &figures);
    for (const auto& [region, want] : expected) {
      const std::string label = RowLabelIn(dataset_, kpi, region);
      size_t r = 2;
      while (r < rows.size() && rows[r][0] != label) r += 2;
      ASSERT_LT(r + 1, rows.size()) << label << "\n" << md;
      const std::vector<std::string>& values = rows[r];
      const std::vector<std::string>& rate_row = rows[r + 1];
      ASSERT_EQ(values.size(), rows[0].size()) << label;
      ASSERT_EQ(rate_row.size(), rows[0].size()) << label;
      EXPECT_EQ(rate_row[0], "進捗率");
      EXPECT_EQ(values[1], want.baseline.value_or("?")) << label;
      EXPECT_TRUE(absl::StartsWith(values.back(), want.target.value_or("?"))) << values.back();
      for (const std::string& revision : want.revisions) {
        EXPECT_TRUE(absl::StrContains(values.back(), absl::StrCat("（", revision, "）")))
            << values.back();
      }
      for (const auto& [year, value] : want.values) {
        ASSERT_EQ(column_of.count(year), 1u) << year;
        EXPECT_EQ(values[column_of[year]], value) << label << " " << year;
      }
      for (const auto& [year, rate] : want.rates) {
        ASSERT_EQ(column_of.count(year), 1u) << year;
        EXPECT_EQ(rate_row[column_of[year]], rate) << label << " " << year;
        ++rates;
      }
    }
  }
  int actuals = 0;
  for (const auto& record : dataset_.kpi().kpis()) actuals += record.actuals_size();
  EXPECT_GE(figures, actuals);
  EXPECT_GE(rates, actuals);

  // One row per firing alert.
  std::string alerts_heading;
  for (const auto& [heading, body] : sections) {
    if (absl::StrContains(heading, "アラート")) alerts_heading = heading;
  }
  ASSERT_FALSE(alerts_heading.empty()) << md;
  const std::vector<std::string>& alert_lines = sections[alerts_heading];
  const int table_rows = static_cast<int>(
      std::count_if(alert_lines.begin(), alert_lines.end(),
                    [](const std::string& line) { return absl::StartsWith(line, "| "); }));
  EXPECT_EQ(table_rows, 2 + static_cast<int>(kSeedAlerts)) << md;
  EXPECT_FALSE(absl::StrContains(md, "通知サービスに接続できません"));
}

TEST_F(ReportTest, WithoutNotificationServiceSaysSoAndSucceeds) {
  for (const std::string format : {"html", "md"}) {
    const RunResult run =
        Suishinctl({"report", "--project", kProject, "--year", "R元", "--format", format});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_TRUE(absl::StrContains(run.out, "通知サービスに接続できません")) << format;
    EXPECT_TRUE(absl::StrContains(run.out, "○認定こども園設置数")) << format;
    EXPECT_TRUE(
        absl::StartsWith(run.err, "suishinctl: report: warning: 通知サービスに接続できません"))
        << run.err;
    EXPECT_EQ(CountOccurrences(run.err, "\n"), 1) << run.err;
  }
}

TEST_F(ReportTest, AnyFormOfTheYearGivesTheSameReport) {
  const auto without_alerts = [](const std::string& md) {
    return md.substr(0, md.find("## 【通知】"));
  };
  const RunResult r_gannen =
      Suishinctl({"report", "--project", kProject, "--year", "R元", "--format", "md"});
  ASSERT_EQ(r_gannen.exit_code, 0) << r_gannen.err;
  for (const char* year : {"2019", "令和元年度", "FY2019", "H31", "Ｒ１"}) {
    const RunResult run =
        Suishinctl({"report", "--project", kProject, "--year", year, "--format", "MD"});
    ASSERT_EQ(run.exit_code, 0) << year << ": " << run.err;
    EXPECT_EQ(without_alerts(run.out), without_alerts(r_gannen.out)) << year;
  }
}

TEST_F(ReportTest, AnotherYearLeavesTheSeedsLinesOut) {
  const std::string md = Report("md", "R2");
  for (const Initiative& initiative : dataset_.plan().initiatives()) {
    EXPECT_FALSE(absl::StrContains(md, ExpectedLine(dataset_, initiative))) << initiative.id();
  }
  EXPECT_TRUE(absl::StrContains(md, absl::StrCat("次年度の取組（", JapaneseFiscalYear(2021))))
      << md;
}

TEST_F(ReportTest, FailuresExitNonZeroWithOneLine) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string prefix;
  };
  const std::string missing_dir = dir_->File("no/such/dir/report.html");
  const std::vector<Case> cases = {
      {{"report", "--project", "nope", "--year", "R元", "--format", "html"},
       1,
       "suishinctl: report: NOT_FOUND: "},
      {{"report", "--project", kProject, "--year", "R元", "--format", "pdf"},
       2,
       "suishinctl: report: --format: \"pdf\" is not a format"},
      {{"report", "--project", kProject, "--year", "R元"}, 2, "suishinctl: report: --format"},
      {{"report", "--project", kProject, "--format", "html"}, 2, "suishinctl: report: --year"},
      {{"report", "--project", kProject, "--year", "S50", "--format", "html"},
       2,
       "suishinctl: report: --year: "},
      {{"report", "--year", "R元", "--format", "html"}, 2, "suishinctl: report: --project"},
      {{"report", "--project", kProject, "--year", "R元", "--format", "html", "-o", missing_dir},
       1,
       "suishinctl: report: NOT_FOUND: " + missing_dir},
  };
  for (const Case& c : cases) {
    const RunResult run = Suishinctl(c.args);
    const std::string what = absl::StrJoin(c.args, " ");
    EXPECT_EQ(run.exit_code, c.exit_code) << what << "\n" << run.err;
    EXPECT_EQ(run.out, "") << what;
    // One line, after the warning about notification-service when the
    // report got that far.
    std::vector<std::string> lines = absl::StrSplit(absl::StripSuffix(run.err, "\n"), '\n');
    if (lines.size() == 2 && absl::StrContains(lines[0], "warning: 通知サービス")) {
      lines.erase(lines.begin());
    }
    ASSERT_EQ(lines.size(), 1u) << what << "\n" << run.err;
    EXPECT_TRUE(absl::StartsWith(lines[0], c.prefix)) << what << "\n" << run.err;
  }
}

TEST_F(ReportTest, HtmlRendersInHeadlessChromium) {
  if (access(kChromium.c_str(), X_OK) != 0) {
    std::cerr << "\n*** SKIPPING THE CHROMIUM RENDER TEST: " << kChromium
              << " is missing; install it with: apt-get install -y chromium ***\n\n";
    GTEST_SKIP() << kChromium << " is missing (apt-get install -y chromium)";
  }
  ASSERT_NO_FATAL_FAILURE(StartNotificationAndWaitForAlerts());
  const std::string html = Report("html");
  ASSERT_FALSE(html.empty());
  const std::string html_path = dir_->File("report.html");
  const std::string png = dir_->File("report.png");
  const std::string profile = dir_->File("chromium-profile");
  ASSERT_EQ(mkdir(profile.c_str(), 0700), 0);
  absl::StatusOr<RunResult> run =
      RunToCompletion({kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                       "--no-first-run", "--disable-background-networking",
                       "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
                       "--screenshot=" + png, "--window-size=1587,1123", "file://" + html_path},
                      {"HOME=" + dir_->path()}, dir_->path(), kChromiumTimeout);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 0) << run->out << run->err;
  absl::StatusOr<std::string> image = ReadWholeFile(png);
  ASSERT_TRUE(image.ok()) << image.status() << "\n" << run->err;
  EXPECT_TRUE(absl::StartsWith(*image, "\x89PNG\r\n\x1a\n")) << "not a PNG";
  // A blank 1587×1123 page compresses to a few kilobytes; the table does not.
  EXPECT_GT(image->size(), 50u * 1024) << "the screenshot looks empty";
  // SUISHIN_REPORT_SCREENSHOT=<path> keeps a copy to look at.
  if (const char* keep = std::getenv("SUISHIN_REPORT_SCREENSHOT"); keep != nullptr && *keep) {
    std::ofstream(keep, std::ios::binary) << *image;
  }
}

}  // namespace
}  // namespace suishin::testing
