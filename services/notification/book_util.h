// What the rooms of notification-service's book share and nothing else
// needs: new record ids, the wording of a count at its limit, and filling a
// page of a List answer.
#ifndef SUISHIN_SERVICES_NOTIFICATION_BOOK_UTIL_H_
#define SUISHIN_SERVICES_NOTIFICATION_BOOK_UTIL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/page_token.h"

namespace suishin::notification {

// "silence-0123456789ab": `prefix` and 48 random bits.
std::string NewId(absl::string_view prefix);

// RESOURCE_EXHAUSTED for a count at its limit, worded as StreamSlots words
// its own: "<field>: <count> <what>, the limit is <limit> (<flag>)".
absl::Status CountError(absl::string_view field, int64_t count, absl::string_view what,
                        int64_t limit, absl::string_view flag);

// Hands the items of `page` (at most `page_size` + 1 read) to `add` and sets
// the next page's token when there is more.
template <typename T, typename Add>
void FillPage(std::vector<Keyed<T>>& page, int page_size, Add add, std::string* next_token) {
  for (int i = 0; i < static_cast<int>(page.size()) && i < page_size; ++i) {
    add(std::move(page[i].value));
  }
  if (static_cast<int>(page.size()) > page_size) {
    *next_token = EncodePageToken(page[page_size - 1].key);
  }
}

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_BOOK_UTIL_H_
