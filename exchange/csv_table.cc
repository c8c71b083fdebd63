#include "exchange/csv_table.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/fiscal_year.h"
#include "common/text.h"
#include "common/validation.h"
#include "report/labels.h"

namespace suishin::exchange {
namespace {

using report::ProgressStatusLabel;
using report::RegionName;

using kpi::v1::ImportRow;
using kpi::v1::Kpi;
using plan::v1::Region;

constexpr absl::string_view kIdeographicSpace = "\xE3\x80\x80";

// ---- Text as people type it ----

// Full-width ASCII (Ｒ２, １２３, ％, （）) as ASCII, the ideographic space as a
// space, and the minus signs people type (−, ‐, ‒, –, ﹣) as '-'. `text` is
// valid UTF-8 (cells are decoded before they get here).
std::string FoldWidth(absl::string_view text) {
  return absl::StrReplaceAll(
      FoldFullWidth(text),
      {{"\u2212", "-"}, {"\u2010", "-"}, {"\u2012", "-"}, {"\u2013", "-"}, {"\uFE63", "-"}});
}

// `text` without ASCII white space and ideographic spaces at either end.
absl::string_view Trim(absl::string_view text) {
  while (true) {
    const absl::string_view before = text;
    text = absl::StripAsciiWhitespace(text);
    absl::ConsumePrefix(&text, kIdeographicSpace);
    absl::ConsumeSuffix(&text, kIdeographicSpace);
    if (text == before) return text;
  }
}

// A header cell as a lookup key: widths folded, a unit in brackets dropped
// ("値（カ所）"), spaces, '_', '-' and '・' dropped, letters in lower case:
// "KPI ID", "kpi_id" and "ＫＰＩ　ＩＤ" are all "kpiid".
std::string HeaderKey(absl::string_view header) {
  std::string folded = FoldWidth(Trim(header));
  if (absl::EndsWith(folded, ")")) {
    const size_t open = folded.rfind('(');
    if (open != std::string::npos && open > 0) folded.erase(open);
  }
  std::string key;
  for (absl::string_view rest = folded; !rest.empty();) {
    if (absl::ConsumePrefix(&rest, "・")) continue;
    const char c = rest.front();
    rest.remove_prefix(1);
    if (c == ' ' || c == '_' || c == '-' || c == '\t') continue;
    key += absl::ascii_tolower(static_cast<unsigned char>(c));
  }
  return key;
}

// "\"-3\"": a cell quoted in an error.
std::string Quoted(absl::string_view cell) { return absl::StrCat("\"", cell, "\""); }

// ---- Columns ----

const std::vector<CsvColumnDoc>& DataColumns() {
  static const auto* const kColumns = new std::vector<CsvColumnDoc>{
      {"種別",
       {"区分", "kind", "type"},
       "実績 (actual), 基準 (baseline) or 目標 (target). Import also takes actual, baseline, "
       "target and 実績値, 基準値, 目標値; a blank cell, or no such column, means 実績."},
      {"KPI ID",
       {"KPIID", "kpi_id", "kpi", "指標ID"},
       "The KPI's id (`kodomoen`). Import needs it or KPI名."},
      {"KPI名",
       {"KPI名称", "kpi_name", "指標名"},
       "The KPI's name (認定こども園設置数). Import: names the KPI when there is no KPI ID, "
       "and must be its name when there is."},
      {"地域ID",
       {"地域コード", "region_id", "region"},
       "The region's id (`kamikawa`). Import needs one of 地域ID, 地域名 and "
       "全国地方公共団体コード; those given must name the same region."},
      {"地域名",
       {"地域", "region_name"},
       "The region's name as plan-service has it (上川, 道北). Import also takes 上川総合振興局, "
       "道北連携地域."},
      {"全国地方公共団体コード",
       {"地方公共団体コード", "団体コード", "local_government_code"},
       "The region's six-digit code with its check digit (北海道 010006), when it has one; "
       "import also takes the first five digits."},
      {"年度",
       {"西暦", "fiscal_year", "year"},
       "The fiscal year as the Western year it starts in (2019 = 令和元年度). Import takes "
       "any form: 2019, FY2019, R元, R1, 令和元年度, H30, 平成30年度, full-width digits."},
      {"和暦",
       {"和暦年度", "era_year", "era"},
       "The same year in its era (R元, H30). Import needs 年度 or 和暦; when both are given "
       "they must agree."},
      {"値",
       {"数値", "value"},
       "The figure as a plain number (43, 47.2), in 単位. Import also takes full-width digits, "
       "thousands separators and the KPI's unit in the cell (１，２３４カ所, 43.4％); a "
       "negative figure, a count that is not whole and a percentage over 100 are refused."},
      {"単位",
       {"unit"},
       "The KPI's unit (カ所, %). Import: when given, it must be the KPI's unit."},
      {"分子",
       {"numerator"},
       "For ratio KPIs, the numerator behind the figure (households covered); blank "
       "otherwise. 分子 and 分母 go together."},
      {"分母", {"denominator"}, "For ratio KPIs, the denominator (all households)."},
      {"報告者",
       {"reported_by", "author"},
       "Who reported the actual, set the baseline or revised the target (上川総合振興局)."},
      {"理由",
       {"reason"},
       "Why: for a 目標 record, why it replaced the one before (見直し); for a 実績 record, "
       "why it was recorded or corrected."},
      {"備考",
       {"note", "notes", "remarks"},
       "Free text; import ignores it, export does not write it."},
  };
  return *kColumns;
}

// Where a KPI data file's header name points: column by HeaderKey.
const std::map<std::string, KpiDataColumn>& ColumnsByKey() {
  static const auto* const kByKey = [] {
    auto* by_key = new std::map<std::string, KpiDataColumn>;
    const std::vector<CsvColumnDoc>& columns = DataColumns();
    for (size_t i = 0; i < columns.size(); ++i) {
      const auto column = static_cast<KpiDataColumn>(i);
      by_key->emplace(HeaderKey(columns[i].name), column);
      for (absl::string_view alias : columns[i].aliases) by_key->emplace(HeaderKey(alias), column);
    }
    return by_key;
  }();
  return *kByKey;
}

absl::string_view DataColumnName(KpiDataColumn column) {
  return DataColumns()[static_cast<size_t>(column)].name;
}

// ---- Kinds and units ----

std::optional<kpi::v1::RowKind> ParseKind(absl::string_view cell) {
  const std::string text = absl::AsciiStrToLower(FoldWidth(Trim(cell)));
  if (text.empty() || text == "実績" || text == "実績値" || text == "actual") {
    return kpi::v1::ROW_KIND_ACTUAL;
  }
  if (text == "基準" || text == "基準値" || text == "baseline") return kpi::v1::ROW_KIND_BASELINE;
  if (text == "目標" || text == "目標値" || text == "target") return kpi::v1::ROW_KIND_TARGET;
  return std::nullopt;
}

absl::string_view KindLabel(kpi::v1::RowKind kind) {
  switch (kind) {
    case kpi::v1::ROW_KIND_BASELINE:
      return "基準";
    case kpi::v1::ROW_KIND_TARGET:
      return "目標";
    default:
      return "実績";
  }
}

bool IsPercent(const Kpi& kpi) {
  const std::string unit = FoldWidth(Trim(kpi.unit()));
  return kpi.value_kind() == kpi::v1::VALUE_KIND_PERCENT || unit == "%" || unit == "パーセント";
}

// The spellings of カ所.
const std::vector<std::string>& PlaceUnits() {
  static const auto* const kUnits =
      new std::vector<std::string>{"カ所", "ヵ所", "ヶ所", "ケ所", "か所", "箇所", "個所"};
  return *kUnits;
}

// True when `cell` (a 単位 cell) names the KPI's unit.
bool SameUnit(absl::string_view cell, const Kpi& kpi) {
  const std::string text = FoldWidth(Trim(cell));
  for (const std::string& spelling : UnitSpellings(kpi)) {
    if (text == FoldWidth(spelling)) return true;
  }
  return false;
}

// ---- Numbers ----

// Checks `digits` (the integer part of a number as typed) for thousands
// separators in the right places: "1,234,567" yes, "12,34" no.
bool WellGrouped(absl::string_view digits) {
  if (digits.find(',') == absl::string_view::npos) return true;
  size_t group = 0;
  bool first = true;
  for (const char c : digits) {
    if (c == ',') {
      if (group == 0 || group > 3 || (!first && group != 3)) return false;
      first = false;
      group = 0;
    } else {
      ++group;
    }
  }
  return group == 3;
}

// `value` (finite) as the shortest "%.*e" that reads back, written out as a
// plain decimal without exponent: 1.0248191152060862e-47 →
// "0.000…00010248191152060862".
std::string PlainDecimal(double value) {
  std::string scientific;
  for (int precision = 0; precision <= 17; ++precision) {
    scientific = absl::StrFormat("%.*e", precision, value);
    double back = 0;
    if (absl::SimpleAtod(scientific, &back) && back == value) break;
  }
  // "[-]d[.ddd]e±XX": the digits and where the point goes.
  const size_t e = scientific.find('e');
  int exponent = 0;
  if (e == std::string::npos || !absl::SimpleAtoi(scientific.substr(e + 1), &exponent)) {
    return scientific;  // not expected from %e
  }
  std::string out;
  std::string digits;
  for (const char c : scientific.substr(0, e)) {
    if (c == '-') {
      out += '-';
    } else if (absl::ascii_isdigit(c)) {
      digits += c;
    }
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  // value = 0.digits × 10^(exponent + 1).
  const int point = exponent + 1;
  if (point <= 0) {
    absl::StrAppend(&out, "0.", std::string(static_cast<size_t>(-point), '0'), digits);
  } else if (static_cast<size_t>(point) >= digits.size()) {
    absl::StrAppend(&out, digits, std::string(static_cast<size_t>(point) - digits.size(), '0'));
  } else {
    absl::StrAppend(&out, digits.substr(0, static_cast<size_t>(point)), ".",
                    digits.substr(static_cast<size_t>(point)));
  }
  return out;
}

// ---- Regions ----

// A region name without the suffix people add: 上川総合振興局 → 上川,
// 道北連携地域 → 道北.
std::string BareRegionName(absl::string_view name) {
  for (absl::string_view suffix : {"総合振興局", "振興局", "連携地域"}) {
    if (name.size() > suffix.size() && absl::EndsWith(name, suffix)) {
      return std::string(name.substr(0, name.size() - suffix.size()));
    }
  }
  return std::string(name);
}

std::string RegionLabel(const Region& region) {
  return region.name().empty() ? region.id() : absl::StrCat(region.name(), " (", region.id(), ")");
}

bool AllDigits(absl::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// ---- Export helpers ----

std::string EraCell(int year) { return year == 0 ? "" : EraFiscalYear(year); }
std::string YearCell(int year) { return year == 0 ? "" : absl::StrCat(year); }

// "25.6%" → "25.6": a rate as the table prints it, as a number.
std::string PercentCell(absl::string_view display) {
  absl::string_view text = display;
  absl::ConsumeSuffix(&text, "%");
  return std::string(text);
}

// "+23.7" → "23.7": a signed display as a plain number.
std::string PlainNumber(absl::string_view display) {
  absl::ConsumePrefix(&display, "+");
  return std::string(display);
}

struct RegionInfo {
  std::string name;
  std::string code;
};

RegionInfo InfoOf(const std::vector<Region>& regions, const Kpi& kpi, const std::string& id) {
  for (const Region& region : regions) {
    if (region.id() == id) return {region.name(), region.local_government_code()};
  }
  return {RegionName(kpi, id), ""};
}

std::vector<std::string> Names(const std::vector<CsvColumnDoc>& columns, size_t count) {
  std::vector<std::string> names;
  for (size_t i = 0; i < count && i < columns.size(); ++i) names.emplace_back(columns[i].name);
  return names;
}

std::string MarkdownTable(const std::vector<CsvColumnDoc>& columns, bool aliases) {
  std::string out = aliases ? "| Column | Import also takes | Holds |\n|---|---|---|\n"
                            : "| Column | Holds |\n|---|---|\n";
  for (const CsvColumnDoc& column : columns) {
    absl::StrAppend(&out, "| ", column.name, " | ");
    if (aliases) absl::StrAppend(&out, absl::StrJoin(column.aliases, ", "), " | ");
    absl::StrAppend(&out, column.description, " |\n");
  }
  return out;
}

}  // namespace

const std::vector<CsvColumnDoc>& KpiDataColumns() { return DataColumns(); }

const std::vector<CsvColumnDoc>& KpiTableColumns() {
  static const auto* const kColumns = new std::vector<CsvColumnDoc>{
      {"時点年度", {}, "The fiscal year the table is as of (--year), Western (2019)."},
      {"時点和暦", {}, "The same in its era (R元)."},
      {"KPI ID", {}, "The KPI's id."},
      {"KPI名", {}, "The KPI's name."},
      {"単位", {}, "The unit of 実績値, 基準値, 目標値 and 当初目標値 (カ所, %)."},
      {"地域ID", {}, "The region's id; the cooperation area's row first."},
      {"地域名", {}, "The region's name (道北, 上川)."},
      {"全国地方公共団体コード", {}, "The region's code, when it has one."},
      {"年度", {}, "The column year of the table, Western (2015)."},
      {"和暦", {}, "The same in its era (H27)."},
      {"実績値",
       {},
       "The actual; for an area computed from its subprefectures, their sum (SUM) or "
       "Σ分子/Σ分母 (RATIO). Blank when there is none."},
      {"進捗率(%)", {}, "The progress rate as the table prints it, rounded half-up to 0.1 (25.6)."},
      {"想定進捗率(%)",
       {},
       "The rate the straight line from baseline to target expects in that year."},
      {"進捗差(ポイント)", {}, "進捗率 − 想定進捗率, in points (-20.5)."},
      {"状態", {}, "達成 (achieved), 順調 (on track), 遅れ (lagging) or 不明 (unknown)."},
      {"基準値", {}, "The region's baseline."},
      {"基準年度", {}, "Its fiscal year, Western."},
      {"基準和暦", {}, "The same in its era."},
      {"目標値", {}, "The region's current target (used for every year's rate)."},
      {"目標年度", {}, "Its fiscal year, Western."},
      {"目標和暦", {}, "The same in its era."},
      {"当初目標値",
       {},
       "The first target, when the target was revised since (見直し前38カ所); blank otherwise."},
      {"集計方法",
       {},
       "For the area's row: 合計 (sum of the subprefectures), 比率 (Σ分子/Σ分母) or 報告値 (the "
       "area's own reported figure); blank for other rows."},
      {"備考",
       {},
       "Why a figure is missing or a rate cannot be computed (上川・留萌・宗谷の実績がないため"
       "集計できません), and data-quality warnings."},
  };
  return *kColumns;
}

std::string CsvColumnsMarkdown() {
  return absl::StrCat("KPI data file (`export-csv --kpi`, `import-csv`):\n\n",
                      MarkdownTable(KpiDataColumns(), true),
                      "\nKPI table file (`export-csv --table`):\n\n",
                      MarkdownTable(KpiTableColumns(), false));
}

// ---- KpiDataHeader ----

absl::StatusOr<KpiDataHeader> KpiDataHeader::Parse(const CsvRecord& header) {
  KpiDataHeader out;
  const std::map<std::string, KpiDataColumn>& by_key = ColumnsByKey();
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const int field = static_cast<int>(i);
    const std::string name(Trim(header.fields[i]));
    out.names_.push_back(name);
    const std::string key = HeaderKey(name);
    if (key.empty()) {
      out.unnamed_.push_back(field);
      continue;
    }
    const auto it = by_key.find(key);
    if (it == by_key.end()) {
      std::vector<std::string> known = Names(DataColumns(), DataColumns().size());
      return CsvError({header.line, field},
                      absl::StrCat("unknown column ", Quoted(name), "; the columns are ",
                                   absl::StrJoin(known, ", "),
                                   " (see the README for the "
                                   "other names each takes)"));
    }
    const auto [previous, inserted] = out.index_.emplace(it->second, field);
    if (!inserted) {
      return CsvError({header.line, field},
                      absl::StrCat("column ", Quoted(name), " is the same column as column ",
                                   previous->second + 1, " (",
                                   Quoted(out.names_[static_cast<size_t>(previous->second)]), ")"));
    }
  }
  const auto missing = [&](std::initializer_list<KpiDataColumn> any, absl::string_view what) {
    for (KpiDataColumn column : any) {
      if (out.index(column) >= 0) return absl::OkStatus();
    }
    std::vector<std::string> names;
    for (KpiDataColumn column : any) names.emplace_back(DataColumnName(column));
    return CsvError(
        {header.line, -1},
        absl::StrCat("missing column ", absl::StrJoin(names, " or "), " (", what,
                     "); the header has ",
                     absl::StrJoin(out.names_, ", ", [](std::string* s, const std::string& n) {
                       absl::StrAppend(s, Quoted(n));
                     })));
  };
  for (const absl::Status& status :
       {missing({KpiDataColumn::kKpiId, KpiDataColumn::kKpiName}, "which KPI"),
        missing({KpiDataColumn::kRegionId, KpiDataColumn::kRegionName,
                 KpiDataColumn::kLocalGovernmentCode},
                "which region"),
        missing({KpiDataColumn::kFiscalYear, KpiDataColumn::kEraYear}, "which fiscal year"),
        missing({KpiDataColumn::kValue}, "the figure")}) {
    if (!status.ok()) return status;
  }
  return out;
}

int KpiDataHeader::index(KpiDataColumn column) const {
  const auto it = index_.find(column);
  return it == index_.end() ? -1 : it->second;
}

std::string KpiDataHeader::ColumnName(int field) const {
  if (field >= 0 && static_cast<size_t>(field) < names_.size() &&
      !names_[static_cast<size_t>(field)].empty()) {
    return names_[static_cast<size_t>(field)];
  }
  return absl::StrCat("column ", field + 1);
}

// ---- CsvDirectory ----

CsvDirectory::CsvDirectory(std::vector<Region> regions, std::vector<Kpi> kpis)
    : regions_(std::move(regions)), kpis_(std::move(kpis)) {}

const Region* CsvDirectory::RegionById(absl::string_view id) const {
  for (const Region& region : regions_) {
    if (region.id() == id) return &region;
  }
  return nullptr;
}

absl::StatusOr<const Region*> CsvDirectory::FindRegion(KpiDataColumn column,
                                                       absl::string_view cell) const {
  const std::string text(Trim(FoldWidth(Trim(cell))));
  const auto by_code = [&]() -> absl::StatusOr<const Region*> {
    if (!AllDigits(text) || (text.size() != 5 && text.size() != 6)) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quoted(cell), " is not a 全国地方公共団体コード (six digits, 010006)"));
    }
    if (text.size() == 6) {
      if (const absl::Status valid = ValidateLocalGovernmentCode("code", text); !valid.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            Quoted(cell), " is not a 全国地方公共団体コード: its check digit is wrong"));
      }
    }
    for (const Region& region : regions_) {
      const std::string& code = region.local_government_code();
      if (!code.empty() && (code == text || (text.size() == 5 && code.substr(0, 5) == text))) {
        return &region;
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("no region plan-service knows has 全国地方公共団体コード ", Quoted(text)));
  };
  switch (column) {
    case KpiDataColumn::kLocalGovernmentCode:
      return by_code();
    case KpiDataColumn::kRegionName: {
      std::vector<const Region*> found;
      for (const Region& region : regions_) {
        if (region.name() == text) found.push_back(&region);
      }
      if (found.empty()) {
        const std::string bare = BareRegionName(text);
        for (const Region& region : regions_) {
          if (!region.name().empty() && BareRegionName(region.name()) == bare) {
            found.push_back(&region);
          }
        }
      }
      if (found.size() == 1) return found[0];
      if (found.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(Quoted(cell), " is not the name of a region plan-service knows"));
      }
      std::vector<std::string> ids;
      for (const Region* region : found) ids.push_back(region->id());
      return absl::InvalidArgumentError(absl::StrCat(Quoted(cell), " names several regions (",
                                                     absl::StrJoin(ids, ", "),
                                                     "); give 地域ID or 全国地方公共団体コード"));
    }
    default: {
      const std::string id = absl::AsciiStrToLower(text);
      if (const Region* region = RegionById(id)) return region;
      if (AllDigits(text)) return by_code();
      return absl::InvalidArgumentError(
          absl::StrCat(Quoted(cell), " is not the id of a region plan-service knows"));
    }
  }
}

