#include "base/sys/network_namespace.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/unique_fd.hpp"

namespace ringcri::sys {

result<void> in_network_namespace(int netns_fd, const std::function<void()>& work) {
  unique_fd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home) return fail_errno(errno, "open this thread's network namespace");
  if (::setns(netns_fd, CLONE_NEWNET) != 0) return fail_errno(errno, "enter the network namespace");
  work();
  if (::setns(home.get(), CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "ringcri: cannot return to the daemon's network namespace: errno %d\n",
                 errno);
    std::abort();
  }
  return {};
}

}  // namespace ringcri::sys
