#include "cri/metrics/endpoint.hpp"

#include <sys/socket.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/sys/tcp_listener.hpp"
#include "cri/metrics/scrape.hpp"
#include "reactor/accept_loop.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "stream/http_request.hpp"
#include "stream/output_pump.hpp"

namespace ringcri::cri {

namespace io = reactor;

namespace {

// A scraper that connects and sends no request in this time is dropped.
constexpr auto request_timeout = std::chrono::seconds(10);

}  // namespace

result<void> metrics_endpoint::listen(const std::string& address) {
  auto where = sys::split_host_port(address, "metrics_address");
  if (!where) return tl::unexpected(where.error());
  auto listener = sys::listen_tcp(where->first, where->second, "metrics endpoint");
  if (!listener) return tl::unexpected(listener.error());
  url_ = fmt::format("http://{}/metrics", listener->authority);
  listener_ = std::move(listener->fd);
  return {};
}

void metrics_endpoint::start(unsigned core) {
  ctx_.pool.spawn(core, [this] { return accept_loop(); });
}

void metrics_endpoint::stop() {
  if (listener_) ::shutdown(listener_.get(), SHUT_RDWR);
}

reactor::task<void> metrics_endpoint::accept_loop() {
  co_await reactor::accept_loop(listener_.get(), "metrics", SOCK_CLOEXEC, [this](int conn) {
    io::reactor::current()->spawn(serve_connection(conn));
    return true;
  });
}

reactor::task<void> metrics_endpoint::serve_connection(int raw_fd) {
  unique_fd fd(raw_fd);
  std::string rest;
  auto req = co_await stream::read_request(
      fd.get(), rest, std::chrono::duration_cast<std::chrono::milliseconds>(request_timeout));
  if (!req) {
    if (req.error().kind() == error_kind::invalid_argument)
      (void)co_await stream::write_error_response(fd.get(), 400, "Bad Request", req.error().message());
    co_return;
  }
  if (req->path != "/metrics") {
    (void)co_await stream::write_error_response(fd.get(), 404, "Not Found", "metrics are at /metrics");
    co_return;
  }
  if (req->method != "GET" && req->method != "HEAD") {
    (void)co_await stream::write_error_response(fd.get(), 405, "Method Not Allowed", "GET /metrics");
    co_return;
  }
  const auto format = metrics::format_for(req->header("accept"));
  std::string body = co_await scrape(ctx_, format);
  std::string response = fmt::format(
      "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
      metrics::content_type(format), body.size());
  if (req->method == "GET") response += body;
  (void)co_await stream::write_all(fd.get(), response);
}

}  // namespace ringcri::cri
