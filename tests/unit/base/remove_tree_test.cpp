// sys::remove_tree (src/base/sys/remove_tree.hpp): real trees under /tmp,
// checked with lstat from outside.

#include "base/sys/remove_tree.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "base/unique_fd.hpp"
#include "base_support.hpp"

using namespace ringcri;
using namespace base_test;

namespace {

unique_fd open_dir(const fs::path& p) {
  return unique_fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

bool lexists(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("remove_tree removes files, dirs, symlinks and fifos, not what a symlink points at") {
  temp_dir t;
  fs::create_directories(t.path / "tree" / "a" / "b");
  fs::create_directories(t.path / "outside");
  spit(t.path / "outside" / "precious", "keep");
  spit(t.path / "tree" / "top", "x");
  spit(t.path / "tree" / "a" / "b" / "deep", "y");
  fs::create_directory_symlink(t.path / "outside", t.path / "tree" / "a" / "out");
  fs::create_symlink("/nowhere", t.path / "tree" / "dangling");
  REQUIRE(::mkfifo((t.path / "tree" / "a" / "fifo").c_str(), 0600) == 0);
  // A directory nobody may write into is still emptied (we own it).
  fs::create_directories(t.path / "tree" / "ro" / "sub");
  fs::permissions(t.path / "tree" / "ro", fs::perms::owner_read | fs::perms::owner_exec);

  auto parent = open_dir(t.path);
  auto removed = sys::remove_tree(parent.get(), "tree");
  if (!removed && ::geteuid() != 0) {
    std::fprintf(stderr, "SKIP: needs root to remove from a read-only directory\n");
    std::_Exit(77);
  }
  INFO((removed ? "" : removed.error().message()));
  REQUIRE(removed);
  CHECK_FALSE(lexists(t.path / "tree"));
  CHECK(slurp(t.path / "outside" / "precious") == "keep");
}

TEST_CASE("remove_tree of a missing name succeeds; of a file removes the file") {
  temp_dir t;
  auto parent = open_dir(t.path);
  CHECK(sys::remove_tree(parent.get(), "missing"));
  spit(t.path / "file", "x");
  REQUIRE(sys::remove_tree(parent.get(), "file"));
  CHECK_FALSE(lexists(t.path / "file"));
  CHECK(names_in(t.path).empty());
}

TEST_CASE("remove_tree takes a 1,000-level tree with 32 fds to spare") {
  temp_dir t;
  {
    unique_fd cur = open_dir(t.path);
    REQUIRE(::mkdirat(cur.get(), "deep", 0755) == 0);
    cur.reset(::openat(cur.get(), "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    for (int i = 0; i < 1000; ++i) {
      REQUIRE(::mkdirat(cur.get(), "d", 0755) == 0);
      unique_fd file(::openat(cur.get(), "f", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
      REQUIRE(file);
      cur.reset(::openat(cur.get(), "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      REQUIRE(cur);
    }
  }
  auto parent = open_dir(t.path);
  // An fd per level would need 1,000; the walk holds one.
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  unique_fd probe(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(probe.get()) + 32;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  auto removed = sys::remove_tree(parent.get(), "deep");
  ::setrlimit(RLIMIT_NOFILE, &saved);
  INFO((removed ? "" : removed.error().message()));
  REQUIRE(removed);
  CHECK(names_in(t.path).empty());
}

TEST_CASE("remove_tree stops at a mount point with EBUSY and leaves what is under it") {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "SKIP: needs root to make a bind mount\n");
    std::_Exit(77);
  }
  temp_dir t;
  fs::create_directories(t.path / "tree" / "a" / "mnt");
  fs::create_directories(t.path / "outside");
  spit(t.path / "outside" / "precious", "keep");
  const fs::path target = t.path / "tree" / "a" / "mnt";
  REQUIRE(::mount((t.path / "outside").c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0);

  auto parent = open_dir(t.path);
  auto removed = sys::remove_tree(parent.get(), "tree");
  ::umount2(target.c_str(), MNT_DETACH);
  REQUIRE_FALSE(removed);
  INFO(removed.error().message());
  CHECK(removed.error().sys_errno() == EBUSY);
  CHECK_THAT(removed.error().message(), Catch::Contains("mnt"));
  CHECK(slurp(t.path / "outside" / "precious") == "keep");

  // Unmounted, the rest goes.
  REQUIRE(sys::remove_tree(parent.get(), "tree"));
  CHECK_FALSE(lexists(t.path / "tree"));
  CHECK(slurp(t.path / "outside" / "precious") == "keep");
}
