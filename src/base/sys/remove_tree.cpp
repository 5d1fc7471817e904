#include "base/sys/remove_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ringcri::sys {

namespace {

struct dir_close {
  void operator()(DIR* d) const { ::closedir(d); }
};
using dir_ptr = std::unique_ptr<DIR, dir_close>;

result<dir_ptr> open_dir(int at, const std::string& name) {
  int fd = ::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, fmt::format("remove: open {}", name));
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int e = errno;
    ::close(fd);
    return fail_errno(e, fmt::format("remove: opendir {}", name));
  }
  return dir_ptr(d);
}

// Removes what it can in `dir`; returns the name of a non-empty
// subdirectory to descend into, or nothing once `dir` is empty.
result<std::optional<std::string>> empty_out(DIR* dir) {
  int fd = ::dirfd(dir);
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(dir);
    if (!e) {
      if (errno != 0) return fail_errno(errno, "remove: readdir");
      return std::nullopt;
    }
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (e->d_type != DT_DIR) {
      if (::unlinkat(fd, e->d_name, 0) == 0 || errno == ENOENT) continue;
      // EISDIR: a directory after all (the file system gave DT_UNKNOWN).
      if (errno != EISDIR) return fail_errno(errno, fmt::format("remove {}", name));
    }
    if (::unlinkat(fd, e->d_name, AT_REMOVEDIR) == 0 || errno == ENOENT) continue;
    if (errno != ENOTEMPTY && errno != EEXIST)
      return fail_errno(errno, fmt::format("remove {}", name));
    return std::string(name);
  }
}

}  // namespace

result<void> remove_tree(int dir_fd, std::string_view name_view) {
  std::string name(name_view);
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return fail_errno(errno, fmt::format("remove {}", name));
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return {};
  if (errno != ENOTEMPTY && errno != EEXIST)
    return fail_errno(errno, fmt::format("remove {}", name));

  // Depth first, holding only the current directory open: down by name,
  // back up by "..", the names of the way down kept as strings.
  std::vector<std::string> way{name};
  auto cur = open_dir(dir_fd, name);
  if (!cur) return tl::unexpected(cur.error());
  for (;;) {
    auto sub = empty_out(cur->get());
    if (!sub) return tl::unexpected(sub.error());
    if (*sub) {
      auto down = open_dir(::dirfd(cur->get()), **sub);
      if (!down) return tl::unexpected(down.error());
      *cur = std::move(*down);
      way.push_back(std::move(**sub));
      continue;
    }
    if (way.size() == 1) {
      cur->reset();
      if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
        return fail_errno(errno, fmt::format("remove {}", name));
      return {};
    }
    auto up = open_dir(::dirfd(cur->get()), "..");
    if (!up) return tl::unexpected(up.error());
    *cur = std::move(*up);
    if (::unlinkat(::dirfd(cur->get()), way.back().c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
      return fail_errno(errno, fmt::format("remove {}", way.back()));
    way.pop_back();
  }
}

}  // namespace ringcri::sys
