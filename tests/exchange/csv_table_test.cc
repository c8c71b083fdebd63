// The KPI data file's columns and cells (header by name, regions three ways,
// years in any form, numbers as people type them, refusals located by line
// and cell), which rows are already stored, and the records export writes.
#include "exchange/csv_table.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace suishin::exchange {
namespace {

using kpi::v1::ImportRow;
using Fields = std::vector<std::string>;

plan::v1::Region MakeRegion(const std::string& id, const std::string& name,
                            const std::string& code = "") {
  plan::v1::Region region;
  region.set_id(id);
  region.set_name(name);
  region.set_local_government_code(code);
  return region;
}

std::vector<plan::v1::Region> Regions() {
  return {MakeRegion("hokkaido", "北海道", "010006"),
          MakeRegion("dohoku", "道北"),
          MakeRegion("kamikawa", "上川"),
          MakeRegion("rumoi", "留萌"),
          MakeRegion("soya", "宗谷"),
          MakeRegion("asahikawa", "旭川市", "012041")};
}

kpi::v1::Kpi Kodomoen() {
  kpi::v1::Kpi kpi;
  kpi.set_id("kodomoen");
  kpi.set_name("認定こども園設置数");
  kpi.set_unit("カ所");
  kpi.set_value_kind(kpi::v1::VALUE_KIND_COUNT);
  kpi.set_aggregation(kpi::v1::AGGREGATION_RULE_SUM);
  kpi.set_area_id("dohoku");
  for (const char* id : {"dohoku", "kamikawa", "rumoi", "soya"}) kpi.add_region_ids(id);
  (*kpi.mutable_region_names())["dohoku"] = "道北";
  (*kpi.mutable_region_names())["kamikawa"] = "上川";
  (*kpi.mutable_region_names())["rumoi"] = "留萌";
  (*kpi.mutable_region_names())["soya"] = "宗谷";
  return kpi;
}

kpi::v1::Kpi JishuBousai() {
  kpi::v1::Kpi kpi = Kodomoen();
  kpi.set_id("jishu-bousai");
  kpi.set_name("自主防災組織率");
  kpi.set_unit("%");
  kpi.set_value_kind(kpi::v1::VALUE_KIND_PERCENT);
  kpi.set_aggregation(kpi::v1::AGGREGATION_RULE_REPORTED);
  return kpi;
}

CsvRecord Record(int64_t line, Fields fields) {
  CsvRecord record;
  record.line = line;
  record.fields = std::move(fields);
  return record;
}

KpiDataHeader Header(Fields names) {
  absl::StatusOr<KpiDataHeader> header = KpiDataHeader::Parse(Record(1, std::move(names)));
  EXPECT_TRUE(header.ok()) << header.status();
  return header.ok() ? *header : KpiDataHeader();
}

class KpiDataRowTest : public ::testing::Test {
 protected:
  // The header export writes.
  const Fields kExported = {
      "種別", "KPI ID", "KPI名", "地域ID", "地域名", "全国地方公共団体コード", "年度", "和暦", "値",
      "単位", "分子",   "分母",  "報告者", "理由"};

  absl::StatusOr<KpiDataRow> Read(const Fields& header, const Fields& cells, int64_t line = 2) {
    header_ = Header(header);
    return ToKpiDataRow(header_, Record(line, cells), directory_);
  }

  // The refusal of `cells` under `header`: its column (by header name) and
  // message.
  std::pair<std::string, std::string> Refusal(const Fields& header, const Fields& cells) {
    absl::StatusOr<KpiDataRow> row = Read(header, cells);
    EXPECT_FALSE(row.ok()) << row->row.DebugString();
    if (row.ok()) return {};
    const std::optional<CsvLocation> at = CsvLocationOf(row.status());
    EXPECT_TRUE(at.has_value()) << row.status();
    if (!at) return {};
    EXPECT_EQ(at->line, 2);
    return {header_.ColumnName(at->field), std::string(row.status().message())};
  }

