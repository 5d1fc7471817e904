#include "net/netlink/links.hpp"

#include <fmt/format.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

namespace ringcri::net::netlink {

namespace {

// A RTM_NEWLINK/RTM_DELLINK for `link`: its ifinfomsg, and IFLA_IFNAME when
// named.
ifinfomsg* put_link_header(message& m, const link_ref& link, unsigned char family = AF_UNSPEC) {
  auto* ifi = m.put_extra<ifinfomsg>();
  ifi->ifi_family = family;
  if (link.index > 0)
    ifi->ifi_index = link.index;
  else
    m.put_strz(IFLA_IFNAME, link.name);
  return ifi;
}

message change_link(const link_ref& link, std::string what) {
  message m(RTM_NEWLINK, 0, fmt::format("{} {}", what, link.to_string()));
  put_link_header(m, link);
  return m;
}

}  // namespace

std::string link_ref::to_string() const {
  return index > 0 ? fmt::format("link #{}", index) : fmt::format("link {}", name);
}

message create_veth(const veth_pair& pair) {
  message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, fmt::format("create veth {}", pair.name));
  m.put_extra<ifinfomsg>()->ifi_family = AF_UNSPEC;
  m.put_strz(IFLA_IFNAME, pair.name);
  if (pair.mtu) m.put_u32(IFLA_MTU, pair.mtu);
  if (pair.master_index > 0) m.put_u32(IFLA_MASTER, static_cast<std::uint32_t>(pair.master_index));
  nlattr* info = m.begin_nest(IFLA_LINKINFO);
  m.put_strz(IFLA_INFO_KIND, "veth");
  nlattr* data = m.begin_nest(IFLA_INFO_DATA);
  // The peer is a whole link description of its own: an ifinfomsg, then
  // its attributes, inside VETH_INFO_PEER.
  nlattr* peer = m.begin_nest(VETH_INFO_PEER);
  m.put_extra<ifinfomsg>()->ifi_family = AF_UNSPEC;
  m.put_strz(IFLA_IFNAME, pair.peer_name);
  if (pair.mtu) m.put_u32(IFLA_MTU, pair.mtu);
  if (pair.peer_netns_fd >= 0)
    m.put_u32(IFLA_NET_NS_FD, static_cast<std::uint32_t>(pair.peer_netns_fd));
  m.end_nest(peer);
  m.end_nest(data);
  m.end_nest(info);
  return m;
}

message create_bridge(const std::string& name, unsigned mtu) {
  message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, fmt::format("create bridge {}", name));
  m.put_extra<ifinfomsg>()->ifi_family = AF_UNSPEC;
  m.put_strz(IFLA_IFNAME, name);
  if (mtu) m.put_u32(IFLA_MTU, mtu);
  nlattr* info = m.begin_nest(IFLA_LINKINFO);
  m.put_strz(IFLA_INFO_KIND, "bridge");
  m.end_nest(info);
  return m;
}

message delete_link(const link_ref& link) {
  message m(RTM_DELLINK, 0, fmt::format("delete {}", link.to_string()));
  put_link_header(m, link);
  return m;
}

message set_master(const link_ref& link, int master_index) {
  message m = change_link(link, fmt::format("attach to master #{}", master_index));
  m.put_u32(IFLA_MASTER, static_cast<std::uint32_t>(master_index));
  return m;
}

message set_mtu(const link_ref& link, unsigned mtu) {
  message m = change_link(link, fmt::format("set MTU {} on", mtu));
  m.put_u32(IFLA_MTU, mtu);
  return m;
}

message set_up(const link_ref& link, bool up) {
  message m(RTM_NEWLINK, 0, fmt::format("set {} {}", link.to_string(), up ? "up" : "down"));
  auto* ifi = put_link_header(m, link);
  ifi->ifi_change = IFF_UP;
  ifi->ifi_flags = up ? IFF_UP : 0;
  return m;
}

message set_promiscuous(const link_ref& link, bool on) {
  message m(RTM_NEWLINK, 0,
            fmt::format("set promiscuous mode {} on {}", on ? "on" : "off", link.to_string()));
  auto* ifi = put_link_header(m, link);
  ifi->ifi_change = IFF_PROMISC;
  ifi->ifi_flags = on ? IFF_PROMISC : 0;
  return m;
}

message set_mac(const link_ref& link, std::span<const std::uint8_t> mac) {
  message m = change_link(link, "set the hardware address of");
  m.put_bytes(IFLA_ADDRESS, mac);
  return m;
}

message set_hairpin(int port_index, bool on) {
  message m(RTM_SETLINK, 0,
            fmt::format("set hairpin mode {} on bridge port #{}", on ? "on" : "off", port_index));
  put_link_header(m, link_ref::by_index(port_index), AF_BRIDGE);
  nlattr* protinfo = m.begin_nest(IFLA_PROTINFO);
  m.put_u8(IFLA_BRPORT_MODE, on ? 1 : 0);
  m.end_nest(protinfo);
  return m;
}

namespace {

int on_linkinfo_attr(const nlattr* attr, void* data) {
  if (mnl_attr_get_type(attr) == IFLA_INFO_KIND && mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0)
    static_cast<link_info*>(data)->kind.assign(
        static_cast<const char*>(mnl_attr_get_payload(attr)),
        strnlen(static_cast<const char*>(mnl_attr_get_payload(attr)),
                mnl_attr_get_payload_len(attr)));
  return MNL_CB_OK;
}

int on_link_attr(const nlattr* attr, void* data) {
  auto* info = static_cast<link_info*>(data);
  switch (mnl_attr_get_type(attr)) {
    case IFLA_IFNAME:
      if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) info->name = mnl_attr_get_str(attr);
      break;
    case IFLA_MTU:
      if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0) info->mtu = mnl_attr_get_u32(attr);
      break;
    case IFLA_MASTER:
      if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
        info->master_index = static_cast<int>(mnl_attr_get_u32(attr));
      break;
    case IFLA_ADDRESS: {
      const auto* bytes = static_cast<const std::uint8_t*>(mnl_attr_get_payload(attr));
      info->mac_bytes.assign(bytes, bytes + mnl_attr_get_payload_len(attr));
      for (std::uint8_t b : info->mac_bytes)
        info->mac += fmt::format("{}{:02x}", info->mac.empty() ? "" : ":", b);
      break;
    }
    case IFLA_LINKINFO:
      mnl_attr_parse_nested(attr, on_linkinfo_attr, info);
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

}  // namespace

reactor::task<result<link_info>> get_link(socket& on, link_ref link) {
  message m(RTM_GETLINK, 0, fmt::format("look up {}", link.to_string()));
  put_link_header(m, link);
  // Without this the kernel also sends every VF's statistics.
  m.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  std::optional<link_info> found;
  auto asked = co_await on.query(std::move(m), [&found](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(h));
    link_info info;
    info.index = ifi->ifi_index;
    info.flags = ifi->ifi_flags;
    mnl_attr_parse(h, sizeof(ifinfomsg), on_link_attr, &info);
    found = std::move(info);
  });
  if (!asked) {
    if (asked.error().sys_errno() == ENODEV)
      co_return tl::unexpected(error(error_kind::not_found, asked.error().message(), ENODEV));
    co_return tl::unexpected(std::move(asked.error()));
  }
  if (!found)
    co_return fail(error_kind::internal,
                   fmt::format("look up {}: the kernel sent no link", link.to_string()));
  co_return std::move(*found);
}

}  // namespace ringcri::net::netlink
