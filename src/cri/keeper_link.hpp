#pragma once
// The daemon's one connection to the keeper, usable from any reactor.
// The keeper client lives on one reactor (the keeper core); each call here
// hops there, makes the call, and hops back to the caller's reactor. A hop
// costs a cross-core post (a few us), small beside the keeper's own work.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "exec/keeper/client.hpp"
#include "reactor/pool.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

namespace keeper = exec::keeper;

class keeper_link {
 public:
  keeper_link(reactor::reactor_pool& pool, unsigned core) : pool_(pool), core_(core) {}

  // Connects (starting a keeper if none runs) on the keeper core; blocks
  // the calling (non-reactor) thread until done. `on_exit` runs on the
  // keeper core for every exit; `on_reconnect` there once a broken
  // connection was made again (keeper::client::on_reconnect).
  result<void> connect(const keeper::options& opts,
                       std::function<void(const keeper::exit_status&)> on_exit,
                       std::function<void()> on_reconnect = {});
  // Drops the connection on the keeper core (the keeper keeps running).
  void disconnect();

  // `rootfs_mount`: see keeper::client::create; open until this returns.
  reactor::task<result<keeper::created>> create(const exec::container_spec& spec, int rootfs_mount = -1);
  reactor::task<result<keeper::started>> start(std::string id);
  reactor::task<result<keeper::created>> start_pod_init(std::string pod_id);
  // `hangup_fd`: the keeper kills the command once this pipe's write end
  // closes (see keeper::client::exec).
  reactor::task<result<keeper::exec_result>> exec(const exec::exec_spec& spec, exec::stdio_fds io,
                                                  std::chrono::milliseconds timeout, int hangup_fd = -1);
  reactor::task<result<keeper::attached>> attach(std::string id);
  reactor::task<result<void>> close_stdin(std::string id);
  reactor::task<result<void>> reopen_log(std::string id);
  reactor::task<result<void>> remove(std::string id);
  reactor::task<result<std::vector<keeper::held>>> list();

 private:
  reactor::task<result<void>> connect_here(keeper::options opts,
                                           std::function<void(const keeper::exit_status&)> on_exit,
                                           std::function<void()> on_reconnect);

  reactor::reactor_pool& pool_;
  unsigned core_;
  std::unique_ptr<keeper::client> client_;  // touched on the keeper core only
};

}  // namespace ringcri::cri
