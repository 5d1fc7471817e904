// The daemon's side of the keeper socket. One reader coroutine per
// connection takes every packet: replies go to the call waiting for that
// id, events to the on_exit callback. A broken connection fails the calls
// in flight; the next call connects again (starting a keeper if needed).
//
// Lifetime: the client's state is shared by the reader and by every call in
// flight, so destroying the client (which ends the reader) never leaves a
// completion pointing into freed memory.

#include "exec/keeper/client.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <coroutine>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "exec/keeper/autostart.hpp"
#include "exec/keeper/fd_passing.hpp"
#include "exec/keeper/protocol.hpp"
#include "exec/spec_json.hpp"
#include "reactor/blocking.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::exec::keeper {

namespace io = ringcri::reactor;
using nlohmann::json;

namespace {

constexpr auto connect_timeout = std::chrono::seconds(5);
constexpr auto restart_every = std::chrono::seconds(1);
constexpr auto retry_every = std::chrono::milliseconds(20);

struct connection {
  unique_fd sock;
};

// A reply as it came: the result (list() replies merged) and its fds.
struct reply {
  json result;
  std::vector<unique_fd> fds;
};

struct waiting_call {
  connection* conn = nullptr;
  std::coroutine_handle<> waiter;
  bool done = false;
  result<reply> outcome = fail(error_kind::internal, "no reply yet");
  reply partial;  // a reply in several packets (list)
};

// Everything a client's reader and calls share.
struct client_state {
  reactor::reactor* home = nullptr;
  options opts;
  std::string socket_path;
  std::shared_ptr<connection> conn;
  bool closed = false;
  bool connecting = false;
  std::vector<std::coroutine_handle<>> connect_waiters;
  std::uint64_t next_id = 1;
  std::unordered_map<std::uint64_t, waiting_call*> calls;
  std::function<void(const exit_status&)> on_exit;
  std::function<void()> on_reconnect;

  void complete(waiting_call* call, result<reply> outcome) {
    if (call->done) return;
    call->done = true;
    call->outcome = std::move(outcome);
    if (call->waiter) home->schedule(call->waiter);
  }
  // Fails every call waiting on `c` (all of them when null).
  void fail_calls(connection* c, const error& e) {
    for (auto it = calls.begin(); it != calls.end();) {
      if (!c || it->second->conn == c) {
        waiting_call* call = it->second;
        it = calls.erase(it);
        complete(call, tl::unexpected(e));
      } else {
        ++it;
      }
    }
  }
  error broken() const {
    return error(error_kind::unavailable,
                 fmt::format("keeper at {}: connection closed", socket_path));
  }
};

using state = client_state;

}  // namespace

struct client::impl {
  std::shared_ptr<client_state> st;
};

// --- connecting ----------------------------------------------------------------

namespace {

reactor::task<result<unique_fd>> try_connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    co_return fail(error_kind::invalid_argument, fmt::format("socket path {} is too long", path));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) co_return fail_errno(errno, "create a socket for the keeper");
  unique_fd sock(fd);
  auto done = co_await io::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  if (!done)
    co_return fail_errno(done.error().value(), fmt::format("connect to the keeper at {}", path));
  co_return sock;
}

bool keeper_absent(const error& e) {
  return e.sys_errno() == ENOENT || e.sys_errno() == ECONNREFUSED;
}

// Connects, starting a keeper when none listens, for up to 5 s.
reactor::task<result<unique_fd>> connect_or_start(const options& opts, const std::string& path) {
  auto sock = co_await try_connect(path);
  if (sock || !keeper_absent(sock.error())) co_return sock;

  auto deadline = reactor::clock::now() + connect_timeout;
  auto next_start = reactor::clock::now();
  for (;;) {
    if (reactor::clock::now() >= next_start) {
      // A keeper that was just ending may still hold the lock and make the
      // new one exit: start again until one answers.
      auto started = co_await reactor::run_blocking([&opts] { return start_keeper_process(opts); });
      if (!started)
        co_return tl::unexpected(std::move(started.error()).context("start the keeper"));
      next_start = reactor::clock::now() + restart_every;
    }
    co_await io::sleep_for(retry_every);
    sock = co_await try_connect(path);
    if (sock) co_return sock;
    if (!keeper_absent(sock.error())) co_return sock;
    if (reactor::clock::now() >= deadline) {
      co_return fail(
          error_kind::unavailable,
          fmt::format("the keeper at {} did not come up within {} s (see {})", path,
                      connect_timeout.count(), (opts.state_dir / "keeper.log").string()));
    }
  }
}

