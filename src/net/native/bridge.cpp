#include "net/native/bridge.hpp"

#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "base/sys/random.hpp"
#include "base/unique_fd.hpp"
#include "net/ipam/allocator.hpp"
#include "net/ipam/store.hpp"
#include "net/native/nat_owner.hpp"
#include "net/native/pod_netns.hpp"
#include "net/native/sysctl.hpp"
#include "net/netlink/addresses.hpp"
#include "net/netlink/links.hpp"
#include "net/netlink/netns.hpp"
#include "net/netlink/routes.hpp"
#include "net/nft/nat_table.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::net::native {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;
namespace nl = netlink;

reactor::task<result<nl::socket>> host_socket(int host_netns_fd) {
  if (host_netns_fd < 0) co_return nl::socket::open();
  co_return co_await nl::open_in_network_namespace(host_netns_fd);
}

bool is_errno(const error& e, int sys_errno) { return e.sys_errno() == sys_errno; }

// ensureBridge: made when missing, promiscuous if asked, a bridge, its
// IPv6 router advertisements ignored (the plugin owns its routes), up.
reactor::task<result<nl::link_info>> ensure_bridge(nl::socket& host, int host_netns_fd,
                                                   const bridge_config& config) {
  auto fail_with = [&](error e) {
    return tl::unexpected(
        std::move(e).context(fmt::format("failed to create bridge \"{}\"", config.bridge)));
  };
  auto found = co_await nl::get_link(host, nl::link_ref::by_name(config.bridge));
  if (!found) {
    if (found.error().kind() != error_kind::not_found)
      co_return fail_with(std::move(found.error()));
    auto made = co_await host.run(nl::create_bridge(config.bridge, config.mtu));
    if (!made && !is_errno(made.error(), EEXIST)) co_return fail_with(std::move(made.error()));
  }
  if (config.promisc_mode)
    if (auto on =
            co_await host.run(nl::set_promiscuous(nl::link_ref::by_name(config.bridge), true));
        !on)
      co_return fail_with(std::move(on.error()));
  auto br = co_await nl::get_link(host, nl::link_ref::by_name(config.bridge));
  if (!br) co_return fail_with(std::move(br.error()));
  if (br->kind != "bridge")
    co_return fail_with(
        error(error_kind::failed_precondition,
              fmt::format("\"{}\" already exists but is not a bridge", config.bridge)));
  std::vector<sysctl_write> no_ra{
      make_sysctl(fmt::format("net/ipv6/conf/{}/accept_ra", config.bridge), "0")};
  (void)co_await write_sysctls(host_netns_fd, std::move(no_ra));
  if (auto up = co_await host.run(nl::set_up(nl::link_ref::by_index(br->index))); !up)
    co_return fail_with(std::move(up.error()));
  co_return std::move(*br);
}

// What a half-done ADD has made, undone when it is dropped unfinished.
struct add_undo {
  std::optional<nl::socket> host;
  std::optional<std::string> veth;
  bool reserved = false;
  bool masqueraded = false;
};

reactor::task<result<void>> remove_masquerade(const cni::attachment& pod, int host_netns_fd) {
  auto nf = co_await nft::open(host_netns_fd);
  if (!nf) co_return tl::unexpected(std::move(nf.error()));
  const std::string owner = nat_owner(pod);
  co_return co_await nft::remove(*nf, owner, nft::share::masquerade);
}

reactor::task<void> undo(add_undo& u, const bridge_config& config, const cni::attachment& pod,
                         int host_netns_fd) {
  if (u.masqueraded) (void)co_await remove_masquerade(pod, host_netns_fd);
  if (u.reserved) (void)co_await ipam::release_async(config.ipam, pod.container_id, pod.ifname);
  if (u.veth && u.host) (void)co_await u.host->run(nl::delete_link(nl::link_ref::by_name(*u.veth)));
}

bool version_has_ip_version(const std::string& cni_version) {
  return cni_version.rfind("0.", 0) == 0;
}

