// /sys/fs/cgroup in the container: its own cgroups, through its cgroup
// namespace.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/spawn/beneath.hpp"
#include "exec/spawn/mount_options.hpp"
#include "exec/spawn/mounts.hpp"

namespace ringcri::exec::spawn_detail {

namespace {
constexpr unsigned long safe_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
}  // namespace

result<void> mount_cgroup_tree(int root_fd, const mount_spec& m,
                               const std::vector<cgroup_hierarchy_spec>& hierarchies) {
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
  for (const auto& h : hierarchies) {
    const std::string where = fmt::format("{}: {} \"{}\"", what, h.type, h.name);
    if (h.name.empty() || h.name.find('/') != std::string::npos || h.name[0] == '.')
      return fail(error_kind::invalid_argument, where + ": bad name");
    if (::mkdirat(dir.get(), h.name.c_str(), 0555) < 0) return fail_errno(errno, where);
    unique_fd sub(::openat(dir.get(), h.name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return fail_errno(errno, where);
    const char* data = h.options.empty() ? nullptr : h.options.c_str();
    if (::mount(h.type.c_str(), fd_path(sub.get()).c_str(), h.type.c_str(), flags, data) < 0)
      return fail_errno(errno, where);
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