absl::StatusOr<const Kpi*> CsvDirectory::FindKpi(KpiDataColumn column,
                                                 absl::string_view cell) const {
  const std::string text(Trim(cell));
  if (column == KpiDataColumn::kKpiName) {
    std::vector<const Kpi*> found;
    for (const Kpi& kpi : kpis_) {
      if (kpi.name() == text) found.push_back(&kpi);
    }
    if (found.size() == 1) return found[0];
    if (found.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quoted(cell), " is not the name of a KPI kpi-service knows"));
    }
    std::vector<std::string> ids;
    for (const Kpi* kpi : found) ids.push_back(kpi->id());
    return absl::InvalidArgumentError(absl::StrCat(Quoted(cell), " is the name of several KPIs (",
                                                   absl::StrJoin(ids, ", "), "); give KPI ID"));
  }
  const std::string id = absl::AsciiStrToLower(Trim(FoldWidth(text)));
  for (const Kpi& kpi : kpis_) {
    if (kpi.id() == id) return &kpi;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(Quoted(cell), " is not the id of a KPI kpi-service knows"));
}

// ---- Numbers ----

std::vector<std::string> UnitSpellings(const Kpi& kpi) {
  std::vector<std::string> spellings;
  const std::string unit(Trim(kpi.unit()));
  if (!unit.empty()) spellings.push_back(unit);
  const std::vector<std::string>& places = PlaceUnits();
  if (std::find(places.begin(), places.end(), unit) != places.end()) {
    for (const std::string& place : places) {
      if (place != unit) spellings.push_back(place);
    }
  }
  if (IsPercent(kpi)) {
    for (const char* percent : {"%", "％", "パーセント"}) {
      if (unit != percent) spellings.emplace_back(percent);
    }
  }
  return spellings;
}

