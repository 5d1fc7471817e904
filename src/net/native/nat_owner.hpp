#pragma once
// The tag a pod's elements carry in the daemon's nftables table
// (net/nft/nat_table.hpp): "<container id>/<ifname>", one per attachment.

#include <string>

#include "net/cni/attachment.hpp"

namespace ringcri::net::native {

inline std::string nat_owner(const cni::attachment& pod) {
  return pod.container_id + "/" + pod.ifname;
}

}  // namespace ringcri::net::native
