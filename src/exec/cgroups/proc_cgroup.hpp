#pragma once
// Which cgroups a process is in, from /proc/<pid>/cgroup
// ("<id>:<controllers>:<path>" lines; v2's has no controllers).

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace ringcri::exec::cgroups {

// The path, in /proc/<pid>/cgroup text, of the cgroup in the v1 hierarchy
// of `controllers` ("cpu,cpuacct", "none,name=systemd": compared as sets,
// "none" left out); "" when no line names that hierarchy.
std::string v1_cgroup_in(std::string_view proc_cgroup_text, std::string_view controllers);

// The text of /proc/self/cgroup. Relative to the caller's cgroup
// namespace, so read before making one.
result<std::string> read_own_cgroups();

}  // namespace ringcri::exec::cgroups
