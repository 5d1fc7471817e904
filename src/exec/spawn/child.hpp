#pragma once
// What every spawned child does with its process state: first it forgets
// the keeper's (signal handling, the keeper's other fds, its name), last
// it puts its stdio in place, takes its terminal and execs.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "exec/spawn/spawn.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec::spawn_detail {

// Default dispositions and an empty signal mask, as a fresh process has.
void reset_signals();

// Closes every fd but `keep` (-1 entries are ignored), then puts /dev/null
// on whichever of 0, 1, 2 is free so later opens never land there.
void close_fds_except(std::initializer_list<int> keep);

// The first steps of every child: not dumpable (nothing in a pod may
// ptrace or read the memory of a process of ours before it execs;
// execve makes the program's own process dumpable again), default
// signals, no fd of the keeper's but `keep`, and `title` as the name and
// command line ps shows instead of the keeper's.
void enter_child(std::string_view title, std::initializer_list<int> keep);

// Moves io onto 0, 1, 2; -1 opens /dev/null as the process now sees it
// (the container's, after pivot_root).
result<void> install_stdio(const stdio_fds& io);

// For process.terminal: a new session whose controlling terminal is stdin
// (a pty slave), so the shell gets job control and ^C reaches it.
result<void> take_controlling_terminal();

// The title a spawned process shows until it execs: the basename of the
// command it will run.
std::string title_of(const process_spec& process);

// What execve takes, made before the process is confined: nothing is
// allocated once its seccomp filter is loaded. Points into `process`.
struct exec_args {
  std::string executable;
  std::vector<char*> argv;
  std::vector<char*> envp;
};
exec_args exec_args_of(const process_spec& process, std::string executable);

// execve; on failure the error goes to report_fd and the child exits
// (report.hpp).
[[noreturn]] void exec_or_report(const exec_args& args, int report_fd);

}  // namespace ringcri::exec::spawn_detail