absl::StatusOr<double> ParseCsvNumber(absl::string_view cell,
                                      const std::vector<std::string>& units) {
  std::string text(Trim(FoldWidth(Trim(cell))));
  for (const std::string& unit : units) {
    const std::string folded = FoldWidth(unit);
    if (!folded.empty() && text.size() > folded.size() && absl::EndsWith(text, folded)) {
      text = std::string(Trim(absl::string_view(text).substr(0, text.size() - folded.size())));
      break;
    }
  }
  absl::string_view rest = text;
  bool negative = false;
  if (absl::ConsumePrefix(&rest, "-") || absl::ConsumePrefix(&rest, "△") ||
      absl::ConsumePrefix(&rest, "▲")) {
    negative = true;
  } else {
    absl::ConsumePrefix(&rest, "+");
  }
  rest = Trim(rest);
  size_t end = 0;
  while (end < rest.size() && (absl::ascii_isdigit(rest[end]) || rest[end] == ',')) ++end;
  const absl::string_view integer = rest.substr(0, end);
  absl::string_view fraction;
  if (end < rest.size() && rest[end] == '.') {
    size_t stop = end + 1;
    while (stop < rest.size() && absl::ascii_isdigit(rest[stop])) ++stop;
    fraction = rest.substr(end + 1, stop - end - 1);
    end = stop;
  }
  const absl::string_view suffix = rest.substr(end);
  const bool has_digits =
      std::any_of(integer.begin(), integer.end(), [](char c) { return absl::ascii_isdigit(c); }) ||
      !fraction.empty();
  if (text.empty()) return absl::InvalidArgumentError("is empty; a number is required");
  if (!has_digits) {
    return absl::InvalidArgumentError(absl::StrCat(Quoted(cell), " is not a number"));
  }
  if (!suffix.empty()) {
    if (!units.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(Quoted(cell), ": ", Quoted(Trim(suffix)),
                                                     " is not the unit (",
                                                     absl::StrJoin(units, ", "), ")"));
    }
    return absl::InvalidArgumentError(absl::StrCat(Quoted(cell), " is not a number"));
  }
  if (!WellGrouped(integer) || absl::StartsWith(integer, ",")) {
    return absl::InvalidArgumentError(absl::StrCat(
        Quoted(cell), " has a thousands separator out of place (write 1,234 or 1234)"));
  }
  std::string plain;
  for (const char c : integer) {
    if (c != ',') plain += c;
  }
  if (plain.empty()) plain = "0";
  if (!fraction.empty()) absl::StrAppend(&plain, ".", fraction);
  double value = 0;
  if (!absl::SimpleAtod(plain, &value) || !std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat(Quoted(cell), " is not a number"));
  }
  return negative ? -value : value;
}

