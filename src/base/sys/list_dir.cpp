#include "base/sys/list_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace ringcri::sys {

namespace {

struct dir_closer {
  void operator()(DIR* d) const { ::closedir(d); }
};

}  // namespace

result<std::vector<dir_entry>> list_dir(int at_fd, std::string_view path) {
  const std::string p(path);
  // "." is the caller's directory fd, which the caller names.
  auto fail_at = [&](std::string_view step, int e) {
    return fail_errno(e, p == "." ? fmt::format("{} the directory", step)
                                  : fmt::format("{} directory {}", step, p));
  };
  int fd = ::openat(at_fd, p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail_at("open", errno);
  std::unique_ptr<DIR, dir_closer> dir(::fdopendir(fd));
  if (!dir) {
    int e = errno;
    ::close(fd);
    return fail_at("open", e);
  }
  std::vector<dir_entry> out;
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(dir.get());
    if (!e) break;
    std::string_view name = e->d_name;
    if (name != "." && name != "..") out.push_back({std::string(name), e->d_type});
  }
  if (errno != 0) return fail_at("read", errno);
  return out;
}

}  // namespace ringcri::sys
