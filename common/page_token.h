// Opaque page tokens for List methods.
//
// A token carries the key of the last item on the page (a store's row
// sequence), so the next page starts right after it and stays correct while
// items are added. Clients treat it as an opaque string.
#ifndef SUISHIN_COMMON_PAGE_TOKEN_H_
#define SUISHIN_COMMON_PAGE_TOKEN_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace suishin {

// A stored item with the key that orders it (its insertion order), which
// page tokens carry.
template <typename T>
struct Keyed {
  int64_t key;
  T value;
};

// The token for the page after the item with key `last_key`.
std::string EncodePageToken(int64_t last_key);

// The key a token carries; 0 for the empty token (the first page).
// INVALID_ARGUMENT naming `field` for anything not made by EncodePageToken.
absl::StatusOr<int64_t> DecodePageToken(absl::string_view field, absl::string_view token);

}  // namespace suishin

#endif  // SUISHIN_COMMON_PAGE_TOKEN_H_