// The routes of the result: IPAM's, and with isDefaultGateway a default
// route for each family via its first address's gateway, unless IPAM gave
// one with a gateway (calcGateways).
json result_routes(const bridge_config& config, const std::vector<ipam::allocation>& ips) {
  json routes = config.ipam_routes;
  if (!config.is_default_gateway) return routes;
  for (const auto& a : ips) {  // in the addresses' order, as the plugin goes
    const std::string any = a.address.addr.is_v4() ? "0.0.0.0/0" : "::/0";
    bool found = false;
    for (const json& r : routes)
      if (r.contains("gw") && r["dst"] == any) found = true;
    if (!found) routes.push_back({{"dst", any}, {"gw", a.gateway.to_string()}});
  }
  return routes;
}

// The gateway a route without one takes: its family's first (ConfigureIface).
std::optional<ip::address> gateway_for(const ip::address& destination,
                                       const std::vector<ipam::allocation>& ips) {
  for (const auto& a : ips)
    if (a.gateway.is_v4() == destination.is_v4()) return a.gateway;
  return std::nullopt;
}

bool has_family(const std::vector<ipam::allocation>& ips, bool v4) {
  for (const auto& a : ips)
    if (a.address.addr.is_v4() == v4) return true;
  return false;
}

ordered_json result_json(const bridge_config& config, const std::string& cni_version,
                         const cni::attachment& pod, const nl::link_info& br,
                         const nl::link_info& host_veth, const nl::link_info& pod_link,
                         const std::vector<ipam::allocation>& ips, const json& routes) {
  ordered_json out;
  out["cniVersion"] = cni_version;
  out["interfaces"] = ordered_json::array(
      {ordered_json{{"name", br.name}, {"mac", br.mac}},
       ordered_json{{"name", host_veth.name}, {"mac", host_veth.mac}},
       ordered_json{{"name", pod.ifname}, {"mac", pod_link.mac}, {"sandbox", pod.netns_path}}});
  ordered_json list = ordered_json::array();
  for (const auto& a : ips) {
    ordered_json ip;
    if (version_has_ip_version(cni_version)) ip["version"] = a.address.addr.is_v4() ? "4" : "6";
    ip["interface"] = 2;
    ip["address"] = a.address.to_string();
    ip["gateway"] = a.gateway.to_string();
    list.push_back(std::move(ip));
  }
  out["ips"] = std::move(list);
  if (!routes.empty()) {
    ordered_json r = ordered_json::array();
    for (const json& route : routes) {
      ordered_json one{{"dst", route["dst"]}};
      if (route.contains("gw")) one["gw"] = route["gw"];
      r.push_back(std::move(one));
    }
    out["routes"] = std::move(r);
  }
  ordered_json dns = ordered_json::object();
  for (const char* key : {"nameservers", "domain", "search", "options"})
    if (config.dns.contains(key)) dns[key] = config.dns[key];
  out["dns"] = std::move(dns);
  return out;
}

