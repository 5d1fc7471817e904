// The request head a streaming connection starts with, read from a real
// socket pair on the reactor.

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include "stream/http_request.hpp"
#include "stream/upgrade.hpp"
#include "reactor/reactor.hpp"

namespace io = ringcri::reactor;
using namespace ringcri::stream;

namespace {

struct parsed {
  ringcri::result<http_request> req = ringcri::fail(ringcri::error_kind::internal, "not run");
  std::string rest;
};

io::task<void> read_into(int fd, parsed& out) {
  auto r = co_await read_request(fd, out.rest, std::chrono::milliseconds(2000));
  out.req = std::move(r);
}

parsed parse(const std::string& bytes, bool close_after = true) {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  REQUIRE(::write(sv[1], bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  if (close_after) ::shutdown(sv[1], SHUT_WR);
  parsed out;
  io::reactor r;
  r.block_on(read_into(sv[0], out));
  ::close(sv[0]);
  ::close(sv[1]);
  return out;
}

}  // namespace

TEST_CASE("an upgrade request: path, query, repeated headers, the bytes after it") {
  auto p = parse(
      std::string("POST /portforward/tok3n?port=80&port=8080%2C9090&x=%41+b HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: SPDY/3.1\r\n"
      "X-Stream-Protocol-Version: v4.channel.k8s.io\r\nx-stream-protocol-version: channel.k8s.io\r\n\r\n") +
          std::string("\x80\x03\x00\x01", 4),
      false);
  REQUIRE(p.req);
  CHECK(p.req->method == "POST");
  CHECK(p.req->path == "/portforward/tok3n");
  CHECK(p.req->query_values("port") == std::vector<std::string>{"80", "8080,9090"});
  CHECK(p.req->query_values("x") == std::vector<std::string>{"A b"});
  CHECK(p.req->header_values("x-stream-protocol-version") ==
        std::vector<std::string>{"v4.channel.k8s.io", "channel.k8s.io"});
  CHECK(p.req->header_has_token("connection", "upgrade"));
  CHECK(upgrade_of(*p.req) == upgrade_kind::spdy);
  CHECK(p.rest == std::string("\x80\x03\x00\x01", 4));
}

TEST_CASE("a WebSocket upgrade is told from a SPDY one and from none") {
  auto ws = parse("GET /exec/t HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false);
  REQUIRE(ws.req);
  CHECK(upgrade_of(*ws.req) == upgrade_kind::websocket);
  auto plain = parse("GET /exec/t HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(plain.req);
  CHECK(upgrade_of(*plain.req) == upgrade_kind::none);
}

TEST_CASE("malformed, cut short and oversized heads are errors") {
  auto bad = parse("NOT HTTP AT ALL\r\n\r\n");
  REQUIRE_FALSE(bad.req);
  CHECK(bad.req.error().kind() == ringcri::error_kind::invalid_argument);
  auto cut = parse("GET /exec/t HTTP/1.1\r\nHost: x\r\n");
  REQUIRE_FALSE(cut.req);
  auto huge = parse("GET /exec/t HTTP/1.1\r\nX: " + std::string(70000, 'a') + "\r\n\r\n");
  REQUIRE_FALSE(huge.req);
}
