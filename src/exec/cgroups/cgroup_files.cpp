// Control file reads and writes (see cgroup_files.hpp).

#include "exec/cgroups/cgroup_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace ringcri::exec::cgroups::detail {

result<std::string> read_control(const std::string& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("read {}", path));
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, fmt::format("read {}", path));
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

result<void> write_control(const std::string& path, std::string_view value) {
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("write {}", path));
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno(errno, fmt::format("write \"{}\" to {}", value, path));
  return {};
}

}  // namespace ringcri::exec::cgroups::detail