reactor::task<result<std::string>> add(const bridge_config& config, const std::string& cni_version,
                                       const cni::attachment& pod, int host_netns_fd, add_undo& u) {
  auto opened = co_await host_socket(host_netns_fd);
  if (!opened) co_return tl::unexpected(std::move(opened.error()));
  u.host = std::move(*opened);
  auto& host = u.host;
  auto br = co_await ensure_bridge(*host, host_netns_fd, config);
  if (!br) co_return tl::unexpected(std::move(br.error()));

  auto netns = co_await open_netns(pod.netns_path);
  if (!netns) co_return tl::unexpected(std::move(netns.error()));
  auto pod_socket = co_await nl::open_in_network_namespace(netns->get());
  if (!pod_socket) co_return tl::unexpected(std::move(pod_socket.error()));
  // A veth a DEL of ours left in the namespace (detach()) is the old
  // attachment's: it goes before the new one is made.
  if (auto left = co_await nl::get_link(*pod_socket, nl::link_ref::by_name(pod.ifname));
      left && left->kind == "veth") {
    auto gone = co_await pod_socket->run(nl::delete_link(nl::link_ref::by_index(left->index)));
    if (!gone && !is_errno(gone.error(), ENODEV))
      co_return tl::unexpected(std::move(gone.error()).context("failed to remove the old veth"));
  }

  // The veth, its peer born in the pod as CNI_IFNAME, its host end on the
  // bridge. A random name that is taken is drawn again, as the plugin does.
  std::optional<nl::link_info> host_veth;
  for (int attempt = 0;; ++attempt) {
    nl::veth_pair pair{"veth" + sys::random_hex(4), pod.ifname, netns->get(), config.mtu,
                       br->index};
    auto made = co_await host->run(nl::create_veth(pair));
    if (made) {
      u.veth = pair.name;
      auto found = co_await nl::get_link(*host, nl::link_ref::by_name(pair.name));
      if (!found) co_return tl::unexpected(std::move(found.error()));
      host_veth = std::move(*found);
      break;
    }
    if (!is_errno(made.error(), EEXIST) || attempt == 9)
      co_return tl::unexpected(std::move(made.error()).context("failed to create veth"));
  }
  {
    std::vector<nl::message> batch;
    if (config.hairpin_mode) batch.push_back(nl::set_hairpin(host_veth->index, true));
    batch.push_back(nl::set_up(nl::link_ref::by_index(host_veth->index)));
    if (auto done = co_await host->run(batch); !done)
      co_return tl::unexpected(std::move(done.error()));
  }

  auto ips = co_await ipam::allocate_async(config.ipam, pod.container_id, pod.ifname);
  if (!ips) co_return tl::unexpected(std::move(ips.error()));
  u.reserved = true;
  if (ips->empty()) co_return fail(error_kind::internal, "IPAM plugin returned missing IP config");
  json routes = result_routes(config, *ips);

  // The pod's side: the plugin's sysctls, then addresses, up, routes in
  // one batch (each route's gateway defaults to its family's first).
  std::vector<sysctl_write> pod_sysctls{
      make_sysctl(fmt::format("net/ipv6/conf/{}/accept_dad", pod.ifname), "0"),
      make_sysctl(fmt::format("net/ipv4/conf/{}/arp_notify", pod.ifname), "1")};
  // An IPv6 address needs IPv6 on, on lo and the interface.
  if (has_family(*ips, false))
    for (const std::string& link : {std::string("lo"), pod.ifname})
      pod_sysctls.push_back(make_sysctl(fmt::format("net/ipv6/conf/{}/disable_ipv6", link), "0"));
  (void)co_await write_sysctls(netns->get(), std::move(pod_sysctls));
  auto pod_link = co_await nl::get_link(*pod_socket, nl::link_ref::by_name(pod.ifname));
  if (!pod_link) co_return tl::unexpected(std::move(pod_link.error()));
  {
    std::vector<nl::message> batch;
    for (const auto& a : *ips) batch.push_back(nl::add_address(pod_link->index, a.address));
    batch.push_back(nl::set_up(nl::link_ref::by_index(pod_link->index)));
    for (const json& r : routes) {
      nl::route route;
      route.destination = *ip::prefix::parse(r["dst"].get<std::string>());
      route.gateway = r.contains("gw") ? ip::address::parse(r["gw"].get<std::string>())
                                       : gateway_for(route.destination.addr, *ips);
      route.link_index = pod_link->index;
      batch.push_back(nl::add_route(route));
    }
    if (auto done = co_await pod_socket->run(batch); !done)
      co_return tl::unexpected(std::move(done.error()));
  }

  if (config.is_gateway) {
    for (const auto& a : *ips) {
      auto added =
          co_await host->run(nl::add_address(br->index, ip::prefix{a.gateway, a.address.length}));
      if (!added && !is_errno(added.error(), EEXIST))
        co_return tl::unexpected(std::move(added.error()).context("failed to set bridge addr"));
    }
    // Keeps the bridge's MAC from following its lowest port's. A bridge
    // whose last port went before its MAC was kept (a daemon killed in
    // its first ADD, then the DEL) has none, all zeros: nothing to keep,
    // the kernel refuses it, and the next ADD keeps its port's.
    const bool has_mac = std::any_of(br->mac_bytes.begin(), br->mac_bytes.end(),
                                     [](auto b) { return b != 0; });
    if (has_mac)
      if (auto kept =
              co_await host->run(nl::set_mac(nl::link_ref::by_index(br->index), br->mac_bytes));
          !kept)
        co_return tl::unexpected(std::move(kept.error()).context("could not set bridge's mac"));
    std::vector<sysctl_write> forwarding;
    if (has_family(*ips, true))
      forwarding.push_back(make_sysctl("net/ipv4/ip_forward", "1", true));
    if (has_family(*ips, false))
      forwarding.push_back(make_sysctl("net/ipv6/conf/all/forwarding", "1", true));
    auto forward = co_await write_sysctls(host_netns_fd, std::move(forwarding));
    if (!forward)
      co_return tl::unexpected(std::move(forward.error()).context("failed to enable forwarding"));
  }

  // ipMasq: what the pod sends outside its subnet leaves with the host's
  // address (setupIPMasq, with nftables instead of a CNI-* iptables chain).
  if (config.ip_masq) {
    auto nf = co_await nft::open(host_netns_fd);
    if (!nf) co_return tl::unexpected(std::move(nf.error()));
    u.masqueraded = true;
    const std::string owner = nat_owner(pod);
    for (const auto& a : *ips) {
      ip::prefix subnet{a.address.network(), a.address.length};
      auto masq = co_await nft::add_masquerade(*nf, owner, a.address.addr, subnet);
      if (!masq) co_return tl::unexpected(std::move(masq.error()).context("failed to setup IP masquerade"));
    }
  }

  auto br_now = co_await nl::get_link(*host, nl::link_ref::by_index(br->index));
  if (!br_now) co_return tl::unexpected(std::move(br_now.error()));
  auto out = result_json(config, cni_version, pod, *br_now, *host_veth, *pod_link, *ips, routes);
  co_return out.dump();
}

