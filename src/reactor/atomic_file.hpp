#pragma once
// write_file_atomic through the ring, for reactor threads: the steps and
// the temp names of base/sys/atomic_file.hpp (temp file beside the file,
// write, fsync, rename over it, fsync of the directory), each step an op,
// so a reactor thread never waits for the disk and concurrent writers'
// fsyncs reach the file system together (one journal commit serves many).
//
// Durable (durability::synced) unless asked otherwise: an unsynced write
// (for notes that need to survive a crash of the process only) skips both
// fsyncs and is a few page-cache operations. The ring has no fchmod, so the umask applies
// to `mode` (both callers' modes, 0600 and 0640, are within a 022 umask).

#include <sys/types.h>

#include <string_view>

#include "base/error.hpp"
#include "base/sys/durability.hpp"
#include "reactor/task.hpp"

namespace ringcri::reactor {

// Makes `data` the content of `name` in `dir_fd` (open for reading: it is
// fsynced). `dir_path` names the directory in error messages only. The
// views must outlive the task: await it at once.
task<result<void>> write_file_atomic(int dir_fd, std::string_view dir_path, std::string_view name,
                                     std::string_view data, mode_t mode,
                                     sys::durability durability = sys::durability::synced);

}  // namespace ringcri::reactor
