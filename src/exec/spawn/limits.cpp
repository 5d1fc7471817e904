// rlimits and oom_score_adj.

#include "exec/spawn/limits.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string_view>

#include "base/unique_fd.hpp"

namespace ringcri::exec::spawn_detail {

namespace {
struct rlimit_name {
  std::string_view name;
  int resource;
};
constexpr rlimit_name rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};
}  // namespace

result<void> apply_rlimits(const std::vector<rlimit_spec>& rlimits) {
  for (const rlimit_spec& r : rlimits) {
    int resource = -1;
    for (const auto& n : rlimit_names)
      if (n.name == r.type) resource = n.resource;
    if (resource < 0)
      return fail(error_kind::invalid_argument,
                  fmt::format("setrlimit: unknown rlimit \"{}\"", r.type));
    struct rlimit lim {};
    lim.rlim_cur = r.soft;
    lim.rlim_max = r.hard;
    if (::setrlimit(static_cast<__rlimit_resource_t>(resource), &lim) < 0)
      return fail_errno(errno,
                        fmt::format("setrlimit {} (soft {}, hard {})", r.type, r.soft, r.hard));
  }
  return {};
}

result<void> set_oom_score_adj(std::optional<int> value) {
  if (!value) return {};
  const char* path = "/proc/self/oom_score_adj";
  unique_fd fd(::open(path, O_RDWR | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("open \"{}\"", path));
  std::string text = std::to_string(*value);
  if (::write(fd.get(), text.data(), text.size()) >= 0) return {};
  if (errno != EACCES && errno != EPERM)
    return fail_errno(errno, fmt::format("write {} to \"{}\"", *value, path));
  // Refused: the value asked for is below the current one and this process
  // lacks CAP_SYS_RESOURCE. Keeping the current value is the clamp.
  return {};
}

}  // namespace ringcri::exec::spawn_detail