// The pod's addresses as host-local holds them, each with its range's
// prefix length. Blocking.
result<std::vector<ip::prefix>> held_addresses(const bridge_config& config,
                                               const cni::attachment& pod) {
  auto s = ipam::store::open(config.ipam.data_dir, config.ipam.network);
  if (!s) return tl::unexpected(std::move(s.error()));
  auto locked = s->lock();
  if (!locked) return tl::unexpected(std::move(locked.error()));
  std::vector<ip::prefix> out;
  for (const ip::address& a : s->held_by(pod.container_id, pod.ifname))
    for (const auto& set : config.ipam.ranges)
      for (const auto& r : set)
        if (r.contains(a)) out.push_back(ip::prefix{a, r.subnet.length});
  return out;
}

// Takes the pod's interface off the network. Its addresses go at once
// (cheap); the veth itself goes with the pod's network namespace, which
// the runtime destroys right after DEL: deleting a link waits for an RCU
// grace period (10-40 ms on these machines), the kernel's namespace
// cleanup does it off the request path, many at a time. Addressless, a
// veth kept by someone holding the namespace can clash with nothing.
// When the addresses are not known, the link is deleted, as the plugin
// deletes it.
reactor::task<result<void>> detach(nl::socket& pod_socket, const nl::link_info& link,
                                   const bridge_config& config, const cni::attachment& pod) {
  auto held = co_await reactor::run_blocking([&] { return held_addresses(config, pod); });
  if (held && !held->empty()) {
    std::vector<nl::message> batch;
    for (const auto& a : *held) batch.push_back(nl::delete_address(link.index, a));
    auto flushed = co_await pod_socket.run(batch);
    if (flushed || is_errno(flushed.error(), EADDRNOTAVAIL)) co_return result<void>{};
  }
  auto gone = co_await pod_socket.run(nl::delete_link(nl::link_ref::by_index(link.index)));
  if (!gone && !is_errno(gone.error(), ENODEV)) co_return tl::unexpected(std::move(gone.error()));
  co_return result<void>{};
}

}  // namespace

reactor::task<result<std::string>> bridge_add(const bridge_config& config,
                                              const std::string& cni_version,
                                              const cni::attachment& pod, int host_netns_fd) {
  add_undo u;
  auto added = co_await add(config, cni_version, pod, host_netns_fd, u);
  if (!added) co_await undo(u, config, pod, host_netns_fd);
  co_return added;
}

