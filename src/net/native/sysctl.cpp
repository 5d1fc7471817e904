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

result<std::vector<std::string>> read_all(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& name : names) {
    std::string path = "/proc/sys/" + name;
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno(errno, fmt::format("open {}", path));
    char buf[4096];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return fail_errno(errno, fmt::format("read {}", path));
    std::string value(buf, static_cast<std::size_t>(n));
    if (!value.empty() && value.back() == '\n') value.pop_back();
    out.push_back(std::move(value));
  }
  return out;
}

}  // namespace

reactor::task<result<std::vector<std::string>>> read_sysctls(int netns_fd,
                                                             std::vector<std::string> names) {
  co_return co_await reactor::run_blocking([&]() -> result<std::vector<std::string>> {
    if (netns_fd < 0) return read_all(names);
    result<std::vector<std::string>> done;
    auto entered = sys::in_network_namespace(netns_fd, [&] { done = read_all(names); });
    if (!entered) return tl::unexpected(std::move(entered.error()));
    return done;
  });
}

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
