#include "cri/streaming/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "stream/command_client.hpp"
#include "stream/http_request.hpp"
#include "cri/streaming/port_forward.hpp"
#include "cri/streaming/sessions.hpp"
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
  sockaddr_storage addr{};
  socklen_t len = 0;
  int domain = AF_INET;
  auto* in = reinterpret_cast<sockaddr_in*>(&addr);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (::inet_pton(AF_INET, address.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) == 1) {
    domain = AF_INET6;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return fail(error_kind::invalid_argument,
                fmt::format("streaming address \"{}\" is not an IPv4 or IPv6 address", address));
  }
  unique_fd s(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return fail_errno(errno, "streaming server socket");
  int one = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0)
    return fail_errno(errno, fmt::format("bind the streaming server to {} port {}", address, port));
  if (::listen(s.get(), 128) != 0) return fail_errno(errno, "listen on the streaming server socket");
  if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return fail_errno(errno, "getsockname of the streaming server");
  std::uint16_t bound = ntohs(domain == AF_INET ? in->sin_port : in6->sin6_port);
  base_url_ = domain == AF_INET ? fmt::format("http://{}:{}", address, bound)
                                : fmt::format("http://[{}]:{}", address, bound);
  listener_ = std::move(s);
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
  auto& shutdown = io::reactor::current()->shutdown_token();
  for (;;) {
    auto fd = co_await io::accept(listener_.get()).with_cancel(shutdown);
    if (!fd) {
      int e = fd.error().value();
      if (e == ECANCELED || e == EINVAL) break;  // stopping
      if (e == EMFILE || e == ENFILE || e == ENOMEM) {
        spdlog::warn("msg=\"streaming server cannot accept\" errno={}", e);
        co_await io::sleep_for(std::chrono::milliseconds(50));
      }
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      if (stopped_) {
        unique_fd drop(*fd);
        break;
      }
    }
    int conn = *fd;
    track(conn);
    ctx_.pool.spawn(ctx_.any_core(), [this, conn] { return serve_connection(conn); });
  }
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
