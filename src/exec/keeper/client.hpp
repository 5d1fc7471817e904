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

struct options {
  std::filesystem::path state_dir;  // keeper.sock and keeper.lock live here
  std::filesystem::path binary;     // what to exec as `<binary> keeper --state <state_dir>`
  std::string log_level = "info";
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

class client {
 public:
  static reactor::task<result<std::unique_ptr<client>>> connect(const options& opts);
  ~client();

  // Clones the container and waits for its setup. The child's error
  // (mount, path, errno, command not found) comes back as the message.
  reactor::task<result<created>> create(const container_spec& spec);
  // Releases a created container; returns once execve succeeded.
  reactor::task<result<started>> start(const std::string& id);
  // A pod's init for a shared pid namespace (NamespaceMode POD).
  reactor::task<result<created>> start_pod_init(const std::string& pod_id);
  // Runs a command in a running container, stdio as given (the daemon
  // reads them); kills it at `timeout` (0: none). Returns when it exited.
  reactor::task<result<exec_result>> exec(const exec_spec& spec, const stdio_fds& io,
                                          std::chrono::milliseconds timeout);
  // Reopens the container's log file (after the kubelet rotated it).
  reactor::task<result<void>> reopen_log(const std::string& id);
  // Forgets a container: SIGKILL if still alive, wait for its exit and
  // its output, close its pipes and log. Unknown ids are fine.
  reactor::task<result<void>> remove(const std::string& id);
  // Everything the keeper holds, with fresh pidfds for the live ones.
  reactor::task<result<std::vector<held>>> list();

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
