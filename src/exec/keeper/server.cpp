// The keeper's connections: accepting, reading requests, dispatching them
// to the ops, writing replies and events in order, and deciding when the
// keeper has nothing left to do.

#include "exec/keeper/server.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/keeper/fd_passing.hpp"
#include "exec/keeper/orphan_reaper.hpp"
#include "exec/keeper/protocol.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::exec::keeper {

namespace io = ringcri::reactor;
using nlohmann::json;

server::server(server_options options, unique_fd listener, unique_fd sigchld)
    : options_(std::move(options)), listener_(std::move(listener)), sigchld_(std::move(sigchld)) {}

server::~server() = default;

void server::start_task(reactor::task<void> t) {
  ++tasks_;
  reactor::reactor::current()->spawn(tracked(std::move(t)));
}

reactor::task<void> server::tracked(reactor::task<void> t) {
  co_await t;
  --tasks_;
}

reactor::task<void> server::run() {
  start_task(accept_loop());
  start_task(grace_timer());
  if (sigchld_) start_task(reap_orphans());
  co_await stop_.wait();
  background_cancel_.cancel();
  // Let the last tasks (cancelled loops, a remove's reply) finish before
  // the server goes away.
  while (tasks_ > 0) co_await io::sleep_for(std::chrono::milliseconds(5));
}

