// sys::make_pipe (src/base/sys/pipe.hpp): real pipes, their flags read
// back with fcntl.

#include "base/sys/pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>

using namespace ringcri;

namespace {

bool cloexec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }
bool nonblocking(int fd) { return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

}  // namespace

TEST_CASE("make_pipe gives a working pipe, both ends close-on-exec and blocking") {
  auto p = sys::make_pipe();
  REQUIRE(p);
  CHECK(cloexec(p->read.get()));
  CHECK(cloexec(p->write.get()));
  CHECK_FALSE(nonblocking(p->read.get()));
  CHECK_FALSE(nonblocking(p->write.get()));
  REQUIRE(::write(p->write.get(), "ping", 4) == 4);
  char buf[8] = {};
  REQUIRE(::read(p->read.get(), buf, sizeof buf) == 4);
  CHECK(std::string(buf) == "ping");
}

TEST_CASE("make_pipe makes the ends asked for non-blocking, and only those") {
  using sys::nonblocking_end;
  struct want {
    nonblocking_end ends;
    bool read, write;
  };
  for (auto [ends, read, write] :
       {want{nonblocking_end::read, true, false}, want{nonblocking_end::write, false, true},
        want{nonblocking_end::both, true, true}}) {
    INFO(static_cast<int>(ends));
    auto p = sys::make_pipe(ends);
    REQUIRE(p);
    CHECK(nonblocking(p->read.get()) == read);
    CHECK(nonblocking(p->write.get()) == write);
    CHECK(cloexec(p->read.get()));
    CHECK(cloexec(p->write.get()));
    CHECK((::fcntl(p->write.get(), F_GETFL) & O_ACCMODE) == O_WRONLY);
    if (read) {
      char c;
      CHECK(::read(p->read.get(), &c, 1) == -1);
      CHECK(errno == EAGAIN);
    }
  }
}

TEST_CASE("the ends close with their owners") {
  int read_fd;
  {
    auto p = sys::make_pipe();
    REQUIRE(p);
    read_fd = p->read.get();
  }
  CHECK(::fcntl(read_fd, F_GETFD) == -1);
  CHECK(errno == EBADF);
}
