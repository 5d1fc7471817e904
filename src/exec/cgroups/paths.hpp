#pragma once
// Cgroup paths as the CRI names them, for the kubelet's two cgroup
// drivers.
//
// cgroupfs: a path is absolute inside every hierarchy
// ("/kubepods/besteffort/pod<uid>/<id>").
//
// systemd: the kubelet names the pod's cgroup by a slice
// ("kubepods-besteffort-pod<uid>.slice"), each '-' in it naming a parent
// slice, and a container's cgroup is a scope in it
// ("ringcri-<id>.scope", as containerd makes "cri-containerd-<id>.scope").
// The slice expands to its cgroupfs path
// ("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice")
// and the directories are made there directly, like the cgroupfs
// driver's: ringcri does not ask systemd over D-Bus to make the units
// (PID 1 often is not systemd where it runs), so systemd does not know
// these slices and scopes as units.

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace ringcri::exec::cgroups {

// Checks a cgroupfs path: absolute, no empty, "." or ".." components, no
// control characters. "/" is the root. INVALID_ARGUMENT names the value.
result<void> validate_cgroupfs_path(std::string_view path);

// <cgroup_parent>/<leaf>, for the cgroupfs driver. The parent must be a
// valid cgroupfs path, the leaf one valid component.
result<std::string> cgroupfs_path(std::string_view cgroup_parent, std::string_view leaf);

// The cgroupfs path of a systemd slice, as systemd and runc expand it:
// "a-b-c.slice" is "/a.slice/a-b.slice/a-b-c.slice", "-.slice" the root
// "/". INVALID_ARGUMENT naming the slice when it does not end in ".slice",
// has a '/', an empty part ("-a.slice", "a-.slice", "a--b.slice") or a
// character systemd does not allow in unit names.
result<std::string> expand_systemd_slice(std::string_view slice);

// The cgroupfs path of the pod's own cgroup, `cgroup_parent` as the
// kubelet sends it: for "cgroupfs" the parent itself, validated; for
// "systemd" the expanded slice. A parent of the other driver's kind (a
// slice for cgroupfs, a path for systemd) is INVALID_ARGUMENT naming the
// value and the driver.
result<std::string> pod_cgroup_for_driver(std::string_view driver, std::string_view cgroup_parent);

// The path of a container's cgroup in the pod's (`pod_cgroup`, as
// pod_cgroup_for_driver gives it): <pod>/<leaf> for "cgroupfs",
// <pod>/ringcri-<leaf>.scope for "systemd". A leaf that is no directory
// name is INVALID_ARGUMENT naming it.
result<std::string> container_cgroup_for_driver(std::string_view driver, std::string_view pod_cgroup,
                                                std::string_view leaf);

}  // namespace ringcri::exec::cgroups
