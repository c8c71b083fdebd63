// StoreListener: tells a process that other processes sharing its store
// committed something (replicas of one service on one PostgreSQL, which
// announce their commits with NOTIFY). One per waiting thread.
//
// Announcements can be lost (a connection dropped and came back), so a
// waiter treats them as a hint: it reads what changed from the store either
// way, at the latest after each timeout.
#ifndef SUISHIN_COMMON_STORE_LISTENER_H_
#define SUISHIN_COMMON_STORE_LISTENER_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace suishin {

class StoreListener {
 public:
  virtual ~StoreListener() = default;
  // Waits up to `timeout`: true when commits were announced meanwhile (or
  // the listener cannot tell, after a reconnect), false when the time ran
  // out quietly. The announcements' payloads are appended to `payloads`
  // when it is not null.
  virtual bool Wait(absl::Duration timeout, std::vector<std::string>* payloads = nullptr) = 0;
};

}  // namespace suishin

#endif  // SUISHIN_COMMON_STORE_LISTENER_H_