  CsvDirectory directory_{Regions(), {Kodomoen(), JishuBousai()}};
  KpiDataHeader header_;
};

TEST_F(KpiDataRowTest, ReadsAnExportedRecord) {
  absl::StatusOr<KpiDataRow> row =
      Read(kExported, {"実績", "jishu-bousai", "自主防災組織率", "kamikawa", "上川", "", "2018",
                       "H30", "52.5", "%", "10,500", "20000", "上川総合振興局", "訂正"});
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(row->row.line(), 2);
  EXPECT_EQ(row->row.kind(), kpi::v1::ROW_KIND_ACTUAL);
  EXPECT_EQ(row->row.kpi_id(), "jishu-bousai");
  EXPECT_EQ(row->row.region_id(), "kamikawa");
  EXPECT_EQ(row->row.fiscal_year().year(), 2018);
  EXPECT_DOUBLE_EQ(row->row.value(), 52.5);
  EXPECT_DOUBLE_EQ(row->row.numerator(), 10500);
  EXPECT_DOUBLE_EQ(row->row.denominator(), 20000);
  EXPECT_EQ(row->row.reported_by(), "上川総合振興局");
  EXPECT_EQ(row->row.reason(), "訂正");
  EXPECT_EQ(row->kpi_field, 1);
  EXPECT_EQ(row->region_field, 3);
  EXPECT_EQ(row->year_field, 6);
}

TEST_F(KpiDataRowTest, ColumnsByNameInAnyOrderWithOtherSpellings) {
  // Full-width header letters, a unit in brackets, English names, 備考.
  absl::StatusOr<KpiDataRow> row =
      Read({"値（カ所）", "備考", "和暦", "地域名", "ＫＰＩ　ＩＤ", "kind"},
           {"１，０２４カ所", "メモ", "平成30年度", "宗谷総合振興局", "kodomoen", "目標"});
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(row->row.kind(), kpi::v1::ROW_KIND_TARGET);
  EXPECT_EQ(row->row.region_id(), "soya");
  EXPECT_EQ(row->row.fiscal_year().year(), 2018);
  EXPECT_DOUBLE_EQ(row->row.value(), 1024);
}

TEST_F(KpiDataRowTest, YearsInEveryFormTheParserTakes) {
  const Fields header = {"KPI ID", "地域ID", "年度", "値"};
  for (const auto& [cell, year] :
       std::vector<std::pair<std::string, int>>{{"2019", 2019},
                                                {"FY2019", 2019},
                                                {"R元", 2019},
                                                {"令和元年度", 2019},
                                                {"H30", 2018},
                                                {"平成30年度", 2018},
                                                {"Ｈ３０", 2018},
                                                {"２０１９年度", 2019}}) {
    absl::StatusOr<KpiDataRow> row = Read(header, {"kodomoen", "soya", cell, "3"});
    ASSERT_TRUE(row.ok()) << cell << ": " << row.status();
    EXPECT_EQ(row->row.fiscal_year().year(), year) << cell;
  }
}

TEST_F(KpiDataRowTest, RegionByIdNameOrCode) {
  kpi::v1::Kpi wide = Kodomoen();
  wide.add_region_ids("hokkaido");
  wide.add_region_ids("asahikawa");
  directory_ = CsvDirectory(Regions(), {wide});
  for (const auto& [column, cell, id] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"地域ID", "Kamikawa", "kamikawa"},
           {"地域ID", "ｒｕｍｏｉ", "rumoi"},
           {"地域名", "道北連携地域", "dohoku"},
           {"地域名", "上川総合振興局", "kamikawa"},
           {"全国地方公共団体コード", "010006", "hokkaido"},
           {"全国地方公共団体コード", "０１２０４１", "asahikawa"},
           {"全国地方公共団体コード", "01204", "asahikawa"},
           {"地域コード", "012041", "asahikawa"}}) {
    absl::StatusOr<KpiDataRow> row =
        Read({"KPI ID", column, "年度", "値"}, {"kodomoen", cell, "2019", "1"});
    ASSERT_TRUE(row.ok()) << column << " " << cell << ": " << row.status();
    EXPECT_EQ(row->row.region_id(), id) << column << " " << cell;
  }
}

