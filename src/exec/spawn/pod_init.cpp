// clone_pod_init: pid 1 of a pod's shared pid namespace. Built-in code, no
// exec: it reaps orphans re-parented to it and exits on SIGTERM/SIGINT.
// Its containers are the keeper's children (they join its namespace by
// setns before their clone), so only orphans of theirs come here.

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/spawn/child_entry.hpp"
#include "exec/spawn/clone.hpp"
#include "exec/spawn/report.hpp"
#include "exec/spawn/spawn.hpp"

namespace ringcri::exec {

using namespace spawn_detail;

namespace {

[[noreturn]] void run_pod_init(int report_fd) {
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  close_fds_except({report_fd});
  ::prctl(PR_SET_NAME, "ringcri-init", 0, 0, 0);
  ::chdir("/");
  report_ready(report_fd);
  // Nothing more to say: EOF now, as a container's would come at execve.
  ::close(report_fd);

  for (;;) {
    siginfo_t info{};
    int sig = ::sigwaitinfo(&all, &info);
    if (sig < 0) continue;  // EINTR
    if (sig == SIGTERM || sig == SIGINT) ::_exit(0);
    if (sig == SIGCHLD)
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
  }
}

}  // namespace

result<child> clone_pod_init(const std::string& pod_id) {
  auto report = make_report_pipe();
  if (!report) return tl::unexpected(report.error());
  unique_fd report_read = std::move(report->read), report_write = std::move(report->write);

  auto cloned = clone3_pidfd(CLONE_NEWPID);
  if (cloned && cloned->pid == 0) {
    try {
      run_pod_init(report_write.get());
    } catch (...) {
      ::_exit(failed_exit_code);
    }
  }
  if (!cloned)
    return tl::unexpected(std::move(cloned.error()).context("pod init for pod " + pod_id));
  child c;
  c.pid = cloned->pid;
  c.pidfd = std::move(cloned->pidfd);
  c.report = std::move(report_read);
  return c;
}

}  // namespace ringcri::exec
