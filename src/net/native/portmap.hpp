#pragma once
// The portmap plugin (plugins/meta/portmap of containernetworking plugins
// v1.1.1) done in-process with nftables: the pod's host ports as elements
// of the daemon's `ip ringcri` and `ip6 ringcri` tables
// (net/nft/nat_table.hpp) instead of CNI-HOSTPORT-* iptables chains, no
// process started. Same semantics: a mapping DNATs connections to any
// local address (or to its hostIP) on the host port to the pod's first
// address of each family (a hostIP of one family maps that family only);
// with `snat` (default true) hairpin traffic from pods and connections
// from 127.0.0.1 are masqueraded, and the host interface routing to the
// pod gets route_localnet. The plugin masquerades hairpin traffic from the
// whole subnet of a mapped pod; here each pod of the network is entered
// as a client, mappings or not. The result is the previous plugin's.
//
// Native only for what the tables cover: no externalSetMarkChain, no
// conditionsV4/V6 (the chain execs the plugin for those).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "net/cni/attachment.hpp"
#include "net/nft/nat_table.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::native {

struct portmap_config {
  bool snat = true;
  std::vector<cni::port_mapping> mappings;  // runtimeConfig.portMappings
};

// `plugin`: the plugin's stdin config, runtimeConfig included. Either the
// config, or why the plugin must run.
struct portmap_choice {
  std::optional<portmap_config> config;
  std::string exec_reason;
};
portmap_choice choose_portmap(const nlohmann::json& plugin);

// Returns `prev_result` unchanged, as the plugin does. A failure leaves
// none of the pod's elements.
reactor::task<result<std::string>> portmap_add(const portmap_config& config,
                                               const cni::attachment& pod,
                                               const std::string& prev_result,
                                               int host_netns_fd = -1);
// DEL: the chain deletes the pod's elements, found by their owner tag,
// with the bridge's in one transaction (chain.hpp).
// Every mapping of the config has its element.
reactor::task<result<void>> portmap_check(const portmap_config& config, const cni::attachment& pod,
                                          const std::string& prev_result, int host_netns_fd = -1);

}  // namespace ringcri::net::native
