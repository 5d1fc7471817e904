#pragma once
// Starting a keeper from the daemon: `<binary> keeper --state <dir>
// --log-level <lvl> --log-target file --log-max-bytes <n>` (or
// `--log-target journald`), fully detached (double fork, setsid), stdio to
// /dev/null and <state>/keeper.log, so it outlives the daemon and the
// daemon never has to reap it. keeper.log is stderr from the first byte,
// for whatever is printed before the keeper's logging starts.

#include "base/error.hpp"
#include "exec/keeper/client.hpp"

namespace ringcri::exec::keeper {

// Blocks for a fork and the intermediate child's exit (a few ms): call it
// off the reactor (run_blocking). Safe in a multi-threaded process: between
// fork and exec the children make only async-signal-safe calls.
result<void> start_keeper_process(const options& opts);

}  // namespace ringcri::exec::keeper
