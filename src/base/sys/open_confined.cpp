#include "base/sys/open_confined.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace ringcri::sys {

namespace {

// Nothing of ours renames inside a layer being written or a rootfs being
// set up, so a race is rare and a few retries settle it.
constexpr int retries = 16;

}  // namespace

int openat2_confined(int dir_fd, const char* path, resolve mode, int flags) noexcept {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve =
      (mode == resolve::beneath ? RESOLVE_BENEATH : RESOLVE_IN_ROOT) | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, dir_fd, path, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if ((errno == EAGAIN || errno == EINTR) && attempt < retries) continue;
    return -1;
  }
}

result<unique_fd> open_confined(int dir_fd, std::string_view path, resolve mode, int flags) {
  const std::string p = path.empty() ? std::string(".") : std::string(path);
  int fd = openat2_confined(dir_fd, p.c_str(), mode, flags);
  if (fd >= 0) return unique_fd(fd);
  int e = errno;
  if (e == ENOSYS)
    return tl::unexpected(
        error(error_kind::internal, "openat2 is missing: ringcri needs Linux 5.6 or later", e));
  return fail_errno(e, fmt::format("open {}", p));
}

}  // namespace ringcri::sys
