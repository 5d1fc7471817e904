#pragma once
// What every spawned child does first and last with its process state:
// forget the keeper's signal handling, close the keeper's other fds (a
// pipe of another container held open here would hide its EOF), and put
// the container's stdio on 0, 1, 2.

#include <initializer_list>

#include "base/error.hpp"
#include "exec/spawn/spawn.hpp"

namespace ringcri::exec::spawn_detail {

// Default dispositions and an empty signal mask, as a fresh process has.
void reset_signals();

// Closes every fd but `keep` (-1 entries are ignored), then puts /dev/null
// on whichever of 0, 1, 2 is free so later opens never land there.
void close_fds_except(std::initializer_list<int> keep);

// Moves io onto 0, 1, 2; -1 opens /dev/null as the process now sees it
// (the container's, after pivot_root).
result<void> install_stdio(const stdio_fds& io);

// For process.terminal: a new session whose controlling terminal is stdin
// (a pty slave), so the shell gets job control and ^C reaches it.
result<void> take_controlling_terminal();

}  // namespace ringcri::exec::spawn_detail
