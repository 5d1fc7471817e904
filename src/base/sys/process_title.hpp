#pragma once
// What `ps` shows of a process: its name (comm, 15 bytes) and its command
// line. A child forked from one of our processes shows the parent's own
// command line, host paths and all, until it execs; a spawned child that
// waits in a pod, or a pod's init, names itself instead.
//
// The command line is read from the memory where the kernel put argv at
// start (arg_start..arg_end of /proc/self/stat); it is overwritten in
// place, which needs no privilege (PR_SET_MM_ARG_START would need
// CAP_SYS_RESOURCE). Call it only in a single-threaded child of ours, and
// while /proc is the host's (before pivot_root or setns).

#include <string_view>

namespace ringcri::sys {

// The name (cut to 15 bytes) and the whole command line (cut to the room
// the original arguments had; the rest zeroed); the environment block the
// process started with is zeroed too (/proc/<pid>/environ reads it).
void set_process_title(std::string_view title);

}  // namespace ringcri::sys
