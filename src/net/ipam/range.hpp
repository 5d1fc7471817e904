#pragma once
// host-local's ranges: a subnet with the first and last address to hand
// out and the gateway never handed out, grouped in range sets (one pod
// gets one address from each set). Defaults and checks are host-local's
// (plugins/ipam/host-local/backend/allocator/range.go): rangeStart is the
// subnet's first host, rangeEnd its last (IPv4 without broadcast), the
// gateway the subnet's first host; a /31, /32, /127 or /128 is refused.

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "net/ip/address.hpp"

namespace ringcri::net::ipam {

struct range {
  ip::prefix subnet;  // the network address and its length
  ip::address start;  // first address handed out, inclusive
  ip::address end;    // last, inclusive
  ip::address gateway;

  bool contains(const ip::address& a) const;
  // "10.22.0.2-10.22.0.254", as host-local names a range in its errors.
  std::string to_string() const;
};

using range_set = std::vector<range>;

// A range as written in a config, before its defaults.
struct range_spec {
  std::string subnet;
  std::optional<std::string> range_start, range_end, gateway;
};

result<range> make_range(const range_spec& spec);
// Every range of one family and none overlapping another.
result<void> check_range_set(const range_set& set);

bool contains(const range_set& set, const ip::address& a);
const range* range_for(const range_set& set, const ip::address& a);
bool overlaps(const range& a, const range& b);
bool overlaps(const range_set& a, const range_set& b);
// Ranges joined by commas, as host-local prints a range set.
std::string to_string(const range_set& set);

}  // namespace ringcri::net::ipam