reactor::task<result<void>> bridge_del(const bridge_config& config, const cni::attachment& pod,
                                       int host_netns_fd) {
  // The host end of the veth goes with the pod's; the masquerade goes with
  // the pod's other nftables elements, removed by the chain.
  (void)host_netns_fd;
  if (!pod.netns_path.empty()) {
    auto netns = co_await open_netns(pod.netns_path);
    if (!netns && !is_errno(netns.error(), ENOENT))
      co_return tl::unexpected(std::move(netns.error()));
    if (netns) {
      auto pod_socket = co_await nl::open_in_network_namespace(netns->get());
      if (!pod_socket) co_return tl::unexpected(std::move(pod_socket.error()));
      auto link = co_await nl::get_link(*pod_socket, nl::link_ref::by_name(pod.ifname));
      if (!link && link.error().kind() != error_kind::not_found)
        co_return tl::unexpected(std::move(link.error()));
      if (link) {
        auto detached = co_await detach(*pod_socket, *link, config, pod);
        if (!detached) co_return detached;
      }
    }
  }
  co_return co_await ipam::release_async(config.ipam, pod.container_id, pod.ifname);
}

reactor::task<result<void>> bridge_check(const bridge_config& config, const cni::attachment& pod,
                                         const std::string& prev_result, int host_netns_fd) {
  json prev = json::parse(prev_result, nullptr, false);
  if (!prev.is_object() || !prev.contains("interfaces") || !prev["interfaces"].is_array())
    co_return fail(error_kind::invalid_argument, "bridge: no interfaces in prevResult");
  std::string pod_mac, veth_name;
  for (const json& i : prev["interfaces"]) {
    if (!i.is_object() || !i.contains("name")) continue;
    std::string name = i.value("name", "");
    if (i.value("sandbox", "") == pod.netns_path && name == pod.ifname)
      pod_mac = i.value("mac", "");
    else if (i.value("sandbox", "").empty() && name != config.bridge)
      veth_name = name;
  }
  auto host = co_await host_socket(host_netns_fd);
  if (!host) co_return tl::unexpected(std::move(host.error()));
  auto br = co_await nl::get_link(*host, nl::link_ref::by_name(config.bridge));
  if (!br) co_return tl::unexpected(std::move(br.error()));
  if (br->kind != "bridge")
    co_return fail(error_kind::failed_precondition,
                   fmt::format("Error: Container Interface name in prevResult: {} not a bridge",
                               config.bridge));
  if (!veth_name.empty()) {
    auto veth = co_await nl::get_link(*host, nl::link_ref::by_name(veth_name));
    if (!veth) co_return tl::unexpected(std::move(veth.error()));
    if (veth->master_index != br->index)
      co_return fail(
          error_kind::failed_precondition,
          fmt::format("Error: {} is not attached to bridge {}", veth_name, config.bridge));
  }
  auto netns = co_await open_netns(pod.netns_path);
  if (!netns) co_return tl::unexpected(std::move(netns.error()));
  auto pod_socket = co_await nl::open_in_network_namespace(netns->get());
  if (!pod_socket) co_return tl::unexpected(std::move(pod_socket.error()));
  auto link = co_await nl::get_link(*pod_socket, nl::link_ref::by_name(pod.ifname));
  if (!link) co_return tl::unexpected(std::move(link.error()));
  if (!pod_mac.empty() && link->mac != pod_mac)
    co_return fail(error_kind::failed_precondition,
                   fmt::format("Interface {} Mac {} doesn't match container Mac: {}", pod.ifname,
                               pod_mac, link->mac));
  auto held = co_await reactor::run_blocking([&]() -> result<bool> {
    auto s = ipam::store::open(config.ipam.data_dir, config.ipam.network);
    if (!s) return tl::unexpected(std::move(s.error()));
    auto locked = s->lock();
    if (!locked) return tl::unexpected(std::move(locked.error()));
    return !s->held_by(pod.container_id, pod.ifname).empty();
  });
  if (!held) co_return tl::unexpected(std::move(held.error()));
  if (!*held)
    co_return fail(
        error_kind::failed_precondition,
        fmt::format("host-local: Failed to find address added by container {}", pod.container_id));
  if (config.ip_masq) {
    auto nf = co_await nft::open(host_netns_fd);
    if (!nf) co_return tl::unexpected(std::move(nf.error()));
    const std::string owner = nat_owner(pod);
    auto masq = co_await nft::count(*nf, owner, nft::share::masquerade);
    if (!masq) co_return tl::unexpected(std::move(masq.error()));
    if (*masq == 0)
      co_return fail(error_kind::failed_precondition,
                     fmt::format("bridge: the masquerade of {} is missing from the nftables tables {}",
                                 pod.container_id, nft::nat_table));
  }
  co_return result<void>{};
}

}  // namespace ringcri::net::native
