// v2 controller delegation (see cgroup_files.hpp). A v2 cgroup's
// interface files (memory.max, pids.max...) exist only when its parent
// enabled the controller in cgroup.subtree_control, so each level down to
// the new cgroup passes on what it has.

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "exec/cgroups/cgroup_files.hpp"

namespace ringcri::exec::cgroups::detail {

void enable_subtree_controllers(const std::string& dir) {
  auto available = read_control(fmt::format("{}/cgroup.controllers", dir));
  if (!available) return;
  auto enabled = read_control(fmt::format("{}/cgroup.subtree_control", dir));
  if (!enabled) return;
  const auto on = words(*enabled);
  const std::string control = fmt::format("{}/cgroup.subtree_control", dir);
  for (const auto& controller : words(*available)) {
    if (std::find(on.begin(), on.end(), controller) != on.end()) continue;
    // Ignored on purpose: pod start never fails over a controller the
    // kernel will not delegate here.
    (void)write_control(control, fmt::format("+{}", controller));
  }
}

}  // namespace ringcri::exec::cgroups::detail