std::string FormatCsvNumber(double value, kpi::v1::ValueKind kind) {
  if (!std::isfinite(value)) return absl::StrCat(value);
  for (int decimals = 0; decimals <= 17; ++decimals) {
    std::string text = absl::StrFormat("%.*f", decimals, value);
    double back = 0;
    if (absl::SimpleAtod(text, &back) && back == value) {
      if (decimals == 0 && kind == kpi::v1::VALUE_KIND_PERCENT) text += ".0";
      return text;
    }
  }
  // More than 17 decimals (a magnitude below 0.1): the fewest significant
  // digits that read back, written out without the exponent that "%g" would
  // use and ParseCsvNumber refuses.
  return PlainDecimal(value);
}

// ---- Reading a record ----

absl::StatusOr<KpiDataRow> ToKpiDataRow(const KpiDataHeader& header, const CsvRecord& record,
                                        const CsvDirectory& directory) {
  const auto cell = [&](KpiDataColumn column) -> absl::string_view {
    const int index = header.index(column);
    if (index < 0 || static_cast<size_t>(index) >= record.fields.size()) return "";
    return Trim(record.fields[static_cast<size_t>(index)]);
  };
  const auto error = [&](KpiDataColumn column, absl::string_view message) {
    return CsvError({record.line, header.index(column)}, message);
  };
  const auto fail = [&](KpiDataColumn column, const absl::Status& status) {
    return error(column, status.message());
  };

  for (const int field : header.unnamed()) {
    if (static_cast<size_t>(field) < record.fields.size() &&
        !Trim(record.fields[static_cast<size_t>(field)]).empty()) {
      return CsvError({record.line, field},
                      absl::StrCat(Quoted(Trim(record.fields[static_cast<size_t>(field)])),
                                   " is in a column without a name; name it 備考 to keep notes"));
    }
  }

  KpiDataRow out;
  ImportRow& row = out.row;
  row.set_line(record.line);

  const std::optional<kpi::v1::RowKind> kind = ParseKind(cell(KpiDataColumn::kKind));
  if (!kind) {
    return error(KpiDataColumn::kKind,
                 absl::StrCat(Quoted(cell(KpiDataColumn::kKind)),
                              " is not a kind of figure; use 実績 (actual), 基準 (baseline) or "
                              "目標 (target)"));
  }
  row.set_kind(*kind);

  // The KPI.
  const Kpi* kpi = nullptr;
  for (KpiDataColumn column : {KpiDataColumn::kKpiId, KpiDataColumn::kKpiName}) {
    if (cell(column).empty()) continue;
    absl::StatusOr<const Kpi*> found = directory.FindKpi(column, cell(column));
    if (!found.ok()) return fail(column, found.status());
    if (kpi != nullptr && *found != kpi) {
      return error(column, absl::StrCat(Quoted(cell(column)), " is not the name of KPI \"",
                                        kpi->id(), "\" (", kpi->name(), ")"));
    }
    if (kpi == nullptr) out.kpi_field = header.index(column);
    kpi = *found;
  }
  if (kpi == nullptr) {
    return error(
        header.index(KpiDataColumn::kKpiId) >= 0 ? KpiDataColumn::kKpiId : KpiDataColumn::kKpiName,
        "is empty; the KPI is required (KPI ID or KPI名)");
  }
  row.set_kpi_id(kpi->id());

  // The region.
  const Region* region = nullptr;
  KpiDataColumn region_column = KpiDataColumn::kRegionId;
  for (KpiDataColumn column : {KpiDataColumn::kRegionId, KpiDataColumn::kRegionName,
                               KpiDataColumn::kLocalGovernmentCode}) {
    if (cell(column).empty()) continue;
    absl::StatusOr<const Region*> found = directory.FindRegion(column, cell(column));
    if (!found.ok()) return fail(column, found.status());
    if (region != nullptr && *found != region) {
      return error(column,
                   absl::StrCat(Quoted(cell(column)), " is ", RegionLabel(**found), ", but ",
                                DataColumnName(region_column), " says ", RegionLabel(*region)));
    }
    if (region == nullptr) {
      region = *found;
      region_column = column;
      out.region_field = header.index(column);
    }
  }
  if (region == nullptr) {
    KpiDataColumn present = KpiDataColumn::kRegionId;
    for (KpiDataColumn column : {KpiDataColumn::kLocalGovernmentCode, KpiDataColumn::kRegionName,
                                 KpiDataColumn::kRegionId}) {
      if (header.index(column) >= 0) present = column;
    }
    return error(present,
                 "is empty; the region is required (地域ID, 地域名 or 全国地方公共団体コード)");
  }
  if (std::find(kpi->region_ids().begin(), kpi->region_ids().end(), region->id()) ==
      kpi->region_ids().end()) {
    return error(region_column,
                 absl::StrCat(Quoted(cell(region_column)), " is ", RegionLabel(*region),
                              ", not a region KPI \"", kpi->id(), "\" tracks (",
                              absl::StrJoin(kpi->region_ids(), ", "), ")"));
  }
  row.set_region_id(region->id());

  // The fiscal year.
  int year = 0;
  KpiDataColumn year_column = KpiDataColumn::kFiscalYear;
  for (KpiDataColumn column : {KpiDataColumn::kFiscalYear, KpiDataColumn::kEraYear}) {
    if (cell(column).empty()) continue;
    absl::StatusOr<int> parsed = ParseFiscalYear(cell(column));
    if (!parsed.ok()) return fail(column, parsed.status());
    if (year != 0 && *parsed != year) {
      return error(column,
                   absl::StrCat(Quoted(cell(column)), " is ", FormatFiscalYear(*parsed), ", but ",
                                DataColumnName(year_column), " says ", FormatFiscalYear(year)));
    }
    if (year == 0) {
      year = *parsed;
      year_column = column;
      out.year_field = header.index(column);
    }
  }
  if (year == 0) {
    return error(header.index(KpiDataColumn::kFiscalYear) >= 0 ? KpiDataColumn::kFiscalYear
                                                               : KpiDataColumn::kEraYear,
                 "is empty; the fiscal year is required (年度 or 和暦)");
  }
  row.mutable_fiscal_year()->set_year(year);

  // The unit, then the figures.
  if (!cell(KpiDataColumn::kUnit).empty() && !SameUnit(cell(KpiDataColumn::kUnit), *kpi)) {
    return error(KpiDataColumn::kUnit,
                 absl::StrCat(Quoted(cell(KpiDataColumn::kUnit)), " is not the unit of KPI \"",
                              kpi->id(), "\" (", kpi->unit(), ")"));
  }
  const absl::string_view value_cell = cell(KpiDataColumn::kValue);
  if (value_cell.empty()) {
    return error(KpiDataColumn::kValue, "is empty; the figure is required");
  }
  absl::StatusOr<double> value = ParseCsvNumber(value_cell, UnitSpellings(*kpi));
  if (!value.ok()) return fail(KpiDataColumn::kValue, value.status());
  const bool count = kpi->value_kind() == kpi::v1::VALUE_KIND_COUNT;
  const bool percent = kpi->value_kind() == kpi::v1::VALUE_KIND_PERCENT;
  if (*value < 0) {
    return error(KpiDataColumn::kValue, absl::StrCat(Quoted(value_cell), " is negative",
                                                     count     ? " for a count"
                                                     : percent ? " for a percentage"
                                                               : "; figures are never negative"));
  }
  if (count && *value != std::floor(*value)) {
    return error(
        KpiDataColumn::kValue,
        absl::StrCat(Quoted(value_cell), " is not a whole number for a count (", kpi->unit(), ")"));
  }
  if (percent && *value > 100) {
    return error(KpiDataColumn::kValue,
                 absl::StrCat(Quoted(value_cell), " is over 100 for a percentage"));
  }
  row.set_value(*value);

  std::optional<double> parts[2];
  const KpiDataColumn part_columns[2] = {KpiDataColumn::kNumerator, KpiDataColumn::kDenominator};
  for (int i = 0; i < 2; ++i) {
    const absl::string_view text = cell(part_columns[i]);
    if (text.empty()) continue;
    absl::StatusOr<double> part = ParseCsvNumber(text);
    if (!part.ok()) return fail(part_columns[i], part.status());
    if (*part < 0) return error(part_columns[i], absl::StrCat(Quoted(text), " is negative"));
    parts[i] = *part;
  }
  if (parts[0].has_value() != parts[1].has_value()) {
    const int missing = parts[0] ? 1 : 0;
    return error(header.index(part_columns[missing]) >= 0 ? part_columns[missing]
                                                          : part_columns[1 - missing],
                 absl::StrCat(parts[0] ? "分母" : "分子", " is missing; ",
                              "分子 and 分母 go together: give both or neither"));
  }
  if (parts[0]) {
    row.set_numerator(*parts[0]);
    row.set_denominator(*parts[1]);
  }
  row.set_reported_by(std::string(cell(KpiDataColumn::kReportedBy)));
  row.set_reason(std::string(cell(KpiDataColumn::kReason)));
  return out;
}

