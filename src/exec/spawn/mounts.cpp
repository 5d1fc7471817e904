// spec.mounts, each made beneath the rootfs before pivot_root.

#include "exec/spawn/mounts.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>

#include "base/sys/mount_setattr.hpp"
#include "exec/spawn/beneath.hpp"
#include "exec/spawn/mount_options.hpp"

namespace ringcri::exec::spawn_detail {

namespace {
constexpr unsigned long per_mount_flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                          MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

// A bind mount ignores per-mount flags: they take a second, remount call
// on the new mount (reached by opening the destination again, since the
// fd used for the bind still points under it).
result<void> remount_bind(int root_fd, const mount_spec& m, unsigned long flags,
                          const std::string& what) {
  auto top = open_in_root(root_fd, m.destination);
  if (!top) return fail_errno(top.error().sys_errno(), what + ": reopen");
  std::string path = fd_path(top->get());
  unsigned long remount = MS_REMOUNT | MS_BIND | (flags & MS_REC);
  if (::mount(nullptr, path.c_str(), nullptr, remount | (flags & per_mount_flags), nullptr) == 0)
    return {};
  if (errno != EPERM) return fail_errno(errno, what + ": remount");
  // Refused for dropping a flag the source mount has locked: keep them.
  unsigned long kept = current_mount_flags(path.c_str()) | (flags & per_mount_flags);
  if (::mount(nullptr, path.c_str(), nullptr, remount | kept, nullptr) < 0)
    return fail_errno(errno, what + ": remount");
  return {};
}
}  // namespace

int clone_tree(const char* path, bool recursive) {
  return ::open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
}

int attach_tree(int tree_fd, int target_fd) {
  return ::move_mount(tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

result<unique_fd> clone_bind_source(const mount_spec& m) {
  const mount_options opts = parse_mount_options(m.options);
  const bool bind = m.type == "bind" || (opts.flags & MS_BIND);
  if (!bind) return unique_fd{};
  // Nothing can be mounted below a file, but a recursive clone of one
  // still walks every mount on the mount it is in (the host's root, where
  // every pod's namespace holds are): only a directory's is recursive.
  bool recursive = (opts.flags & MS_REC) != 0;
  if (recursive) {
    struct stat st {};
    recursive = ::stat(m.source.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  int fd = clone_tree(m.source.c_str(), recursive);
  if (fd < 0)
    return fail_errno(errno, fmt::format("mount bind \"{}\" on \"{}\"", m.source, m.destination));
  return unique_fd(fd);
}

result<void> mount_in_root(int root_fd, const mount_spec& m, int source_tree, int userns_fd) {
  const mount_options opts = parse_mount_options(m.options);
  const bool bind = m.type == "bind" || (opts.flags & MS_BIND);
  const std::string what = bind
                               ? fmt::format("mount bind \"{}\" on \"{}\"", m.source, m.destination)
                               : fmt::format("mount {} on \"{}\"", m.type, m.destination);
  if (bind && source_tree < 0)
    return fail(error_kind::internal, what + ": the source was not cloned");

  result<unique_fd> target = tl::unexpected(error(error_kind::internal, ""));
  if (bind) {
    struct stat st {};
    if (::fstat(source_tree, &st) < 0) return fail_errno(errno, what);
    target = S_ISDIR(st.st_mode) ? mkdir_all_in_root(root_fd, m.destination)
                                 : make_file_in_root(root_fd, m.destination);
  } else {
    target = mkdir_all_in_root(root_fd, m.destination);
  }
  if (!target) return tl::unexpected(std::move(target.error()).context(what));
  const std::string path = fd_path(target->get());

  if (bind) {
    const unsigned recursive = (opts.flags & MS_REC) ? AT_RECURSIVE : 0;
    if (userns_fd >= 0) {
      // Idmapped before it is attached: the kernel idmaps only a mount
      // that was never attached.
      struct mount_attr attr {};
      attr.attr_set = MOUNT_ATTR_IDMAP;
      attr.userns_fd = static_cast<std::uint64_t>(userns_fd);
      if (::mount_setattr(source_tree, "", AT_EMPTY_PATH | recursive, &attr, sizeof attr) < 0)
        return fail_errno(errno, what + ": idmap the source");
    }
    if (attach_tree(source_tree, target->get()) < 0)
      return fail_errno(errno, what + ": attach the source");
    // The clone is in the peer group of a shared source. Unless the mount
    // is BIDIRECTIONAL, it becomes a slave of the host's (as a bind in a
    // copy of the host's namespace made rslave would be): nothing mounted
    // in the container reaches the host. The spec's own private or slave
    // propagation, set below, does that already where it reaches every
    // mount of the clone.
    const bool spec_isolates = (opts.propagation & (MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) &&
                               ((opts.propagation & MS_REC) || !(opts.flags & MS_REC));
    if (!(opts.propagation & MS_SHARED) && !spec_isolates) {
      auto top = open_in_root(root_fd, m.destination);
      if (!top) return tl::unexpected(std::move(top.error()).context(what));
      if (::mount(nullptr, fd_path(top->get()).c_str(), nullptr, MS_SLAVE | (opts.flags & MS_REC), nullptr) < 0)
        return fail_errno(errno, what + ": make it a slave");
    }
    if (opts.flags & per_mount_flags)
      if (auto r = remount_bind(root_fd, m, opts.flags, what); !r) return r;
  } else {
    const char* data = opts.data.empty() ? nullptr : opts.data.c_str();
    if (::mount(m.source.c_str(), path.c_str(), m.type.c_str(), opts.flags & ~MS_BIND, data) < 0)
      return fail_errno(errno, what);
  }

  if (opts.propagation) {
    auto top = open_in_root(root_fd, m.destination);
    if (!top) return tl::unexpected(std::move(top.error()).context(what));
    if (::mount(nullptr, fd_path(top->get()).c_str(), nullptr, opts.propagation, nullptr) < 0)
      return fail_errno(errno, what + ": set propagation");
  }
  if (opts.recursive_readonly) {
    // Last, so that nothing above undoes it; the fd is the new mount's root.
    auto top = open_in_root(root_fd, m.destination);
    if (!top) return tl::unexpected(std::move(top.error()).context(what));
    if (int err = sys::make_tree_readonly(top->get()); err < 0)
      return fail_errno(-err, what + ": make it recursively read-only");
  }
  return {};
}

}  // namespace ringcri::exec::spawn_detail
