#pragma once
// The pty of a terminal process (process.terminal): its slave becomes the
// process's stdin, stdout and stderr and its controlling terminal; whoever
// holds the master reads the output and writes the input.

#include <sys/types.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec {

struct terminal {
  unique_fd master;  // O_NONBLOCK | O_CLOEXEC
  unique_fd slave;   // O_NOCTTY | O_CLOEXEC
};

// A pty on the devpts mounted at /dev/pts in the container of `pid` (any
// process in it, seen through /proc/<pid>/root), as runc makes one: the
// process then finds its terminal by name (tty, ttyname(3), screen). Its
// slave belongs to `owner`'s uid. A container without its own /dev/pts
// gets a pty of the caller's /dev/pts instead, which works but has no
// name inside the container.
result<terminal> open_terminal(pid_t pid, const user_spec& owner);

// The same, for the container whose root directory is `root_fd`: what a
// container's own child does before pivot_root, while the caller's
// /dev/pts (the fallback) is still in reach.
result<terminal> open_terminal_in(int root_fd, const user_spec& owner);

}  // namespace ringcri::exec
