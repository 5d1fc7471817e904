#include "cri/streaming/server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/sys/tcp_listener.hpp"
#include "stream/command_client.hpp"
#include "stream/http_request.hpp"
#include "cri/streaming/port_forward.hpp"
#include "cri/streaming/sessions.hpp"
#include "reactor/accept_loop.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::cri::streaming {

// The streaming protocols this session speaks.
using namespace ::ringcri::stream;

namespace io = reactor;

namespace {

// A client that connects but never sends its request is dropped.
constexpr auto request_timeout = std::chrono::seconds(10);

// "/exec/<token>" -> {"exec", "<token>"}
std::pair<std::string, std::string> split_path(const std::string& path) {
  if (path.size() < 2 || path[0] != '/') return {};
  auto slash = path.find('/', 1);
  if (slash == std::string::npos) return {};
  return {path.substr(1, slash - 1), path.substr(slash + 1)};
}

}  // namespace

result<void> server::listen(const std::string& address, std::uint16_t port) {
  auto listener = sys::listen_tcp(address, port, "streaming server");
  if (!listener) return tl::unexpected(listener.error());
  base_url_ = "http://" + listener->authority;
  listener_ = std::move(listener->fd);
  return {};
}

void server::start(unsigned core) {
  ctx_.pool.spawn(core, [this] { return accept_loop(); });
}

void server::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  if (listener_) ::shutdown(listener_.get(), SHUT_RDWR);
  for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
}

void server::wait_idle(std::chrono::milliseconds timeout) {
  auto give_up = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    {
      std::lock_guard lock(mutex_);
      if (open_.empty()) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void server::track(int fd) {
  std::lock_guard lock(mutex_);
  open_.insert(fd);
  if (stopped_) ::shutdown(fd, SHUT_RDWR);
}

void server::forget(int fd) {
  std::lock_guard lock(mutex_);
  open_.erase(fd);
}

result<std::string> server::url_for(stream_request req) {
  const char* kind = std::holds_alternative<exec_request>(req)     ? "exec"
                     : std::holds_alternative<attach_request>(req) ? "attach"
                                                                   : "portforward";
  auto token = requests_.insert(std::move(req));
  if (!token) return tl::unexpected(token.error());
  return fmt::format("{}/{}/{}", base_url_, kind, *token);
}

reactor::task<void> server::accept_loop() {
  co_await reactor::accept_loop(listener_.get(), "streaming", SOCK_CLOEXEC, [this](int conn) {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) {
        unique_fd drop(conn);
        return false;
      }
    }
    track(conn);
    ctx_.pool.spawn(ctx_.any_core(), [this, conn] { return serve_connection(conn); });
    return true;
  });
}

reactor::task<void> server::serve_connection(int raw_fd) {
  unique_fd fd(raw_fd);
  struct untrack {
    server* s;
    int fd;
    ~untrack() { s->forget(fd); }
  } untrack_on_exit{this, raw_fd};
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  std::string rest;
  auto req = co_await read_request(fd.get(), rest, std::chrono::duration_cast<std::chrono::milliseconds>(request_timeout));
  if (!req) {
    spdlog::debug("msg=\"streaming request refused\" error=\"{}\"", req.error().message());
    if (req.error().kind() == error_kind::invalid_argument)
      (void)co_await write_error_response(fd.get(), 400, "Bad Request", req.error().message());
    else if (req.error().kind() == error_kind::resource_exhausted)
      (void)co_await write_error_response(fd.get(), 431, "Request Header Fields Too Large", req.error().message());
    co_return;
  }
  auto [kind, token] = split_path(req->path);
  auto stored = requests_.take(token);
  auto expected = [&](const stream_request& r) {
    if (kind == "exec") return std::holds_alternative<exec_request>(r);
    if (kind == "attach") return std::holds_alternative<attach_request>(r);
    if (kind == "portforward") return std::holds_alternative<port_forward_request>(r);
    return false;
  };
  if (!stored || !expected(*stored)) {
    spdlog::debug("msg=\"streaming request for an unknown token\" path=\"{}\"", req->path);
    (void)co_await write_error_response(fd.get(), 404, "Not Found",
                                        "unknown, used or expired streaming URL");
    co_return;
  }

  if (auto* pf = std::get_if<port_forward_request>(&*stored)) {
    co_await serve_port_forward(ctx_, *pf, fd.get(), *req, std::move(rest));
    co_return;
  }

  command_streams streams;
  if (auto* e = std::get_if<exec_request>(&*stored)) {
    streams = {e->stdin, e->stdout, e->stderr && !e->tty, e->tty};
    e->stderr = streams.stderr;
  } else {
    auto& a = std::get<attach_request>(*stored);
    streams = {a.stdin, a.stdout, a.stderr && !a.tty, a.tty};
    a.stderr = streams.stderr;
  }
  auto client = co_await accept_command_client(fd.get(), *req, std::move(rest), streams);
  if (!client) {
    spdlog::debug("msg=\"streaming upgrade refused\" error=\"{}\"", client.error().message());
    co_return;
  }
  if (auto* e = std::get_if<exec_request>(&*stored)) co_await serve_exec(ctx_, *e, **client);
  else co_await serve_attach(ctx_, std::get<attach_request>(*stored), **client);
}

}  // namespace ringcri::cri::streaming
