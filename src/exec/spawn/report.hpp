#pragma once
// The channels between a spawned child and its parent (spawn.hpp describes
// the protocol). The report pipe, child to parent: 'R' when set up,
// 'P<pid>\n' for the process an exec's first child made, 'E<errno>:
// <message>' and exit 127 on failure, end of file at execve. The release
// socket (containers only): a container's pty master, child to parent,
// before 'R'; the release byte, parent to child.

#include <exception>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::exec::spawn_detail {

// Both ends close on exec; the parent's read end is non-blocking, as
// read_report expects.
struct report_pipe {
  unique_fd read;
  unique_fd write;
};
result<report_pipe> make_report_pipe();

// A socket pair (send(MSG_NOSIGNAL) to a child that already died fails
// with EPIPE instead of raising SIGPIPE); [0] is the child's end.
result<std::pair<unique_fd, unique_fd>> make_release_socket();

// The exit code of a child that failed before or at execve.
inline constexpr int failed_exit_code = 127;

// Writes 'R'. A parent that went away is not this child's problem: it
// notices when release never comes.
void report_ready(int report_fd);

// Writes 'P<pid>\n': the pid of the process that will exec.
void report_pid(int report_fd, pid_t pid);

// Writes 'E<errno>:<message>' in one write (so the parent never reads half
// of it) and exits the child with failed_exit_code.
[[noreturn]] void report_failure(int report_fd, const error& e);

// One byte with `fd` attached (SCM_RIGHTS), or without one when fd < 0.
result<void> send_with_fd(int sock, char byte, int fd);

// Waits for one byte; `fd` gets the fd that came with it, if any. False at
// end of file or on an error.
bool receive_with_fd(int sock, char& byte, unique_fd& fd);

// Runs a clone child's body, which ends in execve or _exit; an exception
// out of it (a bug) is reported like any failure, never unwound into the
// parent's code.
template <class Body>
[[noreturn]] void run_child(int report_fd, Body body) {
  try {
    body();
  } catch (const std::exception& e) {
    report_failure(report_fd, error(error_kind::internal, e.what()));
  } catch (...) {
    report_failure(report_fd, error(error_kind::internal, "unknown exception"));
  }
  report_failure(report_fd, error(error_kind::internal, "the child's setup returned"));
}

}  // namespace ringcri::exec::spawn_detail