absl::Status RepeatedRows::Check(const KpiDataHeader& header, const KpiDataRow& row) {
  const ImportRow& r = row.row;
  std::string key;
  if (r.kind() == kpi::v1::ROW_KIND_BASELINE) {
    key = absl::StrCat("baseline|", r.kpi_id(), "|", r.region_id());
  } else if (r.kind() == kpi::v1::ROW_KIND_ACTUAL) {
    key = absl::StrCat("actual|", r.kpi_id(), "|", r.region_id(), "|", r.fiscal_year().year());
  } else {
    return absl::OkStatus();
  }
  const auto [it, inserted] = first_line_.emplace(key, r.line());
  if (inserted) return absl::OkStatus();
  const bool baseline = r.kind() == kpi::v1::ROW_KIND_BASELINE;
  return CsvError(
      {r.line(), baseline ? row.region_field : row.year_field},
      baseline
          ? absl::StrCat("a second 基準 of KPI \"", r.kpi_id(), "\" in ", r.region_id(),
                         "; the first is on line ", it->second)
          : absl::StrCat("a second 実績 of KPI \"", r.kpi_id(), "\" in ", r.region_id(), " for ",
                         FormatFiscalYear(r.fiscal_year().year()), "; the first is on line ",
                         it->second, " (a correction goes in a file of its own)"));
}

