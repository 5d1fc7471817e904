#pragma once
// IPv4 and IPv6 addresses and prefixes, as the pod network code handles
// them: parsed from CNI configs, written into netlink messages and named
// in host-local's reservation files. Text comes out exactly as Go's
// net.IP.String() writes it (RFC 5952 for IPv6, including for addresses
// glibc's inet_ntop would print with an embedded IPv4 part), because
// host-local names its files that way.

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace ringcri::net::ip {

class address {
 public:
  address() = default;
  static address v4(std::uint32_t host_order);
  // `bytes` is 4 bytes (AF_INET) or 16 (AF_INET6), network order.
  static address from_bytes(std::span<const std::uint8_t> bytes);

  // "10.1.2.3", "fd00::1". Nothing else (no brackets, no zone).
  static std::optional<address> parse(std::string_view text);

  int family() const { return family_; }
  bool is_v4() const { return family_ == AF_INET; }
  // The address in network order: 4 or 16 bytes.
  std::span<const std::uint8_t> bytes() const { return {bytes_.data(), size()}; }
  std::size_t size() const { return family_ == AF_INET ? 4 : 16; }
  unsigned bits() const { return static_cast<unsigned>(size() * 8); }

  // The next address (wraps at the top of the family's space).
  address next() const;
  address prev() const;
  // Only the first `length` bits kept.
  address masked(unsigned length) const;
  // Every bit after the first `length` set.
  address with_host_bits_set(unsigned length) const;

  std::string to_string() const;

  // Addresses of one family compare as numbers; IPv4 sorts before IPv6.
  std::strong_ordering operator<=>(const address& o) const;
  bool operator==(const address& o) const = default;

 private:
  int family_ = AF_INET;
  std::array<std::uint8_t, 16> bytes_{};
};

// An address with a prefix length: "10.1.2.3/24" (an interface address)
// or "10.1.2.0/24" (a subnet).
struct prefix {
  address addr;
  unsigned length = 0;

  static std::optional<prefix> parse(std::string_view text);

  address network() const { return addr.masked(length); }
  bool contains(const address& a) const;
  std::string to_string() const;
  bool operator==(const prefix& o) const = default;
};

}  // namespace ringcri::net::ip
