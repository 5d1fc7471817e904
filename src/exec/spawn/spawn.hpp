#pragma once
// The spawn engine: clone3 a container (or a command inside one, or a
// pod's init) and set it up in the child. Called by the keeper, which is
// single-threaded, so the child may allocate; never call it from the
// multi-threaded daemon.
//
// A container is made in two steps, so StartContainer only releases it:
//
//   auto c = clone_container(spec, io);   // returns at once after clone3
//   ... wait until c->report is readable ...
//   auto ready = read_report(c->report);   // set up and confined, or the child's error
//   auto pty = take_terminal(*c);          // process.terminal without io: its pty's master
//   ... later, StartContainer ...
//   release(*c);                           // the child execs
//   ... wait until c->report is readable ...
//   auto started = read_report(c->report); // EOF: execve succeeded
//
// The order of a container's set-up is child_container.cpp's
// set_up_container, read top to bottom; a created container waits for its
// release already confined: its user, capabilities, no_new_privs and
// seccomp filter are the spec's, it is not dumpable, and ps shows the
// name of its command, not the keeper's.
//
// Report pipe protocol (child -> parent, the write end is O_CLOEXEC):
//   'R'                 setup finished, waiting for release
//   'P' <pid> '\n'      (exec only) the pid of the process that will exec
//   'E' <errno> ':' <message>
//                       failed (the child then exits 127); the message says
//                       what (which mount, which path, which syscall, errno)
//   end of file         execve succeeded

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

// Whose child a clone is: the caller's, or its parent's (CLONE_PARENT),
// for a process that clones on another's behalf (the keeper's spawners):
// the caller's parent then waits for it and reaps it.
enum class clone_as { child, sibling };

struct child {
  pid_t pid = -1;
  unique_fd pidfd;    // for waitid (reaps), pidfd_send_signal, setns
  unique_fd report;   // read end of the report pipe, O_NONBLOCK|O_CLOEXEC
  unique_fd release;  // our end of the release socket (containers only)
};

enum class report_kind { ready, spawned, error, exec_done, not_yet };
struct report {
  report_kind kind = report_kind::not_yet;
  std::string message;  // for error
  int sys_errno = 0;    // for error: the errno of the failed call, if any
  pid_t pid = 0;        // for spawned
};

// The container's overlay made ahead of its process, attached nowhere yet
// (fsopen, fsconfig "lowerdir+", fsmount), so that the file system's work
// of a mount can be done beside the rest of a create: clone_container then
// attaches it on spec.rootfs.target in the container's mount namespace.
// Not for idmapped layers (a pod user namespace): the child mounts those.
// Needs Linux 6.8+ ("lowerdir+"); where it fails, leave the mount to the
// child, which says what is wrong.
result<unique_fd> make_detached_overlay(const rootfs_spec& rootfs);

// Clones the container's process; returns once clone3 did. The child's
// setup runs on its own. Errors here are the parent's (clone3, pipes).
//
// `rootfs_mount`, when not -1, is spec.rootfs made by
// make_detached_overlay; the child attaches it instead of mounting one.
// `mount_base`, when not -1, is the fd make_mount_base returned: the
// child's mount namespace is a copy of that instead of the caller's.
//
// With process.terminal, `io` may carry a terminal (its slave on io.in),
// which becomes the process's controlling terminal; without one the child
// opens a pty in the container's own /dev/pts (or, lacking one, the
// caller's), makes its slave the process's stdio and controlling terminal
// and hands the master over before it reports 'R' (take_terminal).
result<child> clone_container(const container_spec& spec, const stdio_fds& io,
                              int rootfs_mount = -1, int mount_base = -1,
                              clone_as as = clone_as::child);

// After 'R', for a container with process.terminal cloned without io: the
// master of the pty the child opened, O_NONBLOCK.
result<unique_fd> take_terminal(child& c);

// Lets a container that reported 'R' exec. Closes c.release.
result<void> release(child& c);

// Runs a command inside a running container. A first child, invisible to
// the container, joins the container's cgroup (spec.cgroup_procs) and
// every namespace of `container_pidfd` but its pid namespace (mount,
// network, ipc, uts, cgroup), and confines itself; only then does it
// clone the process that execs into the container's pid namespace (as a
// sibling: the caller's child), report its pid ('P') and exit. So no
// process of ours is ever visible in the container while it holds more
// than the exec's spec grants or sees the host's file system. read_report
// gives `spawned` with that pid: the caller opens its pidfd (it is the
// caller's child, so the pid is its own until the caller reaps it) and
// reaps the first child.
result<child> clone_exec(const exec_spec& spec, int container_pidfd, const stdio_fds& io,
                         clone_as as = clone_as::child);

// The pod's init when its containers share a pid namespace: pid 1 of a new
// pid namespace that reaps orphans. Built-in code (no exec), with no power
// at all: its own mount namespace whose only mount is an empty read-only
// tmpfs (on `empty_dir`, an empty directory of ours), no capability in any
// set, no_new_privs, a seccomp filter that allows what a reaper does and
// nothing else, not dumpable. Signals sent from inside the pod are dropped
// by the kernel (an init with no handler); from outside only SIGKILL ends
// it. Reports 'R' once running. `mount_base` as for clone_container.
result<child> clone_pod_init(const std::string& pod_id, const std::string& empty_dir,
                             int mount_base = -1, clone_as as = clone_as::child);

// Reads what the child has written so far. Non-blocking: not_yet when the
// pipe is empty but still open. Call again after it is readable.
result<report> read_report(int report_fd);

}  // namespace ringcri::exec
