#pragma once
// What the keeper holds for one container (or a pod's init): its process,
// its output pipes and log, the daemon's attachments to its output, and
// where it is in its life. Kept small: the keeper holds every container of
// the node.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
  // A terminal container (process.terminal) has one pty instead of the
  // pipes: its master is stdout_read, where input goes too, and there is
  // no stderr. The container's child makes the pty in its own /dev/pts
  // and sends the master before it reports ready.
  bool tty = false;
  unique_fd stdout_read;  // O_NONBLOCK (the pty master for a tty)
  unique_fd stderr_read;
  unique_fd stdin_write;    // when the spec keeps stdin open, until close_stdin
  bool stdin_open = false;  // input is taken: spec.stdin_open until close_stdin

  // Write ends (O_NONBLOCK) of the pipes attach() gave the daemon: each
  // gets the raw output of its stream until it falls behind or is closed.
  std::vector<unique_fd> out_attachments;
  std::vector<unique_fd> err_attachments;
  bool out_ended = false;  // the stream's pump finished: nothing more comes
  bool err_ended = false;
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
