#include "net/netlink/addresses.hpp"

#include <fmt/format.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

namespace ringcri::net::netlink {

namespace {

message address_request(std::uint16_t type, std::uint16_t flags, int link_index,
                        const ip::prefix& local, std::string what) {
  message m(type, flags, std::move(what));
  auto* ifa = m.put_extra<ifaddrmsg>();
  ifa->ifa_family = static_cast<unsigned char>(local.addr.family());
  ifa->ifa_prefixlen = static_cast<unsigned char>(local.length);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<unsigned>(link_index);
  auto bytes = local.addr.bytes();
  m.put_bytes(IFA_LOCAL, bytes);
  m.put_bytes(IFA_ADDRESS, bytes);
  return m;
}

}  // namespace

message add_address(int link_index, const ip::prefix& local) {
  message m =
      address_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, link_index, local,
                      fmt::format("add address {} to link #{}", local.to_string(), link_index));
  if (local.addr.is_v4()) {
    if (local.length < 31) {
      auto broadcast = local.addr.with_host_bits_set(local.length);
      m.put_bytes(IFA_BROADCAST, broadcast.bytes());
    }
  } else {
    m.put_u32(IFA_FLAGS, IFA_F_NODAD);
  }
  return m;
}

message delete_address(int link_index, const ip::prefix& local) {
  return address_request(
      RTM_DELADDR, 0, link_index, local,
      fmt::format("delete address {} from link #{}", local.to_string(), link_index));
}

}  // namespace ringcri::net::netlink
