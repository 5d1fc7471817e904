#pragma once
// Reading a CNI result (cniVersion 0.3.x, 0.4.0, 1.0.0): the pod's IPs.
// Results name interfaces, and each IP points at one by index; the pod's
// own are those whose "sandbox" is its network namespace.

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::net::cni {

struct pod_ip {
  std::string address;  // without the prefix: "10.88.0.5"
  int prefix_length = 0;
  std::string gateway;  // empty when the result gives none
  int family = 4;       // 4 or 6, from the address
};

// The IPs on the pod's interface: those of the "interfaces" entries whose
// "sandbox" is `netns_path` (or, when none is, any entry with a sandbox);
// all IPs when the result lists no interface in a sandbox. Loopback
// addresses (the loopback plugin's lo is in the sandbox too) are left
// out. IPv4 first, then IPv6, each in result order. INTERNAL when the
// result is malformed.
result<std::vector<pod_ip>> parse_pod_ips(std::string_view result_json,
                                          std::string_view netns_path);

}  // namespace ringcri::net::cni
