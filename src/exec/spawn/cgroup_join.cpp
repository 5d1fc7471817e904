// Moving the spawned process into its cgroups.

#include "exec/spawn/cgroup_join.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace ringcri::exec::spawn_detail {

result<void> join_cgroups(const std::vector<std::string>& cgroup_procs) {
  for (const std::string& path : cgroup_procs) {
    unique_fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), "0", 1) < 0)
      return fail_errno(errno, fmt::format("join cgroup \"{}\"", path));
  }
  return {};
}

}  // namespace ringcri::exec::spawn_detail
