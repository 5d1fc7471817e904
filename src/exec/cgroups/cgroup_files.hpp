#pragma once
// Small reads and writes of cgroup control files, and the per-version
// steps of making a cgroup (v1 cpuset inheritance, v2 controller
// delegation). Internal to src/exec/cgroups/.

#include <string>

#include "base/error.hpp"

namespace ringcri::exec::cgroups::detail {

// The whole of a (small) control file.
result<std::string> read_control(const std::string& path);
// One write(2) of `value`: the kernel takes a control file's value whole.
result<void> write_control(const std::string& path, std::string_view value);

// v1 cpuset: gives `dir` its parent's cpuset.cpus and cpuset.mems where
// they are empty, as a new cpuset cgroup's are (a process cannot join it
// until they are set: ENOSPC).
result<void> inherit_cpuset(const std::string& parent_dir, const std::string& dir);

// v2: enables in `dir`'s cgroup.subtree_control every controller listed in
// its cgroup.controllers, one at a time. Best effort: a controller the
// kernel will not enable there (EBUSY with processes in `dir`, ENOTSUP,
// a controller bound to v1) is left off without failing anything.
void enable_subtree_controllers(const std::string& dir);

}  // namespace ringcri::exec::cgroups::detail
