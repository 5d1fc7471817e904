// v1 cpuset inheritance (see cgroup_files.hpp). The v1 cpuset controller
// leaves a new cgroup's cpus and mems empty unless the hierarchy was
// mounted with clone_children; runc and containerd copy them down.

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

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

result<void> make_v1_cpuset_cgroup(const std::string& root_dir, std::string_view path) {
  std::vector<std::string> made;
  auto undo = [&](error e) {
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
    return tl::unexpected<error>(std::move(e).context(fmt::format("make cpuset cgroup {}", path)));
  };
  std::string dir = root_dir;
  std::string_view rest = path;
  while (!rest.empty() && rest != "/") {
    rest.remove_prefix(1);  // the '/'
    size_t slash = rest.find('/');
    std::string parent = dir;
    dir = fmt::format("{}/{}", dir == "/" ? "" : dir, rest.substr(0, slash));
    if (::mkdir(dir.c_str(), 0755) == 0)
      made.push_back(dir);
    else if (errno != EEXIST)
      return undo(error::from_errno(errno, fmt::format("make directory {}", dir)));
    if (auto r = inherit_cpuset(parent, dir); !r) return undo(r.error());
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash);
  }
  return {};
}

}  // namespace ringcri::exec::cgroups::detail
