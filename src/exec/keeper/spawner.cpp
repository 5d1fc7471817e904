// The keeper's side of its spawners: forking them, and a clone as one
// request and its reply.

#include "exec/keeper/spawner.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/crash_point.hpp"
#include "exec/keeper/fd_passing.hpp"
#include "exec/keeper/protocol.hpp"
#include "exec/spawn/child.hpp"

namespace ringcri::exec::keeper {

using nlohmann::json;

namespace {

struct forked {
  pid_t pid = -1;
  unique_fd sock;
};

// One spawner on a new socket pair. `first`: forked as the keeper starts;
// one forked later to replace a dead one is not armed at a crash point.
result<forked> fork_spawner(const spawner_options& options, bool first) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return fail_errno(errno, "make a spawner's socket pair");
  unique_fd ours(pair[0]), theirs(pair[1]);
  const pid_t keeper = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno(errno, "fork a spawner");
  if (pid == 0) {
    // It lives no longer than the keeper, and holds nothing of it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != keeper) ::_exit(0);
    if (!first) disarm_crash_point();
    spawn_detail::reset_signals();
    ::signal(SIGPIPE, SIG_IGN);
    spawn_detail::close_fds_except({2, theirs.get(), options.mount_base});
    // Its name only: its command line stays the keeper's, which says
    // whose it is (and which state dir).
    ::prctl(PR_SET_NAME, "ringcri-spawner");
    run_spawner(theirs.get(), options);
  }
  return forked{pid, std::move(ours)};
}

}  // namespace

std::vector<named_fd> stdio_named(const stdio_fds& io) {
  std::vector<named_fd> out;
  out.push_back(named_fd{std::string("in"), io.in});
  out.push_back(named_fd{std::string("out"), io.out});
  out.push_back(named_fd{std::string("err"), io.err});
  return out;
}

result<std::unique_ptr<spawners>> spawners::start(spawner_options options) {
  std::unique_ptr<spawners> s(new spawners(std::move(options)));
  s->processes_.resize(s->options_.count == 0 ? 1 : s->options_.count);
  std::size_t live = 0;
  for (process& p : s->processes_) {
    auto f = fork_spawner(s->options_, true);
    if (!f) {
      spdlog::warn("msg=\"cannot fork a spawner\" error=\"{}\"", f.error().message());
      continue;
    }
    p.pid = f->pid;
    p.sock = std::move(f->sock);
    ++live;
  }
  if (live == 0) return fail(error_kind::internal, "not one spawner could be forked");
  return s;
}

result<void> spawners::revive(process& p) {
  auto f = fork_spawner(options_, false);
  if (!f) return tl::unexpected(std::move(f.error()));
  spdlog::info("msg=\"spawner forked\" pid={} replaces={}", f->pid, p.pid);
  p.pid = f->pid;
  p.sock = std::move(f->sock);
  return {};
}

std::vector<pid_t> spawners::pids() const {
  std::vector<pid_t> out;
  for (const process& p : processes_)
    if (p.sock) out.push_back(p.pid);
  return out;
}

reactor::task<result<child>> spawners::clone(std::string_view op, const json& args,
                                              std::vector<named_fd> fds) {
  process* p = nullptr;
  for (;;) {
    for (process& q : processes_) {
      if (q.busy) continue;
      p = &q;
      break;
    }
    if (p) break;
    co_await freed_.wait();
  }
  p->busy = true;
  struct free_again {
    spawners* s;
    process* p;
    ~free_again() {
      p->busy = false;
      s->freed_.notify_all();
    }
  } guard{this, p};
  json names = json::array();
  std::vector<int> raw;
  for (const named_fd& f : fds) {
    if (f.fd < 0) continue;
    names.push_back(f.name);
    raw.push_back(f.fd);
  }
  // A spawner that cannot be reached or ends before replying is gone: its
  // socket is closed, the keeper's reaper reaps it, another is forked.
  auto lost = [&](std::string what) {
    spdlog::warn("msg=\"spawner lost\" pid={} error=\"{}\"", p->pid, what);
    p->sock.reset();
    return fail(error_kind::unavailable, fmt::format("the spawner (pid {}) {}", p->pid, what));
  };
  const std::string request = protocol::encode(json{{"op", op}, {"args", args}, {"fds", names}});
  // One that died between requests is found at the send, before it took
  // anything: the request goes to its replacement.
  for (int attempt = 0;; ++attempt) {
    if (!p->sock)
      if (auto r = revive(*p); !r) co_return tl::unexpected(std::move(r.error()));
    auto sent = co_await send_packet(p->sock.get(), request, raw);
    if (sent) break;
    const int e = sent.error().sys_errno();
    if (e != EPIPE && e != ECONNRESET && e != ENOTCONN)
      co_return tl::unexpected(std::move(sent.error()).context("send to a spawner"));
    auto gone = lost(sent.error().message());
    if (attempt == 1) co_return gone;
  }
  reactor::cancellation never;
  auto got = co_await recv_packet(p->sock.get(), never);
  if (!got) co_return lost(got.error().message());
  if (!*got) co_return lost("ended before it replied");
  packet& reply = **got;
  auto message = protocol::decode(reply.data);
  if (!message) co_return lost(message.error().message());
  if (message->contains("error")) co_return tl::unexpected(protocol::error_from_json((*message)["error"]));
  auto pid_field = message->find("pid");
  if (pid_field == message->end() || !pid_field->is_number_integer() || reply.fds.size() < 2 ||
      reply.fds.size() > 3)
    co_return lost(fmt::format("sent a malformed reply ({} fds)", reply.fds.size()));
  child c;
  c.pid = pid_field->get<pid_t>();
  c.pidfd = std::move(reply.fds[0]);
  c.report = std::move(reply.fds[1]);
  if (reply.fds.size() == 3) c.release = std::move(reply.fds[2]);
  co_return c;
}

}  // namespace ringcri::exec::keeper
