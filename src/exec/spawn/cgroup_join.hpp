#pragma once
// Joining the cgroups a spawned process belongs to, before anything else
// it does (so every page it touches is charged there).

#include <string>
#include <vector>

#include "base/error.hpp"

namespace ringcri::exec::spawn_detail {

// Writes "0" (this process) to each cgroup.procs file.
result<void> join_cgroups(const std::vector<std::string>& cgroup_procs);

}  // namespace ringcri::exec::spawn_detail
