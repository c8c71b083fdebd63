// End to end: import-csv and export-csv of the real suishinctl binary
// against a real plan-service and kpi-services, each started on port 0 with
// its database in a temp dir. The seed goes into one kpi-service; what it
// exports goes into fresh ones, which must then show the same KPIs,
// progress and history.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/channel.h"
#include "common/proto_util.h"
#include "exchange/csv_codec.h"
#include "suishin/dataset/v1/dataset.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tools/suishinctl/commands.h"

namespace suishin::testing {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(10);

const std::string kSeedDataset = SUISHIN_SOURCE_DIR "/data/seed/dohoku-2019.json";
constexpr char kProject[] = "dohoku-anzen-anshin";

std::string Cp932(absl::string_view utf8) {
  absl::StatusOr<std::string> bytes = exchange::Utf8ToCp932(utf8);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

std::string Utf8(absl::string_view cp932) {
  absl::StatusOr<std::string> text = exchange::Cp932ToUtf8(cp932);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

class CsvExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("suishinctl-csv");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_.emplace(*std::move(dir));
    ASSERT_TRUE(ReadJsonFile(kSeedDataset, &seed_).ok());
    std::optional<ServiceProcess>& plan = servers_.emplace_back();
    ASSERT_NO_FATAL_FAILURE(StartPlanService(*dir_, "plan", &plan)) << Logs();
    plan_address_ = plan->address();
    ASSERT_NO_FATAL_FAILURE(seeded_ = StartKpi("seeded"));
    const RunResult import = Suishinctl(seeded_, {"import", kSeedDataset});
    ASSERT_EQ(import.exit_code, 0) << import.out << import.err << Logs();
  }

  void TearDown() override {
    // kpi-services before the plan-service they call.
    for (auto it = servers_.rbegin(); it != servers_.rend(); ++it) StopService(&*it);
  }

  std::string File(absl::string_view name) const { return dir_->File(name); }

  // A kpi-service with its own, empty database, following the plan-service;
  // its address.
  std::string StartKpi(const std::string& name) {
    std::optional<ServiceProcess>& kpi = servers_.emplace_back();
    StartKpiService(*dir_, "kpi-" + name, plan_address_, &kpi);
    if (!kpi) ADD_FAILURE() << Logs();
    return kpi ? kpi->address() : "";
  }

  // A fresh kpi-service holding the seed's KPI definitions and no figures.
  std::string StartKpiWithDefinitions(const std::string& name) {
    const std::string address = StartKpi(name);
    if (HasFatalFailure()) return address;
    auto stub = kpi::v1::KpiService::NewStub(MakeChannel(address));
    for (const kpi::v1::KpiRecord& record : seed_.kpi().kpis()) {
      kpi::v1::CreateKpiRequest request;
      *request.mutable_kpi() = record.kpi();
      kpi::v1::CreateKpiResponse response;
      auto context = NewClientContext(kCallTimeout);
      const grpc::Status status = stub->CreateKpi(context.get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message() << "\n" << Logs();
    }
    return address;
  }

  RunResult Suishinctl(const std::string& kpi_address, std::vector<std::string> args) {
    return RunSuishinctl(SuishinctlArgv(std::move(args), plan_address_, kpi_address), {},
                         dir_->path());
  }

  void Write(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    ASSERT_TRUE(out.good()) << path;
  }

  std::string Read(const std::string& path) {
    absl::StatusOr<std::string> bytes = ReadWholeFile(path);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? *bytes : "";
  }

  // Exports every seed KPI from `kpi_address` into <prefix>-<id>.csv; the
  // paths.
  std::vector<std::string> ExportAll(const std::string& kpi_address, const std::string& prefix,
                                     const std::vector<std::string>& flags = {}) {
    std::vector<std::string> paths;
    for (const kpi::v1::KpiRecord& record : seed_.kpi().kpis()) {
      const std::string path = File(absl::StrCat(prefix, "-", record.kpi().id(), ".csv"));
      std::vector<std::string> args = {"export-csv", "--kpi", record.kpi().id(), "-o", path};
      args.insert(args.end(), flags.begin(), flags.end());
      const RunResult run = Suishinctl(kpi_address, args);
      EXPECT_EQ(run.exit_code, 0) << run.err;
      EXPECT_EQ(run.err, "");
      paths.push_back(path);
    }
    return paths;
  }

  // What a client sees of the seed's KPIs in `kpi_address`: GetKpi, GetProgress
  // in every region and GetHistory, without the times and sequence numbers
  // that differ between two services holding the same data (history sorted,
  // since an import applies rows in file order).
  std::string Snapshot(const std::string& kpi_address) {
    auto stub = kpi::v1::KpiService::NewStub(MakeChannel(kpi_address));
    std::string out;
    for (const kpi::v1::KpiRecord& record : seed_.kpi().kpis()) {
      const std::string& id = record.kpi().id();
      kpi::v1::GetKpiRequest get;
      get.set_id(id);
      kpi::v1::GetKpiResponse kpi;
      grpc::Status status = stub->GetKpi(NewClientContext(kCallTimeout).get(), get, &kpi);
      EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
      kpi.mutable_kpi()->clear_create_time();
      for (auto& target : *kpi.mutable_targets()) {
        for (auto& revision : *target.mutable_revisions()) revision.clear_revise_time();
      }
      absl::StrAppend(&out, "GetKpi ", id, "\n", kpi.DebugString());
      for (const std::string& region : record.kpi().region_ids()) {
        kpi::v1::GetProgressRequest request;
        request.set_kpi_id(id);
        request.set_region_id(region);
        kpi::v1::GetProgressResponse progress;
        status = stub->GetProgress(NewClientContext(kCallTimeout).get(), request, &progress);
        EXPECT_TRUE(status.ok()) << id << " " << region << ": " << status.error_message();
        progress.mutable_kpi()->clear_create_time();
        progress.clear_generation();  // a place in the change log, not data
        for (auto& revision : *progress.mutable_target()->mutable_revisions()) {
          revision.clear_revise_time();
        }
        absl::StrAppend(&out, "GetProgress ", id, " ", region, "\n", progress.DebugString());
      }
      kpi::v1::GetHistoryRequest history_request;
      history_request.set_kpi_id(id);
      kpi::v1::GetHistoryResponse history;
      status = stub->GetHistory(NewClientContext(kCallTimeout).get(), history_request, &history);
      EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
      std::vector<std::string> changes;
      for (kpi::v1::Change& change : *history.mutable_changes()) {
        change.clear_sequence();
        change.clear_change_time();
        changes.push_back(change.ShortDebugString());
      }
      std::sort(changes.begin(), changes.end());
      absl::StrAppend(&out, "GetHistory ", id, "\n", absl::StrJoin(changes, "\n"), "\n");
    }
    return out;
  }

  std::string Logs() const {
    std::string logs;
    for (const std::optional<ServiceProcess>& server : servers_) {
      if (server) absl::StrAppend(&logs, server->name(), ".log:\n", server->Log(), "\n");
    }
    return logs;
  }

  std::optional<TempDir> dir_;
  dataset::v1::Dataset seed_;
  std::vector<std::optional<ServiceProcess>> servers_;  // in start order
  std::string plan_address_;
  std::string seeded_;  // the kpi-service holding the seed
};

TEST_F(CsvExchangeTest, RoundTripInUtf8GivesBackTheSameData) {
  // A figure with a reporter and a reason on top of the seed.
  const RunResult record =
      Suishinctl(seeded_, {"record", "--kpi", "kodomoen", "--region", "kamikawa", "--year", "R元",
                           "--value", "43", "--by", "上川総合振興局", "--reason", "速報値"});
  ASSERT_EQ(record.exit_code, 0) << record.err;
  const std::vector<std::string> files = ExportAll(seeded_, "utf8");
  const std::string first = Read(files[0]);
  EXPECT_TRUE(absl::StartsWith(first,
                               "\xEF\xBB\xBF種別,KPI ID,KPI名,地域ID,地域名,"
                               "全国地方公共団体コード,年度,和暦,値,単位,分子,分母,報告者,"
                               "理由\r\n"))
      << first;
  EXPECT_TRUE(absl::StrContains(
      first,
      "実績,kodomoen,認定こども園設置数,kamikawa,上川,,2019,R元,43,カ所,,,上川総合振興局,"
      "速報値\r\n"))
      << first;

  const std::string expected = Snapshot(seeded_);
  EXPECT_TRUE(absl::StrContains(expected, "new_value: 43")) << expected;  // the R元 figure
  EXPECT_TRUE(absl::StrContains(expected, "revisions {")) << expected;    // 見直し前28カ所

  const std::string fresh = StartKpiWithDefinitions("fresh");
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_NE(Snapshot(fresh), expected);
  for (const std::string& file : files) {
    const RunResult import = Suishinctl(fresh, {"import-csv", file});
    ASSERT_EQ(import.exit_code, 0) << import.out << import.err;
    EXPECT_TRUE(absl::StrContains(import.out, "(UTF-8 with BOM)")) << import.out;
    EXPECT_TRUE(absl::StrContains(import.out, "applied in one transaction")) << import.out;
  }
  EXPECT_EQ(Snapshot(fresh), expected);
}

TEST_F(CsvExchangeTest, RoundTripInCp932GivesBackTheSameData) {
  const std::vector<std::string> files = ExportAll(seeded_, "cp932", {"--encoding", "cp932"});
  const std::string bytes = Read(files[0]);
  EXPECT_FALSE(absl::StartsWith(bytes, "\xEF\xBB\xBF"));
  EXPECT_TRUE(absl::StartsWith(Utf8(bytes), "種別,KPI ID,KPI名,")) << Utf8(bytes);

  const std::string fresh = StartKpiWithDefinitions("fresh");
  ASSERT_FALSE(HasFatalFailure());
  // The first detected, the second named.
  for (size_t i = 0; i < files.size(); ++i) {
    std::vector<std::string> args = {"import-csv", files[i]};
    if (i > 0) args.insert(args.end(), {"--encoding", "cp932"});
    const RunResult import = Suishinctl(fresh, args);
    ASSERT_EQ(import.exit_code, 0) << import.out << import.err;
    EXPECT_TRUE(absl::StrContains(import.out, "(CP932)")) << import.out;
  }
  EXPECT_EQ(Snapshot(fresh), Snapshot(seeded_));
}

TEST_F(CsvExchangeTest, ImportingTheSameFileTwiceChangesNothing) {
  const std::vector<std::string> files = ExportAll(seeded_, "again");
  const std::string before = Snapshot(seeded_);
  for (const std::string& file : files) {
    const RunResult import = Suishinctl(seeded_, {"import-csv", file, "--json"});
    ASSERT_EQ(import.exit_code, 0) << import.err;
    EXPECT_FALSE(absl::StrContains(import.out, "\"rowsAlreadyStored\": 0")) << import.out;
    EXPECT_TRUE(absl::StrContains(import.out, "\"lastSequence\": 0")) << import.out;
  }
  const RunResult again = Suishinctl(seeded_, {"import-csv", files[0]});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(absl::EndsWith(again.out, "; every figure is already stored; nothing changed\n"))
      << again.out;
  EXPECT_EQ(Snapshot(seeded_), before);
}

TEST_F(CsvExchangeTest, Cp932FileWithFullWidthDigitsAndEraYearsMatchesItsUtf8Twin) {
  // The same figures twice: plain UTF-8 with ids and Western years, and as an
  // office would type them in Excel: full-width digits, era years, region
  // names and codes, units in the cells, columns in another order.
  const std::string utf8 =
      "種別,KPI ID,地域ID,年度,値,報告者\n"
      "基準,kodomoen,kamikawa,2014,6,\n"
      "基準,kodomoen,soya,2014,2,\n"
      "目標,kodomoen,kamikawa,2019,28,\n"
      "目標,kodomoen,kamikawa,2019,33,\n"
      "目標,kodomoen,soya,2019,6,\n"
      "実績,kodomoen,kamikawa,2015,6,上川総合振興局\n"
      "実績,kodomoen,kamikawa,2018,1024,上川総合振興局\n"
      "実績,kodomoen,soya,2017,3,宗谷総合振興局\n"
      "実績,jishu-bousai,dohoku,2019,49.3,道北連携地域\n";
  const std::string excel =
      "年度,和暦,地域名,KPI名,値,種別,報告者,備考\r\n"
      "２０１４,Ｈ２６,上川,認定こども園設置数,６カ所,基準,,\r\n"
      ",平成26年度,宗谷総合振興局,認定こども園設置数,２,基準,,\r\n"
      ",R元,上川,認定こども園設置数,２８カ所,目標,,見直し前\r\n"
      ",令和元年度,上川,認定こども園設置数,３３カ所,目標,,\r\n"
      ",R1,宗谷,認定こども園設置数,６ヶ所,目標,,\r\n"
      ",H27,上川,認定こども園設置数,６,,上川総合振興局,\r\n"
      "平成30年度,,上川,認定こども園設置数,\"１，０２４\",実績,上川総合振興局,\r\n"
      ",Ｈ２９,宗谷,認定こども園設置数,３,実績,宗谷総合振興局,\r\n"
      ",R元,道北連携地域,自主防災組織率,４９．３％,実績,道北連携地域,\r\n";
  Write(File("twin-utf8.csv"), utf8);
  Write(File("twin-cp932.csv"), Cp932(excel));

  const std::string plain = StartKpiWithDefinitions("plain");
  ASSERT_FALSE(HasFatalFailure());
  const std::string typed = StartKpiWithDefinitions("typed");
  ASSERT_FALSE(HasFatalFailure());
  const RunResult a = Suishinctl(plain, {"import-csv", File("twin-utf8.csv")});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_TRUE(absl::StrContains(a.out, "(UTF-8): 9 rows (基準 2, 目標 3, 実績 4)")) << a.out;
  const RunResult b = Suishinctl(typed, {"import-csv", File("twin-cp932.csv")});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_TRUE(absl::StrContains(b.out, "(CP932): 9 rows (基準 2, 目標 3, 実績 4)")) << b.out;
  EXPECT_EQ(Snapshot(typed), Snapshot(plain));
  EXPECT_TRUE(absl::StrContains(Snapshot(typed), "value: 1024")) << Snapshot(typed);
}

TEST_F(CsvExchangeTest, MalformedInputsAreRefusedWithLineAndColumnAndNothingStored) {
  const std::string header = "種別,KPI ID,地域名,年度,値\n";
  const std::string good = "実績,kodomoen,上川,2019,43\n";
  struct Case {
    std::string name;
    std::string bytes;
    std::vector<std::string> flags;
    std::string error;  // what the last line of standard error says after the file name
  };
  const std::vector<Case> cases = {
      {"bad-cp932",
       Cp932(header + good) + "実績,kodomoen,\x85\x40,2019,1\n",
       {},
       ":3: column 地域名: bytes 0x85 0x40 are not valid CP932"},
      {"bad-utf8",
       header + good + "実績,kodomoen,宗\xFF谷,2019,1\n",
       {"--encoding", "utf-8"},
       ":3: column 地域名: byte 0xFF after \"宗\" is not valid UTF-8"},
      {"unknown-region",
       header + good + "実績,kodomoen,札幌,2019,1\n",
       {},
       ":3: column 地域名: \"札幌\" is not the name of a region plan-service knows"},
      {"missing-column",
       "種別,KPI ID,地域名,年度\n実績,kodomoen,上川,2019\n",
       {},
       ":1: missing column 値 (the figure)"},
      {"bad-year", header + "実績,kodomoen,上川,去年,1\n" + good, {}, ":2: column 年度: "},
      {"negative-count",
       header + good + "実績,kodomoen,留萌,2019,4\n実績,kodomoen,宗谷,2018,-3\n",
       {},
       ":4: column 値: \"-3\" is negative for a count"},
      {"repeated-row",
       header + good + "実績,kodomoen,上川,R元,44\n",
       {},
       ":3: column 年度: a second 実績 of KPI \"kodomoen\" in kamikawa for R元 (2019); the "
       "first is on line 2"},
      // Good rows first, then one kpi-service refuses: the year before the
      // baseline (H26), mapped back to its line and column.
      {"refused-by-service",
       header + good + "実績,kodomoen,宗谷,H25,1\n",
       {},
       ":3: column 年度: kpi-service: "},
  };
  const std::string before = Snapshot(seeded_);
  for (const Case& c : cases) {
    const std::string path = File(c.name + ".csv");
    Write(path, c.bytes);
    std::vector<std::string> args = {"import-csv", path};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    const RunResult run = Suishinctl(seeded_, args);
    EXPECT_EQ(run.exit_code, 1) << c.name << "\n" << run.out << run.err;
    EXPECT_EQ(run.out, "") << c.name;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << c.name << "\n" << run.err;
    const std::string expected =
        absl::StrCat("suishinctl: import-csv: INVALID_ARGUMENT: ", path, c.error);
    EXPECT_TRUE(absl::StartsWith(run.err, expected)) << c.name << "\n"
                                                     << expected << "\nvs\n"
                                                     << run.err;
    EXPECT_TRUE(absl::EndsWith(run.err, "nothing stored\n") ||
                absl::StrContains(run.err, "missing column") ||
                absl::StrContains(run.err, "not valid"))
        << run.err;
  }
  EXPECT_EQ(Snapshot(seeded_), before);
}

TEST_F(CsvExchangeTest, SeveralBadRowsAreListedOneLineEach) {
  const std::string path = File("several.csv");
  Write(path,
        "種別,KPI ID,地域ID,年度,値\n実績,kodomoen,kamikawa,2019,-1\n実績,kodomoen,soya,2019,2\n"
        "実績,kodomoen,rumoi,2019,x\n");
  const std::string before = Snapshot(seeded_);
  const RunResult run = Suishinctl(seeded_, {"import-csv", path});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, absl::StrCat(path, ":2: column 値: \"-1\" is negative for a count\n", path,
                                  ":4: column 値: \"x\" is not a number\n",
                                  "suishinctl: import-csv: INVALID_ARGUMENT: ", path,
                                  ": 2 of 3 rows refused (lines 2, 4); nothing stored\n"));
  EXPECT_EQ(Snapshot(seeded_), before);
}

TEST_F(CsvExchangeTest, TableExportHasTheSeedsRates) {
  const std::string path = File("table.csv");
  const RunResult run =
      Suishinctl(seeded_, {"export-csv", "--table", kProject, "--year", "R元", "-o", path});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(absl::StrContains(run.out, path)) << run.out;
  absl::StatusOr<exchange::CsvDocument> csv = exchange::ReadCsv(Read(path), std::nullopt);
  ASSERT_TRUE(csv.ok()) << csv.status();
  ASSERT_GT(csv->records.size(), 1u);
  const std::vector<std::string>& header = csv->records[0].fields;
  const auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return static_cast<size_t>(it - header.begin());
  };
  // KPI, region, year → the record.
  std::map<std::string, std::vector<std::string>> rows;
  for (size_t i = 1; i < csv->records.size(); ++i) {
    const std::vector<std::string>& fields = csv->records[i].fields;
    ASSERT_EQ(fields.size(), header.size()) << "line " << csv->records[i].line;
    rows[absl::StrCat(fields[column("KPI ID")], "/", fields[column("地域ID")], "/",
                      fields[column("和暦")])] = fields;
  }
  // The seed's printed figures (DESIGN.md §2).
  for (const auto& [key, rate] :
       std::vector<std::pair<std::string, std::string>>{{"kodomoen/dohoku/H30", "111.6"},
                                                        {"kodomoen/kamikawa/H30", "124.2"},
                                                        {"kodomoen/soya/H30", "50.0"},
                                                        {"kodomoen/dohoku/H27", "25.6"},
                                                        {"jishu-bousai/soya/H30", "41.2"},
                                                        {"jishu-bousai/rumoi/H30", "45.8"}}) {
    ASSERT_EQ(rows.count(key), 1u) << key;
    EXPECT_EQ(rows[key][column("進捗率(%)")], rate) << key;
    EXPECT_EQ(rows[key][column("時点年度")], "2019");
    EXPECT_EQ(rows[key][column("時点和暦")], "R元");
  }
  EXPECT_EQ(rows["kodomoen/dohoku/H30"][column("実績値")], "48");
  EXPECT_EQ(rows["kodomoen/dohoku/H30"][column("目標値")], "43");
  EXPECT_EQ(rows["kodomoen/dohoku/H30"][column("当初目標値")], "38");
  EXPECT_EQ(rows["kodomoen/dohoku/H30"][column("集計方法")], "合計");
  EXPECT_EQ(rows["kodomoen/dohoku/H30"][column("単位")], "カ所");
  EXPECT_EQ(rows["kodomoen/dohoku/H30"][column("年度")], "2018");
  EXPECT_EQ(rows["kodomoen/dohoku/R元"][column("実績値")], "");
  EXPECT_EQ(rows["kodomoen/dohoku/R元"][column("備考")],
            "上川・留萌・宗谷の実績がないため集計できません");
  EXPECT_EQ(rows["jishu-bousai/dohoku/H30"][column("状態")], "遅れ");

