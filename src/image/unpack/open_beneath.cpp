#include "image/unpack/open_beneath.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace ringcri::image {

result<unique_fd> open_beneath(int root_fd, std::string_view path, int flags) {
  std::string p = path.empty() ? std::string(".") : std::string(path);
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: a rename elsewhere raced a ".." lookup; the kernel asks for a
  // retry. Nothing else renames inside a layer being written, so a few do.
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, root_fd, p.c_str(), &how, sizeof how);
    if (fd >= 0) return unique_fd(static_cast<int>(fd));
    int e = errno;
    if ((e == EAGAIN || e == EINTR) && attempt < 16) continue;
    if (e == ENOSYS)
      return tl::unexpected(
          error(error_kind::internal, "openat2 is missing: ringcri needs Linux 5.6 or later", e));
    return fail_errno(e, fmt::format("open {}", p));
  }
}

}  // namespace ringcri::image
