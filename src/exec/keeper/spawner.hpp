#pragma once
// The keeper's spawners: small processes forked from the keeper as it
// starts, which clone every container, exec and pod init on its behalf.
//
// A clone copies the caller's page tables and fd table, and the child
// then closes every fd it was given: from the keeper, on a full node, that
// is thousands (each container's pidfd, pipes and log), and each page the
// keeper or the child writes afterwards is copied. A spawner holds a
// socket, the mount base and little memory. It clones with CLONE_PARENT,
// so the container is the keeper's child as before: the keeper holds its
// pidfd, waits for it and reaps it; the spawner only passes back the pid
// and the fds (pidfd, report pipe, release socket). While a spawner
// clones, the keeper serves on; with one spawner per CPU, creates of
// different pods clone side by side.
//
//   request  {"op": "create" | "exec" | "pod_init", "args": {...},
//             "fds": ["in", "out", "err", "rootfs", "container"]}  (+ fds)
//   reply    {"pid": N}  + pidfd, report (+ release, for a create)
//            {"error": {...}}                       (protocol.hpp's errors)
//
// A spawner that dies (killed, or a crash point) fails the request in
// flight and is replaced by a new one, forked when next needed. A child it
// cloned before dying finds its report pipe and release socket closed and
// ends; the keeper reaps it as an orphan.

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "exec/spawn/spawn.hpp"
#include "reactor/condition.hpp"
#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::exec::keeper {

struct spawner_options {
  int mount_base = -1;    // not owned; the keeper's (mount_base.hpp)
  std::string empty_dir;  // the root of every pod init
  std::size_t count = 1;
};

// An fd of a request, by the name the spawner knows it by.
struct named_fd {
  std::string name;
  int fd = -1;  // not owned
};

// A request's stdio, named "in", "out", "err".
std::vector<named_fd> stdio_named(const stdio_fds& io);

class spawners {
 public:
  // Forks `options.count` spawners. Call while the keeper has a single
  // thread. Fails only when not one could be forked.
  static result<std::unique_ptr<spawners>> start(spawner_options options);

  spawners(const spawners&) = delete;
  spawners& operator=(const spawners&) = delete;
  // Closes the sockets: each spawner sees the end and exits.
  ~spawners() = default;

  // Has a free spawner clone for request `op` with `args` (a create's,
  // exec's or pod_init's arguments as the keeper received them) and `fds`.
  // The fds stay the caller's. Waits while every spawner is busy.
  reactor::task<result<child>> clone(std::string_view op, const nlohmann::json& args,
                                     std::vector<named_fd> fds);

  // The live spawners' pids (for the keeper's reaper and for tests).
  std::vector<pid_t> pids() const;

 private:
  struct process {
    pid_t pid = -1;
    unique_fd sock;  // invalid: dead, forked anew when next needed
    bool busy = false;
  };
  explicit spawners(spawner_options options) : options_(std::move(options)) {}
  result<void> revive(process& p);

  spawner_options options_;
  std::vector<process> processes_;
  reactor::condition freed_;  // a spawner became free
};

// The spawner's side (spawner_process.cpp): serves requests on `sock`
// until the keeper closes it, then exits.
[[noreturn]] void run_spawner(int sock, const spawner_options& options);

}  // namespace ringcri::exec::keeper
