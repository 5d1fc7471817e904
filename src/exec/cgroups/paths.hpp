#pragma once
// Cgroup paths as the CRI names them. With the cgroupfs driver a path is
// absolute inside every hierarchy ("/kubepods/besteffort/pod<uid>/<id>");
// the systemd driver (slices, "kubepods-besteffort.slice:cri:<id>") is
// not built yet and has its seam in cgroup_path_for_driver.

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

// The path of a container's cgroup under `cgroup_parent` for the kubelet's
// cgroup driver: "cgroupfs", or "systemd" (INVALID_ARGUMENT for now).
result<std::string> cgroup_path_for_driver(std::string_view driver, std::string_view cgroup_parent,
                                           std::string_view leaf);

}  // namespace ringcri::exec::cgroups