TEST_F(KpiDataRowTest, NumbersAsPeopleTypeThem) {
  const std::vector<std::string> places = UnitSpellings(Kodomoen());
  const std::vector<std::string> percent = UnitSpellings(JishuBousai());
  for (const auto& [cell, units, value] :
       std::vector<std::tuple<std::string, std::vector<std::string>, double>>{
           {"43", {}, 43},
           {" 1,234 ", {}, 1234},
           {"１，２３４", {}, 1234},
           {"1,234,567.25", {}, 1234567.25},
           {"０．５", {}, 0.5},
           {"+5", {}, 5},
           {"-3", {}, -3},
           {"－３", {}, -3},
           {"△3", {}, -3},
           {"10カ所", places, 10},
           {"１０ヶ所", places, 10},
           {"10 箇所", places, 10},
           {"43.4%", percent, 43.4},
           {"４３．４％", percent, 43.4}}) {
    absl::StatusOr<double> parsed = ParseCsvNumber(cell, units);
    ASSERT_TRUE(parsed.ok()) << cell << ": " << parsed.status();
    EXPECT_DOUBLE_EQ(*parsed, value) << cell;
  }
  for (const auto& [cell, units] :
       std::vector<std::pair<std::string, std::vector<std::string>>>{{"", {}},
                                                                     {"abc", {}},
                                                                     {"1,23", {}},
                                                                     {"12,3456", {}},
                                                                     {",123", {}},
                                                                     {"1.2.3", {}},
                                                                     {"12人", places},
                                                                     {"43.4%", {}},
                                                                     {"1e3", {}},
                                                                     {"カ所", places}}) {
    EXPECT_FALSE(ParseCsvNumber(cell, units).ok()) << cell;
  }
}

TEST_F(KpiDataRowTest, KindDefaultsToActualAndTakesEnglish) {
  const Fields header = {"種別", "KPI ID", "地域ID", "年度", "値"};
  for (const auto& [cell, kind] : std::vector<std::pair<std::string, kpi::v1::RowKind>>{
           {"", kpi::v1::ROW_KIND_ACTUAL},
           {"Actual", kpi::v1::ROW_KIND_ACTUAL},
           {"基準", kpi::v1::ROW_KIND_BASELINE},
           {"baseline", kpi::v1::ROW_KIND_BASELINE},
           {"目標値", kpi::v1::ROW_KIND_TARGET}}) {
    absl::StatusOr<KpiDataRow> row = Read(header, {cell, "kodomoen", "soya", "2019", "3"});
    ASSERT_TRUE(row.ok()) << cell << ": " << row.status();
    EXPECT_EQ(row->row.kind(), kind) << cell;
  }
  EXPECT_TRUE(Read({"KPI ID", "地域ID", "年度", "値"}, {"kodomoen", "soya", "2019", "3"}).ok());
}