  // The same table in CP932.
  const std::string cp932 = File("table-cp932.csv");
  ASSERT_EQ(Suishinctl(seeded_, {"export-csv", "--table", kProject, "--year", "2019", "--encoding",
                                 "cp932", "-o", cp932})
                .exit_code,
            0);
  EXPECT_EQ(Cp932(Read(path).substr(3)), Read(cp932));
}

TEST_F(CsvExchangeTest, ExportToStandardOutputAndUsageErrors) {
  const RunResult out = Suishinctl(seeded_, {"export-csv", "--kpi", "kodomoen"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_TRUE(absl::StartsWith(out.out, "\xEF\xBB\xBF種別,")) << out.out;

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"export-csv"},
           {"export-csv", "--kpi", "kodomoen", "--table", kProject},
           {"export-csv", "--table", kProject},
           {"export-csv", "--kpi", "kodomoen", "--year", "R元"},
           {"export-csv", "--kpi", "kodomoen", "--encoding", "latin1"},
           {"import-csv", File("x.csv"), "--encoding", "ebcdic"}}) {
    const RunResult run = Suishinctl(seeded_, args);
    EXPECT_EQ(run.exit_code, 2) << absl::StrJoin(args, " ") << "\n" << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  }
  const RunResult missing = Suishinctl(seeded_, {"import-csv", File("missing.csv")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(missing.err, "missing.csv: cannot read")) << missing.err;
  const RunResult unknown = Suishinctl(seeded_, {"export-csv", "--kpi", "nothing"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(unknown.err, "suishinctl: export-csv: NOT_FOUND")) << unknown.err;
}

TEST_F(CsvExchangeTest, ProgressIsShownOnATerminalAndErased) {
  const std::vector<std::string> files = ExportAll(seeded_, "progress");
  const std::string fresh = StartKpiWithDefinitions("progress");
  ASSERT_FALSE(HasFatalFailure());
  auto plan = plan::v1::PlanService::NewStub(MakeChannel(plan_address_));
  auto kpi = kpi::v1::KpiService::NewStub(MakeChannel(fresh));
  std::ostringstream out;
  std::ostringstream err;
  ctl::Environment env;
  env.plan = plan.get();
  env.kpi = kpi.get();
  env.progress = true;
  env.out = &out;
  env.err = &err;
  ctl::Arguments args;
  args.positional = {files[0]};
  const absl::Status status = ctl::RunCommand(env, "import-csv", args);
  ASSERT_TRUE(status.ok()) << status << "\n" << err.str();
  EXPECT_TRUE(absl::StrContains(err.str(), "\r\033[Kimport-csv: rows sent ")) << err.str();
  EXPECT_TRUE(absl::EndsWith(err.str(), "\r\033[K")) << err.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "applied in one transaction")) << out.str();
}

}  // namespace
}  // namespace suishin::testing
