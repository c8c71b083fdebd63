#include "services/notification/webhook_targets.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>

#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace suishin::notification {
namespace {

// True when the first `bits` bits of `a` and `b` are the same.
bool SamePrefix(const in6_addr& a, const in6_addr& b, int bits) {
  const int bytes = bits / 8;
  if (std::memcmp(a.s6_addr, b.s6_addr, bytes) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.s6_addr[bytes] & mask) == (b.s6_addr[bytes] & mask);
}

IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress address;
  address.bytes.s6_addr[10] = 0xff;
  address.bytes.s6_addr[11] = 0xff;
  address.bytes.s6_addr[12] = a;
  address.bytes.s6_addr[13] = b;
  address.bytes.s6_addr[14] = c;
  address.bytes.s6_addr[15] = d;
  return address;
}

bool IsMappedV4(const in6_addr& address) {
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(address.s6_addr, kMapped, 12) == 0;
}

struct NamedRange {
  IpAddress base;
  int bits;  // of the IPv6 form
  const char* name;
};

const std::vector<NamedRange>& V4Ranges() {
  static const auto* ranges = new std::vector<NamedRange>{
      {V4(0, 0, 0, 0), 96 + 8, "unspecified (0.0.0.0/8)"},
      {V4(10, 0, 0, 0), 96 + 8, "private (10.0.0.0/8)"},
      {V4(100, 64, 0, 0), 96 + 10, "CGNAT (100.64.0.0/10)"},
      {V4(127, 0, 0, 0), 96 + 8, "loopback (127.0.0.0/8)"},
      {V4(169, 254, 0, 0), 96 + 16, "link-local (169.254.0.0/16)"},
      {V4(172, 16, 0, 0), 96 + 12, "private (172.16.0.0/12)"},
      {V4(192, 0, 0, 0), 96 + 24, "IETF protocol assignments (192.0.0.0/24)"},
      {V4(192, 168, 0, 0), 96 + 16, "private (192.168.0.0/16)"},
      {V4(198, 18, 0, 0), 96 + 15, "benchmarking (198.18.0.0/15)"},
      {V4(224, 0, 0, 0), 96 + 4, "multicast (224.0.0.0/4)"},
      {V4(240, 0, 0, 0), 96 + 4, "reserved or broadcast (240.0.0.0/4)"},
  };
  return *ranges;
}

const std::vector<NamedRange>& V6Ranges() {
  static const auto* ranges = new std::vector<NamedRange>{
      {*IpAddress::Parse("::"), 128, "unspecified (::)"},
      {*IpAddress::Parse("::1"), 128, "loopback (::1)"},
      {*IpAddress::Parse("100::"), 64, "discard-only (100::/64)"},
      {*IpAddress::Parse("fc00::"), 7, "unique-local (fc00::/7)"},
      {*IpAddress::Parse("fe80::"), 10, "link-local (fe80::/10)"},
      {*IpAddress::Parse("fec0::"), 10, "site-local (fec0::/10)"},
      {*IpAddress::Parse("ff00::"), 8, "multicast (ff00::/8)"},
  };
  return *ranges;
}

std::optional<std::string> V4Range(const IpAddress& mapped) {
  for (const NamedRange& range : V4Ranges()) {
    if (SamePrefix(mapped.bytes, range.base.bytes, range.bits)) return std::string(range.name);
  }
  return std::nullopt;
}

// The IPv4 address an IPv6 one carries (IPv4-compatible, NAT64, 6to4), with
// the form's name; nullopt when it carries none.
std::optional<std::pair<IpAddress, const char*>> EmbeddedV4(const in6_addr& address) {
  const uint8_t* b = address.s6_addr;
  static const in6_addr kNat64 = IpAddress::Parse("64:ff9b::")->bytes;
  static const in6_addr kZero{};
  if (SamePrefix(address, kNat64, 96)) {
    return std::make_pair(V4(b[12], b[13], b[14], b[15]), "NAT64 (64:ff9b::/96)");
  }
  if (SamePrefix(address, kZero, 96)) {  // ::a.b.c.d (:: and ::1 are judged before)
    return std::make_pair(V4(b[12], b[13], b[14], b[15]), "IPv4-compatible (::/96)");
  }
  if (b[0] == 0x20 && b[1] == 0x02) {
    return std::make_pair(V4(b[2], b[3], b[4], b[5]), "6to4 (2002::/16)");
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> UrlHost(absl::string_view field, const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
  if (!parsed) return absl::ResourceExhaustedError("out of memory parsing a URL");
  auto refuse = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", why, " (got \"", url, "\")"));
  };
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return refuse("is not a valid URL");
  }
  char* scheme = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
    return refuse("has no scheme");
  }
  const std::string scheme_text = absl::AsciiStrToLower(scheme);
  curl_free(scheme);
  if (scheme_text != "http" && scheme_text != "https") return refuse("must be http or https");
  char* host = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    return refuse("has no host");
  }
  const std::string lower = absl::AsciiStrToLower(host);
  curl_free(host);
  absl::string_view text = lower;
  // An IPv6 host comes in brackets, without its zone ("%eth0").
  if (absl::ConsumePrefix(&text, "[")) text = absl::StripSuffix(text, "]");
  return std::string(text);
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (IsMappedV4(bytes)) {
    inet_ntop(AF_INET, bytes.s6_addr + 12, text, sizeof(text));
  } else {
    inet_ntop(AF_INET6, &bytes, text, sizeof(text));
  }
  return text;
}

