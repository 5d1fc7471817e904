#include "cri/mount_point_layer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>

#include "base/sys/remove_tree.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::cri {

namespace {

constexpr std::array<const char*, 3> pod_file_names = {"hostname", "hosts", "resolv.conf"};

// What `path` is in one layer: nothing (ENOENT), or its lstat.
std::optional<struct stat> entry_of(const std::string& path, bool& unreadable) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) return st;
  if (errno != ENOENT && errno != ENOTDIR) unreadable = true;
  return std::nullopt;
}

// overlayfs's mark of a deleted entry: a character device 0/0.
bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

bool is_opaque(const std::string& dir) {
  char value[2] = {};
  return ::lgetxattr(dir.c_str(), "trusted.overlay.opaque", value, sizeof value) == 1 && value[0] == 'y';
}

bool layer_is_as_made(const std::filesystem::path& dir) {
  struct stat st;
  const std::string etc = (dir / "etc").string();
  if (::lstat(etc.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0755 ||
      st.st_uid != 0 || st.st_gid != 0)
    return false;
  for (const char* name : pod_file_names) {
    const std::string file = etc + "/" + name;
    if (::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0644 ||
        st.st_uid != 0 || st.st_gid != 0 || st.st_size != 0)
      return false;
  }
  return true;
}

}  // namespace

result<void> make_mount_point_layer(const std::filesystem::path& dir) {
  if (layer_is_as_made(dir)) return {};
  const std::string what = fmt::format("make the mount point layer {}", dir.string());
  if (auto removed = sys::remove_tree(AT_FDCWD, dir.string()); !removed)
    return tl::unexpected(std::move(removed.error()).context(what));
  const std::string etc = (dir / "etc").string();
  for (const std::string& d : {dir.string(), etc}) {
    if (::mkdir(d.c_str(), 0755) != 0) return fail_errno(errno, fmt::format("{}: mkdir {}", what, d));
    // mkdir applies the umask; and the owner is root's, whoever made it.
    if (::chmod(d.c_str(), 0755) != 0 || ::chown(d.c_str(), 0, 0) != 0)
      return fail_errno(errno, fmt::format("{}: chmod and chown {}", what, d));
  }
  for (const char* name : pod_file_names) {
    const std::string file = etc + "/" + name;
    unique_fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd || ::fchmod(fd.get(), 0644) != 0 || ::fchown(fd.get(), 0, 0) != 0)
      return fail_errno(errno, fmt::format("{}: create {}", what, file));
  }
  return {};
}

bool mount_point_layer_fits(const std::vector<std::string>& layers) {
  bool unreadable = false;
  // /etc as the container would see it: the top-most layer that has it
  // gives its attributes; below it, the layers whose /etc merges in.
  std::vector<std::string> merged_etcs;
  for (const std::string& layer : layers) {
    const std::string etc = layer + "/etc";
    auto st = entry_of(etc, unreadable);
    if (unreadable) return false;
    if (!st) continue;
    if (is_whiteout(*st)) break;  // deleted: nothing below shows
    if (!S_ISDIR(st->st_mode)) {
      if (merged_etcs.empty()) return false;  // /etc is a symlink or a file
      break;                                  // hidden beneath a directory
    }
    if (merged_etcs.empty() &&
        ((st->st_mode & 07777) != 0755 || st->st_uid != 0 || st->st_gid != 0))
      return false;
    merged_etcs.push_back(etc);
    if (is_opaque(etc)) break;
  }
  for (const char* name : pod_file_names)
    for (const std::string& etc : merged_etcs) {
      auto st = entry_of(etc + "/" + name, unreadable);
      if (unreadable) return false;
      if (!st) continue;
      if (!S_ISREG(st->st_mode) && !is_whiteout(*st)) return false;
      break;  // the top-most one is what shows
    }
  return true;
}

}  // namespace ringcri::cri