int FieldOfServiceError(const KpiDataHeader& header, const KpiDataRow& row,
                        absl::string_view field) {
  // The service names fields with or without a message prefix ("value",
  // "actual.value"); the last part decides.
  if (field == "kpi_id") return row.kpi_field;
  if (field == "region_id") return row.region_field;
  if (absl::StartsWith(field, "fiscal_year")) return row.year_field;
  const auto ends = [&](absl::string_view name) {
    return field == name || absl::EndsWith(field, absl::StrCat(".", name));
  };
  if (ends("region_id")) return row.region_field;
  if (ends("value")) return header.index(KpiDataColumn::kValue);
  if (ends("numerator")) return header.index(KpiDataColumn::kNumerator);
  if (ends("denominator")) return header.index(KpiDataColumn::kDenominator);
  if (ends("reported_by") || ends("author")) return header.index(KpiDataColumn::kReportedBy);
  if (ends("reason")) return header.index(KpiDataColumn::kReason);
  if (ends("kind")) return header.index(KpiDataColumn::kKind);
  if (absl::StrContains(field, "fiscal_year")) return row.year_field;
  return -1;
}

// ---- Already stored ----

std::vector<bool> RowsAlreadyStored(const std::vector<ImportRow>& rows,
                                    const std::map<std::string, kpi::v1::GetKpiResponse>& stored) {
  std::vector<bool> skip(rows.size(), false);
  using Key = std::pair<std::string, std::string>;  // KPI, region
  std::map<Key, std::vector<size_t>> targets;       // rows in file order
  for (size_t i = 0; i < rows.size(); ++i) {
    const ImportRow& row = rows[i];
    const auto it = stored.find(row.kpi_id());
    if (it == stored.end()) continue;
    if (row.kind() == kpi::v1::ROW_KIND_TARGET) {
      targets[{row.kpi_id(), row.region_id()}].push_back(i);
      continue;
    }
    if (row.kind() != kpi::v1::ROW_KIND_BASELINE) continue;
    for (const kpi::v1::Baseline& baseline : it->second.baselines()) {
      if (baseline.region_id() != row.region_id()) continue;
      skip[i] = baseline.fiscal_year().year() == row.fiscal_year().year() &&
                baseline.value() == row.value() &&
                baseline.has_numerator() == row.has_numerator() &&
                baseline.numerator() == row.numerator() &&
                baseline.has_denominator() == row.has_denominator() &&
                baseline.denominator() == row.denominator();
    }
  }
  for (const auto& [key, indices] : targets) {
    std::vector<std::pair<int, double>> history;  // stored: year, value, oldest first
    for (const kpi::v1::Target& target : stored.at(key.first).targets()) {
      if (target.region_id() != key.second) continue;
      for (const kpi::v1::TargetRevision& revision : target.revisions()) {
        history.emplace_back(revision.fiscal_year().year(), revision.value());
      }
      history.emplace_back(target.fiscal_year().year(), target.value());
    }
    if (history.empty()) continue;
    const auto same = [&](size_t index, const std::pair<int, double>& figure) {
      return rows[index].fiscal_year().year() == figure.first &&
             rows[index].value() == figure.second;
    };
    if (same(indices.back(), history.back())) {
      for (const size_t index : indices) skip[index] = true;
      continue;
    }
    for (size_t k = 0; k < indices.size() && k < history.size() && same(indices[k], history[k]);
         ++k) {
      skip[indices[k]] = true;
    }
  }
  return skip;
}

