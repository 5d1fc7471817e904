#include "base/sys/make_dirs.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.hpp"

namespace ringcri::sys {

namespace {

result<void> fsync_dir(const std::string& dir) {
  unique_fd fd(::open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("open {}", dir));
  if (::fsync(fd.get()) != 0) return fail_errno(errno, fmt::format("fsync {}", dir));
  return {};
}

}  // namespace

result<std::vector<std::string>> make_dirs(std::string_view path, mode_t mode, durability how) {
  std::vector<std::string> made;
  auto undo = [&](error e) {
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
    return tl::unexpected(std::move(e));
  };
  std::string prefix = path.starts_with('/') ? "/" : "";
  std::size_t pos = 0;
  while (pos < path.size()) {
    std::size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    const std::string parent = prefix.empty() ? "." : prefix;
    if (!prefix.empty() && prefix.back() != '/') prefix += '/';
    prefix += part;
    if (::mkdir(prefix.c_str(), mode) != 0) {
      if (errno == EEXIST) continue;
      return undo(error::from_errno(errno, fmt::format("mkdir {}", prefix)));
    }
    made.push_back(prefix);
    if (how == durability::synced)
      if (auto synced = fsync_dir(parent); !synced) return undo(std::move(synced.error()));
  }
  return made;
}

}  // namespace ringcri::sys
