#pragma once
// What a pod sandbox holds outside the daemon, made and released in one
// place so RunPodSandbox's undo, StopPodSandbox, RemovePodSandbox and a
// restart all do the same thing:
//
//   <state>/pods/<id>/     held net/ipc/uts namespaces, hosts, resolv.conf, hostname
//   the pod cgroup         cgroup_parent, or /ringcri/pod-<id> when none is given
//   the pod's init         when its containers share one pid namespace
//
// Each step of the release tolerates what is already gone, so any of them
// can be run again after a failure or a crash.

#include "cri/context.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

// Makes everything for `pod` (its config and id set) and fills in the
// paths, the cgroup and the init pid. On failure nothing is left.
reactor::task<result<void>> make_pod_resources(context& ctx, records::pod_sandbox& pod);

// Stops the pod's init and releases its network, IPC and UTS namespaces.
reactor::task<result<void>> release_pod_namespaces(context& ctx, const records::pod_sandbox& pod);

// All of the above plus the pod dir and the cgroup ringcri made.
reactor::task<result<void>> remove_pod_resources(context& ctx, const records::pod_sandbox& pod);

}  // namespace ringcri::cri
