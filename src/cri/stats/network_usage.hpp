#pragma once
// A pod's network counters, read from /proc/thread-self/net/dev inside its
// network namespace (the kernel's own per-interface counters, as cAdvisor
// reads them). Blocking: run on the blocking pool.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::cri::stats {

struct interface_usage {
  std::string name;
  std::uint64_t rx_bytes = 0, rx_errors = 0, tx_bytes = 0, tx_errors = 0;
  std::uint64_t rx_packets = 0, rx_dropped = 0, tx_packets = 0, tx_dropped = 0;
};

// Every interface but lo, in the file's order.
std::vector<interface_usage> parse_net_dev(std::string_view text);

result<std::vector<interface_usage>> network_usage(const std::string& netns_path);

}  // namespace ringcri::cri::stats
