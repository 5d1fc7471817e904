#pragma once
// The daemon's side of the keeper: one connection on one reactor. Every
// method must be called on that reactor (the CRI layer hops there). Calls
// are pipelined: each request carries an id and any number may be in
// flight; exits arrive as events between replies.
//
//   auto k = co_await keeper::client::connect(opts);   // starts a keeper if none runs
//   (*k)->on_exit([](const exit_status& e) { ... });
//   auto c = co_await (*k)->create(spec);              // setup done in the child
//   auto s = co_await (*k)->start(spec.id);            // execve done
//
// The keeper survives the daemon: a restarted daemon connects again and
// list() gives every container it still holds, with a fresh pidfd each.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "exec/spawn/spawn.hpp"
#include "exec/spec.hpp"
#include "reactor/task.hpp"

namespace ringcri::exec::keeper {

// Where a keeper started by connect() logs.
enum class log_target {
  // <state_dir>/keeper.log: past log_max_bytes it becomes keeper.log.1 and
  // a new one starts; three old files are kept (keeper.log.1 the newest).
  file,
  // The systemd journal's native protocol, SYSLOG_IDENTIFIER=ringcri-keeper
  // (keeper.log then holds only what is printed outside the log: a crash).
  journald,
};

struct options {
  std::filesystem::path state_dir;  // keeper.sock and keeper.lock live here
  std::filesystem::path binary;     // what to exec as `<binary> keeper --state <state_dir>`
  std::string log_level = "info";
  log_target log_to = log_target::file;
  std::uint64_t log_max_bytes = std::uint64_t{10} << 20;
};

struct created {
  pid_t pid = -1;
  unique_fd pidfd;
};

struct started {
  std::int64_t started_at = 0;  // unix ns
};

struct exit_status {
  std::string id;
  int exit_code = 0;        // 128+N when killed by signal N
  int signal = 0;           // the signal that killed it, or 0
  std::int64_t finished_at = 0;
};

struct held {
  std::string id;
  pid_t pid = -1;
  unique_fd pidfd;          // invalid once exited
  bool started = false;
  std::int64_t started_at = 0;
  bool exited = false;
  exit_status exit;         // when exited
};

struct exec_result {
  int exit_code = 0;
  bool timed_out = false;   // killed with SIGKILL at the deadline
};

// A running container's stdio, live (CRI Attach). Output written before
// the attach is in the log only. Closing `out` (and `err`) detaches: the
// container and its log go on as before.
struct attached {
  // Read ends of the container's raw output from now on (for a tty: the
  // terminal's output). End of file: the container ended, or this reader
  // fell behind by more than a pipe's worth (1 MiB) and was dropped, which
  // the log never waits for.
  unique_fd out;
  unique_fd err;  // invalid for a tty container
  // Where input goes: a dup of the stdin pipe's write end, or of the pty
  // master for a tty container. Invalid when the container has no stdin
  // (stdin_open false) or close_stdin() was called.
  unique_fd in;
  // A tty container's pty master (for TIOCSWINSZ), even without stdin.
  unique_fd terminal;
  bool tty = false;  // the container has a terminal (process.terminal)
};

class client {
 public:
  static reactor::task<result<std::unique_ptr<client>>> connect(const options& opts);
  ~client();

  // Clones the container and waits for its setup. The child's error
  // (mount, path, errno, command not found) comes back as the message.
  // `rootfs_mount`, when not -1, is the container's overlay made ahead
  // (exec::make_detached_overlay); it goes with the request.
  reactor::task<result<created>> create(const container_spec& spec, int rootfs_mount = -1);
  // Releases a created container; returns once execve succeeded.
  reactor::task<result<started>> start(const std::string& id);
  // A pod's init for a shared pid namespace (NamespaceMode POD).
  reactor::task<result<created>> start_pod_init(const std::string& pod_id);
  // Runs a command in a running container, stdio as given (the daemon
  // reads them); kills it at `timeout` (0: none). Returns when it exited.
  // With process.terminal, pass a pty slave as in, out and err: the
  // command gets it as its controlling terminal. exec::open_terminal
  // (exec/spawn/terminal.hpp) opens one in the container's /dev/pts, so
  // the command also finds it by name (tty, screen).
  // `hangup_fd` (-1: none): the read end of a pipe whose write end the
  // caller holds. Once every copy of the write end is closed (the stream
  // went away, or the daemon died), or a byte is written to it, the keeper
  // kills the command with SIGKILL and replies as usual (exit_code 137).
  // Keep `hangup_fd` open until this returns; the keeper holds its own.
  reactor::task<result<exec_result>> exec(const exec_spec& spec, const stdio_fds& io,
                                          std::chrono::milliseconds timeout, int hangup_fd = -1);
  // Attaches to a running container's stdio. NOT_FOUND for an unknown id,
  // FAILED_PRECONDITION unless it is running (started, not exited).
  reactor::task<result<attached>> attach(const std::string& id);
  // Ends the container's input (stdin_once after the first attach ends):
  // closes the keeper's stdin pipe end, so the container reads EOF once
  // every attach's `in` is closed too; for a tty, writes the terminal's
  // EOF (^D) to the master instead. Later attaches get no `in`. NOT_FOUND
  // for an unknown id; fine when already closed or exited.
  reactor::task<result<void>> close_stdin(const std::string& id);
  // Reopens the container's log file (after the kubelet rotated it).
  reactor::task<result<void>> reopen_log(const std::string& id);
  // Forgets a container: SIGKILL if still alive, wait for its exit and
  // its output, close its pipes and log. Unknown ids are fine.
  reactor::task<result<void>> remove(const std::string& id);
  // Everything the keeper holds, with fresh pidfds for the live ones.
  reactor::task<result<std::vector<held>>> list();

  // Called on the client's reactor once a broken connection was made again
  // (the keeper died and a new one was started, or the socket broke): the
  // owner lists what the keeper holds now and deals with what it lost.
  void on_reconnect(std::function<void()> callback);

  // Called on the client's reactor for every exit the keeper reports,
  // after the exit is recorded in the container's exit_path.
  void on_exit(std::function<void(const exit_status&)> callback);

 private:
  struct impl;
  explicit client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// Reads an exit record the keeper wrote (for a container that exited while
// no daemon was connected). NOT_FOUND when there is none.
result<exit_status> read_exit_record(const std::filesystem::path& exit_path);

// `ringcri keeper ...`: the keeper process's main.
int keeper_main(int argc, char** argv);

}  // namespace ringcri::exec::keeper
