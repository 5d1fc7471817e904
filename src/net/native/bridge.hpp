#pragma once
// The bridge plugin with host-local IPAM, done in-process over rtnetlink
// with host-local's store, step for step as plugins v1.1.1 does it
// (plugins/main/bridge/bridge.go, pkg/ip, pkg/ipam): the bridge made when
// missing and brought up (its gateway address and its own MAC when
// isGateway, ip_forward on), a veth "veth" + 8 random hex digits on the
// host, enslaved with the config's hairpin mode, its peer born in the pod
// as CNI_IFNAME with the IPAM addresses and routes, ipMasq's masquerade in
// the daemon's nftables table (net/nft/nat_table.hpp), and the result the
// plugin prints, so that DEL and CHECK work whichever of the two did ADD
// and the plugins after it (portmap) get the prevResult they expect.
//
// `host_netns_fd` is the namespace that plays the host (-1: the daemon's
// own); tests pass one of their own so the node is never touched.

#include <string>

#include "base/error.hpp"
#include "net/cni/attachment.hpp"
#include "net/native/bridge_config.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::native {

// The CNI result, in `cni_version`'s form. A failure half-way undoes what
// was done (the veth, the addresses reserved); the bridge stays, as the
// plugin leaves it.
reactor::task<result<std::string>> bridge_add(const bridge_config& config,
                                              const std::string& cni_version,
                                              const cni::attachment& pod, int host_netns_fd = -1);

// Takes the pod's addresses off its interface and releases them; the veth
// goes with the pod's network namespace, which the runtime destroys after
// DEL (the plugin deletes the link, which costs an RCU grace period on the
// request path; see detach() in bridge.cpp). Succeeds when the namespace
// or the interface is already gone.
// The masquerade is left to the chain, which deletes all the pod's
// nftables elements in one transaction (chain.hpp).
reactor::task<result<void>> bridge_del(const bridge_config& config, const cni::attachment& pod,
                                       int host_netns_fd = -1);

// The pod's interface is there and up with the MAC of `prev_result`, its
// host end on the bridge, and host-local still holds its addresses.
reactor::task<result<void>> bridge_check(const bridge_config& config, const cni::attachment& pod,
                                         const std::string& prev_result, int host_netns_fd = -1);

}  // namespace ringcri::net::native
