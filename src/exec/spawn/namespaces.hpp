#pragma once
// Where the container's process belongs: its cgroups, and its namespaces
// as the spec lists them (which the clone3 makes, which are joined by
// path), and the settings that live in them (hostname, sysctls).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec::spawn_detail {

// Writes "0" (this process) to each cgroup.procs file. The first step of
// a child, so that every page it touches is charged to the container.
result<void> join_cgroups(const std::vector<std::string>& cgroup_procs);

// The namespace of `type` in the spec, or nullptr when it is the host's.
const namespace_spec* find_namespace(const container_spec& spec, const std::string& type);

// CLONE_NEW* flags for the kinds listed without a path that clone3 makes
// (mount, pid, network, ipc, uts; cgroup is unshared after joining the
// cgroup).
result<std::uint64_t> clone_flags(const container_spec& spec);

// In the child: setns into each network, ipc, uts and cgroup namespace
// given by path.
result<void> join_namespace_paths(const container_spec& spec);

// The pod's user namespace of the spec, opened; an empty fd when the
// container has the host's.
result<unique_fd> open_user_namespace(const container_spec& spec);

// setns into it (no-op for -1). Done last of the set-up, just before the
// process is confined: from then on its capabilities are those of the
// pod's user namespace only (and the bounding set is full again, which
// confine() drops to the spec's).
result<void> join_user_namespace(int userns_fd);

// sethostname, when the container has a UTS namespace and a hostname.
result<void> set_hostname(const container_spec& spec);

// Writes each sysctl ("net.ipv4.ip_forward") to /proc/sys/net/ipv4/ip_forward.
result<void> apply_sysctls(const std::vector<std::pair<std::string, std::string>>& sysctls);

}  // namespace ringcri::exec::spawn_detail