std::optional<IpAddress> IpAddress::FromSockaddr(const sockaddr* address) {
  if (address == nullptr) return std::nullopt;
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    const auto* b = reinterpret_cast<const uint8_t*>(&in->sin_addr.s_addr);
    return V4(b[0], b[1], b[2], b[3]);
  }
  if (address->sa_family == AF_INET6) {
    IpAddress out;
    out.bytes = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    return out;
  }
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::Parse(absl::string_view text) {
  const std::string copy(text);
  in_addr v4{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    const auto* b = reinterpret_cast<const uint8_t*>(&v4.s_addr);
    return V4(b[0], b[1], b[2], b[3]);
  }
  IpAddress out;
  if (inet_pton(AF_INET6, copy.c_str(), &out.bytes) == 1) return out;
  return std::nullopt;
}

std::optional<std::string> NonPublicRange(const IpAddress& address) {
  if (IsMappedV4(address.bytes)) return V4Range(address);
  for (const NamedRange& range : V6Ranges()) {
    if (SamePrefix(address.bytes, range.base.bytes, range.bits)) return std::string(range.name);
  }
  if (auto embedded = EmbeddedV4(address.bytes)) {
    if (std::optional<std::string> inner = V4Range(embedded->first)) {
      return absl::StrCat(*inner, " inside ", embedded->second);
    }
  }
  return std::nullopt;
}

absl::StatusOr<TargetPolicy> TargetPolicy::Parse(absl::string_view allowed) {
  TargetPolicy policy;
  for (absl::string_view entry : absl::StrSplit(allowed, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    auto refuse = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("--webhook_allow_targets: \"", entry, "\" ", why));
    };
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(entry, '/');
    if (std::optional<IpAddress> address = IpAddress::Parse(parts.first)) {
      const int width = IsMappedV4(address->bytes) ? 32 : 128;
      int bits = width;
      if (!parts.second.empty() &&
          (!absl::SimpleAtoi(parts.second, &bits) || bits < 0 || bits > width)) {
        return refuse(absl::StrCat("has no prefix length 0–", width));
      }
      policy.ranges_.push_back({*address, bits + (width == 32 ? 96 : 0)});
      continue;
    }
    if (!parts.second.empty()) return refuse("is a range of no IP address");
    const bool name = !entry.empty() && entry.size() <= 253 &&
                      entry.find_first_not_of(
                          "abcdefghijklmnopqrstuvwxyz"
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == absl::string_view::npos;
    if (!name) return refuse("is no IP address, range or host name");
    policy.hosts_.push_back(absl::AsciiStrToLower(entry));
  }
  return policy;
}

absl::Status TargetPolicy::CheckAddress(const IpAddress& address, absl::string_view host) const {
  const std::optional<std::string> range = NonPublicRange(address);
  if (!range) return absl::OkStatus();
  for (const Range& allowed : ranges_) {
    if (SamePrefix(address.bytes, allowed.base.bytes, allowed.prefix_bits)) {
      return absl::OkStatus();
    }
  }
  const std::string lower = absl::AsciiStrToLower(host);
  for (const std::string& allowed : hosts_) {
    if (allowed == lower) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("webhook target \"", host, "\" is ", address.ToString(), ", ", *range,
                   ": not a public address (--webhook_allow_targets names what may be)"));
}

absl::Status TargetPolicy::CheckUrl(absl::string_view field, const std::string& url) const {
  absl::StatusOr<std::string> host = UrlHost(field, url);
  if (!host.ok()) return host.status();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int resolved = getaddrinfo(host->c_str(), nullptr, &hints, &found);
  if (resolved != 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": host \"", *host,
                                                   "\" does not resolve: ", gai_strerror(resolved),
                                                   " (got \"", url, "\")"));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    std::optional<IpAddress> address = IpAddress::FromSockaddr(entry->ai_addr);
    if (!address) continue;
    if (absl::Status status = CheckAddress(*address, *host); !status.ok()) {
      return absl::PermissionDeniedError(absl::StrCat(field, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace suishin::notification
