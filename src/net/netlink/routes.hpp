#pragma once
// Routes over rtnetlink, in the main table: a default route (or any
// destination) via a gateway, and on-link routes that reach a destination
// straight out of a link (scope link, no gateway), as a pod's routes and
// the bridge plugin's are made.

#include <optional>

#include "net/ip/address.hpp"
#include "net/netlink/message.hpp"

namespace ringcri::net::netlink {

struct route {
  ip::prefix destination;              // 0.0.0.0/0 or ::/0 for the default route
  std::optional<ip::address> gateway;  // none: on-link
  int link_index = 0;                  // the output link (0: the kernel picks by gateway)
  // The gateway is reachable on the link although no address of the link
  // covers it (RTNH_F_ONLINK).
  bool gateway_on_link = false;
};

// The default route of `gateway`'s family via `gateway`.
route default_route(const ip::address& gateway, int link_index = 0);

message add_route(const route& r);
message delete_route(const route& r);

}  // namespace ringcri::net::netlink
