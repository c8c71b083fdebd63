#include "services/notification/set_aside_kpis.h"

#include <algorithm>
#include <utility>

#include "common/proto_util.h"

namespace suishin::notification {
namespace {

v1::SetAsideKpi ToProto(const std::string& kpi_id, int failures, const std::string& reason,
                        absl::Time next_attempt) {
  v1::SetAsideKpi out;
  out.set_kpi_id(kpi_id);
  out.set_reason(reason);
  out.set_failures(failures);
  *out.mutable_next_attempt_time() = ToProtoTimestamp(next_attempt);
  return out;
}

}  // namespace

SetAsideKpis::SetAsideKpis(Options options) : options_(std::move(options)) {}

v1::SetAsideKpi SetAsideKpis::Failed(const std::string& kpi_id, const std::string& reason,
                                     absl::Time now) {
  absl::MutexLock lock(&mu_);
  Entry& entry = entries_[kpi_id];
  ++entry.failures;
  entry.reason = reason;
  absl::Duration delay = options_.base_delay;
  for (int i = 1; i < entry.failures && delay < options_.max_delay; ++i) delay *= 2;
  entry.next_attempt = now + std::min(delay, options_.max_delay);
  return ToProto(kpi_id, entry.failures, entry.reason, entry.next_attempt);
}

bool SetAsideKpis::Cleared(const std::string& kpi_id) {
  absl::MutexLock lock(&mu_);
  return entries_.erase(kpi_id) > 0;
}

bool SetAsideKpis::Contains(const std::string& kpi_id) const {
  absl::MutexLock lock(&mu_);
  return entries_.count(kpi_id) > 0;
}

std::vector<std::string> SetAsideKpis::Due(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> due;
  for (const auto& [kpi_id, entry] : entries_) {
    if (entry.next_attempt <= now) due.push_back(kpi_id);
  }
  return due;
}

std::optional<absl::Time> SetAsideKpis::NextAttempt() const {
  absl::MutexLock lock(&mu_);
  std::optional<absl::Time> next;
  for (const auto& [kpi_id, entry] : entries_) {
    if (!next || entry.next_attempt < *next) next = entry.next_attempt;
  }
  return next;
}

std::vector<v1::SetAsideKpi> SetAsideKpis::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::SetAsideKpi> out;
  for (const auto& [kpi_id, entry] : entries_) {
    out.push_back(ToProto(kpi_id, entry.failures, entry.reason, entry.next_attempt));
  }
  return out;
}

}  // namespace suishin::notification