reactor::task<void> server::accept_loop() {
  for (;;) {
    auto fd = co_await io::accept(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC)
                  .with_cancel(background_cancel_);
    if (!fd) {
      if (fd.error().value() == ECANCELED) co_return;
      spdlog::warn("msg=\"accept failed\" error=\"{}\"", fd.error().message());
      if (fd.error().value() == EMFILE || fd.error().value() == ENFILE) {
        co_await io::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    auto s = std::make_shared<session>();
    s->number = ++sessions_seen_;
    s->sock.reset(*fd);
    if (stopping_) {
      // Ending already: the peer sees the connection close and starts another keeper.
      continue;
    }
    sessions_.insert(s);
    in_grace_ = false;
    spdlog::info("msg=\"client connected\" client={}", s->number);
    start_task(serve_session(s));
  }
}

reactor::task<void> server::grace_timer() {
  auto slept = co_await io::sleep_for(options_.startup_grace).with_cancel(background_cancel_);
  if (!slept) co_return;
  if (in_grace_) {
    in_grace_ = false;
    if (sessions_.empty()) spdlog::info("msg=\"no client came during the start-up grace period\"");
    check_idle();
  }
}

reactor::task<void> server::reap_orphans() {
  for (;;) {
    auto ready = co_await io::poll(sigchld_.get(), POLLIN).with_cancel(background_cancel_);
    if (!ready) co_return;
    drain_sigchld_pipe(sigchld_.get());
    reap_untracked_children();
  }
}

void server::reap_untracked_children() {
  if (pending_spawns_ > 0) return;  // called again when the last one knows its pid
  for (pid_t pid : list_children()) {
    if (tracked_pid(pid)) continue;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      spdlog::debug("msg=\"reaped an orphan\" pid={} status={}", pid, status);
    }
  }
}

bool server::tracked_pid(pid_t pid) const {
  if (exec_pids_.count(pid)) return true;
  for (const auto& [id, c] : processes_) {
    if (c->proc.pid == pid && !c->exited) return true;
  }
  return false;
}

reactor::task<void> server::serve_session(session_ptr s) {
  for (;;) {
    auto p = co_await recv_packet(s->sock.get(), s->cancel);
    if (!p) {
      spdlog::warn("msg=\"client connection failed\" client={} error=\"{}\"", s->number,
                   p.error().message());
      break;
    }
    if (!*p) break;
    auto msg = protocol::decode((*p)->data);
    if (!msg) {
      spdlog::warn("msg=\"malformed request\" client={} error=\"{}\"", s->number,
                   msg.error().message());
      continue;
    }
    start_task(handle_request(s, std::move(*msg), std::move((*p)->fds)));
  }
  s->closed = true;
  sessions_.erase(s);
  spdlog::info("msg=\"client disconnected\" client={}", s->number);
  check_idle();
}

reactor::task<void> server::handle_request(session_ptr s, json request,
                                           std::vector<unique_fd> fds) {
  // A field of the wrong type is the request's fault, never the keeper's
  // end: json::value would throw, so each is checked.
  auto id_field = request.find("id");
  std::uint64_t id =
      id_field != request.end() && id_field->is_number_unsigned() ? id_field->get<std::uint64_t>() : 0;
  auto op_field = request.find("op");
  std::string op = op_field != request.end() && op_field->is_string() ? op_field->get<std::string>() : "";
  spdlog::debug("msg=\"request\" client={} id={} op={}", s->number, id, op);

  result<response> r = fail(error_kind::invalid_argument, "unknown keeper op \"" + op + "\"");
  if (id_field == request.end() || !id_field->is_number_unsigned()) {
    r = fail(error_kind::invalid_argument, "keeper request without a numeric \"id\"");
  } else {
    try {
      r = co_await dispatch_request(op, request, std::move(fds));
    } catch (const nlohmann::json::exception& e) {
      r = fail(error_kind::invalid_argument, fmt::format("malformed keeper request \"{}\": {}", op, e.what()));
    } catch (const std::exception& e) {
      // A bug, not the client's fault: answer, log, keep serving.
      spdlog::error("msg=\"request threw\" op={} error=\"{}\"", op, e.what());
      r = fail(error_kind::internal, fmt::format("keeper request \"{}\": {}", op, e.what()));
    }
  }

  if (!r) {
    spdlog::info("msg=\"request failed\" client={} op={} error=\"{}\"", s->number, op,
                 r.error().message());
    send(s, protocol::error_reply(id, r.error()));
    co_return;
  }
  for (auto& [result, packet_fds] : r->packets) {
    send(s, protocol::reply(id, std::move(result)), std::move(packet_fds));
  }
}

reactor::task<result<server::response>> server::dispatch_request(const std::string& op,
                                                                 const json& request,
                                                                 std::vector<unique_fd> fds) {
  if (op == protocol::op_create) co_return co_await do_create(request, std::move(fds));
  if (op == protocol::op_start) co_return co_await do_start(request);
  if (op == protocol::op_pod_init) co_return co_await do_pod_init(request);
  if (op == protocol::op_exec) co_return co_await do_exec(request, std::move(fds));
  if (op == protocol::op_reopen_log) co_return co_await do_reopen_log(request);
  if (op == protocol::op_remove) co_return co_await do_remove(request);
  if (op == protocol::op_list) co_return co_await do_list();
  if (op == protocol::op_attach) co_return do_attach(request);
  if (op == protocol::op_close_stdin) co_return do_close_stdin(request);
  co_return fail(error_kind::invalid_argument, "unknown keeper op \"" + op + "\"");
}

void server::send(const session_ptr& s, const json& message, std::vector<unique_fd> fds) {
  if (s->closed) return;
  s->queue.push_back(outgoing{protocol::encode(message), std::move(fds)});
  if (!s->writing) {
    s->writing = true;
    start_task(write_loop(s));
  }
}

reactor::task<void> server::write_loop(session_ptr s) {
  while (!s->queue.empty() && !s->closed) {
    outgoing out = std::move(s->queue.front());
    s->queue.pop_front();
    std::vector<int> raw;
    raw.reserve(out.fds.size());
    for (auto& fd : out.fds) raw.push_back(fd.get());
    auto sent = co_await send_packet(s->sock.get(), std::move(out.data), std::move(raw));
    if (!sent) {
      spdlog::warn("msg=\"cannot send to a client\" client={} error=\"{}\"", s->number,
                   sent.error().message());
      // The reader sees the broken connection too and ends the session.
      s->cancel.cancel();
      break;
    }
  }
  s->queue.clear();
  s->writing = false;
}

void server::broadcast(const json& message) {
  for (const auto& s : sessions_) send(s, message);
}

std::size_t server::live_processes() const {
  std::size_t n = exec_pids_.size();
  for (const auto& [id, c] : processes_) {
    if (!c->exited) ++n;
  }
  return n;
}

void server::check_idle() {
  if (stopping_ || in_grace_ || !sessions_.empty() || live_processes() > 0) return;
  stopping_ = true;
  // New connections from here on would find a keeper about to end: take
  // the name away first, so a client starts a fresh keeper instead.
  ::unlink(options_.socket_path.c_str());
  spdlog::info("msg=\"nothing left to keep\"");
  stop_.set();
}

}  // namespace ringcri::exec::keeper
