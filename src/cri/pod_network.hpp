#pragma once
// A pod's network through CNI: the plugins of the node's network list
// (the first file in cni.conf_dir) attach the pod's held network namespace
// on RunPodSandbox and detach it on StopPodSandbox or RemovePodSandbox.
// Pods on the host network have none.
//
// The plugins are programs that can take a while (bridge and iptables
// work): they run on the blocking pool, never on a reactor thread.
//
// The pod record keeps the network list as it was at ADD and the result,
// until DEL has succeeded: a DEL that failed is tried again by the next
// StopPodSandbox or RemovePodSandbox, after a restart too, with the same
// list even if the file changed meanwhile.

#include <functional>
#include <optional>
#include <string>

#include "cri/context.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

// Attaches the pod (its netns_path set) and fills in its IPs, cni_network
// and cni_result: true. With no network config on the node the pod keeps
// loopback only: false (kubelet sees NetworkReady false and sends no such
// pods; crictl users still get an isolated pod). On failure the plugins
// have undone their work and the error carries the plugin's own words.
// `before_add`, when given, runs once the network is known (cni_network
// set) and before the first plugin: the place to note the pod's intent.
reactor::task<result<bool>> attach_pod_network(
    context& ctx, records::pod_sandbox& pod,
    std::function<reactor::task<result<void>>()> before_add = {});

// Detaches the pod when it is attached; succeeds when it is not (or no
// longer) attached. On success the caller clears cni_network/cni_result.
reactor::task<result<void>> detach_pod_network(context& ctx, const records::pod_sandbox& pod);

// CNI CHECK of every ready pod's network, one after another, after a
// restart: a pod whose veth or address went missing while the daemon was
// away is logged (the plugins' own words), so it can be told apart from
// a runtime fault. Runs in the background; stops early at shutdown.
reactor::task<void> check_pod_networks(context& ctx);

// Whether the node has a network config that loads: nullopt when ready,
// else why not (for the NetworkReady condition).
reactor::task<std::optional<std::string>> network_not_ready_reason(context& ctx);

}  // namespace ringcri::cri
