#pragma once
// Runs a little work inside a pod's network namespace from a thread of the
// daemon: the thread enters the namespace, does the work (make a socket,
// read /proc/thread-self/net/dev) and goes back. Sockets keep the
// namespace they were made in, so the work can be short.
//
// Only on a blocking-pool thread: setns(CLONE_NEWNET) moves just the
// calling thread, and a reactor thread must never leave the daemon's.

#include <functional>
#include <string>

#include "base/error.hpp"

namespace ringcri::exec::sandbox {

// `netns_path` empty: runs `work` where the thread is (the host's
// namespace). A thread that cannot return aborts the daemon: a pool
// thread left in a pod's namespace would misroute everything it does next.
result<void> in_network_namespace(const std::string& netns_path, const std::function<void()>& work);

}  // namespace ringcri::exec::sandbox
