#pragma once
// The keeper's server: one reactor, any number of daemon connections, every
// container of the node. Requests are served concurrently (an exec waits
// for its command while other requests flow); replies and events to one
// connection leave in order.
//
// The server ends run() once it holds no live process and no connection is
// open (at start-up: once no connection came within the grace period).

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "exec/keeper/event.hpp"
#include "exec/keeper/held_process.hpp"
#include "exec/keeper/spawner.hpp"
#include "reactor/condition.hpp"
#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::exec::keeper {

struct server_options {
  std::filesystem::path socket_path;  // removed when the server decides to end
  std::filesystem::path empty_dir;    // an empty directory, the root of every pod init
  // The mount namespace containers are cloned from (make_mount_base), or
  // -1: copies of the keeper's own. Not owned.
  int mount_base = -1;
  // The processes that clone containers, execs and pod inits for the
  // keeper (spawner.hpp), or null: the keeper clones them itself. Not owned.
  spawners* spawner = nullptr;
  std::chrono::milliseconds startup_grace{10'000};
  std::chrono::milliseconds drain_timeout{2'000};  // output after an exit
};

class server {
 public:
  // `listener`: a listening SOCK_SEQPACKET socket. `sigchld`: the read end
  // of the SIGCHLD self-pipe (orphan_reaper.hpp), or invalid.
  server(server_options options, unique_fd listener, unique_fd sigchld);
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server();

  reactor::task<void> run();

 private:
  struct outgoing {
    std::string data;
    std::vector<unique_fd> fds;
  };
  struct session {
    std::uint64_t number = 0;
    unique_fd sock;
    reactor::cancellation cancel;
    bool closed = false;
    bool writing = false;
    std::deque<outgoing> queue;
  };
  // A reply: one or more packets (list() splits its pidfds).
  struct response {
    std::vector<std::pair<nlohmann::json, std::vector<unique_fd>>> packets;
  };
  using session_ptr = std::shared_ptr<session>;
  using process_ptr = std::shared_ptr<held_process>;

  // Background work, counted so run() returns only after all of it ended.
  void start_task(reactor::task<void> t);
  reactor::task<void> tracked(reactor::task<void> t);

  reactor::task<void> accept_loop();
  reactor::task<void> grace_timer();
  reactor::task<void> reap_orphans();
  // Reaps every child no held process or exec knows, unless an exec is
  // between its first child and the pid of the process it made.
  void reap_untracked_children();
  reactor::task<void> serve_session(session_ptr s);
  reactor::task<void> handle_request(session_ptr s, nlohmann::json request,
                                     std::vector<unique_fd> fds);
  reactor::task<result<response>> dispatch_request(const std::string& op,
                                                   const nlohmann::json& request,
                                                   std::vector<unique_fd> fds);
  void send(const session_ptr& s, const nlohmann::json& message, std::vector<unique_fd> fds = {});
  reactor::task<void> write_loop(session_ptr s);
  void broadcast(const nlohmann::json& message);

  // The ops (server_ops.cpp, server_exec.cpp, server_attach.cpp).
  reactor::task<result<response>> do_create(const nlohmann::json& args, std::vector<unique_fd> fds);
  reactor::task<result<response>> do_start(const nlohmann::json& args);
  reactor::task<result<response>> do_pod_init(const nlohmann::json& args);
  reactor::task<result<response>> do_exec(const nlohmann::json& args, std::vector<unique_fd> fds);
  reactor::task<void> watch_hangup(int hangup_fd, int pidfd, reactor::cancellation& stop,
                                   bool& hung_up, event& ended);
  result<response> do_attach(const nlohmann::json& args);
  result<response> do_close_stdin(const nlohmann::json& args);
  reactor::task<result<response>> do_reopen_log(const nlohmann::json& args);
  reactor::task<result<response>> do_remove(const nlohmann::json& args);
  // Answers once every create and pod init in flight holds its process,
  // so that a list never misses one the keeper was asked for before it.
  reactor::task<result<response>> do_list();
  static result<response> pid_reply(const held_process& c);
  // The held process `id`, or NOT_FOUND naming it.
  result<process_ptr> find_held(const std::string& id) const;
  // Clones on a spawner (`op` and `args` as spawner.hpp says) or, without
  // one, here by `local`. The caller holds pending_spawns_ up until the
  // pid is tracked.
  template <class Local>
  reactor::task<result<exec::child>> spawn(std::string_view op, const nlohmann::json& args,
                                           std::vector<named_fd> fds, Local local) {
    if (!options_.spawner) co_return local();
    co_return co_await options_.spawner->clone(op, args, std::move(fds));
  }
  // Holds the orphan reaper off while alive (pending_spawns_), and for a
  // held process (`listed`: a container or pod init, not an exec) list too.
  struct spawn_hold {
    server* s;
    bool listed;
    bool held = true;
    spawn_hold(server* owner, bool listed_process) : s(owner), listed(listed_process) {
      ++s->pending_spawns_;
      if (listed) ++s->unlisted_clones_;
    }
    spawn_hold(const spawn_hold&) = delete;
    spawn_hold& operator=(const spawn_hold&) = delete;
    void release() {
      if (!held) return;
      held = false;
      if (listed && --s->unlisted_clones_ == 0) s->clones_listed_.notify_all();
      if (--s->pending_spawns_ == 0) s->reap_untracked_children();
    }
    ~spawn_hold() { release(); }
  };
  // A child that failed its setup: reap it and forget it.
  reactor::task<void> drop_failed_setup(process_ptr c);

  // A held process's life (server_process.cpp).
  reactor::task<result<exec::report>> await_report(int report_fd);
  void start_watching(const process_ptr& c);
  reactor::task<void> pump(process_ptr c, bool is_stderr);
  // Copies a chunk of output to the stream's attachments, dropping those
  // that cannot take it at once.
  static void feed_attachments(const process_ptr& c, bool is_stderr, std::string_view chunk);
  reactor::task<void> append_log(process_ptr c, std::string lines);
  reactor::task<void> watch_exit(process_ptr c);

  std::size_t live_processes() const;
  bool tracked_pid(pid_t pid) const;
  void check_idle();

  server_options options_;
  unique_fd listener_;
  unique_fd sigchld_;
  std::unordered_map<std::string, process_ptr> processes_;
  std::unordered_set<pid_t> exec_pids_;
  // Clones whose process's pid the keeper does not know yet (a spawner's
  // reply, an exec's second child): the orphan reaper holds off meanwhile.
  std::size_t pending_spawns_ = 0;
  // Creates and pod inits cloning, not in processes_ yet; list waits for them.
  std::size_t unlisted_clones_ = 0;
  reactor::condition clones_listed_;
  std::set<session_ptr> sessions_;
  std::uint64_t sessions_seen_ = 0;
  bool in_grace_ = true;
  bool stopping_ = false;
  std::size_t tasks_ = 0;
  event stop_;
  reactor::cancellation background_cancel_;  // accept loop, grace timer, orphan reaper
  // One read buffer for every pipe: a pump reads and formats without
  // suspending in between, so no two pumps ever use it at once.
  std::array<char, 64 * 1024> read_buffer_;
};

}  // namespace ringcri::exec::keeper
