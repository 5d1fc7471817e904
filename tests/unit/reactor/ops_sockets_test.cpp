// Socket ops over real TCP (loopback) and unix sockets.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "reactor/ops.hpp"
#include "support/io_checks.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"

using namespace ringcri::reactor;
namespace io = ringcri::reactor;

namespace {

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

std::string as_string(std::span<const std::byte> b, std::size_t n) {
  return std::string(reinterpret_cast<const char*>(b.data()), n);
}

// A listening socket on 127.0.0.1 with a port the kernel picked.
struct loopback_listener {
  int fd;
  sockaddr_in addr{};
  loopback_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    REQUIRE(::listen(fd, 64) == 0);
  }
  ~loopback_listener() { ::close(fd); }
};

task<std::string> echo_once(int listen_fd) {
  auto conn = co_await io::accept(listen_fd);
  REQUIRE(conn);
  std::array<std::byte, 128> buf{};
  auto n = co_await io::recv(*conn, buf);
  REQUIRE(n);
  std::string got = as_string(buf, *n);
  CO_REQUIRE(co_await io::send(*conn, std::span(buf).first(*n)));
  co_await io::close(*conn);
  co_return got;
}

task<std::string> call(const sockaddr_in& addr, std::string msg) {
  auto fd = co_await io::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC);
  REQUIRE(fd);
  CO_REQUIRE(co_await io::connect(*fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr));
  CO_REQUIRE(co_await io::send(*fd, bytes(msg)));
  std::array<std::byte, 128> buf{};
  auto n = co_await io::recv(*fd, buf);
  REQUIRE(n);
  auto eof = co_await io::recv(*fd, buf);
  REQUIRE(eof);
  CHECK(*eof == 0);  // the server closed
  co_await io::close(*fd);
  co_return as_string(buf, *n);
}

}  // namespace

TEST_CASE("socket, connect, accept, send, recv over TCP loopback") {
  reactor r;
  loopback_listener l;
  auto [server_saw, client_got] = r.block_on(when_all(echo_once(l.fd), call(l.addr, "ping")));
  CHECK(server_saw == "ping");
  CHECK(client_got == "ping");
}

TEST_CASE("connect to a closed port fails with ECONNREFUSED") {
  reactor r;
  sockaddr_in addr;
  {
    loopback_listener l;  // take a port, then free it
    addr = l.addr;
  }
  r.block_on([](sockaddr_in addr) -> task<void> {
    auto fd = co_await io::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC);
    REQUIRE(fd);
    auto c = co_await io::connect(*fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    REQUIRE_FALSE(c);
    CHECK(c.error().value() == ECONNREFUSED);
    co_await io::close(*fd);
  }(addr));
}

TEST_CASE("sendmsg and recvmsg pass an fd over a unix socket (SCM_RIGHTS)") {
  reactor r;
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);

  int received = r.block_on([](int tx, int rx, int pass) -> task<int> {
    char byte = 'F';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr out{};
    out.msg_iov = &iov;
    out.msg_iovlen = 1;
    out.msg_control = control;
    out.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&out);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pass, sizeof pass);
    CO_REQUIRE(co_await io::sendmsg(tx, &out));

    char got = 0;
    iovec in_iov{&got, 1};
    alignas(cmsghdr) char in_control[CMSG_SPACE(sizeof(int))] = {};
    msghdr in{};
    in.msg_iov = &in_iov;
    in.msg_iovlen = 1;
    in.msg_control = in_control;
    in.msg_controllen = sizeof in_control;
    auto n = co_await io::recvmsg(rx, &in, MSG_CMSG_CLOEXEC);
    REQUIRE(n);
    CHECK(got == 'F');
    cmsghdr* rc = CMSG_FIRSTHDR(&in);
    REQUIRE(rc);
    REQUIRE(rc->cmsg_type == SCM_RIGHTS);
    int fd;
    std::memcpy(&fd, CMSG_DATA(rc), sizeof fd);
    co_return fd;
  }(sv[0], sv[1], p[1]));

  // The received fd is a new descriptor for the same pipe: write through it.
  CHECK(received != p[1]);
  REQUIRE(::write(received, "z", 1) == 1);
  char c = 0;
  REQUIRE(::read(p[0], &c, 1) == 1);
  CHECK(c == 'z');
  for (int fd : {sv[0], sv[1], p[0], p[1], received}) ::close(fd);
}

TEST_CASE("poll reports readiness, and shutdown ends the peer's reads") {
  reactor r;
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  r.block_on([](int a, int b) -> task<void> {
    auto writer = [](int a) -> task<void> {
      co_await io::sleep_for(std::chrono::milliseconds(5));
      CO_REQUIRE(co_await io::send(a, std::as_bytes(std::span("x", 1))));
      CO_REQUIRE(co_await io::shutdown(a, SHUT_WR));
    };
    auto reader = [](int b) -> task<void> {
      auto ready = co_await io::poll(b, POLLIN);
      REQUIRE(ready);
      CHECK((*ready & POLLIN) != 0);
      std::array<std::byte, 4> buf{};
      auto n = co_await io::recv(b, buf);
      REQUIRE(n);
      CHECK(*n == 1);
      auto eof = co_await io::recv(b, buf);
      REQUIRE(eof);
      CHECK(*eof == 0);
    };
    co_await when_all(writer(a), reader(b));
  }(sv[0], sv[1]));
  ::close(sv[0]);
  ::close(sv[1]);
}
