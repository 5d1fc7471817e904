#pragma once
// The kernel's "favordynmods" cgroup option (Linux 6.0+). Without it,
// every move of a process into a cgroup (a write to cgroup.procs, v1 or
// v2) waits for an RCU grace period: several milliseconds, most of a
// container's set-up, and more on a busy node. With it, moves are cheap
// and fork and exit pay a little more. The option is the node's, not one
// hierarchy's; a running node takes it on its cgroup2 hierarchy (pure v2,
// or hybrid's unified mount), which keeps its other options.

#include <string>

#include "base/error.hpp"
#include "exec/cgroups/mountinfo.hpp"

namespace ringcri::exec::cgroups {

enum class favordynmods_outcome { switched_on, already_on };

// Reconfigures `unified` (a cgroup2 mount) with favordynmods added to the
// options it has. Fails with the kernel's errno (EINVAL before 6.0).
result<favordynmods_outcome> favor_dynamic_changes(const cgroup_mount& unified);

}  // namespace ringcri::exec::cgroups