reactor::task<result<std::shared_ptr<connection>>> ensure_connected(std::shared_ptr<state> st);
reactor::task<void> reconnect_soon(std::shared_ptr<state> st);

reactor::task<void> read_loop(std::shared_ptr<state> st, std::shared_ptr<connection> conn) {
  for (;;) {
    // Ends on the reactor's shutdown, or when the socket is shut down (the
    // client went away, a send failed, the keeper ended).
    auto p = co_await recv_packet(conn->sock.get(), st->home->shutdown_token());
    if (!p || !*p) {
      if (!p && p.error().sys_errno() != ECANCELED) {
        spdlog::warn("msg=\"keeper connection failed\" socket={} error=\"{}\"", st->socket_path,
                     p.error().message());
      }
      break;
    }
    auto msg = protocol::decode((*p)->data);
    if (!msg) {
      spdlog::warn("msg=\"malformed keeper message\" error=\"{}\"", msg.error().message());
      continue;
    }
    if (msg->contains("event")) {
      if (msg->value("event", std::string()) == "exit") {
        auto status = protocol::exit_status_from_json(*msg);
        if (status && st->on_exit && !st->closed) {
          // A copy: the callback may replace itself or destroy the client.
          auto callback = st->on_exit;
          callback(*status);
        }
      }
      if (st->closed) break;
      continue;
    }
    std::uint64_t id = msg->value("id", std::uint64_t{0});
    auto it = st->calls.find(id);
    if (it == st->calls.end()) continue;  // its caller went away
    waiting_call* call = it->second;
    if (msg->contains("error")) {
      st->calls.erase(it);
      st->complete(call, tl::unexpected(protocol::error_from_json((*msg)["error"])));
      continue;
    }
    json& result = (*msg)["result"];
    bool more = result.is_object() && result.value("more", false);
    if (result.is_object() && result.contains("entries")) {
      for (auto& e : result["entries"]) call->partial.result["entries"].push_back(std::move(e));
    }
    for (auto& fd : (*p)->fds) call->partial.fds.push_back(std::move(fd));
    if (more) continue;
    if (result.is_object()) {
      for (auto& [key, value] : result.items()) {
        if (key != "entries") call->partial.result[key] = std::move(value);
      }
    }
    st->calls.erase(it);
    st->complete(call, std::move(call->partial));
  }
  if (st->conn == conn) st->conn.reset();
  st->fail_calls(conn.get(), st->broken());
  // The keeper went (or the connection broke): connect again at once,
  // starting a keeper if none runs, so the owner can find out what the
  // keeper still holds, and what it lost, within a second.
  if (!st->closed && st->on_reconnect && !st->home->shutdown_token().cancelled())
    st->home->spawn(reconnect_soon(st));
}

reactor::task<void> reconnect_soon(std::shared_ptr<state> st) {
  for (int attempt = 0; attempt < 50 && !st->closed; ++attempt) {
    auto conn = co_await ensure_connected(st);
    if (conn) {
      if (st->on_reconnect && !st->closed) {
        auto callback = st->on_reconnect;  // a copy: it may replace itself
        callback();
      }
      co_return;
    }
    spdlog::warn("msg=\"cannot reach the keeper again\" attempt={} error=\"{}\"", attempt + 1,
                 conn.error().message());
    co_await io::sleep_for(std::chrono::milliseconds(200));
  }
}

// The current connection, making one when there is none.
reactor::task<result<std::shared_ptr<connection>>> ensure_connected(std::shared_ptr<state> st) {
  while (st->connecting) {
    struct park {
      state* s;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { s->connect_waiters.push_back(h); }
      void await_resume() const noexcept {}
    };
    co_await park{st.get()};
  }
  if (st->closed) co_return fail(error_kind::cancelled, "the keeper client is closed");
  if (st->conn) co_return st->conn;

  st->connecting = true;
  auto sock = co_await connect_or_start(st->opts, st->socket_path);
  st->connecting = false;
  for (auto h : std::exchange(st->connect_waiters, {})) st->home->schedule(h);
  if (!sock) co_return tl::unexpected(std::move(sock.error()));
  if (st->closed) co_return fail(error_kind::cancelled, "the keeper client is closed");
  auto conn = std::make_shared<connection>();
  conn->sock = std::move(*sock);
  st->conn = conn;
  st->home->spawn(read_loop(st, conn));
  co_return conn;
}

