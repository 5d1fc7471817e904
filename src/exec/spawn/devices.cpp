// Device nodes in the container's /dev and the symlinks every /dev has.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "exec/spawn/beneath.hpp"
#include "exec/spawn/mounts.hpp"

namespace ringcri::exec::spawn_detail {

namespace {
result<void> make_device(int root_fd, const device_spec& d) {
  const std::string what = fmt::format("make device \"{}\"", d.path);
  auto [parent_path, name] = split_parent(d.path);
  auto parent = mkdir_all_in_root(root_fd, parent_path);
  if (!parent) return tl::unexpected(std::move(parent.error()).context(what));
  mode_t type = d.type == 'b' ? S_IFBLK : S_IFCHR;
  if (d.type != 'b' && d.type != 'c' && d.type != 'u')
    return fail(error_kind::invalid_argument, fmt::format("{}: type '{}'", what, d.type));
  ::unlinkat(parent->get(), name.c_str(), 0);  // an image's placeholder gives way
  if (::mknodat(parent->get(), name.c_str(), type | (d.mode & 07777), makedev(d.major, d.minor)) ==
      0) {
    if (::fchownat(parent->get(), name.c_str(), d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0)
      return fail_errno(errno, what + ": chown");
    // mknod applies the umask; the spec's mode is meant as given.
    if (::fchmodat(parent->get(), name.c_str(), d.mode & 07777, 0) < 0)
      return fail_errno(errno, what + ": chmod");
    return {};
  }
  if (errno != EPERM) return fail_errno(errno, what);
  // mknod refused (a user namespace, or a nodev /dev): bind the host's node.
  auto file = make_file_in_root(root_fd, d.path);
  if (!file) return tl::unexpected(std::move(file.error()).context(what));
  if (::mount(d.path.c_str(), fd_path(file->get()).c_str(), nullptr, MS_BIND, nullptr) < 0)
    return fail_errno(errno, what + ": bind the host's node");
  return {};
}
}  // namespace

result<void> make_devices(int root_fd, const std::vector<device_spec>& devices) {
  for (const device_spec& d : devices)
    if (auto r = make_device(root_fd, d); !r) return r;

  auto dev = mkdir_all_in_root(root_fd, "/dev");
  if (!dev) return tl::unexpected(std::move(dev.error()).context("make /dev links"));
  static constexpr std::pair<const char*, const char*> links[] = {
      {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
  };
  for (auto [target, name] : links) {
    if (::symlinkat(target, dev->get(), name) < 0 && errno != EEXIST)
      return fail_errno(errno, fmt::format("symlink \"/dev/{}\"", name));
  }
  return {};
}

}  // namespace ringcri::exec::spawn_detail
