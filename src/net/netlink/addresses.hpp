#pragma once
// Interface addresses over rtnetlink, IPv4 and IPv6. An IPv6 address is
// added with IFA_F_NODAD: a pod's address is unique by allocation, and
// duplicate address detection would hold it "tentative" (unusable) for a
// second or more after the pod starts.

#include "net/ip/address.hpp"
#include "net/netlink/message.hpp"

namespace ringcri::net::netlink {

// `local` is the address with its prefix length ("10.22.0.5/24"). IPv4
// gets the subnet's broadcast address, as `ip addr add ... brd +` and the
// CNI plugins set it (none for /31 and /32).
message add_address(int link_index, const ip::prefix& local);
message delete_address(int link_index, const ip::prefix& local);

}  // namespace ringcri::net::netlink
