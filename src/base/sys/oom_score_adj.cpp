#include "base/sys/oom_score_adj.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <string>

#include "base/unique_fd.hpp"

namespace ringcri::sys {

result<void> set_oom_score_adj(int value) {
  const char* path = "/proc/self/oom_score_adj";
  unique_fd fd(::open(path, O_WRONLY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("open \"{}\"", path));
  const std::string text = std::to_string(value);
  if (::write(fd.get(), text.data(), text.size()) >= 0) return {};
  if (errno != EACCES && errno != EPERM)
    return fail_errno(errno, fmt::format("write {} to \"{}\"", value, path));
  // Refused: below what this process may set without CAP_SYS_RESOURCE.
  // Keeping the current value is the clamp.
  return {};
}

}  // namespace ringcri::sys