TEST_F(KpiDataRowTest, RefusalsNameTheColumnAndQuoteTheCell) {
  struct Case {
    Fields cells;  // under kExported
    std::string column;
    std::string message;  // a part of it
  };
  const Fields good = {"実績", "kodomoen", "", "soya", "", "", "2018", "", "3", "", "", "", "", ""};
  const auto with = [&](size_t index, const std::string& cell) {
    Fields cells = good;
    cells[index] = cell;
    return cells;
  };
  const std::vector<Case> cases = {
      {with(8, "-3"), "値", "\"-3\" is negative for a count"},
      {with(8, "3.5"), "値", "\"3.5\" is not a whole number for a count (カ所)"},
      {with(8, "3人"), "値", "\"人\" is not the unit"},
      {with(8, ""), "値", "is empty"},
      {with(3, "sapporo"), "地域ID", "\"sapporo\" is not the id of a region"},
      {with(3, "hokkaido"), "地域ID", "not a region KPI \"kodomoen\" tracks"},
      {with(4, "上川"), "地域名", "\"上川\" is 上川 (kamikawa), but 地域ID says 宗谷 (soya)"},
      {with(5, "012042"), "全国地方公共団体コード", "check digit"},
      {with(6, "平成99年度"), "年度", "平成99年度"},
      {with(6, "last year"), "年度", "last year"},
      {with(7, "R元"), "和暦", "\"R元\" is R元 (2019), but 年度 says H30 (2018)"},
      {with(1, "kodomo"), "KPI ID", "\"kodomo\" is not the id of a KPI"},
      {with(2, "自主防災組織率"), "KPI名", "is not the name of KPI \"kodomoen\""},
      {with(0, "予測"), "種別", "\"予測\" is not a kind of figure"},
      {with(9, "人"), "単位", "\"人\" is not the unit of KPI \"kodomoen\" (カ所)"},
      {with(10, "12"), "分母", "分母 is missing"},
      {with(11, "-1"), "分母", "\"-1\" is negative"},
  };
  for (const Case& c : cases) {
    const auto [column, message] = Refusal(kExported, c.cells);
    EXPECT_EQ(column, c.column) << message;
    EXPECT_TRUE(absl::StrContains(message, c.message)) << c.message << "\nvs\n" << message;
  }
  // A percentage over 100.
  Fields percent = good;
  percent[1] = "jishu-bousai";
  percent[8] = "100.5%";
  EXPECT_EQ(Refusal(kExported, percent).first, "値");
  // A region is required somewhere.
  EXPECT_EQ(Refusal(kExported, with(3, "")).first, "地域ID");
}

TEST_F(KpiDataRowTest, TextUnderANamelessColumnIsRefused) {
  const auto [column, message] =
      Refusal({"KPI ID", "地域ID", "", "年度", "値"}, {"kodomoen", "soya", "x", "2019", "3"});
  EXPECT_EQ(column, "column 3");
  EXPECT_TRUE(
      Read({"KPI ID", "地域ID", "", "年度", "値"}, {"kodomoen", "soya", "", "2019", "3"}).ok());
}

TEST(KpiDataHeaderTest, UnknownDuplicateAndMissingColumnsAreRefused) {
  const auto refusal = [](Fields names) {
    absl::StatusOr<KpiDataHeader> header = KpiDataHeader::Parse(Record(1, std::move(names)));
    EXPECT_FALSE(header.ok());
    const std::optional<CsvLocation> at = CsvLocationOf(header.status());
    EXPECT_TRUE(at.has_value());
    EXPECT_EQ(at.value_or(CsvLocation{}).line, 1);
    return std::make_pair(at.value_or(CsvLocation{}).field, std::string(header.status().message()));
  };
  auto [field, message] = refusal({"KPI ID", "地域ID", "年度", "値", "進捗率"});
  EXPECT_EQ(field, 4);
  EXPECT_TRUE(absl::StrContains(message, "unknown column \"進捗率\"")) << message;
  std::tie(field, message) = refusal({"KPI ID", "地域ID", "年度", "値", "value"});
  EXPECT_EQ(field, 4);
  EXPECT_TRUE(absl::StrContains(message, "same column as column 4")) << message;
  std::tie(field, message) = refusal({"KPI ID", "地域ID", "年度", "単位"});
  EXPECT_EQ(field, -1);
  EXPECT_TRUE(absl::StrContains(message, "missing column 値")) << message;
  std::tie(field, message) = refusal({"KPI ID", "年度", "値"});
  EXPECT_TRUE(absl::StrContains(message, "地域ID or 地域名 or 全国地方公共団体コード")) << message;
  std::tie(field, message) = refusal({"KPI ID", "地域ID", "値"});
  EXPECT_TRUE(absl::StrContains(message, "年度 or 和暦")) << message;
}