// One request and its reply. `args` gets the id and op.
reactor::task<result<reply>> call(std::shared_ptr<state> st, std::string_view op, json args,
                                  std::vector<int> fds = {}) {
  auto conn = co_await ensure_connected(st);
  if (!conn) co_return tl::unexpected(std::move(conn.error()));
  std::uint64_t id = st->next_id++;
  waiting_call slot;
  slot.conn = conn->get();
  st->calls[id] = &slot;
  // If this frame goes away while waiting, the reader must not find it.
  struct unregister {
    state* s;
    std::uint64_t id;
    waiting_call* slot;
    ~unregister() {
      auto it = s->calls.find(id);
      if (it != s->calls.end() && it->second == slot) s->calls.erase(it);
    }
  } guard{st.get(), id, &slot};

  std::string bytes = protocol::encode(protocol::request(id, op, std::move(args)));
  auto sent = co_await send_packet((*conn)->sock.get(), std::move(bytes), std::move(fds));
  if (!sent) {
    // The reader sees the break as well; the next call connects again.
    if (st->conn == *conn) st->conn.reset();
    ::shutdown((*conn)->sock.get(), SHUT_RDWR);
    co_return tl::unexpected(
        error(error_kind::unavailable,
              fmt::format("keeper at {}: {}", st->socket_path, sent.error().message())));
  }
  if (!slot.done) {
    struct wait_reply {
      waiting_call* slot;
      bool await_ready() const noexcept { return slot->done; }
      void await_suspend(std::coroutine_handle<> h) noexcept { slot->waiter = h; }
      void await_resume() const noexcept {}
    };
    co_await wait_reply{&slot};
  }
  co_return std::move(slot.outcome);
}

error missing_fd(std::string_view op) {
  return error(error_kind::internal, fmt::format("keeper {} reply without its pidfd", op));
}

}  // namespace

// --- client --------------------------------------------------------------------

client::client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

client::~client() {
  auto& st = impl_->st;
  st->closed = true;
  st->on_exit = nullptr;
  st->on_reconnect = nullptr;
  if (st->conn) {
    // Wakes the reader, which ends, and the keeper sees the end now.
    ::shutdown(st->conn->sock.get(), SHUT_RDWR);
  }
  st->conn.reset();
  st->fail_calls(nullptr, error(error_kind::cancelled, "the keeper client is closed"));
}

reactor::task<result<std::unique_ptr<client>>> client::connect(const options& opts) {
  auto st = std::make_shared<state>();
  st->home = reactor::reactor::current();
  st->opts = opts;
  st->socket_path = (opts.state_dir / "keeper.sock").string();
  auto conn = co_await ensure_connected(st);
  if (!conn) co_return tl::unexpected(std::move(conn.error()));
  auto p = std::make_unique<impl>();
  p->st = std::move(st);
  co_return std::unique_ptr<client>(new client(std::move(p)));
}

void client::on_reconnect(std::function<void()> callback) {
  impl_->st->on_reconnect = std::move(callback);
}

void client::on_exit(std::function<void(const exit_status&)> callback) {
  impl_->st->on_exit = std::move(callback);
}

reactor::task<result<created>> client::create(const container_spec& spec, int rootfs_mount) {
  auto st = impl_->st;
  json args{{"spec", spec}};
  std::vector<int> fds;
  if (rootfs_mount >= 0) {
    args["fds"] = json::array({"rootfs"});
    fds.push_back(rootfs_mount);
  }
  auto r = co_await call(st, protocol::op_create, std::move(args), std::move(fds));
  if (!r) co_return tl::unexpected(std::move(r.error()));
  if (r->fds.empty()) co_return tl::unexpected(missing_fd("create"));
  created c;
  c.pid = r->result.value("pid", -1);
  c.pidfd = std::move(r->fds.front());
  co_return c;
}

reactor::task<result<started>> client::start(const std::string& id) {
  auto st = impl_->st;
  json args{{"container", id}};
  auto r = co_await call(st, protocol::op_start, std::move(args));
  if (!r) co_return tl::unexpected(std::move(r.error()));
  started s;
  s.started_at = r->result.value("started_at", std::int64_t{0});
  co_return s;
}