// ---- Writing ----

std::vector<std::vector<std::string>> KpiDataRecords(const kpi::v1::GetKpiResponse& response,
                                                     const std::vector<kpi::v1::Change>& history,
                                                     const std::vector<Region>& regions) {
  const Kpi& kpi = response.kpi();
  std::vector<std::vector<std::string>> records;
  records.push_back(Names(DataColumns(), static_cast<size_t>(KpiDataColumn::kNote)));
  const auto add = [&](kpi::v1::RowKind kind, const std::string& region_id, int year, double value,
                       std::optional<double> numerator, std::optional<double> denominator,
                       const std::string& author, const std::string& reason) {
    const RegionInfo info = InfoOf(regions, kpi, region_id);
    records.push_back({std::string(KindLabel(kind)), kpi.id(), kpi.name(), region_id, info.name,
                       info.code, YearCell(year), EraCell(year),
                       FormatCsvNumber(value, kpi.value_kind()), kpi.unit(),
                       numerator ? FormatCsvNumber(*numerator, kpi::v1::VALUE_KIND_AMOUNT) : "",
                       denominator ? FormatCsvNumber(*denominator, kpi::v1::VALUE_KIND_AMOUNT) : "",
                       author, reason});
  };
  const auto order = [&](const std::string& region_id) {
    const auto it = std::find(kpi.region_ids().begin(), kpi.region_ids().end(), region_id);
    return static_cast<int>(it - kpi.region_ids().begin());
  };

  // Who set each baseline and who set the first target, from the history.
  std::map<std::string, std::string> baseline_authors;
  std::map<std::string, std::pair<std::string, std::string>> first_target;  // author, reason
  std::map<std::pair<std::string, int>, const kpi::v1::Change*> actuals;    // latest per year
  for (const kpi::v1::Change& change : history) {
    switch (change.kind()) {
      case kpi::v1::CHANGE_KIND_BASELINE_SET:
        baseline_authors[change.region_id()] = change.author();
        break;
      case kpi::v1::CHANGE_KIND_TARGET_REVISED:
        first_target.emplace(change.region_id(), std::make_pair(change.author(), change.reason()));
        break;
      case kpi::v1::CHANGE_KIND_ACTUAL_RECORDED:
      case kpi::v1::CHANGE_KIND_ACTUAL_CORRECTED:
        if (change.has_new_value()) {
          actuals[{change.region_id(), change.fiscal_year().year()}] = &change;
        }
        break;
      default:
        break;
    }
  }

  std::vector<const kpi::v1::Baseline*> baselines;
  for (const auto& baseline : response.baselines()) baselines.push_back(&baseline);
  std::stable_sort(baselines.begin(), baselines.end(), [&](const auto* a, const auto* b) {
    return order(a->region_id()) < order(b->region_id());
  });
  for (const kpi::v1::Baseline* baseline : baselines) {
    add(kpi::v1::ROW_KIND_BASELINE, baseline->region_id(), baseline->fiscal_year().year(),
        baseline->value(),
        baseline->has_numerator() ? std::optional<double>(baseline->numerator()) : std::nullopt,
        baseline->has_denominator() ? std::optional<double>(baseline->denominator()) : std::nullopt,
        baseline_authors[baseline->region_id()], "");
  }

  std::vector<const kpi::v1::Target*> targets;
  for (const auto& target : response.targets()) targets.push_back(&target);
  std::stable_sort(targets.begin(), targets.end(), [&](const auto* a, const auto* b) {
    return order(a->region_id()) < order(b->region_id());
  });
  for (const kpi::v1::Target* target : targets) {
    // Revision i keeps who replaced it and why, so those go with the record
    // that replaced it; the first record's come from the history.
    std::pair<std::string, std::string> by = first_target[target->region_id()];
    for (const kpi::v1::TargetRevision& revision : target->revisions()) {
      add(kpi::v1::ROW_KIND_TARGET, target->region_id(), revision.fiscal_year().year(),
          revision.value(), std::nullopt, std::nullopt, by.first, by.second);
      by = {revision.author(), revision.reason()};
    }
    add(kpi::v1::ROW_KIND_TARGET, target->region_id(), target->fiscal_year().year(),
        target->value(), std::nullopt, std::nullopt, by.first, by.second);
  }

  std::vector<const kpi::v1::Change*> latest;
  for (const auto& [key, change] : actuals) latest.push_back(change);
  std::stable_sort(latest.begin(), latest.end(), [&](const auto* a, const auto* b) {
    return std::make_tuple(order(a->region_id()), a->region_id(), a->fiscal_year().year()) <
           std::make_tuple(order(b->region_id()), b->region_id(), b->fiscal_year().year());
  });
  for (const kpi::v1::Change* change : latest) {
    add(kpi::v1::ROW_KIND_ACTUAL, change->region_id(), change->fiscal_year().year(),
        change->new_value(),
        change->has_new_numerator() ? std::optional<double>(change->new_numerator()) : std::nullopt,
        change->has_new_denominator() ? std::optional<double>(change->new_denominator())
                                      : std::nullopt,
        change->author(), change->reason());
  }
  return records;
}

