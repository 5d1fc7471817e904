#pragma once
// The host-local part of a CNI network config: the network's name (which
// names its store directory), `ipam.dataDir`, and the range sets, read as
// host-local reads them (allocator/config.go): `ipam.ranges` is a list of
// range sets, each a list of ranges; an old-style single range at the top
// of `ipam` (`subnet`, `rangeStart`, `rangeEnd`, `gateway`) comes first.
// Keys match case-insensitively, like Go's encoding/json.

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "net/ipam/range.hpp"

namespace ringcri::net::ipam {

inline constexpr const char* default_data_dir = "/var/lib/cni/networks";

struct ipam_config {
  std::string network;                      // the network config's "name"
  std::string data_dir = default_data_dir;  // the store is <data_dir>/<network>
  std::vector<range_set> ranges;            // index i is "range i" in the store
};

// `network` is the plugin's whole config (the object with "name" and
// "ipam"), as host-local receives it on stdin.
result<ipam_config> parse_ipam_config(const nlohmann::json& network);

}  // namespace ringcri::net::ipam
