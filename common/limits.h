// Limits: the bounds every service applies to what clients send (DESIGN.md
// §8), each a flag with a default, and the stream slots they hand out.
//
// A bound reached is RESOURCE_EXHAUSTED (a count: streams, queued writes) or
// INVALID_ARGUMENT (a size: a text, a list, a message) with the limit and
// the flag that sets it named in the message, never a crash, a hang or an
// unbounded allocation. Service-specific bounds (rows per import, the number
// of webhooks) are flags of their own service and use the same wording
// (LimitError).
#ifndef SUISHIN_COMMON_LIMITS_H_
#define SUISHIN_COMMON_LIMITS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace suishin {

struct Limits {
  // The largest message a server accepts or sends and a channel accepts or
  // sends (--max_message_bytes).
  int max_message_bytes = 4 * 1024 * 1024;
  // Server streams (WatchChanges, Subscribe, ImportActuals) open at once from
  // one client address, and in all (--max_streams_per_client, --max_streams).
  int max_streams_per_client = 256;
  int max_streams = 4096;
  // Writes waiting for the writer (--max_queued_writes).
  int max_queued_writes = 10000;
  // Items in any repeated field of a request that is not an import (regions
  // of a KPI, pillars of a project, matchers of a silence)
  // (--max_list_items).
  int max_list_items = 1000;
  // Characters of a name (a region, a KPI, an author, a responsible body)
  // and of a text (a title, an overview, an initiative, a reason, a comment)
  // (--max_name_chars, --max_text_chars).
  int max_name_chars = 200;
  int max_text_chars = 4000;
  // Keepalive: a ping after this long without traffic, and the connection
  // is dropped when the answer takes longer than the timeout
  // (--keepalive_time_s, --keepalive_timeout_s). 30 s + 10 s: a dead peer
  // is noticed within a minute.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
};

// The limits the flags set. Checked: a value below 1 stops start-up.
Limits LimitsFromFlags();
absl::Status ValidateLimits(const Limits& limits);

// The limits of this process: LimitsFromFlags() once flags are parsed, the
// defaults before (tests). Servers and channels made by common/ use them.
const Limits& ProcessLimits();
// Replaces them (a main after parsing flags; tests).
void SetProcessLimits(const Limits& limits);

// "<what>: <got> is over the limit of <limit> (<flag>)", INVALID_ARGUMENT.
absl::Status LimitError(absl::string_view what, int64_t got, int64_t limit, absl::string_view flag);

// The client a gRPC peer string names, without its port: "ipv4:127.0.0.1"
// for "ipv4:127.0.0.1:53211", "ipv6:[::1]" for "ipv6:[::1]:4000".
std::string ClientOfPeer(absl::string_view peer);

// Open streams, per client and in all. Thread-safe.
//
// Example:
//   absl::StatusOr<StreamSlots::Release> slot = slots.Acquire(context->peer(), "WatchChanges");
//   if (!slot.ok()) return Refuse(slot.status());
//   ... the reactor calls (*slot)() once, in OnDone.
class StreamSlots {
 public:
  using Release = std::function<void()>;

  // The flags are named in errors (the common stream flags by default).
  StreamSlots(int per_client, int total, std::string per_client_flag = "--max_streams_per_client",
              std::string total_flag = "--max_streams");

  StreamSlots(const StreamSlots&) = delete;
  StreamSlots& operator=(const StreamSlots&) = delete;

  // A slot for one stream of `what` from `peer`, or RESOURCE_EXHAUSTED
  // naming the limit reached. Call the returned function exactly once when
  // the stream ends.
  absl::StatusOr<Release> Acquire(absl::string_view peer, absl::string_view what);

  int open() const;

 private:
  const int per_client_;
  const int total_;
  const std::string per_client_flag_;
  const std::string total_flag_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> by_client_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_LIMITS_H_
