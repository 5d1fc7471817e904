#pragma once
// Raw clone3 with CLONE_PIDFD, and the setns dance that makes a child pid N
// of another pid namespace while it stays a direct child of the caller.

#include <sys/types.h>

#include <cstdint>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "exec/spawn/spawn.hpp"

namespace ringcri::exec::spawn_detail {

struct cloned {
  pid_t pid = -1;   // 0 in the child
  unique_fd pidfd;  // parent only
};

// clone3 without CLONE_VM, like fork: the child returns here with pid 0 on
// a copy of the caller's memory. `flags` are CLONE_NEW* flags and
// CLONE_PARENT; CLONE_PIDFD is added. The child gets SIGCHLD as its exit
// signal (with CLONE_PARENT: the caller's own, which is SIGCHLD too).
result<cloned> clone3_pidfd(std::uint64_t flags);

// CLONE_PARENT for a sibling, nothing for a child.
std::uint64_t parent_flag(clone_as as);

// For a parent-side failure after clone3: the child must not outlive it.
void kill_and_reap(int pidfd);

// While alive, children the caller makes are born in the pid namespace of
// `ns_fd` (a /proc/<pid>/ns/pid file or a pidfd). Only for a single-threaded
// caller: setns(CLONE_NEWPID) changes the namespace for children of the
// calling thread, and the destructor switches back to the caller's own.
class pid_ns_for_children {
 public:
  static result<pid_ns_for_children> enter(int ns_fd);
  pid_ns_for_children(pid_ns_for_children&&) = default;
  pid_ns_for_children& operator=(pid_ns_for_children&&) = default;
  ~pid_ns_for_children();

  // Switches back now, reporting a failure the destructor could only swallow.
  result<void> leave();

 private:
  explicit pid_ns_for_children(unique_fd own) : own_(std::move(own)) {}
  unique_fd own_;
};

}  // namespace ringcri::exec::spawn_detail
