// clone_exec: a command run inside a running container (ExecSync, Exec).
//
// Two processes, so that nothing of ours is ever visible in the container
// holding more than the exec's spec grants. The first is cloned in the
// keeper's own pid namespace, where the container cannot see it: it joins
// the container's cgroup and its mount, network, ipc, uts and cgroup
// namespaces, takes its limits, stdio and working directory, and confines
// itself (user, capabilities, no_new_privs, and the seccomp filter when it
// must be loaded before the capabilities go). Only then does it clone the
// second into the container's pid namespace, as a sibling (CLONE_PARENT:
// the keeper's child), report its pid and exit. The second takes its
// terminal, loads the filter that waits for no_new_privs, and execs.

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "base/sys/oom_score_adj.hpp"
#include "exec/spawn/child.hpp"
#include "exec/spawn/clone.hpp"
#include "exec/spawn/confinement.hpp"
#include "exec/spawn/limits.hpp"
#include "exec/spawn/namespaces.hpp"
#include "exec/spawn/path_lookup.hpp"
#include "exec/spawn/report.hpp"
#include "exec/spawn/spawn.hpp"

namespace ringcri::exec {

using namespace spawn_detail;

namespace {

// The container's user namespace when it is not ours (a pod with
// hostUsers: false), else an empty fd. Asked of the pidfd (Linux 6.11+),
// or else found through its pid (fdinfo) and checked to be still that
// process's.
result<unique_fd> foreign_user_namespace(int container_pidfd) {
  constexpr unsigned long pidfd_get_user_namespace = _IO(0xFF, 9);  // <linux/pidfd.h>, 6.11
  unique_fd theirs(::ioctl(container_pidfd, pidfd_get_user_namespace, 0));
  if (!theirs && errno != ENOTTY && errno != EINVAL && errno != EOPNOTSUPP)
    return fail_errno(errno, "ask the container's pidfd for its user namespace");
  if (!theirs) {
    std::ifstream fdinfo(fmt::format("/proc/self/fdinfo/{}", container_pidfd));
    std::string line;
    long pid = -1;
    while (std::getline(fdinfo, line))
      if (line.rfind("Pid:", 0) == 0) pid = std::strtol(line.c_str() + 4, nullptr, 10);
    if (pid <= 0)
      return fail(error_kind::not_found, "the container's process is gone (no pid in fdinfo)");
    const std::string path = fmt::format("/proc/{}/ns/user", pid);
    theirs.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!theirs) return fail_errno(errno, fmt::format("open {}", path));
    if (::syscall(SYS_pidfd_send_signal, container_pidfd, 0, nullptr, 0) < 0)
      return fail_errno(errno, "the container's process is gone");
  }
  struct stat ours_st {
  }, theirs_st{};
  if (::stat("/proc/self/ns/user", &ours_st) < 0)
    return fail_errno(errno, "stat /proc/self/ns/user");
  if (::fstat(theirs.get(), &theirs_st) < 0)
    return fail_errno(errno, "stat the container's user namespace");
  if (ours_st.st_ino == theirs_st.st_ino && ours_st.st_dev == theirs_st.st_dev) return unique_fd{};
  return theirs;
}

// What the first child does, up to the clone of the second.
result<exec_args> set_up_exec(const exec_spec& spec, int container_pidfd, const stdio_fds& io,
                              const prepared_confinement& confinement) {
  // Limits first, through the host's /proc (the container's /proc has no
  // pid for this process); the second child inherits them.
  if (auto r = join_cgroups(spec.cgroup_procs); !r) return tl::unexpected(r.error());
  if (auto r = apply_rlimits(spec.process.rlimits); !r) return tl::unexpected(r.error());
  if (auto r = sys::set_oom_score_adj(spec.process.oom_score_adj.value_or(0)); !r)
    return tl::unexpected(r.error());
  // The container's user namespace, found through the host's /proc while
  // it is still in reach, is joined last, as the container itself did:
  // joining it first would leave no power over the mount and pid
  // namespaces, which belong to the host's.
  auto userns = foreign_user_namespace(container_pidfd);
  if (!userns)
    return tl::unexpected(std::move(userns.error()).context("join the container's user namespace"));
  // Every namespace but the pid one in one call; the cgroup namespace's
  // root is the cgroup joined above. Then the pid namespace, for children.
  if (::setns(container_pidfd,
              CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP) < 0)
    return fail_errno(errno, "join the container's namespaces");
  if (::setns(container_pidfd, CLONE_NEWPID) < 0)
    return fail_errno(errno, "join the container's pid namespace");

  const std::string cwd = spec.process.cwd.empty() ? "/" : spec.process.cwd;
  if (::chdir(cwd.c_str()) < 0) return fail_errno(errno, fmt::format("chdir \"{}\"", cwd));
  auto executable = find_executable(spec.process);
  if (!executable) return tl::unexpected(executable.error());
  exec_args args = exec_args_of(spec.process, std::move(*executable));
  if (auto r = install_stdio(io); !r) return tl::unexpected(r.error());
  // The filter that must come before the capabilities go is loaded here;
  // the one that waits for no_new_privs goes with the second child, after
  // its session is set.
  if (*userns && ::setns(userns->get(), CLONE_NEWUSER) < 0)
    return fail_errno(errno, "join the container's user namespace");
  userns->reset();
  process_spec first = spec.process;
  prepared_confinement first_part = confinement;
  if (first.no_new_privileges) first_part.seccomp.reset();
  if (auto r = confine(first, first_part); !r) return tl::unexpected(r.error());
  return args;
}

// The second child: its terminal, the rest of its filter, execve.
[[noreturn]] void run_exec_process(const exec_spec& spec, const prepared_confinement& confinement,
                                   const exec_args& args, int report_fd) {
  if (spec.process.terminal)
    if (auto r = take_controlling_terminal(); !r) report_failure(report_fd, r.error());
  if (confinement.seccomp && spec.process.no_new_privileges)
    if (auto r = load_seccomp(*confinement.seccomp); !r) report_failure(report_fd, r.error());
  exec_or_report(args, report_fd);
}

[[noreturn]] void run_exec_child(const exec_spec& spec, int container_pidfd, const stdio_fds& io,
                                 const prepared_confinement& confinement, int report_fd) {
  enter_child(title_of(spec.process), {report_fd, container_pidfd, io.in, io.out, io.err});
  auto args = set_up_exec(spec, container_pidfd, io, confinement);
  if (!args) report_failure(report_fd, args.error());
  ::close(container_pidfd);
  // The plain clone system call: clone3 is what a seccomp profile (the
  // common default one among them) may refuse, and the filter may already
  // be loaded. The exit signal is this process's own, SIGCHLD.
  long pid = ::syscall(SYS_clone, CLONE_PARENT, nullptr, nullptr, nullptr, 0L);
  if (pid < 0) report_failure(report_fd, error::from_errno(errno, "clone the process to exec"));
  if (pid == 0) run_exec_process(spec, confinement, *args, report_fd);
  report_pid(report_fd, static_cast<pid_t>(pid));
  ::_exit(0);
}

}  // namespace

result<child> clone_exec(const exec_spec& spec, int container_pidfd, const stdio_fds& io,
                         clone_as as) {
  auto confinement = prepare_confinement(spec.process);
  if (!confinement) return tl::unexpected(confinement.error());

  auto report = make_report_pipe();
  if (!report) return tl::unexpected(report.error());
  unique_fd report_read = std::move(report->read), report_write = std::move(report->write);

  auto cloned = clone3_pidfd(parent_flag(as));
  if (cloned && cloned->pid == 0)
    run_child(report_write.get(),
              [&] { run_exec_child(spec, container_pidfd, io, *confinement, report_write.get()); });
  if (!cloned)
    return tl::unexpected(
        std::move(cloned.error()).context(fmt::format("exec in container {}", spec.container_id)));
  child c;
  c.pid = cloned->pid;
  c.pidfd = std::move(cloned->pidfd);
  c.report = std::move(report_read);
  return c;
}

}  // namespace ringcri::exec
