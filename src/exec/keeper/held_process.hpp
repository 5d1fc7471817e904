#pragma once
// What the keeper holds for one container (or a pod's init): its process,
// its output pipes and log, and where it is in its life. Kept small: the
// keeper holds every container of the node.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/unique_fd.hpp"
#include "exec/keeper/client.hpp"
#include "exec/keeper/cri_log.hpp"
#include "exec/keeper/event.hpp"
#include "exec/spawn/spawn.hpp"
#include "reactor/op.hpp"

namespace ringcri::exec::keeper {

struct held_process {
  std::string id;
  bool pod_init = false;
  std::string log_path;   // empty: no output kept
  std::string exit_path;  // empty: no exit record

  // Its life: created (setup reported 'R'), started (execve done),
  // exited (reaped, output drained, exit recorded and announced). A
  // process is live until exited.
  bool created = false;
  bool started = false;
  bool exited = false;
  bool removed = false;  // remove() asked for it: no record if never started

  // pid, pidfd; report and release until started.
  exec::child proc;
  unique_fd stdout_read;  // O_NONBLOCK
  unique_fd stderr_read;
  unique_fd stdin_write;  // when the spec keeps stdin open
  // Shared with log writes in flight, so reopen_log() never closes an fd
  // a queued write still names.
  std::shared_ptr<unique_fd> log;
  cri_log_stream out{"stdout"};
  cri_log_stream err{"stderr"};

  std::int64_t started_at = 0;
  exit_status exit;

  int pumps_running = 0;
  reactor::cancellation pumps_done;  // cancelled when the last pump ends
  reactor::cancellation stop_pumps;  // cancelled to make the pumps give up
  event pumps_finished;
  event exit_done;  // after the exit is recorded and announced
};

}  // namespace ringcri::exec::keeper
