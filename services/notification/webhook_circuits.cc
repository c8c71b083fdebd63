#include "services/notification/webhook_circuits.h"

#include <algorithm>
#include <utility>

#include "common/proto_util.h"

namespace suishin::notification {

WebhookCircuits::WebhookCircuits(Options options) : options_(std::move(options)) {}

bool WebhookCircuits::ReadyLocked(const Circuit& circuit, absl::Time now) const {
  if (!circuit.open) return true;
  return !circuit.probing && now >= circuit.next_attempt;
}

bool WebhookCircuits::Ready(const std::string& webhook_id, absl::Time now) const {
  absl::MutexLock lock(&mu_);
  auto it = circuits_.find(webhook_id);
  return it == circuits_.end() || ReadyLocked(it->second, now);
}

bool WebhookCircuits::TryStart(const std::string& webhook_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = circuits_.find(webhook_id);
  if (it == circuits_.end()) return true;
  Circuit& circuit = it->second;
  if (!ReadyLocked(circuit, now)) return false;
  if (circuit.open) circuit.probing = true;
  return true;
}

void WebhookCircuits::Succeeded(const std::string& webhook_id) {
  absl::MutexLock lock(&mu_);
  circuits_.erase(webhook_id);
}

void WebhookCircuits::Failed(const std::string& webhook_id, absl::Time now,
                             const std::string& error) {
  absl::MutexLock lock(&mu_);
  Circuit& circuit = circuits_[webhook_id];
  ++circuit.failures;
  circuit.last_error = error;
  const bool was_probe = circuit.probing;
  circuit.probing = false;
  if (!was_probe && circuit.failures < options_.failures_to_open) return;
  if (!was_probe && circuit.open) return;  // an attempt that started before it opened
  // Opens (again): base_delay, doubled each time up to max_delay.
  absl::Duration delay = options_.base_delay;
  for (int i = 0; i < circuit.opened && delay < options_.max_delay; ++i) delay *= 2;
  delay = std::min(delay, options_.max_delay);
  ++circuit.opened;
  circuit.open = true;
  circuit.next_attempt = now + delay;
}

void WebhookCircuits::Abandoned(const std::string& webhook_id) {
  absl::MutexLock lock(&mu_);
  auto it = circuits_.find(webhook_id);
  if (it != circuits_.end()) it->second.probing = false;
}

void WebhookCircuits::Retain(const std::set<std::string>& webhook_ids) {
  absl::MutexLock lock(&mu_);
  for (auto it = circuits_.begin(); it != circuits_.end();) {
    it = webhook_ids.count(it->first) ? std::next(it) : circuits_.erase(it);
  }
}

std::optional<absl::Time> WebhookCircuits::OpenUntil(const std::string& webhook_id) const {
  absl::MutexLock lock(&mu_);
  auto it = circuits_.find(webhook_id);
  if (it == circuits_.end() || !it->second.open || it->second.probing) return std::nullopt;
  return it->second.next_attempt;
}

std::vector<v1::WebhookCircuit> WebhookCircuits::Open() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::WebhookCircuit> out;
  for (const auto& [webhook_id, circuit] : circuits_) {
    if (!circuit.open) continue;
    v1::WebhookCircuit& entry = out.emplace_back();
    entry.set_webhook_id(webhook_id);
    entry.set_failures(circuit.failures);
    entry.set_state(circuit.probing ? "half-open" : "open");
    *entry.mutable_next_attempt_time() = ToProtoTimestamp(circuit.next_attempt);
    entry.set_last_error(circuit.last_error);
  }
  return out;
}

}  // namespace suishin::notification
