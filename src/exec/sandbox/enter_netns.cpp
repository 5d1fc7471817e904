#include "exec/sandbox/enter_netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "base/unique_fd.hpp"

namespace ringcri::exec::sandbox {

result<void> in_network_namespace(const std::string& netns_path, const std::function<void()>& work) {
  if (netns_path.empty()) {
    work();
    return {};
  }
  unique_fd target(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) return fail_errno(errno, fmt::format("open the pod's network namespace {}", netns_path));
  unique_fd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home) return fail_errno(errno, "open this thread's network namespace");
  if (::setns(target.get(), CLONE_NEWNET) != 0)
    return fail_errno(errno, fmt::format("enter the pod's network namespace {}", netns_path));
  work();
  if (::setns(home.get(), CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "ringcri: cannot return to the daemon's network namespace: errno %d\n", errno);
    std::abort();
  }
  return {};
}

}  // namespace ringcri::exec::sandbox