TEST_F(KpiDataRowTest, RepeatedActualsAndBaselinesAreRefusedTargetsMayRepeat) {
  const Fields header = {"種別", "KPI ID", "地域ID", "和暦", "値"};
  RepeatedRows repeats;
  const auto check = [&](int64_t line, const Fields& cells) {
    absl::StatusOr<KpiDataRow> row = Read(header, cells, line);
    EXPECT_TRUE(row.ok()) << row.status();
    return row.ok() ? repeats.Check(header_, *row) : row.status();
  };
  EXPECT_TRUE(check(2, {"実績", "kodomoen", "soya", "H30", "3"}).ok());
  EXPECT_TRUE(check(3, {"実績", "kodomoen", "soya", "R元", "3"}).ok());
  EXPECT_TRUE(check(4, {"目標", "kodomoen", "soya", "R元", "5"}).ok());
  EXPECT_TRUE(check(5, {"目標", "kodomoen", "soya", "R元", "6"}).ok());
  EXPECT_TRUE(check(6, {"基準", "kodomoen", "soya", "H26", "2"}).ok());
  EXPECT_TRUE(check(7, {"実績", "jishu-bousai", "soya", "H30", "3"}).ok());

  absl::Status status = check(8, {"", "kodomoen", "soya", "平成30年度", "4"});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(CsvLocationOf(status)->line, 8);
  EXPECT_EQ(header_.ColumnName(CsvLocationOf(status)->field), "和暦");
  EXPECT_TRUE(absl::StrContains(status.message(), "the first is on line 2")) << status;
  status = check(9, {"基準", "kodomoen", "soya", "H25", "1"});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(header_.ColumnName(CsvLocationOf(status)->field), "地域ID");
  EXPECT_TRUE(absl::StrContains(status.message(), "the first is on line 6")) << status;
}

TEST(KpiDataHeaderTest, ServiceFieldsMapToTheColumnTheRowUsed) {
  const KpiDataHeader header =
      Header({"種別", "KPI名", "地域名", "和暦", "値", "分子", "分母", "報告者", "理由"});
  KpiDataRow row;
  row.kpi_field = 1;
  row.region_field = 2;
  row.year_field = 3;
  EXPECT_EQ(FieldOfServiceError(header, row, "value"), 4);
  EXPECT_EQ(FieldOfServiceError(header, row, "region_id"), 2);
  EXPECT_EQ(FieldOfServiceError(header, row, "fiscal_year.year"), 3);
  EXPECT_EQ(FieldOfServiceError(header, row, "kpi_id"), 1);
  EXPECT_EQ(FieldOfServiceError(header, row, "denominator"), 6);
  EXPECT_EQ(FieldOfServiceError(header, row, "author"), 7);
  EXPECT_EQ(FieldOfServiceError(header, row, "reported_by"), 7);
  EXPECT_EQ(FieldOfServiceError(header, row, "reason"), 8);
  EXPECT_EQ(FieldOfServiceError(header, row, "kind"), 0);
  EXPECT_EQ(FieldOfServiceError(header, row, ""), -1);
}

TEST(FormatCsvNumberTest, ShortestDecimalThatReadsBack) {
  EXPECT_EQ(FormatCsvNumber(43, kpi::v1::VALUE_KIND_COUNT), "43");
  EXPECT_EQ(FormatCsvNumber(47.2, kpi::v1::VALUE_KIND_PERCENT), "47.2");
  EXPECT_EQ(FormatCsvNumber(81, kpi::v1::VALUE_KIND_PERCENT), "81.0");
  EXPECT_EQ(FormatCsvNumber(1234567, kpi::v1::VALUE_KIND_AMOUNT), "1234567");
  EXPECT_EQ(FormatCsvNumber(0.1 + 0.2, kpi::v1::VALUE_KIND_AMOUNT), "0.30000000000000004");
  for (double value : {33.4, 37.1, 100.0 / 3, 1e-7, 0.0}) {
    EXPECT_EQ(*ParseCsvNumber(FormatCsvNumber(value, kpi::v1::VALUE_KIND_AMOUNT)), value);
  }
}

