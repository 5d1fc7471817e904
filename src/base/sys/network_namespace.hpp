#pragma once
// Runs a little work inside another network namespace from a thread of the
// daemon: the thread enters the namespace, does the work (make a socket,
// read /proc/thread-self/net/dev) and goes back. Sockets keep the
// namespace they were made in, so the work can be short.
//
// Only on a blocking-pool thread: setns(CLONE_NEWNET) moves just the
// calling thread, and a reactor thread must never leave the daemon's.

#include <functional>

#include "base/error.hpp"

namespace ringcri::sys {

// `netns_fd`: an open network namespace (a bind-mounted nsfs file, a
// /proc/<pid>/ns/net). A thread that cannot return aborts the process: a
// pool thread left in a pod's namespace would misroute everything it does
// next.
result<void> in_network_namespace(int netns_fd, const std::function<void()>& work);

}  // namespace ringcri::sys
