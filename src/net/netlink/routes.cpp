#include "net/netlink/routes.hpp"

#include <fmt/format.h>
#include <linux/rtnetlink.h>

namespace ringcri::net::netlink {

namespace {

std::string describe(const route& r) {
  std::string text = r.destination.to_string();
  if (r.gateway) text += " via " + r.gateway->to_string();
  if (r.link_index > 0) text += fmt::format(" dev #{}", r.link_index);
  return text;
}

message route_request(std::uint16_t type, std::uint16_t flags, const route& r, std::string what) {
  message m(type, flags, std::move(what));
  auto* rtm = m.put_extra<rtmsg>();
  rtm->rtm_family = static_cast<unsigned char>(r.destination.addr.family());
  rtm->rtm_dst_len = static_cast<unsigned char>(r.destination.length);
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rtm->rtm_type = RTN_UNICAST;
  if (r.gateway && r.gateway_on_link) rtm->rtm_flags |= RTNH_F_ONLINK;
  if (r.destination.length > 0) {
    ip::address dst = r.destination.network();
    m.put_bytes(RTA_DST, dst.bytes());
  }
  if (r.gateway) {
    auto gw = r.gateway->bytes();
    m.put_bytes(RTA_GATEWAY, gw);
  }
  if (r.link_index > 0) m.put_u32(RTA_OIF, static_cast<std::uint32_t>(r.link_index));
  return m;
}

}  // namespace

route default_route(const ip::address& gateway, int link_index) {
  route r;
  r.destination = ip::prefix{gateway.masked(0), 0};
  r.gateway = gateway;
  r.link_index = link_index;
  return r;
}

message add_route(const route& r) {
  return route_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r,
                       fmt::format("add route {}", describe(r)));
}

message delete_route(const route& r) {
  return route_request(RTM_DELROUTE, 0, r, fmt::format("delete route {}", describe(r)));
}

}  // namespace ringcri::net::netlink
