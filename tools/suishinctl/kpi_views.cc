#include "tools/suishinctl/kpi_views.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/fiscal_year.h"
#include "common/proto_util.h"
#include "report/report_model.h"
#include "tools/suishinctl/terminal_table.h"

namespace suishin::ctl {
namespace {

using kpi::v1::Change;
using kpi::v1::Kpi;
using kpi::v1::KpiTable;
using kpi::v1::KpiTableRow;
using kpi::v1::ProgressPoint;
using kpi::v1::Target;
using kpi::v1::TargetRevision;

std::string Count(int n, absl::string_view singular, absl::string_view plural) {
  return absl::StrCat(n, " ", n == 1 ? singular : plural);
}

// "上川 (kamikawa)", or the id alone when the KPI has no name for it.
std::string RegionWithId(const Kpi& kpi, const std::string& region_id) {
  const std::string name = RegionName(kpi, region_id);
  return name == region_id ? region_id : absl::StrCat(name, " (", region_id, ")");
}

// "○認定こども園設置数 (カ所)".
std::string Heading(const Kpi& kpi) {
  std::string out = absl::StrCat("○", kpi.name().empty() ? kpi.id() : kpi.name());
  if (!kpi.unit().empty()) absl::StrAppend(&out, " (", kpi.unit(), ")");
  return out;
}

// A value with its numerator and denominator: "43.4% (1234/2843)".
std::string Figure(const Kpi& kpi, std::optional<double> value, std::optional<double> numerator,
                   std::optional<double> denominator) {
  std::string out = value ? ValueWithUnit(*value, kpi) : "";
  if (numerator || denominator) {
    const auto part = [](std::optional<double> x) {
      return x ? FormatKpiNumber(*x, kpi::v1::VALUE_KIND_AMOUNT) : std::string("?");
    };
    absl::StrAppend(&out, out.empty() ? "" : " ", "(", part(numerator), "/", part(denominator),
                    ")");
  }
  return out;
}

template <typename T>
std::optional<double> Opt(bool has, T value) {
  return has ? std::optional<double>(value) : std::nullopt;
}

// "old → new", "→ new" for a first value, "" when neither is set.
std::string ChangeText(const Change& change, const Kpi& kpi) {
  const std::string before = Figure(kpi, Opt(change.has_old_value(), change.old_value()),
                                    Opt(change.has_old_numerator(), change.old_numerator()),
                                    Opt(change.has_old_denominator(), change.old_denominator()));
  const std::string after = Figure(kpi, Opt(change.has_new_value(), change.new_value()),
                                   Opt(change.has_new_numerator(), change.new_numerator()),
                                   Opt(change.has_new_denominator(), change.new_denominator()));
  if (before.empty() && after.empty()) return "";
  if (before.empty()) return absl::StrCat("→ ", after);
  return absl::StrCat(before, " → ", after);
}

// "見直し前28カ所", with the year when it differs from the current target's.
std::string RevisionLabel(const TargetRevision& revision, const Target& target, const Kpi& kpi) {
  std::string out = absl::StrCat("見直し前", ValueWithUnit(revision.value(), kpi));
  if (revision.fiscal_year().year() != target.fiscal_year().year()) {
    absl::StrAppend(&out, " ", EraFiscalYear(revision.fiscal_year().year()));
  }
  return out;
}

// The target with one line per earlier value and when, who and why it was
// replaced: "33カ所 R元 (2019)\n見直し前28カ所  2019-06-30 09:00:00  山田  理由".
std::string TargetWithRevisions(const Target& target, const Kpi& kpi, absl::TimeZone zone) {
  std::string out = absl::StrCat(ValueWithUnit(target.value(), kpi), " ",
                                 FormatFiscalYear(target.fiscal_year().year()));
  for (const TargetRevision& revision : target.revisions()) {
    std::vector<std::string> parts = {RevisionLabel(revision, target, kpi)};
    for (const std::string& part :
         {FormatTimestamp(revision.revise_time(), zone), revision.author(), revision.reason()}) {
      if (!part.empty()) parts.push_back(part);
    }
    absl::StrAppend(&out, "\n", absl::StrJoin(parts, "  "));
  }
  return out;
}

// One KPI's grid and its footnotes.
std::string FormatOneTable(const KpiTable& table) {
  const Kpi& kpi = table.kpi();
  std::string out = absl::StrCat(Heading(kpi), "\n");
  std::set<int> year_set;
  for (const KpiTableRow& row : table.rows()) {
    for (const ProgressPoint& point : row.points()) year_set.insert(point.fiscal_year().year());
  }
  const std::vector<int> years(year_set.begin(), year_set.end());
  if (table.rows().empty()) return absl::StrCat(out, "(no regions)\n");

  std::vector<std::string> headers = {"地域", "基準"};
  for (int year : years) headers.push_back(EraFiscalYear(year));
  headers.push_back("目標");
  TerminalTable grid(std::move(headers));
  // 基準 and the year columns hold numbers.
  for (size_t c = 1; c <= years.size() + 1; ++c) {
    grid.SetAlign(static_cast<int>(c), TerminalTable::Align::kRight);
  }

  std::vector<std::string> notes;
  std::vector<std::string> warnings;
  for (const KpiTableRow& row : table.rows()) {
    const std::string label = report::KpiRowLabel(row, kpi);
    std::vector<std::string> cells = {
        absl::StrCat(report::KpiRowIndentedLabel(row, kpi), "\n  進捗率")};
    cells.push_back(row.has_baseline()
                        ? absl::StrCat(ValueWithUnit(row.baseline().value(), kpi), " ",
                                       EraFiscalYear(row.baseline().fiscal_year().year()))
                        : "");
    const bool computed = row.computed_from_children();
    for (int year : years) {
      const ProgressPoint* point = PointOf(row, year);
      const std::string where = absl::StrCat(kNoFigure, " ", label, " ", FormatFiscalYear(year));
      if (point != nullptr && point->has_value()) {
        std::string rate = point->rate_display();
        if (rate.empty()) {
          rate = std::string(kNoFigure);
          notes.push_back(absl::StrCat(where, " 進捗率: ", RateUndefinedNote(*point)));
        }
        cells.push_back(absl::StrCat(ValueWithUnit(point->value(), kpi), "\n", rate));
      } else if (point != nullptr && computed) {
        notes.push_back(absl::StrCat(where, ": ", AreaUndefinedNote(table, row, *point)));
        cells.push_back(std::string(kNoFigure));
      } else {
        cells.push_back("");
      }
    }
    std::string target;
    if (row.has_target()) {
      target = absl::StrCat(ValueWithUnit(row.target().value(), kpi), " ",
                            EraFiscalYear(row.target().fiscal_year().year()));
      for (const TargetRevision& revision : row.target().revisions()) {
        absl::StrAppend(&target, "\n（", RevisionLabel(revision, row.target(), kpi), "）");
      }
    }
    cells.push_back(std::move(target));
    grid.AddRow(std::move(cells));
    for (const std::string& warning : row.aggregate().warnings()) {
      warnings.push_back(absl::StrCat("注: ", label, " ",
                                      FormatFiscalYear(row.aggregate().fiscal_year().year()), ": ",
                                      warning));
    }
  }
  absl::StrAppend(&out, grid.Render());
  for (const std::string& line : notes) absl::StrAppend(&out, line, "\n");
  for (const std::string& line : warnings) absl::StrAppend(&out, line, "\n");
  return out;
}

}  // namespace

std::string ValueKindLabel(kpi::v1::ValueKind kind) {
  switch (kind) {
    case kpi::v1::VALUE_KIND_COUNT:
      return "count";
    case kpi::v1::VALUE_KIND_PERCENT:
      return "percent";
    case kpi::v1::VALUE_KIND_AMOUNT:
      return "amount";
    default:
      return "?";
  }
}

std::string AggregationLabel(kpi::v1::AggregationRule rule) {
  switch (rule) {
    case kpi::v1::AGGREGATION_RULE_SUM:
      return "sum";
    case kpi::v1::AGGREGATION_RULE_RATIO:
      return "ratio";
    case kpi::v1::AGGREGATION_RULE_REPORTED:
      return "reported";
    default:
      return "?";
  }
}

std::string ProgressMethodLabel(kpi::v1::ProgressMethod method) {
  switch (method) {
    case kpi::v1::PROGRESS_METHOD_ACHIEVEMENT:
      return "achievement";
    case kpi::v1::PROGRESS_METHOD_GAP_CLOSURE:
      return "gap-closure";
    default:
      return "?";
  }
}

std::string FormatTimestamp(const google::protobuf::Timestamp& time, absl::TimeZone zone) {
  if (time.seconds() == 0 && time.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", FromProtoTimestamp(time), zone);
}

std::string FormatKpis(const std::vector<Kpi>& kpis) {
  TerminalTable table({"id", "名称", "単位", "種類", "集計", "計算", "地域"});
  for (const Kpi& kpi : kpis) {
    table.AddRow({kpi.id(), kpi.name(), kpi.unit(), ValueKindLabel(kpi.value_kind()),
                  AggregationLabel(kpi.aggregation()), ProgressMethodLabel(kpi.progress_method()),
                  absl::StrJoin(kpi.region_ids(), ", ")});
  }
  return absl::StrCat(table.Render(), Count(table.rows(), "KPI", "KPIs"), "\n");
}

std::string FormatKpiImport(const std::vector<KpiImportResult>& results) {
  TerminalTable table({"kpi", "名称", "結果", "rows", "applied"});
  table.SetAlign(3, TerminalTable::Align::kRight);
  table.SetAlign(4, TerminalTable::Align::kRight);
  int created = 0;
  int64_t applied = 0;
  for (const KpiImportResult& result : results) {
    std::string outcome = result.created ? "created" : "already present";
    if (!result.created) {
      absl::StrAppend(&outcome,
                      result.rows_sent ? ", had no values: rows sent" : ", rows not re-sent");
    }
    table.AddRow({result.kpi_id, result.name, std::move(outcome), absl::StrCat(result.rows),
                  absl::StrCat(result.rows_applied)});
    created += result.created ? 1 : 0;
    applied += result.rows_applied;
  }
  std::string summary =
      absl::StrCat("kpi: ", Count(static_cast<int>(results.size()), "KPI", "KPIs"), ": ", created,
                   " created, ", results.size() - created, " already present; ", applied,
                   applied == 1 ? " row" : " rows", " applied");
  if (created == 0 && applied == 0) absl::StrAppend(&summary, "; nothing changed");
  return absl::StrCat(table.Render(), summary, "\n");
}

std::string FormatRowErrors(const kpi::v1::ImportActualsResponse& response) {
  std::string out;
  for (const kpi::v1::RowError& error : response.errors()) {
    absl::StrAppend(&out, "line ", error.line(), ": ");
    if (!error.field().empty() && !absl::StartsWith(error.message(), error.field() + ": ")) {
      absl::StrAppend(&out, error.field(), ": ");
    }
    absl::StrAppend(&out, error.message(), "\n");
  }
  return out;
}

std::string FormatKpiTable(const kpi::v1::GetKpiTableResponse& response,
                           absl::string_view project_title) {
  std::string out = absl::StrCat("【ＫＰＩの状況】 ",
                                 project_title.empty() ? response.project_id() : project_title,
                                 "  ", FormatFiscalYear(response.as_of().year()), "\n");
  for (const KpiTable& table : response.tables()) {
    absl::StrAppend(&out, "\n", FormatOneTable(table));
  }
  if (response.tables().empty()) absl::StrAppend(&out, "\n(no KPIs)\n");
  return out;
}

std::string FormatProgress(const kpi::v1::GetProgressResponse& response, absl::TimeZone zone) {
  const Kpi& kpi = response.kpi();
  std::string out = absl::StrCat(Heading(kpi), "  ", RegionWithId(kpi, response.region_id()), "\n");
  TerminalTable facts = TerminalTable::WithoutHeader(2);
  facts.AddRow(
      {"基準", response.has_baseline()
                   ? absl::StrCat(ValueWithUnit(response.baseline().value(), kpi), " ",
                                  FormatFiscalYear(response.baseline().fiscal_year().year()))
                   : "(none)"});
  facts.AddRow({"目標", response.has_target() ? TargetWithRevisions(response.target(), kpi, zone)
                                              : "(none)"});
  absl::StrAppend(&out, facts.Render(), "\n");

  TerminalTable table({"年度", "実績", "進捗率", "想定", "差", "状態", "備考"});
  for (int c = 1; c <= 4; ++c) table.SetAlign(c, TerminalTable::Align::kRight);
  for (const ProgressPoint& point : response.points()) {
    std::string rate = point.rate_display();
    if (rate.empty() && point.has_value()) rate = std::string(kNoFigure);
    table.AddRow({FormatFiscalYear(point.fiscal_year().year()),
                  point.has_value() ? ValueWithUnit(point.value(), kpi) : "", std::move(rate),
                  point.expected_rate_display(), point.pace_gap_display(),
                  ProgressStatusLabel(point.status()), PointNote(point)});
  }
  absl::StrAppend(&out, table.Render());
  return out;
}

// "宗谷総合振興局 (kamikawa-officer)": the display name the request gave and
// the principal who made the change.
std::string ChangeBy(const Change& change) {
  if (change.principal().empty()) return change.author();
  if (change.author().empty()) return change.principal();
  return absl::StrCat(change.author(), " (", change.principal(), ")");
}

std::string FormatHistory(const std::vector<Change>& changes, const Kpi& kpi, absl::TimeZone zone) {
  TerminalTable table({"seq", "時刻", "種類", "地域", "年度", "変更", "担当", "理由"});
  table.SetAlign(0, TerminalTable::Align::kRight);
  for (const Change& change : changes) {
    table.AddRow(
        {absl::StrCat(change.sequence()), FormatTimestamp(change.change_time(), zone),
         ChangeKindLabel(change.kind()),
         change.region_id().empty() ? "" : RegionName(kpi, change.region_id()),
         change.fiscal_year().year() == 0 ? "" : FormatFiscalYear(change.fiscal_year().year()),
         ChangeText(change, kpi), ChangeBy(change), change.reason()});
  }
  return absl::StrCat(table.Render(), Count(table.rows(), "change", "changes"), "\n");
}

std::string FormatChangeLine(const Change& change, absl::TimeZone zone) {
  std::vector<std::string> parts = {
      absl::StrCat("#", change.sequence()), FormatTimestamp(change.change_time(), zone),
      ChangeKindLabel(change.kind()), change.kpi_id(), change.region_id()};
  if (change.fiscal_year().year() != 0) {
    parts.push_back(FormatFiscalYear(change.fiscal_year().year()));
  }
  parts.push_back(ChangeText(change, Kpi()));
  if (const std::string by = ChangeBy(change); !by.empty()) {
    parts.push_back(absl::StrCat("by ", by));
  }
  if (!change.reason().empty()) parts.push_back(absl::StrCat("(", change.reason(), ")"));
  parts.erase(std::remove(parts.begin(), parts.end(), std::string()), parts.end());
  return absl::StrCat(absl::StrJoin(parts, "  "), "\n");
}

std::string FormatRecordedActual(const kpi::v1::RecordActualResponse& response, const Kpi& kpi,
                                 absl::TimeZone zone) {
  const kpi::v1::Actual& actual = response.actual();
  TerminalTable facts = TerminalTable::WithoutHeader(2);
  facts.AddRow({"kpi", kpi.name().empty() ? actual.kpi_id()
                                          : absl::StrCat(actual.kpi_id(), " (", kpi.name(), ")")});
  facts.AddRow({"地域", RegionWithId(kpi, actual.region_id())});
  facts.AddRow({"年度", FormatFiscalYear(actual.fiscal_year().year())});
  facts.AddRow({"実績", Figure(kpi, actual.value(), Opt(actual.has_numerator(), actual.numerator()),
                               Opt(actual.has_denominator(), actual.denominator()))});
  if (!actual.reported_by().empty()) facts.AddRow({"報告者", actual.reported_by()});
  facts.AddRow({"時刻", FormatTimestamp(actual.report_time(), zone)});
  facts.AddRow({"結果", response.corrected()
                            ? "corrected: an earlier figure was replaced (see suishinctl history)"
                            : "recorded"});
  facts.AddRow({"sequence", absl::StrCat(response.sequence())});
  return facts.Render();
}

std::string FormatBaselineSet(const kpi::v1::SetBaselineResponse& response, const Kpi& kpi) {
  const kpi::v1::Baseline& baseline = response.baseline();
  TerminalTable facts = TerminalTable::WithoutHeader(2);
  facts.AddRow(
      {"kpi", kpi.name().empty() ? kpi.id() : absl::StrCat(kpi.id(), " (", kpi.name(), ")")});
  facts.AddRow({"地域", RegionWithId(kpi, baseline.region_id())});
  facts.AddRow(
      {"基準", absl::StrCat(Figure(kpi, baseline.value(),
                                   Opt(baseline.has_numerator(), baseline.numerator()),
                                   Opt(baseline.has_denominator(), baseline.denominator())),
                            " ", FormatFiscalYear(baseline.fiscal_year().year()))});
  facts.AddRow({"sequence", absl::StrCat(response.sequence())});
  return facts.Render();
}

std::string FormatTargetRevised(const kpi::v1::ReviseTargetResponse& response, const Kpi& kpi,
                                absl::TimeZone zone) {
  TerminalTable facts = TerminalTable::WithoutHeader(2);
  facts.AddRow(
      {"kpi", kpi.name().empty() ? kpi.id() : absl::StrCat(kpi.id(), " (", kpi.name(), ")")});
  facts.AddRow({"地域", RegionWithId(kpi, response.target().region_id())});
  facts.AddRow({"目標", TargetWithRevisions(response.target(), kpi, zone)});
  facts.AddRow({"sequence", absl::StrCat(response.sequence())});
  return facts.Render();
}

}  // namespace suishin::ctl
