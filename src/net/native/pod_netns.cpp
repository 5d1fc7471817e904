#include "net/native/pod_netns.hpp"

#include <fcntl.h>
#include <fmt/format.h>

#include "reactor/blocking.hpp"

namespace ringcri::net::native {

reactor::task<result<unique_fd>> open_netns(const std::string& path) {
  co_return co_await reactor::run_blocking([&]() -> result<unique_fd> {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno(errno, fmt::format("failed to open netns \"{}\"", path));
    return fd;
  });
}

}  // namespace ringcri::net::native
