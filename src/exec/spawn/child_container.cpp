// A container's process: clone_container, release, and the whole of the
// child's set-up, in the order it happens. set_up_container is the one
// place to read to check that order.

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "base/sys/oom_score_adj.hpp"
#include "base/sys/user_namespace.hpp"
#include "exec/spawn/beneath.hpp"
#include "exec/spawn/child.hpp"
#include "exec/spawn/clone.hpp"
#include "exec/spawn/confinement.hpp"
#include "exec/spawn/limits.hpp"
#include "exec/spawn/mount_base.hpp"
#include "exec/spawn/mounts.hpp"
#include "exec/spawn/namespaces.hpp"
#include "exec/spawn/path_lookup.hpp"
#include "exec/spawn/report.hpp"
#include "exec/spawn/spawn.hpp"
#include "exec/spawn/terminal.hpp"

namespace ringcri::exec {

using namespace spawn_detail;

namespace {

// The byte a terminal's master comes with on the release socket.
constexpr char terminal_byte = 'T';

// The spec's devices, owned by the host ids their owners have in the
// pod's user namespace (device nodes are made from outside it).
std::vector<device_spec> owned_by_host_ids(const container_spec& spec) {
  std::vector<device_spec> devices = spec.devices;
  if (find_namespace(spec, "user") == nullptr) return devices;
  for (device_spec& d : devices) {
    d.uid = sys::host_id_of(spec.uid_mappings, d.uid);
    d.gid = sys::host_id_of(spec.gid_mappings, d.gid);
  }
  return devices;
}

// Everything up to 'R'. On success the process is confined and the
// returned arguments are ready for execve.
result<exec_args> set_up_container(const container_spec& spec, const stdio_fds& io,
                                   const prepared_confinement& confinement, int release_fd,
                                   int rootfs_mount, int mount_base) {
  // 1. Where it belongs: its cgroups first (every page it touches from here
  //    on is charged there), a cgroup namespace rooted at them, the pod's
  //    network, ipc and uts namespaces. Its mount namespace and, unless it
  //    shares one, its pid namespace came new with the clone. The
  //    directories of its v1 cgroups are cloned for its /sys/fs/cgroup
  //    before the cgroup namespace hides where they are.
  if (auto r = join_cgroups(spec.cgroup_procs); !r) return tl::unexpected(r.error());
  std::vector<unique_fd> cgroup_dirs;
  if (std::any_of(spec.mounts.begin(), spec.mounts.end(), [](const mount_spec& m) { return m.type == "cgroup"; })) {
    auto dirs = clone_cgroup_dirs(spec.cgroup_hierarchies);
    if (!dirs) return tl::unexpected(dirs.error());
    cgroup_dirs = std::move(*dirs);
  }
  if (const namespace_spec* ns = find_namespace(spec, "cgroup"); ns && ns->path.empty())
    if (::unshare(CLONE_NEWCGROUP) < 0) return fail_errno(errno, "unshare cgroup namespace");
  if (auto r = join_namespace_paths(spec); !r) return tl::unexpected(r.error());
  // The pod's user namespace, joined only at step 7: idmapped mounts and
  // mounts of the host's file systems need the host's powers, which a
  // process gives up when it enters a user namespace.
  auto userns = open_user_namespace(spec);
  if (!userns) return tl::unexpected(userns.error());

  // 2. Its file system, built beneath the rootfs. Every bind's source is
  //    cloned first, in the host's mount namespace (where the source the
  //    spec names is); then the container's own namespace: a copy of the
  //    mount base where the caller has one (mount_base.hpp), or else of
  //    the caller's, made with the clone. Nothing mounted from here on
  //    reaches the host's, except beneath a BIDIRECTIONAL mount.
  std::vector<unique_fd> sources;
  for (const mount_spec& m : spec.mounts) {
    auto tree = clone_bind_source(m);
    if (!tree) return tl::unexpected(tree.error());
    sources.push_back(std::move(*tree));
  }
  // The rootfs: the overlay the caller made ahead, attached below, or one
  // mounted there (always so for idmapped layers, which live in the
  // container's mount namespace only: taken here, in the host's).
  if (rootfs_mount >= 0 && *userns)
    return fail(error_kind::invalid_argument, "a rootfs made ahead cannot have idmapped layers");
  std::vector<idmapped_lower> idmapped;
  if (*userns) {
    auto lowers = open_idmapped_lowers(spec.rootfs, userns->get());
    if (!lowers) return tl::unexpected(lowers.error());
    idmapped = std::move(*lowers);
  }
  if (mount_base >= 0)
    if (auto r = enter_mount_base(mount_base); !r) return tl::unexpected(r.error());
  if (::mount("", "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0)
    return fail_errno(errno, "make \"/\" rslave");
  auto rootfs = rootfs_mount >= 0 ? attach_overlay(rootfs_mount, spec.rootfs.target)
                                  : mount_overlay(spec.rootfs, std::move(idmapped));
  if (!rootfs) return tl::unexpected(rootfs.error());
  if (rootfs_mount >= 0) ::close(rootfs_mount);
  unique_fd root(::open(spec.rootfs.target.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return fail_errno(errno, fmt::format("open rootfs \"{}\"", spec.rootfs.target));
  for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
    const mount_spec& m = spec.mounts[i];
    auto r = m.type == "cgroup"
                 ? mount_cgroup_tree(root.get(), m, spec.cgroup_hierarchies, cgroup_dirs)
                 : mount_in_root(root.get(), m, sources[i].get(), userns->get());
    if (!r) return tl::unexpected(r.error());
  }
  sources.clear();
  cgroup_dirs.clear();
  if (auto r = make_devices(root.get(), owned_by_host_ids(spec)); !r)
    return tl::unexpected(r.error());

  // 3. What lives in its namespaces, and its oom_score_adj through the
  //    host's /proc, still there.
  if (auto r = apply_sysctls(spec.sysctls); !r) return tl::unexpected(r.error());
  if (auto r = set_hostname(spec); !r) return tl::unexpected(r.error());
  if (auto r = sys::set_oom_score_adj(spec.process.oom_score_adj.value_or(0)); !r)
    return tl::unexpected(r.error());

  // 4. Its terminal, while the caller's /dev/pts (the fallback) is in
  //    reach: a pty of the container's own /dev/pts whose master goes to
  //    the caller, or the one the caller gave.
  stdio_fds stdio = io;
  unique_fd pty_slave;
  if (spec.process.terminal && io.in < 0) {
    user_spec owner = spec.process.user;
    if (*userns) owner.uid = sys::host_id_of(spec.uid_mappings, owner.uid);
    auto pty = open_terminal_in(root.get(), owner);
    if (!pty) return tl::unexpected(std::move(pty.error()).context("open the terminal"));
    if (auto r = send_with_fd(release_fd, terminal_byte, pty->master.get()); !r)
      return tl::unexpected(r.error());
    pty_slave = std::move(pty->slave);
    stdio = {pty_slave.get(), pty_slave.get(), pty_slave.get()};
  }

  // 5. The rootfs becomes /; then what is hidden or read-only in it, its
  //    limits and its working directory.
  root.reset();
  if (auto r = pivot_into(spec.rootfs.target); !r) return tl::unexpected(r.error());
  if (auto r = mask_paths(spec.masked_paths); !r) return tl::unexpected(r.error());
  if (auto r = make_paths_readonly(spec.readonly_paths); !r) return tl::unexpected(r.error());
  if (auto r = apply_rlimits(spec.process.rlimits); !r) return tl::unexpected(r.error());
  const std::string cwd = spec.process.cwd.empty() ? "/" : spec.process.cwd;
  {
    unique_fd slash(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!slash) return fail_errno(errno, "open \"/\"");
    if (auto r = mkdir_all_in_root(slash.get(), cwd); !r)
      return tl::unexpected(std::move(r.error()).context(fmt::format("make cwd \"{}\"", cwd)));
  }
  if (::chdir(cwd.c_str()) < 0) return fail_errno(errno, fmt::format("chdir \"{}\"", cwd));
  if (spec.rootfs.readonly)
    if (auto r = make_root_readonly(); !r) return tl::unexpected(r.error());

  // 6. Its command, found now so that a missing one fails the create; its
  //    stdio, and a terminal as its controlling terminal.
  auto executable = find_executable(spec.process);
  if (!executable) return tl::unexpected(executable.error());
  exec_args args = exec_args_of(spec.process, std::move(*executable));
  if (auto r = install_stdio(stdio); !r) return tl::unexpected(r.error());
  pty_slave.reset();
  if (spec.process.terminal)
    if (auto r = take_controlling_terminal(); !r) return tl::unexpected(r.error());

  // 7. Last, its powers down to the spec's: the pod's user namespace
  //    (where the spec's user and capabilities are taken), user,
  //    capabilities, no_new_privs, seccomp. It waits for StartContainer
  //    like this.
  if (auto r = join_user_namespace(userns->get()); !r) return tl::unexpected(r.error());
  userns->reset();
  if (auto r = confine(spec.process, confinement); !r) return tl::unexpected(r.error());
  return args;
}

[[noreturn]] void run_container_child(const container_spec& spec, const stdio_fds& io,
                                      const prepared_confinement& confinement, int report_fd,
                                      int release_fd, int rootfs_mount, int mount_base) {
  enter_child(title_of(spec.process),
              {report_fd, release_fd, io.in, io.out, io.err, rootfs_mount, mount_base});
  auto args = set_up_container(spec, io, confinement, release_fd, rootfs_mount, mount_base);
  if (!args) report_failure(report_fd, args.error());
  report_ready(report_fd);

  // Confined now: only a read, and execve, from here on.
  char byte = 0;
  ssize_t n;
  do {
    n = ::read(release_fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  // End of file without a byte: the container was removed before it started.
  if (n <= 0) ::_exit(0);
  exec_or_report(*args, report_fd);
}

}  // namespace

result<child> clone_container(const container_spec& spec, const stdio_fds& io, int rootfs_mount,
                              int mount_base, clone_as as) {
  auto flags = clone_flags(spec);
  if (!flags) return tl::unexpected(flags.error());
  // With a mount base the child makes its mount namespace from that.
  if (mount_base >= 0) *flags &= ~static_cast<std::uint64_t>(CLONE_NEWNS);
  auto confinement = prepare_confinement(spec.process);
  if (!confinement) return tl::unexpected(confinement.error());

  auto report = make_report_pipe();
  if (!report) return tl::unexpected(report.error());
  unique_fd report_read = std::move(report->read), report_write = std::move(report->write);
  auto release_socket = make_release_socket();
  if (!release_socket) return tl::unexpected(release_socket.error());
  unique_fd release_child = std::move(release_socket->first);
  unique_fd release_parent = std::move(release_socket->second);

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

  auto cloned = clone3_pidfd(*flags | parent_flag(as));
  if (cloned && cloned->pid == 0)
    run_child(report_write.get(), [&] {
      run_container_child(spec, io, *confinement, report_write.get(), release_child.get(),
                          rootfs_mount, mount_base);
    });
  if (!cloned) return tl::unexpected(cloned.error());
  child c;
  c.pid = cloned->pid;
  c.pidfd = std::move(cloned->pidfd);
  c.report = std::move(report_read);
  c.release = std::move(release_parent);
  if (pid_ns)
    if (auto r = pid_ns->leave(); !r) {
      kill_and_reap(c.pidfd.get());
      return tl::unexpected(r.error());
    }
  return c;
}

result<unique_fd> take_terminal(child& c) {
  if (!c.release) return fail(error_kind::failed_precondition, "take the terminal: no release socket");
  // Sent before 'R', which the caller has read: it is there to take.
  if (::fcntl(c.release.get(), F_SETFL, O_NONBLOCK) < 0)
    return fail_errno(errno, "take the terminal");
  char byte = 0;
  unique_fd master;
  bool got = receive_with_fd(c.release.get(), byte, master);
  int flags = ::fcntl(c.release.get(), F_GETFL);
  if (flags >= 0) ::fcntl(c.release.get(), F_SETFL, flags & ~O_NONBLOCK);
  if (!got || byte != terminal_byte || !master)
    return fail(error_kind::internal, "take the terminal: the container sent no pty");
  if (::fcntl(master.get(), F_SETFL, O_NONBLOCK) < 0)
    return fail_errno(errno, "make the pty master non-blocking");
  return master;
}

result<void> release(child& c) {
  if (!c.release) return fail(error_kind::failed_precondition, "release: already released");
  unique_fd fd = std::move(c.release);
  return send_with_fd(fd.get(), '1', -1);
}

}  // namespace ringcri::exec
