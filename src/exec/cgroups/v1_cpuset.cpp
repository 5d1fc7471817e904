// v1 cpuset inheritance (see cgroup_files.hpp). The v1 cpuset controller
// leaves a new cgroup's cpus and mems empty unless the hierarchy was
// mounted with clone_children; runc and containerd copy them down.

#include <fmt/format.h>

#include "exec/cgroups/cgroup_files.hpp"

namespace ringcri::exec::cgroups::detail {

namespace {

bool blank(std::string_view s) { return s.find_first_not_of(" \n") == std::string_view::npos; }

}  // namespace

result<void> inherit_cpuset(const std::string& parent_dir, const std::string& dir) {
  for (std::string_view file : {"cpuset.cpus", "cpuset.mems"}) {
    const std::string own = fmt::format("{}/{}", dir, file);
    auto current = read_control(own);
    if (!current) return tl::unexpected<error>(current.error());
    if (!blank(*current)) continue;
    const std::string inherited = fmt::format("{}/{}", parent_dir, file);
    auto value = read_control(inherited);
    if (!value) return tl::unexpected<error>(value.error());
    if (blank(*value))
      return fail(error_kind::failed_precondition,
                  fmt::format("{} is empty: no cpus or mems to give {}", inherited, dir));
    if (auto r = write_control(own, *value); !r) return r;
  }
  return {};
}

}  // namespace ringcri::exec::cgroups::detail
