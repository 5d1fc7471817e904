// rlimits.

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

}  // namespace ringcri::exec::spawn_detail
