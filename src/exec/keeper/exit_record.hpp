#pragma once
// A container's exit, recorded where the daemon finds it after a restart
// (container_spec::exit_path): {"exit_code": N, "signal": S, "finished_at": ns}.
// Written atomically and durably (reactor/atomic_file.hpp): a temp file
// beside it, fsync, rename, fsync of the directory. read_exit_record() is
// declared in client.hpp.

#include <string>

#include "base/error.hpp"
#include "exec/keeper/client.hpp"
#include "reactor/task.hpp"

namespace ringcri::exec::keeper {

// The record's bytes (exit_status::id is not part of it: the path names the container).
std::string exit_record_bytes(const exit_status& status);

reactor::task<result<void>> write_exit_record(std::string path, exit_status status);

}  // namespace ringcri::exec::keeper