reactor::task<result<created>> client::start_pod_init(const std::string& pod_id) {
  auto st = impl_->st;
  json args{{"pod", pod_id}};
  auto r = co_await call(st, protocol::op_pod_init, std::move(args));
  if (!r) co_return tl::unexpected(std::move(r.error()));
  if (r->fds.empty()) co_return tl::unexpected(missing_fd("pod_init"));
  created c;
  c.pid = r->result.value("pid", -1);
  c.pidfd = std::move(r->fds.front());
  co_return c;
}

reactor::task<result<exec_result>> client::exec(const exec_spec& spec, const stdio_fds& io,
                                                std::chrono::milliseconds timeout, int hangup_fd) {
  auto st = impl_->st;
  json names = json::array();
  std::vector<int> fds;
  // Only the fds given travel; the names say which is which (-1: /dev/null).
  auto add = [&](const char* name, int fd) {
    if (fd < 0) return;
    names.push_back(name);
    fds.push_back(fd);
  };
  add("in", io.in);
  add("out", io.out);
  add("err", io.err);
  add("hangup", hangup_fd);
  json args{{"spec", spec}, {"timeout_ms", timeout.count()}, {"fds", std::move(names)}};
  auto r = co_await call(st, protocol::op_exec, std::move(args), std::move(fds));
  if (!r) co_return tl::unexpected(std::move(r.error()));
  exec_result e;
  e.exit_code = r->result.value("exit_code", -1);
  e.timed_out = r->result.value("timed_out", false);
  co_return e;
}

reactor::task<result<attached>> client::attach(const std::string& id) {
  auto st = impl_->st;
  json args{{"container", id}};
  auto r = co_await call(st, protocol::op_attach, std::move(args));
  if (!r) co_return tl::unexpected(std::move(r.error()));
  const json names = r->result.value("fds", json::array());
  if (!names.is_array() || names.size() != r->fds.size()) {
    co_return fail(error_kind::internal,
                   fmt::format("keeper attach reply names {} fds but carries {}",
                               names.is_array() ? names.size() : 0, r->fds.size()));
  }
  attached a;
  a.tty = r->result.value("tty", false);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string name = names[i].is_string() ? names[i].get<std::string>() : std::string();
    if (name == "out")
      a.out = std::move(r->fds[i]);
    else if (name == "err")
      a.err = std::move(r->fds[i]);
    else if (name == "in")
      a.in = std::move(r->fds[i]);
    else if (name == "terminal")
      a.terminal = std::move(r->fds[i]);
  }
  if (!a.out)
    co_return tl::unexpected(error(error_kind::internal, "keeper attach reply without its output"));
  co_return a;
}

reactor::task<result<void>> client::close_stdin(const std::string& id) {
  auto st = impl_->st;
  json args{{"container", id}};
  auto r = co_await call(st, protocol::op_close_stdin, std::move(args));
  if (!r) co_return tl::unexpected(std::move(r.error()));
  co_return result<void>{};
}

reactor::task<result<void>> client::reopen_log(const std::string& id) {
  auto st = impl_->st;
  json args{{"container", id}};
  auto r = co_await call(st, protocol::op_reopen_log, std::move(args));
  if (!r) co_return tl::unexpected(std::move(r.error()));
  co_return result<void>{};
}

reactor::task<result<void>> client::remove(const std::string& id) {
  auto st = impl_->st;
  json args{{"container", id}};
  auto r = co_await call(st, protocol::op_remove, std::move(args));
  if (!r) co_return tl::unexpected(std::move(r.error()));
  co_return result<void>{};
}

reactor::task<result<std::vector<held>>> client::list() {
  auto st = impl_->st;
  auto r = co_await call(st, protocol::op_list, json::object());
  if (!r) co_return tl::unexpected(std::move(r.error()));
  // The entries of every packet of the reply, merged; pidfds in entry order.
  const json entries = r->result.value("entries", json::array());
  std::vector<held> out;
  std::size_t next_fd = 0;
  for (const auto& e : entries) {
    auto h = protocol::held_from_json(e);
    if (!h) co_return tl::unexpected(std::move(h.error()));
    if (e.value("pidfd", false)) {
      if (next_fd >= r->fds.size()) co_return tl::unexpected(missing_fd("list"));
      h->pidfd = std::move(r->fds[next_fd++]);
    }
    out.push_back(std::move(*h));
  }
  co_return out;
}

}  // namespace ringcri::exec::keeper
