// /sys/fs/cgroup in the container: its own cgroups, through its cgroup
// namespace.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/cgroups/proc_cgroup.hpp"
#include "exec/spawn/beneath.hpp"
#include "exec/spawn/mount_options.hpp"
#include "exec/spawn/mounts.hpp"

namespace ringcri::exec::spawn_detail {

namespace {
constexpr unsigned long safe_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
}  // namespace

result<std::vector<unique_fd>> clone_cgroup_dirs(const std::vector<cgroup_hierarchy_spec>& hierarchies) {
  std::vector<unique_fd> dirs(hierarchies.size());
  auto text = cgroups::read_own_cgroups();
  if (!text) return tl::unexpected(std::move(text.error()));
  for (std::size_t i = 0; i < hierarchies.size(); ++i) {
    const cgroup_hierarchy_spec& h = hierarchies[i];
    if (h.type != "cgroup" || h.mount_point.empty()) continue;
    const std::string path = cgroups::v1_cgroup_in(*text, h.options);
    if (path.empty()) continue;
    // Its path below the mount's root; not below it, the mount cannot reach it.
    const std::string_view root = h.root.empty() ? std::string_view("/") : std::string_view(h.root);
    std::string_view below = path;
    if (root != "/") {
      if (!below.starts_with(root) || (below.size() > root.size() && below[root.size()] != '/')) continue;
      below.remove_prefix(root.size());
    }
    if (below == "/") below = {};
    const std::string source = h.mount_point + std::string(below);
    int fd = clone_tree(source.c_str(), false);
    if (fd < 0) return fail_errno(errno, fmt::format("mount cgroup: clone \"{}\"", source));
    dirs[i].reset(fd);
  }
  return dirs;
}

result<void> mount_cgroup_tree(int root_fd, const mount_spec& m,
                               const std::vector<cgroup_hierarchy_spec>& hierarchies,
                               std::vector<unique_fd>& dirs) {
  if (hierarchies.empty()) return {};
  const std::string what = fmt::format("mount cgroup on \"{}\"", m.destination);
  const unsigned long flags = safe_flags | (parse_mount_options(m.options).flags & MS_RDONLY);
  auto target = mkdir_all_in_root(root_fd, m.destination);
  if (!target) return tl::unexpected(std::move(target.error()).context(what));
  const std::string path = fd_path(target->get());

  if (hierarchies.size() == 1 && hierarchies[0].name.empty()) {
    const auto& h = hierarchies[0];
    if (::mount(h.type.c_str(), path.c_str(), h.type.c_str(), flags, nullptr) < 0)
      return fail_errno(errno, what);
    return {};
  }

  if (::mount("tmpfs", path.c_str(), "tmpfs", safe_flags, "mode=755,size=64k") < 0)
    return fail_errno(errno, what + ": tmpfs");
  auto tree = open_in_root(root_fd, m.destination, O_DIRECTORY);
  if (!tree) return tl::unexpected(std::move(tree.error()).context(what));
  // The tmpfs as a real directory, to make entries in.
  unique_fd dir(::open(fd_path(tree->get()).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return fail_errno(errno, what + ": open the tmpfs");
  for (std::size_t i = 0; i < hierarchies.size(); ++i) {
    const cgroup_hierarchy_spec& h = hierarchies[i];
    const std::string where = fmt::format("{}: {} \"{}\"", what, h.type, h.name);
    if (h.name.empty() || h.name.find('/') != std::string::npos || h.name[0] == '.')
      return fail(error_kind::invalid_argument, where + ": bad name");
    if (::mkdirat(dir.get(), h.name.c_str(), 0555) < 0) return fail_errno(errno, where);
    unique_fd sub(::openat(dir.get(), h.name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return fail_errno(errno, where);
    if (i < dirs.size() && dirs[i]) {
      // Its own cgroup's directory, bound: a v1 hierarchy mounted anew
      // walks every cgroup of the node's v2 one under cgroup_mutex, which
      // every create and attach on the node waits for.
      struct mount_attr attr {};
      attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                      ((flags & MS_RDONLY) ? MOUNT_ATTR_RDONLY : 0);
      if (::mount_setattr(dirs[i].get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
        return fail_errno(errno, where + ": set its flags");
      if (attach_tree(dirs[i].get(), sub.get()) < 0)
        return fail_errno(errno, where + ": attach its directory");
      dirs[i].reset();
    } else {
      const char* data = h.options.empty() ? nullptr : h.options.c_str();
      if (::mount(h.type.c_str(), fd_path(sub.get()).c_str(), h.type.c_str(), flags, data) < 0)
        return fail_errno(errno, where);
    }
    // "cpu,cpuacct" is also reached as "cpu" and "cpuacct".
    if (h.name.find(',') == std::string::npos) continue;
    std::size_t start = 0;
    while (start <= h.name.size()) {
      std::size_t comma = h.name.find(',', start);
      std::string one = h.name.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!one.empty() && ::symlinkat(h.name.c_str(), dir.get(), one.c_str()) < 0 && errno != EEXIST)
        return fail_errno(errno, fmt::format("{}: symlink \"{}\"", what, one));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (flags & MS_RDONLY) {
    // Through the fd opened after the tmpfs: `path` is the directory under it.
    if (::mount(nullptr, fd_path(tree->get()).c_str(), nullptr,
                MS_REMOUNT | MS_BIND | safe_flags | MS_RDONLY, nullptr) < 0)
      return fail_errno(errno, what + ": remount the tmpfs read-only");
  }
  return {};
}

}  // namespace ringcri::exec::spawn_detail
