#include "net/native/portmap.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "net/native/json_member.hpp"
#include "net/native/nat_owner.hpp"
#include "net/native/sysctl.hpp"

namespace ringcri::net::native {

namespace {

using nlohmann::json;

portmap_choice exec_because(std::string reason) { return {std::nullopt, std::move(reason)}; }

// The pod's first address of each family on its interface, and the first
// host-side interface of the result (the bridge), from the previous result.
struct pod_side {
  std::vector<ip::address> addresses;  // IPv4 first
  std::string host_interface;
};

pod_side pod_side_of(const std::string& prev_result, const cni::attachment& pod) {
  pod_side out;
  json prev = json::parse(prev_result, nullptr, false);
  if (!prev.is_object()) return out;
  const json interfaces = prev.value("interfaces", json::array());
  if (interfaces.is_array())
    for (const json& i : interfaces)
      if (i.is_object() && i.value("sandbox", "").empty() && i.contains("name")) {
        out.host_interface = i.value("name", "");
        break;
      }
  const json ips = prev.value("ips", json::array());
  if (!ips.is_array()) return out;
  for (const json& entry : ips) {
    if (!entry.is_object() || !entry.contains("address") || !entry["address"].is_string()) continue;
    // An address of a known host-side interface is not the pod's.
    if (const json* index = member(entry, "interface"); index && index->is_number_integer()) {
      auto n = index->get<long>();
      if (n >= 0 && interfaces.is_array() && static_cast<std::size_t>(n) < interfaces.size()) {
        const json& i = interfaces[static_cast<std::size_t>(n)];
        if (i.value("name", "") != pod.ifname || i.value("sandbox", "").empty()) continue;
      }
    }
    auto p = ip::prefix::parse(entry["address"].get<std::string>());
    if (!p) continue;
    bool have_family = false;
    for (const auto& a : out.addresses) have_family |= a.is_v4() == p->addr.is_v4();
    if (!have_family) out.addresses.push_back(p->addr);
  }
  std::stable_sort(out.addresses.begin(), out.addresses.end(),
                   [](const ip::address& a, const ip::address& b) { return a.is_v4() && !b.is_v4(); });
  return out;
}

// The mappings of `pod_ip`'s family as table elements: a mapping with a
// host IP of the other family is that family's alone, and an unspecified
// host IP ("0.0.0.0", "::") means any local address, as the plugin reads
// them.
std::vector<nft::host_port> host_ports_of(const portmap_config& config, const ip::address& pod_ip) {
  std::vector<nft::host_port> out;
  for (const auto& m : config.mappings) {
    nft::host_port p;
    p.protocol = m.protocol;
    p.port = m.host_port;
    p.pod_ip = pod_ip;
    p.pod_port = m.container_port;
    if (!m.host_ip.empty()) {
      auto a = ip::address::parse(m.host_ip);
      if (!a || a->is_v4() != pod_ip.is_v4()) continue;
      if (*a != a->masked(0)) p.host_ip = *a;
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

portmap_choice choose_portmap(const json& plugin) {
  portmap_config c;
  if (const json* v = member(plugin, "snat"); v && !v->is_null()) {
    if (!v->is_boolean()) return exec_because("malformed \"snat\"");
    c.snat = v->get<bool>();
  }
  for (const char* key : {"externalSetMarkChain", "conditionsV4", "conditionsV6"})
    if (const json* v = member(plugin, key); v && !v->is_null())
      return exec_because(fmt::format("\"{}\"", key));
  const json* rc = member(plugin, "runtimeConfig");
  const json* maps = rc ? member(*rc, "portMappings") : nullptr;
  if (maps && !maps->is_null()) {
    if (!maps->is_array()) return exec_because("malformed \"portMappings\"");
    for (const json& m : *maps) {
      const json* host = member(m, "hostPort");
      const json* container = member(m, "containerPort");
      const json* protocol = member(m, "protocol");
      const json* host_ip = member(m, "hostIP");
      auto port = [](const json* v) {
        return v && v->is_number_integer() && v->get<long>() > 0 && v->get<long>() <= 65535;
      };
      if (!port(host) || !port(container)) return exec_because("a port mapping the plugin refuses");
      cni::port_mapping p;
      p.host_port = static_cast<std::uint16_t>(host->get<long>());
      p.container_port = static_cast<std::uint16_t>(container->get<long>());
      if (protocol && protocol->is_string()) {
        p.protocol = protocol->get<std::string>();
        std::transform(p.protocol.begin(), p.protocol.end(), p.protocol.begin(), ::tolower);
      }
      if (p.protocol != "tcp" && p.protocol != "udp" && p.protocol != "sctp")
        return exec_because("a port mapping the plugin refuses");
      if (host_ip && host_ip->is_string()) p.host_ip = host_ip->get<std::string>();
      if (!p.host_ip.empty() && !ip::address::parse(p.host_ip))
        return exec_because("a port mapping the plugin refuses");
      c.mappings.push_back(std::move(p));
    }
  }
  return {std::move(c), {}};
}

reactor::task<result<std::string>> portmap_add(const portmap_config& config,
                                               const cni::attachment& pod,
                                               const std::string& prev_result, int host_netns_fd) {
  if (config.mappings.empty() && !config.snat) co_return prev_result;
  pod_side side = pod_side_of(prev_result, pod);
  if (side.addresses.empty()) co_return prev_result;  // no address: nothing to map
  if (side.addresses.front().is_v4() && config.snat && !side.host_interface.empty() &&
      !host_ports_of(config, side.addresses.front()).empty()) {
    std::vector<sysctl_write> localnet{
        make_sysctl(fmt::format("net/ipv4/conf/{}/route_localnet", side.host_interface), "1", true)};
    if (auto set = co_await write_sysctls(host_netns_fd, std::move(localnet)); !set)
      co_return tl::unexpected(std::move(set.error()).context("unable to enable route_localnet"));
  }
  auto nf = co_await nft::open(host_netns_fd);
  if (!nf) co_return tl::unexpected(std::move(nf.error()));
  // With snat every pod is a client, mappings or not: the plugin
  // masquerades hairpin traffic from the mapped pod's whole subnet.
  const std::string owner = nat_owner(pod);
  for (const ip::address& address : side.addresses) {
    auto ports = host_ports_of(config, address);
    auto added = co_await nft::add_host_ports(*nf, owner, address, ports, config.snat);
    if (!added) {
      (void)co_await nft::remove(*nf, owner, nft::share::host_ports);
      co_return tl::unexpected(std::move(added.error()).context("unable to set up port mappings"));
    }
  }
  co_return prev_result;
}

reactor::task<result<void>> portmap_check(const portmap_config& config, const cni::attachment& pod,
                                          const std::string& prev_result, int host_netns_fd) {
  if (config.mappings.empty() && !config.snat) co_return result<void>{};
  pod_side side = pod_side_of(prev_result, pod);
  std::size_t expected = 0;
  for (const ip::address& address : side.addresses)
    expected += host_ports_of(config, address).size() + (config.snat ? 1 : 0);
  if (expected == 0) co_return result<void>{};
  auto nf = co_await nft::open(host_netns_fd);
  if (!nf) co_return tl::unexpected(std::move(nf.error()));
  const std::string owner = nat_owner(pod);
  auto held = co_await nft::count(*nf, owner, nft::share::host_ports);
  if (!held) co_return tl::unexpected(std::move(held.error()));
  if (*held < expected)
    co_return fail(error_kind::failed_precondition,
                   fmt::format("portmap: {} of the pod's {} host port entries are missing from "
                               "the nftables tables {}",
                               expected - *held, expected, nft::nat_table));
  co_return result<void>{};
}

}  // namespace ringcri::net::native