// Found by fuzz/csv_number_fuzzer: below 0.1 a double can need more than 17
// decimals, and FormatCsvNumber fell back to "%.17g", whose exponent
// ParseCsvNumber refuses ("1.0248191152060862e-47").
TEST(FormatCsvNumberTest, WritesTinyFiguresWithoutAnExponent) {
  for (double value :
       {1.0248191152060862e-47, 0.012345678901234567, -3.3e-20, 5e-324, 2.2250738585072014e-308}) {
    const std::string text = FormatCsvNumber(value, kpi::v1::VALUE_KIND_AMOUNT);
    SCOPED_TRACE(text);
    EXPECT_EQ(text.find_first_of("eE"), std::string::npos);
    const absl::StatusOr<double> back = ParseCsvNumber(text);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, value);
  }
  EXPECT_EQ(FormatCsvNumber(1.0248191152060862e-47, kpi::v1::VALUE_KIND_AMOUNT),
            absl::StrCat("0.", std::string(46, '0'), "10248191152060862"));
  EXPECT_EQ(FormatCsvNumber(-3.3e-20, kpi::v1::VALUE_KIND_PERCENT),
            absl::StrCat("-0.", std::string(19, '0'), "33"));
}

ImportRow Row(kpi::v1::RowKind kind, const std::string& region, int year, double value) {
  ImportRow row;
  row.set_kind(kind);
  row.set_kpi_id("kodomoen");
  row.set_region_id(region);
  row.mutable_fiscal_year()->set_year(year);
  row.set_value(value);
  return row;
}

TEST(RowsAlreadyStoredTest, SkipsWhatKpiServiceHolds) {
  kpi::v1::GetKpiResponse stored;
  *stored.mutable_kpi() = Kodomoen();
  auto* baseline = stored.add_baselines();
  baseline->set_region_id("soya");
  baseline->mutable_fiscal_year()->set_year(2014);
  baseline->set_value(2);
  auto* target = stored.add_targets();  // 28 revised to 33
  target->set_region_id("kamikawa");
  target->mutable_fiscal_year()->set_year(2019);
  target->set_value(33);
  auto* revision = target->add_revisions();
  revision->mutable_fiscal_year()->set_year(2019);
  revision->set_value(28);
  const std::map<std::string, kpi::v1::GetKpiResponse> by_id = {{"kodomoen", stored}};

  using kpi::v1::ROW_KIND_ACTUAL;
  using kpi::v1::ROW_KIND_BASELINE;
  using kpi::v1::ROW_KIND_TARGET;
  // The same file again: nothing to send but the actuals.
  EXPECT_EQ(
      RowsAlreadyStored(
          {Row(ROW_KIND_BASELINE, "soya", 2014, 2), Row(ROW_KIND_TARGET, "kamikawa", 2019, 28),
           Row(ROW_KIND_TARGET, "kamikawa", 2019, 33), Row(ROW_KIND_ACTUAL, "soya", 2018, 3)},
          by_id),
      (std::vector<bool>{true, true, true, false}));
  // Only the current target: already there.
  EXPECT_EQ(RowsAlreadyStored({Row(ROW_KIND_TARGET, "kamikawa", 2019, 33)}, by_id),
            (std::vector<bool>{true}));
  // A further revision: only it is sent; a changed baseline is sent.
  EXPECT_EQ(
      RowsAlreadyStored(
          {Row(ROW_KIND_BASELINE, "soya", 2014, 3), Row(ROW_KIND_TARGET, "kamikawa", 2019, 28),
           Row(ROW_KIND_TARGET, "kamikawa", 2019, 33), Row(ROW_KIND_TARGET, "kamikawa", 2019, 35)},
          by_id),
      (std::vector<bool>{false, true, true, false}));
  // A KPI or region with nothing stored: everything is sent.
  EXPECT_EQ(RowsAlreadyStored(
                {Row(ROW_KIND_TARGET, "rumoi", 2019, 4), Row(ROW_KIND_BASELINE, "rumoi", 2014, 2)},
                by_id),
            (std::vector<bool>{false, false}));
  EXPECT_EQ(RowsAlreadyStored({Row(ROW_KIND_TARGET, "kamikawa", 2019, 33)}, {}),
            (std::vector<bool>{false}));
}

