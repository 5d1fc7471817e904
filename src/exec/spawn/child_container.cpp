// clone_container and release: the container's process and the ordered
// setup its child runs (spawn.hpp lists the steps).

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "exec/spawn/beneath.hpp"
#include "exec/spawn/cgroup_join.hpp"
#include "exec/spawn/child_entry.hpp"
#include "exec/spawn/clone.hpp"
#include "exec/spawn/limits.hpp"
#include "exec/spawn/mounts.hpp"
#include "exec/spawn/namespaces.hpp"
#include "exec/spawn/path_lookup.hpp"
#include "exec/spawn/process_exec.hpp"
#include "exec/spawn/report.hpp"
#include "exec/spawn/spawn.hpp"

namespace ringcri::exec {

using namespace spawn_detail;

namespace {

// Everything up to 'R': the container's namespaces, file system and limits.
// Returns the executable to run.
result<std::string> set_up_container(const container_spec& spec, const stdio_fds& io) {
  if (auto r = join_cgroups(spec.cgroup_procs); !r) return tl::unexpected(r.error());
  if (const namespace_spec* ns = find_namespace(spec, "cgroup"); ns && ns->path.empty())
    if (::unshare(CLONE_NEWCGROUP) < 0) return fail_errno(errno, "unshare cgroup namespace");
  if (auto r = join_namespace_paths(spec); !r) return tl::unexpected(r.error());

  // Nothing mounted from here on may reach the host's mount namespace.
  if (::mount("", "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0)
    return fail_errno(errno, "make \"/\" rslave");
  if (auto r = mount_overlay(spec.rootfs); !r) return tl::unexpected(r.error());
  {
    unique_fd root(::open(spec.rootfs.target.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return fail_errno(errno, fmt::format("open rootfs \"{}\"", spec.rootfs.target));
    for (const mount_spec& m : spec.mounts)
      if (auto r = mount_in_root(root.get(), m); !r) return tl::unexpected(r.error());
    if (auto r = make_devices(root.get(), spec.devices); !r) return tl::unexpected(r.error());
  }
  if (auto r = apply_sysctls(spec.sysctls); !r) return tl::unexpected(r.error());
  if (auto r = set_hostname(spec); !r) return tl::unexpected(r.error());
  // Through the host's /proc, still there: the container may not mount one.
  if (auto r = set_oom_score_adj(spec.process.oom_score_adj); !r) return tl::unexpected(r.error());

  if (auto r = pivot_into(spec.rootfs.target); !r) return tl::unexpected(r.error());
  if (auto r = mask_paths(spec.masked_paths); !r) return tl::unexpected(r.error());
  if (auto r = make_paths_readonly(spec.readonly_paths); !r) return tl::unexpected(r.error());
  if (auto r = apply_rlimits(spec.process.rlimits); !r) return tl::unexpected(r.error());

  const std::string cwd = spec.process.cwd.empty() ? "/" : spec.process.cwd;
  {
    unique_fd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return fail_errno(errno, "open \"/\"");
    if (auto r = mkdir_all_in_root(root.get(), cwd); !r)
      return tl::unexpected(std::move(r.error()).context(fmt::format("make cwd \"{}\"", cwd)));
  }
  if (::chdir(cwd.c_str()) < 0) return fail_errno(errno, fmt::format("chdir \"{}\"", cwd));
  if (spec.rootfs.readonly)
    if (auto r = make_root_readonly(); !r) return tl::unexpected(r.error());

  auto executable = find_executable(spec.process);
  if (!executable) return executable;
  if (auto r = install_stdio(io); !r) return tl::unexpected(r.error());
  return executable;
}

// Waits for the release byte; `terminal` gets the fd that came with it,
// if any. False at end of file.
bool receive_release(int release_fd, int& terminal) {
  char byte;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(release_fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int)))
      std::memcpy(&terminal, CMSG_DATA(c), sizeof(int));
  }
  return true;
}

[[noreturn]] void run_container_child(const container_spec& spec, const stdio_fds& io,
                                      const prepared_process& prepared, int report_fd,
                                      int release_fd) {
  reset_signals();
  close_fds_except({report_fd, release_fd, io.in, io.out, io.err});
  auto executable = set_up_container(spec, io);
  if (!executable) report_failure(report_fd, executable.error());
  report_ready(report_fd);

  int terminal = -1;
  // EOF without a byte: the container was removed before it started.
  if (!receive_release(release_fd, terminal)) ::_exit(0);
  ::close(release_fd);
  if (terminal >= 0) {
    if (auto r = install_stdio(stdio_fds{terminal, terminal, terminal}); !r)
      report_failure(report_fd, r.error());
    ::close(terminal);
  }
  exec_process(spec.process, prepared, *executable, report_fd);
}

}  // namespace

result<child> clone_container(const container_spec& spec, const stdio_fds& io) {
  auto flags = clone_flags(spec);
  if (!flags) return tl::unexpected(flags.error());
  auto prepared = prepare_process(spec.process);
  if (!prepared) return tl::unexpected(prepared.error());

  int release_pipe[2];
  auto report = make_report_pipe();
  if (!report) return tl::unexpected(report.error());
  unique_fd report_read = std::move(report->read), report_write = std::move(report->write);
  // The release "pipe" is a socket pair: send(MSG_NOSIGNAL) to a child
  // that already died fails with EPIPE instead of raising SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, release_pipe) < 0)
    return fail_errno(errno, "socketpair for the release");
  unique_fd release_read(release_pipe[0]), release_write(release_pipe[1]);

  // A pod's shared pid namespace: entered for the clone only, so the child
  // is pid N there and still the keeper's own child.
  std::optional<pid_ns_for_children> pid_ns;
  if (const namespace_spec* ns = find_namespace(spec, "pid"); ns && !ns->path.empty()) {
    unique_fd ns_fd(::open(ns->path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns_fd) return fail_errno(errno, fmt::format("open pid namespace \"{}\"", ns->path));
    auto entered = pid_ns_for_children::enter(ns_fd.get());
    if (!entered)
      return tl::unexpected(std::move(entered.error()).context(fmt::format("\"{}\"", ns->path)));
    pid_ns.emplace(std::move(*entered));
  }

  auto cloned = clone3_pidfd(*flags);
  if (cloned && cloned->pid == 0)
    run_child(report_write.get(), [&] { run_container_child(spec, io, *prepared, report_write.get(), release_read.get()); });
  if (!cloned) return tl::unexpected(cloned.error());
  child c;
  c.pid = cloned->pid;
  c.pidfd = std::move(cloned->pidfd);
  c.report = std::move(report_read);
  c.release = std::move(release_write);
  if (pid_ns)
    if (auto r = pid_ns->leave(); !r) {
      kill_and_reap(c.pidfd.get());
      return tl::unexpected(r.error());
    }
  return c;
}

result<void> release(child& c, int terminal_slave) {
  if (!c.release) return fail(error_kind::failed_precondition, "release: already released");
  unique_fd fd = std::move(c.release);
  char byte = '1';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (terminal_slave >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &terminal_slave, sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(fd.get(), &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno(errno, "release: write");
  return {};
}

}  // namespace ringcri::exec
