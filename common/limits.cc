#include "common/limits.h"

#include <memory>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(int, max_message_bytes, 4 * 1024 * 1024,
          "largest gRPC message a server or channel accepts or sends, in bytes");
ABSL_FLAG(int, max_streams_per_client, 256,
          "server streams (watches, subscriptions, imports) one client address may hold open");
ABSL_FLAG(int, max_streams, 4096, "server streams open at once, over all clients");
ABSL_FLAG(int, max_queued_writes, 10000, "writes that may wait for the writer thread");
ABSL_FLAG(int, max_list_items, 1000,
          "items in a repeated field of a request (regions of a KPI, pillars, matchers)");
ABSL_FLAG(int, max_name_chars, 200,
          "characters of a name: a region, a KPI, an author, a responsible body");
ABSL_FLAG(int, max_text_chars, 4000,
          "characters of a text: a title, an overview, an initiative, a reason, a comment");
ABSL_FLAG(int, keepalive_time_s, 30, "seconds without traffic before a keepalive ping");
ABSL_FLAG(int, keepalive_timeout_s, 10,
          "seconds a keepalive ping may go unanswered before the connection is dropped");

namespace suishin {
namespace {

absl::Mutex process_limits_mu(absl::kConstInit);
Limits* process_limits ABSL_GUARDED_BY(process_limits_mu) = nullptr;

}  // namespace

Limits LimitsFromFlags() {
  Limits limits;
  limits.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  limits.max_streams_per_client = absl::GetFlag(FLAGS_max_streams_per_client);
  limits.max_streams = absl::GetFlag(FLAGS_max_streams);
  limits.max_queued_writes = absl::GetFlag(FLAGS_max_queued_writes);
  limits.max_list_items = absl::GetFlag(FLAGS_max_list_items);
  limits.max_name_chars = absl::GetFlag(FLAGS_max_name_chars);
  limits.max_text_chars = absl::GetFlag(FLAGS_max_text_chars);
  limits.keepalive_time = absl::Seconds(absl::GetFlag(FLAGS_keepalive_time_s));
  limits.keepalive_timeout = absl::Seconds(absl::GetFlag(FLAGS_keepalive_timeout_s));
  return limits;
}

absl::Status ValidateLimits(const Limits& limits) {
  for (const auto& [flag, value] :
       {std::pair<const char*, int64_t>{"--max_message_bytes", limits.max_message_bytes},
        {"--max_streams_per_client", limits.max_streams_per_client},
        {"--max_streams", limits.max_streams},
        {"--max_queued_writes", limits.max_queued_writes},
        {"--max_list_items", limits.max_list_items},
        {"--max_name_chars", limits.max_name_chars},
        {"--max_text_chars", limits.max_text_chars},
        {"--keepalive_time_s", absl::ToInt64Seconds(limits.keepalive_time)},
        {"--keepalive_timeout_s", absl::ToInt64Seconds(limits.keepalive_timeout)}}) {
    if (value < 1) {
      return absl::InvalidArgumentError(absl::StrCat(flag, "=", value, " must be at least 1"));
    }
  }
  if (limits.max_message_bytes < 64 * 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_message_bytes=", limits.max_message_bytes, " must be at least 65536"));
  }
  return absl::OkStatus();
}

const Limits& ProcessLimits() {
  absl::MutexLock lock(&process_limits_mu);
  if (process_limits == nullptr) process_limits = new Limits();
  return *process_limits;
}

void SetProcessLimits(const Limits& limits) {
  absl::MutexLock lock(&process_limits_mu);
  if (process_limits == nullptr) {
    process_limits = new Limits(limits);
  } else {
    *process_limits = limits;
  }
}

absl::Status LimitError(absl::string_view what, int64_t got, int64_t limit,
                        absl::string_view flag) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": ", got, " is over the limit of ", limit, " (", flag, ")"));
}

std::string ClientOfPeer(absl::string_view peer) {
  if (absl::StartsWith(peer, "ipv4:") || absl::StartsWith(peer, "ipv6:")) {
    const size_t colon = peer.rfind(':');
    if (colon != absl::string_view::npos && colon > 5) return std::string(peer.substr(0, colon));
  }
  return std::string(peer);
}

StreamSlots::StreamSlots(int per_client, int total, std::string per_client_flag,
                         std::string total_flag)
    : per_client_(per_client),
      total_(total),
      per_client_flag_(std::move(per_client_flag)),
      total_flag_(std::move(total_flag)) {}

absl::StatusOr<StreamSlots::Release> StreamSlots::Acquire(absl::string_view peer,
                                                          absl::string_view what) {
  const std::string client = ClientOfPeer(peer);
  absl::MutexLock lock(&mu_);
  if (open_ >= total_) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": ", open_,
                                                     " streams are open, the limit is ", total_,
                                                     " (", total_flag_, "); try again later"));
  }
  int& mine = by_client_[client];
  if (mine >= per_client_) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": this client (", client, ") has ",
                                                     mine, " streams open, the limit is ",
                                                     per_client_, " (", per_client_flag_, ")"));
  }
  ++mine;
  ++open_;
  auto released = std::make_shared<bool>(false);
  return Release([this, client, released] {
    absl::MutexLock lock(&mu_);
    if (*released) return;
    *released = true;
    --open_;
    auto it = by_client_.find(client);
    if (it != by_client_.end() && --it->second <= 0) by_client_.erase(it);
  });
}

int StreamSlots::open() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

}  // namespace suishin
