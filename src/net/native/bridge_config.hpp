#pragma once
// The bridge plugin's config (plugins/main/bridge of containernetworking
// plugins v1.1.1, Debian 12's), read with its keys and defaults, and
// whether the daemon can do what it asks in-process. A config the native
// path does not cover (a VLAN, MAC spoof checking, a fixed MAC, an IPAM
// other than host-local) says why, and the chain runs the plugin instead.
// IPv4, IPv6 and dual-stack ranges; ipMasq is done with the daemon's
// nftables tables.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "net/ipam/config.hpp"

namespace ringcri::net::native {

struct bridge_config {
  std::string bridge = "cni0";
  bool is_gateway = false;
  bool is_default_gateway = false;  // implies is_gateway
  bool force_address = false;
  bool ip_masq = false;
  unsigned mtu = 0;  // 0: the kernel's default
  bool hairpin_mode = false;
  bool promisc_mode = false;
  ipam::ipam_config ipam;
  // IPAM's static routes ("ipam": {"routes": [{"dst", "gw"}]}), as
  // host-local returns them.
  nlohmann::json ipam_routes = nlohmann::json::array();
  // The plugin's own "dns", which replaces IPAM's in the result.
  nlohmann::json dns = nlohmann::json::object();
};

// `plugin` is the plugin's stdin config (its object with the list's
// "name" and "cniVersion"). Either the config, or why the plugin must
// run (an unsupported key or value: the plugin itself gives the error for
// a malformed config).
struct bridge_choice {
  std::optional<bridge_config> config;
  std::string exec_reason;
};
bridge_choice choose_bridge(const nlohmann::json& plugin);

}  // namespace ringcri::net::native
