// clone3 with a pidfd, and entering a pid namespace for one clone.

#include "exec/spawn/clone.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ringcri::exec::spawn_detail {

namespace {
// struct clone_args, version 0 (64 bytes), spelled out so that the
// kernel's <linux/sched.h> need not meet glibc's <sched.h>.
struct clone3_args {
  std::uint64_t flags;
  std::uint64_t pidfd;
  std::uint64_t child_tid;
  std::uint64_t parent_tid;
  std::uint64_t exit_signal;
  std::uint64_t stack;
  std::uint64_t stack_size;
  std::uint64_t tls;
};
}  // namespace

result<cloned> clone3_pidfd(std::uint64_t flags) {
  int pidfd = -1;
  clone3_args args{};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  // clone3 takes no exit signal with CLONE_PARENT: the child gets the caller's.
  args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) return fail_errno(errno, "clone3");
  cloned c;
  c.pid = static_cast<pid_t>(pid);
  if (pid > 0) c.pidfd.reset(pidfd);
  return c;
}

std::uint64_t parent_flag(clone_as as) { return as == clone_as::sibling ? CLONE_PARENT : 0; }

void kill_and_reap(int pidfd) {
  ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
}

result<pid_ns_for_children> pid_ns_for_children::enter(int ns_fd) {
  unique_fd own(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
  if (!own) return fail_errno(errno, "open /proc/self/ns/pid");
  if (::setns(ns_fd, CLONE_NEWPID) < 0) return fail_errno(errno, "setns pid namespace");
  return pid_ns_for_children(std::move(own));
}

result<void> pid_ns_for_children::leave() {
  if (!own_) return {};
  unique_fd own = std::move(own_);
  if (::setns(own.get(), CLONE_NEWPID) < 0)
    return fail_errno(errno, "setns back to the caller's pid namespace");
  return {};
}

pid_ns_for_children::~pid_ns_for_children() { (void)leave(); }

}  // namespace ringcri::exec::spawn_detail
