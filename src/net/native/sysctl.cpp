#include "net/native/sysctl.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "base/sys/network_namespace.hpp"
#include "base/unique_fd.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::net::native {

namespace {

result<void> write_one(const sysctl_write& w) {
  std::string path = "/proc/sys/" + w.name;
  unique_fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("open {}", path));
  char now[64];
  ssize_t n = ::read(fd.get(), now, sizeof now);
  if (n > 0 && std::string_view(now, static_cast<std::size_t>(n)) == w.value + "\n") return {};
  if (::pwrite(fd.get(), w.value.data(), w.value.size(), 0) < 0)
    return fail_errno(errno, fmt::format("write {} to {}", w.value, path));
  return {};
}

result<void> write_all(const std::vector<sysctl_write>& writes) {
  for (const auto& w : writes) {
    auto done = write_one(w);
    if (!done && w.required) return done;
  }
  return {};
}

}  // namespace

reactor::task<result<void>> write_sysctls(int netns_fd, std::vector<sysctl_write> writes) {
  co_return co_await reactor::run_blocking([&]() -> result<void> {
    if (netns_fd < 0) return write_all(writes);
    result<void> done;
    auto entered = sys::in_network_namespace(netns_fd, [&] { done = write_all(writes); });
    if (!entered) return entered;
    return done;
  });
}

}  // namespace ringcri::net::native
