#pragma once
// The daemon's nftables tables for pod networks done in-process: the
// masquerade of the bridge plugin's ipMasq and the DNAT of portmap's host
// ports, in tables of its own, `ip ringcri` and `ip6 ringcri` (the same
// layout over each family's addresses), so nothing else's rules are
// touched and no iptables process runs:
//
//   map masquerade          pod address -> jump masq-<subnet>
//   map host_ports          protocol . host port -> pod address . port
//   map host_ports_on_ip    host address . protocol . port -> pod address . port
//   set host_port_clients   pod addresses whose DNATed traffic is masqueraded
//   chain masq-<subnet>     return for the subnet and multicast, else masquerade
//   chain dnat_host_ports   DNAT through the two maps
//   prerouting, output      (nat hooks) local destinations -> dnat_host_ports
//   postrouting             (nat hook) DNATed from 127/8 (IPv4) or a client:
//                           masquerade; then the masquerade map
//
// A pod's whole share is map and set elements, added in one transaction,
// each carrying the pod's owner tag ("<container id>/<ifname>") as its
// comment: removal lists the sets and deletes the elements with the tag,
// so a DEL needs no previous result and never touches another pod's
// element. The table and the chains are made once, when first missing
// (each in one transaction that fails with EEXIST if another made it
// first); they stay when the last pod goes, as portmap's chains do.
//
// The semantics are the plugins' (bridge's ipMasq: masquerade what the pod
// sends outside its subnet except multicast; portmap: DNAT to the pod for
// any local destination address or the mapping's host IP, and masquerade
// hairpin and 127.0.0.1 traffic when `snat` is on). A pod address picks
// its family's table; removal and counting look in both.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "net/ip/address.hpp"
#include "net/netlink/socket.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::nft {

inline constexpr const char* nat_table = "ringcri";

struct host_port {
  std::string protocol;  // "tcp", "udp" or "sctp"
  std::uint16_t port = 0;
  std::optional<ip::address> host_ip;  // none: any local address
  ip::address pod_ip;
  std::uint16_t pod_port = 0;
};

// The table's sets a plugin's elements live in; `all` for a pod's whole
// share at once, in one transaction.
enum class share { masquerade, host_ports, all };

// A NETLINK_NETFILTER socket for the table's requests. In the daemon's
// own namespace it is the reactor thread's, kept open: nf_tables makes the
// close of a socket wait for the deferred cleanup of the last commit (an
// RCU grace period, 10-15 ms here), which would land on every pod's
// request. Exchanges on it take turns. In another namespace (a test's) it
// is a socket of its own. Passes as the socket.
class connection {
 public:
  explicit connection(netlink::socket* shared) : socket_(shared) {}
  explicit connection(netlink::socket own) : own_(std::move(own)), socket_(&*own_) {}
  connection(connection&& o) noexcept : own_(std::move(o.own_)), socket_(own_ ? &*own_ : o.socket_) {}
  connection& operator=(connection&&) = delete;
  operator netlink::socket&() const { return *socket_; }

 private:
  std::optional<netlink::socket> own_;
  netlink::socket* socket_;
};

// A connection in `netns_fd` (-1: the daemon's namespace).
reactor::task<result<connection>> open(int netns_fd);

// The pod's masquerade: traffic from `pod` leaving `subnet` (and not
// multicast) takes the host's address.
reactor::task<result<void>> add_masquerade(netlink::socket& nf, const std::string& owner,
                                           const ip::address& pod, const ip::prefix& subnet);
// The pod's host ports, and with `snat` the pod as a client whose DNATed
// traffic is masqueraded (so it can reach a host port of its own network).
// A host port another pod holds fails with already_exists naming it.
reactor::task<result<void>> add_host_ports(netlink::socket& nf, const std::string& owner,
                                           const ip::address& pod,
                                           const std::vector<host_port>& ports, bool snat);
// Deletes the owner's elements of `which`; none is not an error.
reactor::task<result<void>> remove(netlink::socket& nf, const std::string& owner, share which);
// How many elements of `which` the owner has (for CHECK).
reactor::task<result<std::size_t>> count(netlink::socket& nf, const std::string& owner,
                                         share which);

}  // namespace ringcri::net::nft
