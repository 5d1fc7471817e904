// sys::open_confined and sys::openat2_confined (src/base/sys/open_confined.hpp):
// real trees under /tmp, escapes tried through "..", absolute and relative
// symlinks and a magic link.

#include "base/sys/open_confined.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "base_support.hpp"

using namespace ringcri;
using namespace base_test;

namespace {

void need_openat2() {
  errno = 0;
  if (::syscall(SYS_openat2, -1, "", nullptr, 0) < 0 && errno == ENOSYS) {
    std::fprintf(stderr, "SKIP: the kernel has no openat2 (Linux >= 5.6)\n");
    std::_Exit(77);
  }
}

// <root>/inside/file ("in"), <root>/lib -> inside, <root>/abs -> /inside,
// <root>/up -> ../outside, and <base>/outside/file ("out") beside root.
struct tree {
  temp_dir base;
  fs::path root = base.path / "root";
  unique_fd root_fd;
  tree() {
    need_openat2();
    fs::create_directories(root / "inside");
    fs::create_directories(base.path / "outside");
    spit(root / "inside" / "file", "in");
    spit(base.path / "outside" / "file", "out");
    fs::create_directory_symlink("inside", root / "lib");
    fs::create_directory_symlink("/inside", root / "abs");
    fs::create_directory_symlink("../outside", root / "up");
    root_fd.reset(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(root_fd);
  }
};

std::string read_all(int fd) {
  char buf[64];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

TEST_CASE("beneath: a path and a symlink that stay inside open") {
  tree t;
  auto plain = sys::open_confined(t.root_fd.get(), "inside/file", sys::resolve::beneath, O_RDONLY);
  REQUIRE(plain);
  CHECK(read_all(plain->get()) == "in");
  auto linked = sys::open_confined(t.root_fd.get(), "lib/file", sys::resolve::beneath, O_RDONLY);
  REQUIRE(linked);
  CHECK(read_all(linked->get()) == "in");
  CHECK((::fcntl(linked->get(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("beneath: \"..\", an absolute symlink and a symlink out fail with EXDEV") {
  tree t;
  for (const char* path : {"../outside/file", "abs/file", "up/file", "/etc/passwd"}) {
    INFO(path);
    auto r = sys::open_confined(t.root_fd.get(), path, sys::resolve::beneath, O_RDONLY);
    REQUIRE_FALSE(r);
    CHECK(r.error().sys_errno() == EXDEV);
    CHECK_THAT(r.error().message(), Catch::Contains(path));
  }
}

TEST_CASE("in_root: absolute symlinks and \"..\" stop at the root") {
  tree t;
  auto abs = sys::open_confined(t.root_fd.get(), "abs/file", sys::resolve::in_root, O_RDONLY);
  REQUIRE(abs);
  CHECK(read_all(abs->get()) == "in");
  auto dots =
      sys::open_confined(t.root_fd.get(), "/../../inside/file", sys::resolve::in_root, O_RDONLY);
  REQUIRE(dots);
  CHECK(read_all(dots->get()) == "in");
  // "up" -> ../outside: in the root's terms /outside, which is not there.
  auto up = sys::open_confined(t.root_fd.get(), "up/file", sys::resolve::in_root, O_RDONLY);
  REQUIRE_FALSE(up);
  CHECK(up.error().sys_errno() == ENOENT);
  CHECK(up.error().kind() == error_kind::not_found);
}

TEST_CASE("a magic link is refused with ELOOP in both modes") {
  need_openat2();
  unique_fd proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(proc);
  // self -> <pid> is a plain symlink; <pid>/exe is a magic link.
  for (auto mode : {sys::resolve::beneath, sys::resolve::in_root}) {
    auto r = sys::open_confined(proc.get(), "self/exe", mode, O_PATH);
    REQUIRE_FALSE(r);
    CHECK(r.error().sys_errno() == ELOOP);
  }
}

TEST_CASE("an empty path is the directory itself; a missing one is ENOENT") {
  tree t;
  auto self = sys::open_confined(t.root_fd.get(), "", sys::resolve::beneath, O_PATH);
  REQUIRE(self);
  struct stat a {
  }, b{};
  REQUIRE(::fstat(self->get(), &a) == 0);
  REQUIRE(::fstat(t.root_fd.get(), &b) == 0);
  CHECK(a.st_ino == b.st_ino);
  auto missing =
      sys::open_confined(t.root_fd.get(), "inside/nope", sys::resolve::beneath, O_RDONLY);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().sys_errno() == ENOENT);
}

TEST_CASE("openat2_confined answers as open(2): -1 and errno") {
  tree t;
  errno = 0;
  CHECK(sys::openat2_confined(t.root_fd.get(), "up/file", sys::resolve::beneath, O_RDONLY) == -1);
  CHECK(errno == EXDEV);
  int fd = sys::openat2_confined(t.root_fd.get(), "/inside/file", sys::resolve::in_root, O_RDONLY);
  REQUIRE(fd >= 0);
  unique_fd owner(fd);
  CHECK(read_all(fd) == "in");
  CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
}
