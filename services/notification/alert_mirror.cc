#include "services/notification/alert_mirror.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"

namespace suishin::notification {
namespace {

// Present while the mirror holds every firing alert; gone after Redis
// restarts empty, which sends readers back to SQLite until it is refilled.
std::string Marker(const SharedCache& redis) { return redis.Key("alerts:ready"); }

std::string RegionKey(const SharedCache& redis, const std::string& region_id) {
  return redis.Key(absl::StrCat("alerts:", region_id));
}

}  // namespace

AlertMirror::AlertMirror(SharedCache* redis, ReadAll read_all)
    : redis_(redis), read_all_(std::move(read_all)) {}

bool AlertMirror::Refill() {
  if (redis_ == nullptr) return false;
  absl::MutexLock lock(&mu_);
  return RefillLocked();
}

bool AlertMirror::RefillLocked() {
  absl::StatusOr<std::vector<v1::Alert>> alerts = read_all_();
  if (!alerts.ok()) return false;
  std::vector<std::vector<std::string>> commands = {{"MULTI"}};
  std::set<std::string> regions;
  for (const v1::Alert& alert : *alerts) regions.insert(alert.region_id());
  for (const std::string& region : regions) commands.push_back({"DEL", RegionKey(*redis_, region)});
  for (const v1::Alert& alert : *alerts) {
    if (alert.state() != v1::ALERT_STATE_FIRING) continue;
    commands.push_back({"HSET", RegionKey(*redis_, alert.region_id()), alert.fingerprint(),
                        alert.SerializeAsString()});
  }
  commands.push_back({"SET", Marker(*redis_), "1"});
  commands.push_back({"EXEC"});
  if (!redis_->Pipeline(commands).ok()) {
    ++errors_;
    return false;
  }
  stale_ = false;
  return true;
}

void AlertMirror::Apply(const std::vector<v1::Alert>& changed) {
  if (redis_ == nullptr || changed.empty()) return;
  std::vector<std::vector<std::string>> commands;
  for (const v1::Alert& alert : changed) {
    if (alert.state() == v1::ALERT_STATE_FIRING) {
      commands.push_back({"HSET", RegionKey(*redis_, alert.region_id()), alert.fingerprint(),
                          alert.SerializeAsString()});
    } else {
      commands.push_back({"HDEL", RegionKey(*redis_, alert.region_id()), alert.fingerprint()});
    }
  }
  absl::MutexLock lock(&mu_);
  if (!redis_->Pipeline(commands).ok()) {
    ++errors_;
    stale_ = true;
  }
}

void AlertMirror::AnnounceEvent(int64_t last_event) {
  if (redis_ == nullptr || last_event <= 0) return;
  if (!redis_->Command({"PUBLISH", redis_->Key("alert-events"), absl::StrCat(last_event)}).ok()) {
    ++errors_;
  }
}

std::optional<std::vector<v1::Alert>> AlertMirror::RegionAlerts(const std::string& region_id) {
  if (redis_ == nullptr) return std::nullopt;
  if (stale_ && !Refill()) return std::nullopt;
  absl::StatusOr<std::vector<RedisReply>> replies =
      redis_->Pipeline({{"EXISTS", Marker(*redis_)}, {"HVALS", RegionKey(*redis_, region_id)}});
  if (!replies.ok()) {
    ++errors_;
    stale_ = true;
    return std::nullopt;
  }
  if ((*replies)[0].integer == 0) {
    // Redis came back empty: refill it and answer from SQLite this time.
    stale_ = true;
    Refill();
    return std::nullopt;
  }
  if ((*replies)[1].type != RedisReply::Type::kArray) return std::nullopt;
  std::vector<v1::Alert> alerts;
  for (const RedisReply& element : (*replies)[1].elements) {
    v1::Alert alert;
    if (!alert.ParseFromString(element.str)) return std::nullopt;
    alerts.push_back(std::move(alert));
  }
  std::sort(alerts.begin(), alerts.end(), [](const v1::Alert& a, const v1::Alert& b) {
    return std::tie(a.kpi_id(), a.region_id(), a.fingerprint()) <
           std::tie(b.kpi_id(), b.region_id(), b.fingerprint());
  });
  return alerts;
}

}  // namespace suishin::notification