kpi::v1::Change Change(kpi::v1::ChangeKind kind, const std::string& region, int year, double value,
                       const std::string& author, const std::string& reason) {
  kpi::v1::Change change;
  change.set_kind(kind);
  change.set_kpi_id("kodomoen");
  change.set_region_id(region);
  change.mutable_fiscal_year()->set_year(year);
  change.set_new_value(value);
  change.set_author(author);
  change.set_reason(reason);
  return change;
}

TEST(KpiDataRecordsTest, WritesBaselinesTargetRevisionsAndLatestActuals) {
  kpi::v1::GetKpiResponse kpi;
  *kpi.mutable_kpi() = Kodomoen();
  auto* baseline = kpi.add_baselines();
  baseline->set_region_id("kamikawa");
  baseline->mutable_fiscal_year()->set_year(2014);
  baseline->set_value(6);
  auto* target = kpi.add_targets();
  target->set_region_id("kamikawa");
  target->mutable_fiscal_year()->set_year(2019);
  target->set_value(33);
  auto* revision = target->add_revisions();
  revision->mutable_fiscal_year()->set_year(2019);
  revision->set_value(28);
  revision->set_author("本庁");
  revision->set_reason("見直し");
  const std::vector<kpi::v1::Change> history = {
      Change(kpi::v1::CHANGE_KIND_BASELINE_SET, "kamikawa", 2014, 6, "企画課", ""),
      Change(kpi::v1::CHANGE_KIND_TARGET_REVISED, "kamikawa", 2019, 28, "計画", "当初"),
      Change(kpi::v1::CHANGE_KIND_TARGET_REVISED, "kamikawa", 2019, 33, "本庁", "見直し"),
      Change(kpi::v1::CHANGE_KIND_ACTUAL_RECORDED, "soya", 2018, 3, "宗谷総合振興局", ""),
      Change(kpi::v1::CHANGE_KIND_ACTUAL_RECORDED, "kamikawa", 2018, 40, "上川総合振興局", ""),
      Change(kpi::v1::CHANGE_KIND_ACTUAL_CORRECTED, "kamikawa", 2018, 41, "上川総合振興局",
             "集計誤り"),
  };
  const std::vector<Fields> records = KpiDataRecords(kpi, history, Regions());
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0],
            (Fields{"種別", "KPI ID", "KPI名", "地域ID", "地域名", "全国地方公共団体コード", "年度",
                    "和暦", "値", "単位", "分子", "分母", "報告者", "理由"}));
  EXPECT_EQ(records[1], (Fields{"基準", "kodomoen", "認定こども園設置数", "kamikawa", "上川", "",
                                "2014", "H26", "6", "カ所", "", "", "企画課", ""}));
  EXPECT_EQ(records[2][0], "目標");
  EXPECT_EQ(records[2][8], "28");
  EXPECT_EQ(records[2][12], "計画");
  EXPECT_EQ(records[2][13], "当初");
  EXPECT_EQ(records[3][8], "33");
  EXPECT_EQ(records[3][7], "R元");
  EXPECT_EQ(records[3][12], "本庁");
  EXPECT_EQ(records[3][13], "見直し");
  // Actuals in the KPI's region order: 上川 (its corrected value) before 宗谷.
  EXPECT_EQ(records[4],
            (Fields{"実績", "kodomoen", "認定こども園設置数", "kamikawa", "上川", "", "2018", "H30",
                    "41", "カ所", "", "", "上川総合振興局", "集計誤り"}));
  EXPECT_EQ(records[5][3], "soya");

  // Read back, they are the same figures.
  CsvDirectory directory(Regions(), {Kodomoen()});
  absl::StatusOr<KpiDataHeader> header = KpiDataHeader::Parse(Record(1, records[0]));
  ASSERT_TRUE(header.ok()) << header.status();
  for (size_t i = 1; i < records.size(); ++i) {
    absl::StatusOr<KpiDataRow> row =
        ToKpiDataRow(*header, Record(static_cast<int64_t>(i) + 1, records[i]), directory);
    ASSERT_TRUE(row.ok()) << row.status();
    EXPECT_EQ(absl::StrCat(row->row.fiscal_year().year()), records[i][6]);
    EXPECT_EQ(FormatCsvNumber(row->row.value(), kpi::v1::VALUE_KIND_COUNT), records[i][8]);
    EXPECT_EQ(row->row.reported_by(), records[i][12]);
  }
}