std::vector<std::vector<std::string>> KpiTableRecords(const kpi::v1::GetKpiTableResponse& response,
                                                      const std::vector<Region>& regions) {
  std::vector<std::vector<std::string>> records;
  records.push_back(Names(KpiTableColumns(), KpiTableColumns().size()));
  const int as_of = response.as_of().year();
  for (const kpi::v1::KpiTable& table : response.tables()) {
    const Kpi& kpi = table.kpi();
    const auto number = [&](double value) { return FormatCsvNumber(value, kpi.value_kind()); };
    for (const kpi::v1::KpiTableRow& row : table.rows()) {
      const RegionInfo info = InfoOf(regions, kpi, row.region_id());
      const bool area = row.computed_from_children() || row.region_id() == kpi.area_id();
      std::string method;
      if (area) {
        switch (kpi.aggregation()) {
          case kpi::v1::AGGREGATION_RULE_SUM:
            method = "合計";
            break;
          case kpi::v1::AGGREGATION_RULE_RATIO:
            method = "比率";
            break;
          case kpi::v1::AGGREGATION_RULE_REPORTED:
            method = "報告値";
            break;
          default:
            break;
        }
      }
      const bool computed = row.computed_from_children();
      for (const kpi::v1::ProgressPoint& point : row.points()) {
        const int year = point.fiscal_year().year();
        std::vector<std::string> notes;
        if (!point.has_value() && computed) {
          notes.push_back(report::AreaUndefinedNote(table, row, point));
        } else if (point.has_value() && point.rate_display().empty()) {
          notes.push_back(absl::StrCat("進捗率: ", report::RateUndefinedNote(point)));
        }
        if (row.has_aggregate() && row.aggregate().fiscal_year().year() == year) {
          for (const std::string& warning : row.aggregate().warnings()) {
            notes.push_back(absl::StrCat("注: ", warning));
          }
        }
        notes.erase(std::remove(notes.begin(), notes.end(), std::string()), notes.end());
        const kpi::v1::Target& target = row.target();
        records.push_back({
            YearCell(as_of),
            EraCell(as_of),
            kpi.id(),
            kpi.name(),
            kpi.unit(),
            row.region_id(),
            info.name.empty() ? row.region_name() : info.name,
            info.code,
            YearCell(year),
            EraCell(year),
            point.has_value() ? number(point.value()) : "",
            point.has_value() ? PercentCell(point.rate_display()) : "",
            point.has_value() ? PercentCell(point.expected_rate_display()) : "",
            point.has_value() ? PlainNumber(point.pace_gap_display()) : "",
            point.has_value() ? ProgressStatusLabel(point.status()) : "",
            row.has_baseline() ? number(row.baseline().value()) : "",
            row.has_baseline() ? YearCell(row.baseline().fiscal_year().year()) : "",
            row.has_baseline() ? EraCell(row.baseline().fiscal_year().year()) : "",
            row.has_target() ? number(target.value()) : "",
            row.has_target() ? YearCell(target.fiscal_year().year()) : "",
            row.has_target() ? EraCell(target.fiscal_year().year()) : "",
            row.has_target() && !target.revisions().empty() ? number(target.revisions(0).value())
                                                            : "",
            method,
            absl::StrJoin(notes, "; "),
        });
      }
    }
  }
  return records;
}

}  // namespace suishin::exchange
