#include "report/labels.h"

#include <cmath>
#include <cstdint>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/fiscal_year.h"

namespace suishin::report {
namespace {

// Figures are typed with at most this many fractional digits (as kpi-service
// assumes); beyond kMaxMagnitude they are printed with %g.
constexpr double kScale = 10000.0;
constexpr double kMaxMagnitude = 1e14;

}  // namespace

std::string ProgressStatusLabel(kpi::v1::ProgressStatus status) {
  switch (status) {
    case kpi::v1::PROGRESS_STATUS_ACHIEVED:
      return "達成";
    case kpi::v1::PROGRESS_STATUS_ON_TRACK:
      return "順調";
    case kpi::v1::PROGRESS_STATUS_LAGGING:
      return "遅れ";
    case kpi::v1::PROGRESS_STATUS_UNKNOWN:
      return "不明";
    default:
      return "?";
  }
}

std::string ChangeKindLabel(kpi::v1::ChangeKind kind) {
  switch (kind) {
    case kpi::v1::CHANGE_KIND_KPI_CREATED:
      return "KPI作成";
    case kpi::v1::CHANGE_KIND_BASELINE_SET:
      return "基準設定";
    case kpi::v1::CHANGE_KIND_TARGET_REVISED:
      return "目標設定";
    case kpi::v1::CHANGE_KIND_ACTUAL_RECORDED:
      return "実績登録";
    case kpi::v1::CHANGE_KIND_ACTUAL_CORRECTED:
      return "実績訂正";
    default:
      return "?";
  }
}

std::string SeverityLabel(notification::v1::Severity severity) {
  switch (severity) {
    case notification::v1::SEVERITY_CRITICAL:
      return "重大 CRITICAL";
    case notification::v1::SEVERITY_WARNING:
      return "警告 WARNING";
    case notification::v1::SEVERITY_INFO:
      return "情報 INFO";
    default:
      return "?";
  }
}

std::string RuleJapanese(notification::v1::RuleKind rule) {
  switch (rule) {
    case notification::v1::RULE_KIND_LAGGING:
      return "遅れ";
    case notification::v1::RULE_KIND_BELOW_THRESHOLD:
      return "しきい値未満";
    case notification::v1::RULE_KIND_DECLINING:
      return "悪化";
    case notification::v1::RULE_KIND_STAGNANT:
      return "停滞";
    case notification::v1::RULE_KIND_MISSING:
      return "未報告";
    case notification::v1::RULE_KIND_ACHIEVED:
      return "達成";
    default:
      return "?";
  }
}

std::string FormatKpiNumber(double value, kpi::v1::ValueKind kind) {
  if (!std::isfinite(value) || std::fabs(value) > kMaxMagnitude) {
    return absl::StrFormat("%g", value);
  }
  const int64_t scaled = std::llround(value * kScale);
  const int64_t units = static_cast<int64_t>(kScale);
  const uint64_t magnitude =
      scaled < 0 ? static_cast<uint64_t>(-scaled) : static_cast<uint64_t>(scaled);
  std::string out = absl::StrCat(scaled < 0 ? "-" : "", magnitude / units);
  std::string fraction = absl::StrFormat("%04d", static_cast<int>(magnitude % units));
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (fraction.empty() && kind == kpi::v1::VALUE_KIND_PERCENT) fraction = "0";
  if (!fraction.empty()) absl::StrAppend(&out, ".", fraction);
  return out;
}

std::string ValueWithUnit(double value, const kpi::v1::Kpi& kpi) {
  return absl::StrCat(FormatKpiNumber(value, kpi.value_kind()), kpi.unit());
}

std::string RegionName(const kpi::v1::Kpi& kpi, const std::string& region_id) {
  const auto it = kpi.region_names().find(region_id);
  return it == kpi.region_names().end() || it->second.empty() ? region_id : it->second;
}

std::string NoActualNote(int year) { return absl::StrCat(FormatFiscalYear(year), " 実績なし"); }

std::string AreaIncompleteNote(const std::vector<std::string>& missing) {
  return absl::StrCat(absl::StrJoin(missing, "・"), "の実績がないため集計できません");
}

std::string RateUndefinedNote(const kpi::v1::ProgressPoint& point) {
  return point.undefined_reason().empty() ? std::string(kRateNotComputable)
                                          : point.undefined_reason();
}

std::string AreaUndefinedNote(const kpi::v1::KpiTable& table, const kpi::v1::KpiTableRow& area,
                              const kpi::v1::ProgressPoint& point) {
  const std::vector<std::string> missing = MissingChildren(table, area, point.fiscal_year().year());
  return missing.empty() ? point.undefined_reason() : AreaIncompleteNote(missing);
}

std::string PointNote(const kpi::v1::ProgressPoint& point) {
  if (!point.has_value()) return NoActualNote(point.fiscal_year().year());
  return point.undefined_reason();
}

const kpi::v1::ProgressPoint* PointOf(const kpi::v1::KpiTableRow& row, int year) {
  for (const kpi::v1::ProgressPoint& point : row.points()) {
    if (point.fiscal_year().year() == year) return &point;
  }
  return nullptr;
}

std::vector<std::string> MissingChildren(const kpi::v1::KpiTable& table,
                                         const kpi::v1::KpiTableRow& area, int year) {
  std::map<std::string, std::string> names;
  for (const auto& [id, name] : table.kpi().region_names()) names[id] = name.empty() ? id : name;
  for (const kpi::v1::KpiTableRow& row : table.rows()) {
    names[row.region_id()] = row.region_name().empty() ? row.region_id() : row.region_name();
  }
  std::vector<std::string> missing;
  auto named = [&](const google::protobuf::RepeatedPtrField<std::string>& ids) {
    for (const std::string& id : ids) missing.push_back(names.count(id) > 0 ? names[id] : id);
    return missing;
  };
  // kpi-service names them: on the year's point, or on the row's aggregate.
  if (const kpi::v1::ProgressPoint* point = PointOf(area, year);
      point != nullptr && !point->missing_region_ids().empty()) {
    return named(point->missing_region_ids());
  }
  if (area.has_aggregate() && area.aggregate().fiscal_year().year() == year) {
    return named(area.aggregate().missing_region_ids());
  }
  // Other years: the rows below `area` that report (none below them in the
  // table, or not computed from them) without an actual that year.
  std::map<std::string, std::string> parents;
  for (const kpi::v1::KpiTableRow& row : table.rows()) {
    parents[row.region_id()] = row.parent_region_id().empty() && &row != &table.rows(0)
                                   ? table.rows(0).region_id()
                                   : row.parent_region_id();
  }
  auto below = [&](const std::string& id) {
    int hops = 0;  // a tree is never deeper than its rows
    for (std::string at = parents[id]; !at.empty() && hops <= table.rows_size(); ++hops) {
      if (at == area.region_id()) return true;
      at = parents[at];
    }
    return false;
  };
  for (const kpi::v1::KpiTableRow& row : table.rows()) {
    if (row.computed_from_children() || !below(row.region_id())) continue;
    const kpi::v1::ProgressPoint* point = PointOf(row, year);
    if (point == nullptr || !point->has_value()) missing.push_back(names[row.region_id()]);
  }
  return missing;
}

}  // namespace suishin::report