TEST(KpiTableRecordsTest, OneRecordPerKpiRegionAndYearWithNotes) {
  kpi::v1::GetKpiTableResponse response;
  response.set_project_id("dohoku-anzen-anshin");
  response.mutable_as_of()->set_year(2019);
  kpi::v1::KpiTable* table = response.add_tables();
  *table->mutable_kpi() = Kodomoen();
  const auto point = [](kpi::v1::KpiTableRow* row, int year, std::optional<double> value,
                        const std::string& rate) {
    kpi::v1::ProgressPoint* p = row->add_points();
    p->mutable_fiscal_year()->set_year(year);
    if (value) p->set_value(*value);
    p->set_rate_display(rate);
    p->set_pace_gap_display(value ? "+27.0" : "");
    p->set_status(value ? kpi::v1::PROGRESS_STATUS_ACHIEVED : kpi::v1::PROGRESS_STATUS_UNKNOWN);
  };
  kpi::v1::KpiTableRow* area = table->add_rows();
  area->set_region_id("dohoku");
  area->set_region_name("道北");
  area->set_computed_from_children(true);  // SUM: kpi-service says so
  area->mutable_target()->set_value(43);
  area->mutable_target()->mutable_fiscal_year()->set_year(2019);
  area->mutable_target()->add_revisions()->set_value(38);
  point(area, 2018, 48, "111.6%");
  point(area, 2019, std::nullopt, "");
  kpi::v1::KpiTableRow* soya = table->add_rows();
  soya->set_region_id("soya");
  soya->set_region_name("宗谷");
  point(soya, 2018, 3, "50.0%");
  point(soya, 2019, std::nullopt, "");

  const std::vector<Fields> records = KpiTableRecords(response, Regions());
  ASSERT_EQ(records.size(), 5u);
  ASSERT_EQ(records[0].size(), KpiTableColumns().size());
  const auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(records[0].begin(), records[0].end(), name) -
                               records[0].begin());
  };
  EXPECT_EQ(records[1][column("時点年度")], "2019");
  EXPECT_EQ(records[1][column("時点和暦")], "R元");
  EXPECT_EQ(records[1][column("地域ID")], "dohoku");
  EXPECT_EQ(records[1][column("年度")], "2018");
  EXPECT_EQ(records[1][column("和暦")], "H30");
  EXPECT_EQ(records[1][column("実績値")], "48");
  EXPECT_EQ(records[1][column("進捗率(%)")], "111.6");
  EXPECT_EQ(records[1][column("状態")], "達成");
  EXPECT_EQ(records[1][column("進捗差(ポイント)")], "27.0");
  EXPECT_EQ(records[1][column("目標値")], "43");
  EXPECT_EQ(records[1][column("当初目標値")], "38");
  EXPECT_EQ(records[1][column("集計方法")], "合計");
  EXPECT_EQ(records[2][column("実績値")], "");
  EXPECT_EQ(records[2][column("備考")], "宗谷の実績がないため集計できません");
  EXPECT_EQ(records[3][column("集計方法")], "");
  EXPECT_EQ(records[4][column("状態")], "");
}

TEST(CsvColumnsMarkdownTest, DocumentsEveryColumn) {
  const std::string markdown = CsvColumnsMarkdown();
  for (const CsvColumnDoc& column : KpiDataColumns()) {
    EXPECT_TRUE(absl::StrContains(markdown, absl::StrCat("| ", column.name, " |"))) << column.name;
  }
  for (const CsvColumnDoc& column : KpiTableColumns()) {
    EXPECT_TRUE(absl::StrContains(markdown, absl::StrCat("| ", column.name, " |"))) << column.name;
  }
}

}  // namespace
}  // namespace suishin::exchange
