#pragma once
// As PR_SET_CHILD_SUBREAPER the keeper inherits every orphan below it (a
// container's daemonized descendants outside its pid namespace, a spawn
// step's intermediate process). Held processes are reaped through their
// pidfds; these others are reaped here, so none stays a zombie.
//
// A SIGCHLD handler writes a byte into a self-pipe that the reactor polls.
// (A handler rather than a signalfd: signalfd needs SIGCHLD blocked, and a
// blocked mask would be inherited by every container.)

#include <sys/types.h>

#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::exec::keeper {

// Installs the handler; returns the pipe's read end (O_NONBLOCK).
result<unique_fd> install_sigchld_pipe();

// Empties the self-pipe after a wakeup.
void drain_sigchld_pipe(int fd);

// The keeper's children, from /proc/self/task/*/children.
std::vector<pid_t> list_children();

}  // namespace ringcri::exec::keeper
