#pragma once
// The report pipe (spawn.hpp describes the protocol): made by the parent,
// written by the child: 'R' when set up, 'E<errno>:<message>' and exit 127
// on failure.

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

// The exit code of a child that failed before or at execve.
inline constexpr int failed_exit_code = 127;

// Writes 'R'. A parent that went away is not this child's problem: it
// notices when release never comes.
void report_ready(int report_fd);

// Writes 'E<errno>:<message>' in one write (so the parent never reads half
// of it) and exits the child with failed_exit_code.
[[noreturn]] void report_failure(int report_fd, const error& e);

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
