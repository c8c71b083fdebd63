// Which network addresses a webhook may reach (DESIGN.md §7).
//
// A webhook URL is a request to connect somewhere on the service's behalf,
// so an address inside the installation's own network — loopback, private
// (RFC 1918), link-local, unique-local, CGNAT (100.64/10), multicast,
// unspecified, broadcast or reserved — is refused unless the operator's
// allow-list (--webhook_allow_targets) names it. The check is made on
// addresses, never on the URL's spelling, so 2130706433, 0177.0.0.1,
// [::ffff:127.0.0.1] and a name that resolves to 127.0.0.1 are all the
// loopback address they stand for. IPv6 forms that carry an IPv4 address
// (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) are
// judged by the IPv4 address inside.
//
// CheckUrl resolves the URL's host and checks every address it resolves to
// (CreateWebhook calls it); the libcurl transport (http_client.h) checks the
// address of each connection it opens, just before it connects, so a name
// that resolves elsewhere by the time of sending is refused then: the
// address checked is the address connected to.
//
// Example:
//   absl::StatusOr<TargetPolicy> policy = TargetPolicy::Parse("127.0.0.1,hooks.internal");
//   RETURN_IF_ERROR(policy->CheckUrl("webhook.url", "http://2130706433:8080/x"));
#ifndef SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_TARGETS_H_
#define SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_TARGETS_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace suishin::notification {

// An IPv4 or IPv6 address, IPv4 kept as IPv4-mapped IPv6 (::ffff:a.b.c.d).
struct IpAddress {
  in6_addr bytes{};
  // The address as people write it ("127.0.0.1", "fe80::1").
  std::string ToString() const;
  // From a sockaddr_in or sockaddr_in6; nullopt for other families.
  static std::optional<IpAddress> FromSockaddr(const sockaddr* address);
  // From a numeric address in its usual form ("10.0.0.1", "::1"); nullopt
  // otherwise.
  static std::optional<IpAddress> Parse(absl::string_view text);
};

// The host of an http(s) URL as libcurl reads it: lower case, numeric IPv4
// forms normalized, IPv6 without brackets. INVALID_ARGUMENT naming `field`
// and the URL when it is none.
absl::StatusOr<std::string> UrlHost(absl::string_view field, const std::string& url);

// Why `address` is not a public unicast address ("loopback (127.0.0.0/8)"),
// or nullopt when it is one.
std::optional<std::string> NonPublicRange(const IpAddress& address);

class TargetPolicy {
 public:
  // Every public address, and nothing else.
  TargetPolicy() = default;
  // `allowed` is a comma-separated list of what may be reached even though
  // it is not public: IP addresses ("127.0.0.1", "::1"), ranges
  // ("10.20.0.0/16", "fd00::/8") and host names ("hooks.pref.local", which
  // allow whatever that name resolves to). INVALID_ARGUMENT naming the entry
  // for anything else.
  static absl::StatusOr<TargetPolicy> Parse(absl::string_view allowed);

  // OK when a connection for a URL whose host is `host` may go to `address`:
  // it is public, in an allowed range, or `host` is an allowed name.
  // PERMISSION_DENIED otherwise, naming the address, its range and the flag.
  absl::Status CheckAddress(const IpAddress& address, absl::string_view host) const;

  // OK when `url` (http or https) names a host that resolves, and every
  // address it resolves to passes CheckAddress. INVALID_ARGUMENT naming
  // `field` and the URL when it cannot be parsed or its host does not
  // resolve; PERMISSION_DENIED when an address is not allowed.
  absl::Status CheckUrl(absl::string_view field, const std::string& url) const;

 private:
  struct Range {
    IpAddress base;
    int prefix_bits = 128;  // of the IPv6 form
  };
  std::vector<Range> ranges_;
  std::vector<std::string> hosts_;  // lower case
};

}  // namespace suishin::notification

#endif  // SUISHIN_SERVICES_NOTIFICATION_WEBHOOK_TARGETS_H_
