#include "services/notification/book_util.h"

#include "absl/base/const_init.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace suishin::notification {

std::string NewId(absl::string_view prefix) {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen;
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%s-%012x", prefix, absl::Uniform<uint64_t>(*gen) & 0xffffffffffffULL);
}

absl::Status CountError(absl::string_view field, int64_t count, absl::string_view what,
                        int64_t limit, absl::string_view flag) {
  return absl::ResourceExhaustedError(
      absl::StrCat(field, ": ", count, " ", what, ", the limit is ", limit, " (", flag, ")"));
}

}  // namespace suishin::notification
