// clone_exec: a command run inside a running container (ExecSync, Exec).
// It becomes the keeper's child in the container's pid namespace, joins
// the container's cgroups and other namespaces, and execs at once.

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <optional>

#include "exec/spawn/cgroup_join.hpp"
#include "exec/spawn/child_entry.hpp"
#include "exec/spawn/clone.hpp"
#include "exec/spawn/limits.hpp"
#include "exec/spawn/path_lookup.hpp"
#include "exec/spawn/process_exec.hpp"
#include "exec/spawn/report.hpp"
#include "exec/spawn/spawn.hpp"

namespace ringcri::exec {

using namespace spawn_detail;

namespace {

result<std::string> set_up_exec(const exec_spec& spec, int container_pidfd, const stdio_fds& io) {
  if (auto r = join_cgroups(spec.cgroup_procs); !r) return tl::unexpected(r.error());
  // After the cgroup: the cgroup namespace's root is the cgroup at setns.
  if (::setns(container_pidfd,
              CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP) < 0)
    return fail_errno(errno, "join the container's namespaces");
  if (auto r = apply_rlimits(spec.process.rlimits); !r) return tl::unexpected(r.error());
  if (auto r = set_oom_score_adj(spec.process.oom_score_adj); !r) return tl::unexpected(r.error());
  const std::string cwd = spec.process.cwd.empty() ? "/" : spec.process.cwd;
  if (::chdir(cwd.c_str()) < 0) return fail_errno(errno, fmt::format("chdir \"{}\"", cwd));
  auto executable = find_executable(spec.process);
  if (!executable) return executable;
  if (auto r = install_stdio(io); !r) return tl::unexpected(r.error());
  return executable;
}

[[noreturn]] void run_exec_child(const exec_spec& spec, int container_pidfd, const stdio_fds& io,
                                 const prepared_process& prepared, int report_fd) {
  reset_signals();
  close_fds_except({report_fd, container_pidfd, io.in, io.out, io.err});
  auto executable = set_up_exec(spec, container_pidfd, io);
  if (!executable) report_failure(report_fd, executable.error());
  ::close(container_pidfd);
  exec_process(spec.process, prepared, *executable, report_fd);
}

}  // namespace

result<child> clone_exec(const exec_spec& spec, int container_pidfd, const stdio_fds& io) {
  auto prepared = prepare_process(spec.process);
  if (!prepared) return tl::unexpected(prepared.error());

  auto report = make_report_pipe();
  if (!report) return tl::unexpected(report.error());
  unique_fd report_read = std::move(report->read), report_write = std::move(report->write);

  // setns(pidfd, CLONE_NEWPID) only sets where children are born: the
  // clone below lands in the container's pid namespace.
  auto pid_ns = pid_ns_for_children::enter(container_pidfd);
  if (!pid_ns)
    return tl::unexpected(
        std::move(pid_ns.error()).context(fmt::format("exec in container {}", spec.container_id)));

  auto cloned = clone3_pidfd(0);
  if (cloned && cloned->pid == 0)
    run_child(report_write.get(), [&] { run_exec_child(spec, container_pidfd, io, *prepared, report_write.get()); });
  if (!cloned) return tl::unexpected(cloned.error());
  child c;
  c.pid = cloned->pid;
  c.pidfd = std::move(cloned->pidfd);
  c.report = std::move(report_read);
  if (auto r = pid_ns->leave(); !r) {
    kill_and_reap(c.pidfd.get());
    return tl::unexpected(r.error());
  }
  return c;
}

}  // namespace ringcri::exec
