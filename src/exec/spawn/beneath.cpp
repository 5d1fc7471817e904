// Path resolution confined to a rootfs, and mkdir -p inside it.

#include "exec/spawn/beneath.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/sys/open_confined.hpp"

namespace ringcri::exec::spawn_detail {

// An O_PATH fd, or -1 with errno set; nothing allocated (a clone child).
static int openat2_in_root(int root_fd, const std::string& path, int flags) {
  return sys::openat2_confined(root_fd, path.c_str(), sys::resolve::in_root, flags | O_PATH);
}

result<unique_fd> open_in_root(int root_fd, std::string_view path, int flags) {
  std::string p(path.empty() ? "/" : path);
  int fd = openat2_in_root(root_fd, p, flags);
  if (fd < 0) return fail_errno(errno, fmt::format("open \"{}\" in rootfs", p));
  return unique_fd(fd);
}

static result<unique_fd> mkdir_all(int root_fd, std::string_view path, mode_t mode, int depth) {
  auto cur = open_in_root(root_fd, "/", O_DIRECTORY);
  if (!cur) return cur;
  std::string prefix;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(pos, end - pos);
    pos = end + 1;
    if (comp.empty() || comp == ".") continue;
    const std::string parent_prefix = prefix.empty() ? "/" : prefix;
    prefix += '/';
    prefix += comp;
    int fd = openat2_in_root(root_fd, prefix, O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      // The parent was resolved inside the root and comp is one plain
      // name: mkdirat cannot leave the rootfs.
      std::string name(comp);
      if (::mkdirat(cur->get(), name.c_str(), mode) < 0 && errno != EEXIST)
        return fail_errno(errno, fmt::format("mkdir \"{}\" in rootfs", prefix));
      fd = openat2_in_root(root_fd, prefix, O_DIRECTORY);
      // A dangling symlink in the image: make its target, inside the root,
      // as runc does ("/var/run" -> "/run" on a fresh image).
      char link[PATH_MAX];
      ssize_t n = fd < 0 && errno == ENOENT && depth < 40
                      ? ::readlinkat(cur->get(), name.c_str(), link, sizeof link)
                      : -1;
      if (n > 0) {
        std::string target(link, static_cast<size_t>(n));
        if (target[0] != '/') target = parent_prefix + "/" + target;
        auto made = mkdir_all(root_fd, target, mode, depth + 1);
        if (!made) return made;
        fd = openat2_in_root(root_fd, prefix, O_DIRECTORY);
      }
    }
    if (fd < 0) return fail_errno(errno, fmt::format("open \"{}\" in rootfs", prefix));
    cur->reset(fd);
  }
  return cur;
}

result<unique_fd> mkdir_all_in_root(int root_fd, std::string_view path, mode_t mode) {
  return mkdir_all(root_fd, path, mode, 0);
}

std::pair<std::string, std::string> split_parent(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {"/", std::string(path)};
  return {std::string(path.substr(0, slash == 0 ? 1 : slash)), std::string(path.substr(slash + 1))};
}

result<unique_fd> make_file_in_root(int root_fd, std::string_view path) {
  std::string p(path);
  int fd = openat2_in_root(root_fd, p, 0);
  if (fd >= 0) return unique_fd(fd);
  if (errno != ENOENT) return fail_errno(errno, fmt::format("open \"{}\" in rootfs", p));
  auto [parent_path, name] = split_parent(p);
  auto parent = mkdir_all_in_root(root_fd, parent_path);
  if (!parent) return tl::unexpected(parent.error());
  // O_EXCL|O_NOFOLLOW: a dangling symlink here is not followed out.
  int made = ::openat(parent->get(), name.c_str(),
                      O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
  if (made < 0 && errno != EEXIST)
    return fail_errno(errno, fmt::format("create \"{}\" in rootfs", p));
  if (made >= 0) ::close(made);
  return open_in_root(root_fd, p);
}

std::string fd_path(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

}  // namespace ringcri::exec::spawn_detail
