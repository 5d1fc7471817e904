// clone_pod_init: pid 1 of a pod's shared pid namespace. Built-in code, no
// exec: it reaps orphans re-parented to it and does nothing else. The
// pod's containers see it as their pid 1, so it holds nothing: an empty
// read-only root of its own, no capability, no_new_privs, a filter that
// lets it wait and reap and nothing more, not dumpable. Its containers are
// the keeper's children (they join its namespace by setns before their
// clone), so only orphans of theirs come here.

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/spawn/child.hpp"
#include "exec/spawn/clone.hpp"
#include "exec/spawn/confinement.hpp"
#include "exec/spawn/mount_base.hpp"
#include "exec/spawn/mounts.hpp"
#include "exec/spawn/report.hpp"
#include "exec/spawn/seccomp.hpp"
#include "exec/spawn/spawn.hpp"

namespace ringcri::exec {

using namespace spawn_detail;

namespace {

// What a reaper calls: wait for SIGCHLD, reap, and the calls every process
// makes on its way out or back from a signal; write and close for its one
// report, the only fd it has beside /dev/null.
seccomp_spec reaper_profile() {
  seccomp_spec spec;
  spec.default_action = "SCMP_ACT_ERRNO";
  spec.default_errno_ret = EPERM;
  seccomp_rule allow;
  allow.action = "SCMP_ACT_ALLOW";
  allow.names = {"rt_sigtimedwait", "wait4", "waitid", "exit", "exit_group", "rt_sigreturn",
                 "restart_syscall", "write", "close"};
  spec.syscalls.push_back(allow);
  return spec;
}

// A root of its own: an empty tmpfs on `empty_dir`, read-only, in a mount
// namespace that holds nothing else once the host's root is detached.
result<void> enter_empty_root(const std::string& empty_dir) {
  if (::mount("", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
    return fail_errno(errno, "make \"/\" rprivate");
  if (::mount("tmpfs", empty_dir.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=4k,mode=0555") < 0)
    return fail_errno(errno, fmt::format("mount an empty tmpfs on \"{}\"", empty_dir));
  return pivot_into(empty_dir);
}

[[noreturn]] void run_pod_init(const std::string& empty_dir, const bpf_program& filter,
                               int report_fd, int mount_base) {
  enter_child("ringcri-init", {report_fd, mount_base});
  // SIGCHLD is waited for, never handled; every other signal keeps no
  // handler, and an init without one never gets a signal sent from
  // inside its namespace (from outside, only SIGKILL).
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  if (mount_base >= 0)
    if (auto r = enter_mount_base(mount_base); !r) report_failure(report_fd, r.error());
  if (auto r = enter_empty_root(empty_dir); !r) report_failure(report_fd, r.error());
  if (auto r = drop_all_capabilities(); !r) report_failure(report_fd, r.error());
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    report_failure(report_fd, error::from_errno(errno, "prctl PR_SET_NO_NEW_PRIVS"));
  if (auto r = load_seccomp(filter); !r) report_failure(report_fd, r.error());
  report_ready(report_fd);
  // Nothing more to say: EOF now, as a container's comes at execve.
  ::close(report_fd);

  for (;;) {
    siginfo_t info{};
    if (::sigwaitinfo(&chld, &info) < 0) continue;  // EINTR
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
}

}  // namespace

result<child> clone_pod_init(const std::string& pod_id, const std::string& empty_dir,
                             int mount_base, clone_as as) {
  auto filter = compile_seccomp(reaper_profile());
  if (!filter) return tl::unexpected(std::move(filter.error()).context("the pod init's filter"));
  auto report = make_report_pipe();
  if (!report) return tl::unexpected(report.error());
  unique_fd report_read = std::move(report->read), report_write = std::move(report->write);

  auto cloned =
      clone3_pidfd(CLONE_NEWPID | (mount_base >= 0 ? 0 : CLONE_NEWNS) | parent_flag(as));
  if (cloned && cloned->pid == 0)
    run_child(report_write.get(),
              [&] { run_pod_init(empty_dir, *filter, report_write.get(), mount_base); });
  if (!cloned)
    return tl::unexpected(std::move(cloned.error()).context("pod init for pod " + pod_id));
  child c;
  c.pid = cloned->pid;
  c.pidfd = std::move(cloned->pidfd);
  c.report = std::move(report_read);
  return c;
}

}  // namespace ringcri::exec
