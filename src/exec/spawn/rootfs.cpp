// The overlay rootfs, pivot_root and the readonly remount of /.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "base/sys/user_namespace.hpp"
#include "base/unique_fd.hpp"
#include "exec/spawn/mounts.hpp"
#include "exec/spawn/spawn.hpp"

namespace ringcri::exec::spawn_detail {

unsigned long current_mount_flags(const char* path) {
  struct statvfs st {};
  if (::statvfs(path, &st) < 0) return 0;
  unsigned long flags = 0;
  if (st.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

static result<void> mount_overlay_by_fsconfig(const rootfs_spec& rootfs) {
  auto made = make_detached_overlay(rootfs);
  if (!made) return tl::unexpected(std::move(made.error()));
  return attach_overlay(made->get(), rootfs.target);
}

result<void> attach_overlay(int mount_fd, const std::string& target) {
  if (::move_mount(mount_fd, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return fail_errno(errno, fmt::format("mount overlay on \"{}\": move_mount", target));
  return {};
}

result<std::vector<idmapped_lower>> open_idmapped_lowers(const rootfs_spec& rootfs, int userns_fd) {
  std::vector<idmapped_lower> out;
  for (const std::string& lower : rootfs.lowers) {
    bool seen = false;
    for (const idmapped_lower& d : out) seen = seen || d.path == lower;
    if (seen) continue;
    auto tree = sys::open_idmapped_tree(lower.c_str(), userns_fd, false);
    if (!tree)
      return tl::unexpected(std::move(tree.error()).context("idmap a layer of the rootfs"));
    out.push_back({lower, std::move(*tree)});
  }
  return out;
}

result<void> mount_overlay(const rootfs_spec& rootfs, std::vector<idmapped_lower> idmapped) {
  if (rootfs.lowers.empty())
    return fail(error_kind::invalid_argument, "mount overlay: no lower layers");
  // Each idmapped layer over itself, in this mount namespace only ("/" is
  // rslave by now): overlayfs takes idmapped lowers (Linux 5.19+) and
  // reads through them, so the image's files show up owned by the pod's
  // ids and no layer is ever chowned. The upper and work dirs cannot be
  // idmapped; they belong to the mapped root (CreateContainer).
  for (idmapped_lower& l : idmapped) {
    if (::move_mount(l.tree.get(), "", AT_FDCWD, l.path.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
      return fail_errno(errno,
                        fmt::format("idmap a layer of the rootfs: attach it on \"{}\"", l.path));
    l.tree.reset();
  }
  std::string data = "lowerdir=";
  for (size_t i = 0; i < rootfs.lowers.size(); ++i) {
    if (i > 0) data += ':';
    data += rootfs.lowers[i];
  }
  if (!rootfs.upper.empty())
    data += fmt::format(",upperdir={},workdir={}", rootfs.upper, rootfs.work);
  // mount(2) copies at most one page of options.
  if (data.size() + 1 > static_cast<size_t>(::sysconf(_SC_PAGESIZE)))
    return mount_overlay_by_fsconfig(rootfs);
  if (::mount("overlay", rootfs.target.c_str(), "overlay", 0, data.c_str()) < 0)
    return fail_errno(errno, fmt::format("mount overlay on \"{}\"", rootfs.target));
  return {};
}

result<void> pivot_into(const std::string& target) {
  if (::chdir(target.c_str()) < 0) return fail_errno(errno, fmt::format("chdir \"{}\"", target));
  // pivot_root(".", "."): the old root ends up stacked under the new one
  // and is detached at once; no directory for it is needed in the image.
  if (::syscall(SYS_pivot_root, ".", ".") < 0)
    return fail_errno(errno, fmt::format("pivot_root \"{}\"", target));
  if (::umount2(".", MNT_DETACH) < 0) return fail_errno(errno, "detach the old root");
  if (::chdir("/") < 0) return fail_errno(errno, "chdir \"/\"");
  return {};
}

result<void> make_root_readonly() {
  unsigned long flags = current_mount_flags("/") | MS_RDONLY;
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) < 0)
    return fail_errno(errno, "remount \"/\" readonly");
  return {};
}

}  // namespace ringcri::exec::spawn_detail

namespace ringcri::exec {

result<unique_fd> make_detached_overlay(const rootfs_spec& rootfs) {
  const std::string what = fmt::format("mount overlay on \"{}\"", rootfs.target);
  if (rootfs.lowers.empty()) return fail(error_kind::invalid_argument, what + ": no lower layers");
  unique_fd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) return fail_errno(errno, what + ": fsopen");
  auto set = [&](const char* key, const std::string& value) -> result<void> {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) < 0)
      return fail_errno(errno, fmt::format("{}: {} \"{}\"", what, key, value));
    return {};
  };
  // The source mount(2) would show; then "lowerdir+" appends one layer at
  // a time, the first being the top.
  if (auto r = set("source", "overlay"); !r) return tl::unexpected(std::move(r.error()));
  for (const std::string& lower : rootfs.lowers)
    if (auto r = set("lowerdir+", lower); !r) return tl::unexpected(std::move(r.error()));
  if (!rootfs.upper.empty()) {
    if (auto r = set("upperdir", rootfs.upper); !r) return tl::unexpected(std::move(r.error()));
    if (auto r = set("workdir", rootfs.work); !r) return tl::unexpected(std::move(r.error()));
  }
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    return fail_errno(errno, what);
  unique_fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt) return fail_errno(errno, what + ": fsmount");
  return mnt;
}

}  // namespace ringcri::exec
