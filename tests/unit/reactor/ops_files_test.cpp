// File-system ops against real files in a fresh temporary directory.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "reactor/ops.hpp"
#include "support/io_checks.hpp"
#include "reactor/reactor.hpp"

using namespace ringcri::reactor;
namespace io = ringcri::reactor;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path;
  int fd;
  temp_dir() {
    char tmpl[] = "/tmp/ringcri-test-XXXXXX";
    path = mkdtemp(tmpl);
    fd = ::open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  }
  ~temp_dir() {
    ::close(fd);
    fs::remove_all(path);
  }
};

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

std::string slurp(const fs::path& p) {
  std::string out;
  int fd = ::open(p.c_str(), O_RDONLY);
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("openat, write, fsync, read, close round-trip real bytes") {
  reactor r;
  temp_dir dir;
  r.block_on([](temp_dir& dir) -> task<void> {
    auto fd = co_await io::openat(dir.fd, "data", O_CREAT | O_RDWR | O_CLOEXEC, 0640);
    REQUIRE(fd);
    auto n = co_await io::write(*fd, bytes("hello, ring"), 0);
    REQUIRE(n);
    CHECK(*n == 11);
    CO_REQUIRE(co_await io::fsync(*fd));

    std::array<std::byte, 64> buf{};
    auto got = co_await io::read(*fd, buf, 7);
    REQUIRE(got);
    CHECK(std::string(reinterpret_cast<char*>(buf.data()), *got) == "ring");
    CO_REQUIRE(co_await io::close(*fd));
  }(dir));
  CHECK(slurp(dir.path / "data") == "hello, ring");
  struct stat st;
  REQUIRE(::stat((dir.path / "data").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
}

TEST_CASE("readv and writev move scattered buffers") {
  reactor r;
  temp_dir dir;
  r.block_on([](temp_dir& dir) -> task<void> {
    auto fd = co_await io::openat(dir.fd, "v", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    REQUIRE(fd);
    char a[] = "abc", b[] = "defgh";
    iovec out[] = {{a, 3}, {b, 5}};
    auto n = co_await io::writev(*fd, out, 0);
    REQUIRE(n);
    CHECK(*n == 8);
    char x[4] = {}, y[4] = {};
    iovec in[] = {{x, 4}, {y, 4}};
    auto m = co_await io::readv(*fd, in, 0);
    REQUIRE(m);
    CHECK(*m == 8);
    CHECK(std::string(x, 4) == "abcd");
    CHECK(std::string(y, 4) == "efgh");
    co_await io::close(*fd);
  }(dir));
}

TEST_CASE("openat2 with RESOLVE_BENEATH refuses a path that escapes") {
  reactor r;
  temp_dir dir;
  r.block_on([](temp_dir& dir) -> task<void> {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH;
    auto escaped = co_await io::openat2(dir.fd, "../etc/passwd", &how);
    REQUIRE_FALSE(escaped);
    CHECK(escaped.error().value() == EXDEV);

    how.flags = O_CREAT | O_WRONLY | O_CLOEXEC;
    how.mode = 0600;
    auto inside = co_await io::openat2(dir.fd, "inside", &how);
    REQUIRE(inside);
    co_await io::close(*inside);
  }(dir));
  CHECK(fs::exists(dir.path / "inside"));
}

TEST_CASE("statx reports a file's size and type") {
  reactor r;
  temp_dir dir;
  {
    int fd = ::openat(dir.fd, "f", O_CREAT | O_WRONLY, 0644);
    REQUIRE(::write(fd, "12345", 5) == 5);
    ::close(fd);
  }
  r.block_on([](temp_dir& dir) -> task<void> {
    struct statx st {};
    CO_REQUIRE(co_await io::statx(dir.fd, "f", 0, STATX_SIZE | STATX_TYPE, &st));
    CHECK(st.stx_size == 5);
    CHECK(S_ISREG(st.stx_mode));
    auto missing = co_await io::statx(dir.fd, "nope", 0, STATX_SIZE, &st);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().value() == ENOENT);
  }(dir));
}

TEST_CASE("mkdirat, symlinkat, linkat, renameat, unlinkat change the tree") {
  reactor r;
  temp_dir dir;
  {
    int fd = ::openat(dir.fd, "file", O_CREAT | O_WRONLY, 0644);
    REQUIRE(::write(fd, "x", 1) == 1);
    ::close(fd);
  }
  r.block_on([](temp_dir& dir) -> task<void> {
    CO_REQUIRE(co_await io::mkdirat(dir.fd, "sub", 0750));
    CO_REQUIRE(co_await io::symlinkat("../file", dir.fd, "sub/link"));
    CO_REQUIRE(co_await io::linkat(dir.fd, "file", dir.fd, "sub/hard"));
    CO_REQUIRE(co_await io::renameat(dir.fd, "sub/hard", dir.fd, "sub/moved"));
    auto again = co_await io::mkdirat(dir.fd, "sub", 0750);
    REQUIRE_FALSE(again);
    CHECK(again.error().value() == EEXIST);
    CO_REQUIRE(co_await io::unlinkat(dir.fd, "file"));
  }(dir));
  CHECK(fs::is_directory(dir.path / "sub"));
  CHECK((fs::status(dir.path / "sub").permissions() & fs::perms::all) ==
        (fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec));
  CHECK(fs::read_symlink(dir.path / "sub/link") == "../file");
  CHECK(slurp(dir.path / "sub/moved") == "x");
  CHECK_FALSE(fs::exists(dir.path / "sub/hard"));
  CHECK_FALSE(fs::exists(dir.path / "file"));
  // The hard link outlived its first name.
  struct stat st;
  REQUIRE(::stat((dir.path / "sub/moved").c_str(), &st) == 0);
  CHECK(st.st_nlink == 1);

  r.block_on([](temp_dir& dir) -> task<void> {
    CO_REQUIRE(co_await io::unlinkat(dir.fd, "sub/link"));
    CO_REQUIRE(co_await io::unlinkat(dir.fd, "sub/moved"));
    CO_REQUIRE(co_await io::unlinkat(dir.fd, "sub", AT_REMOVEDIR));
  }(dir));
  CHECK_FALSE(fs::exists(dir.path / "sub"));
}

TEST_CASE("splice moves a file's bytes through a pipe") {
  reactor r;
  temp_dir dir;
  {
    int fd = ::openat(dir.fd, "src", O_CREAT | O_WRONLY, 0644);
    REQUIRE(::write(fd, "spliced bytes", 13) == 13);
    ::close(fd);
  }
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  r.block_on([](temp_dir& dir, int in, int out) -> task<void> {
    auto src = co_await io::openat(dir.fd, "src", O_RDONLY | O_CLOEXEC);
    REQUIRE(src);
    auto n = co_await io::splice(*src, 0, out, -1, 13);
    REQUIRE(n);
    CHECK(*n == 13);
    std::array<std::byte, 32> buf{};
    auto m = co_await io::read(in, buf);
    REQUIRE(m);
    CHECK(std::string(reinterpret_cast<char*>(buf.data()), *m) == "spliced bytes");
    co_await io::close(*src);
  }(dir, p[0], p[1]));
  ::close(p[0]);
  ::close(p[1]);
}

TEST_CASE("an op's error reaches the awaiting coroutine") {
  reactor r;
  r.block_on([]() -> task<void> {
    std::array<std::byte, 8> buf{};
    auto bad = co_await io::read(-1, buf);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().value() == EBADF);
    auto nodir = co_await io::openat(AT_FDCWD, "/nonexistent/ringcri/x", O_RDONLY);
    REQUIRE_FALSE(nodir);
    CHECK(nodir.error().value() == ENOENT);
    CHECK(nodir.error().category() == std::system_category());
  }());
}
