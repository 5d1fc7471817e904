#pragma once
// The spawn engine: clone3 a container (or a command inside one) and set
// it up in the child. Called by the keeper, which is single-threaded, so
// the child may allocate; never call it from the multi-threaded daemon.
//
// A container is made in two steps, so StartContainer only releases it:
//
//   auto c = clone_container(spec, io);   // returns at once after clone3
//   ... wait until c->report is readable ...
//   auto ready = read_report(c->report);   // setup done, or the child's error
//   ... later, StartContainer ...
//   release(*c);                           // the child execs
//   ... wait until c->report is readable ...
//   auto started = read_report(c->report); // EOF: execve succeeded
//
// Report pipe protocol (child -> parent, the write end is O_CLOEXEC):
//   'R'                 setup finished, waiting for release
//   'E' <errno> ':' <message>
//                       failed (the child then exits 127); the message says
//                       what (which mount, which path, which syscall, errno)
//   end of file         execve succeeded
//
// The child of clone_container:
//   joins the cgroup (spec.cgroup_procs), then a new cgroup namespace;
//   joins or makes the namespaces the spec lists (pid is made by clone3, or
//   joined by the parent with setns before the clone so the child is pid N
//   of the pod's namespace); makes / rslave; mounts the overlay rootfs;
//   does spec.mounts, devices, /etc files; pivot_root; masked and readonly
//   paths; readonly rootfs; sysctls; hostname; rlimits; oom_score_adj;
//   resolves args[0] in PATH inside the rootfs (a missing command fails
//   here, at create time); reports 'R'; waits for release (which may
//   bring a terminal's slave to put on 0, 1, 2); with
//   process.terminal, setsid and TIOCSCTTY on stdin (a pty slave the
//   caller passed as stdio); sets user and capabilities and no_new_privs;
//   loads seccomp; close_range(3, ~0); execve.
//
// clone_exec's child does the same terminal step before its user change.

#include <sys/types.h>

#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec {

// The child's stdio. -1 means /dev/null.
struct stdio_fds {
  int in = -1;
  int out = -1;
  int err = -1;
};

struct child {
  pid_t pid = -1;
  unique_fd pidfd;    // for waitid (reaps), pidfd_send_signal, setns
  unique_fd report;   // read end of the report pipe, O_NONBLOCK|O_CLOEXEC
  unique_fd release;  // write end of the release pipe (containers only)
};

enum class report_kind { ready, error, exec_done, not_yet };
struct report {
  report_kind kind = report_kind::not_yet;
  std::string message;  // for error
  int sys_errno = 0;    // for error: the errno of the failed call, if any
};

// Clones the container's process; returns once clone3 did. The child's
// setup runs on its own. Errors here are the parent's (clone3, pipes).
result<child> clone_container(const container_spec& spec, const stdio_fds& io);

// Lets a container that reported 'R' exec. Closes c.release.
// `terminal_slave` (optional): a pty slave (open_terminal, terminal.hpp)
// sent along, which the child puts on 0, 1 and 2 before it execs, so its
// terminal can be one opened in the container's own /dev/pts after setup.
result<void> release(child& c, int terminal_slave = -1);

// Clones a command inside a running container: it joins the container's
// cgroup (spec.cgroup_procs) and every namespace of `container_pidfd`
// (mount, pid, net, ipc, uts, cgroup), then runs spec.process. No release
// step: it execs as soon as it is set up.
result<child> clone_exec(const exec_spec& spec, int container_pidfd, const stdio_fds& io);

// The pod's init when its containers share a pid namespace: pid 1 of a new
// pid namespace that reaps orphans and waits for SIGTERM/SIGKILL. It runs
// built-in code (no exec, no rootfs). Reports 'R' once running.
result<child> clone_pod_init(const std::string& pod_id);

// Reads what the child has written so far. Non-blocking: not_yet when the
// pipe is empty but still open. Call again after it is readable.
result<report> read_report(int report_fd);

}  // namespace ringcri::exec
