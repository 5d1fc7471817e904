#pragma once
// Links over rtnetlink: the requests that make a pod's plumbing (a bridge,
// a veth pair whose peer is born inside the pod's namespace, the bridge
// port's master and hairpin mode, MTU, up, promiscuous mode, delete) and
// the lookup of one link. A request is a message to run alone or in a
// batch with others (see socket.hpp).
//
// A link is named by index or by name. The kernel accepts a name wherever
// it looks a link up for RTM_NEWLINK/RTM_DELLINK, so requests for links
// made earlier in the same batch can name them; a master and a bridge
// port's flags need the index (the bridge's own setlink looks up by index
// only).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "net/netlink/message.hpp"
#include "net/netlink/socket.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::netlink {

struct link_ref {
  int index = 0;     // used when > 0
  std::string name;  // otherwise

  static link_ref by_index(int index) { return {index, {}}; }
  static link_ref by_name(std::string name) { return {0, std::move(name)}; }
  std::string to_string() const;
};

struct veth_pair {
  std::string name;        // the end in the socket's namespace
  std::string peer_name;   // the end made in `peer_netns_fd`
  int peer_netns_fd = -1;  // -1: the peer stays beside `name`
  unsigned mtu = 0;        // 0: the kernel's default, both ends
  int master_index = 0;    // > 0: `name` is enslaved to this bridge at birth
};

// Fails with EEXIST when either name is taken.
message create_veth(const veth_pair& pair);
message create_bridge(const std::string& name, unsigned mtu = 0);
message delete_link(const link_ref& link);

message set_master(const link_ref& link, int master_index);
message set_mtu(const link_ref& link, unsigned mtu);
message set_up(const link_ref& link, bool up = true);
message set_promiscuous(const link_ref& link, bool on);
// The link's hardware address, 6 bytes. A bridge given its own address
// keeps it, where it would otherwise take the lowest of its ports' and
// change as pods come and go (the bridge plugin does the same).
message set_mac(const link_ref& link, std::span<const std::uint8_t> mac);
// Hairpin mode of a bridge port (IFLA_BRPORT_MODE in the AF_BRIDGE
// IFLA_PROTINFO, as `ip link set ... type bridge_slave hairpin on` and the
// bridge plugin send it): frames may leave by the port they came in.
// `port_index` must already be enslaved.
message set_hairpin(int port_index, bool on);

struct link_info {
  int index = 0;
  std::string name;
  unsigned mtu = 0;
  unsigned flags = 0;  // IFF_UP, IFF_PROMISC...
  int master_index = 0;
  std::string kind;  // "bridge", "veth"; empty for a plain device
  std::string mac;   // "aa:bb:cc:dd:ee:ff", as Go prints it; empty without one
  std::vector<std::uint8_t> mac_bytes;
};

// The link, or a not_found error naming it.
reactor::task<result<link_info>> get_link(socket& on, link_ref link);

}  // namespace ringcri::net::netlink
