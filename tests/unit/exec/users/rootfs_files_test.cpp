// read_rootfs_file over plain layer dirs: which layer wins, symlinks, and
// what is not found. Whiteouts and opaque dirs are in whiteouts_test.cpp.

#include "exec/users/rootfs_files.hpp"

#include <catch2/catch.hpp>

#include "unit/exec/users/layer_dirs.hpp"

using ringcri::error_kind;
using ringcri::exec::read_rootfs_file;
using ringcri::test::layer_dirs;

TEST_CASE("the topmost layer that has the file wins", "[rootfs_files]") {
  layer_dirs l(3);
  l.file(2, "/etc/passwd", "bottom");
  l.file(1, "/etc/passwd", "middle");
  l.file(0, "/etc/group", "top group");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(r);
  CHECK(*r == "middle");
  auto g = read_rootfs_file(l.layers(), "/etc/group");
  REQUIRE(g);
  CHECK(*g == "top group");
}

TEST_CASE("a file only in the lowest layer is found through dirs of the upper ones",
          "[rootfs_files]") {
  layer_dirs l(2);
  l.dir(0, "/etc");
  l.file(1, "/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  auto r = read_rootfs_file(l.layers(), "etc/passwd");  // relative is read from the root too
  REQUIRE(r);
  CHECK(*r == "root:x:0:0::/root:/bin/sh\n");
}

TEST_CASE("an absent file is NOT_FOUND naming the path", "[rootfs_files]") {
  layer_dirs l(2);
  l.dir(1, "/etc");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(!r);
  CHECK(r.error().kind() == error_kind::not_found);
  CHECK_THAT(r.error().message(), Catch::Contains("/etc/passwd"));
}

TEST_CASE("a file in an upper layer hides a dir of the same name below", "[rootfs_files]") {
  layer_dirs l(2);
  l.file(0, "/etc", "not a dir");
  l.file(1, "/etc/passwd", "hidden");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(!r);
  CHECK(r.error().kind() == error_kind::not_found);
}

TEST_CASE("a dir in an upper layer hides a file of the same name below", "[rootfs_files]") {
  layer_dirs l(2);
  l.dir(0, "/etc/passwd");
  l.file(1, "/etc/passwd", "hidden");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(!r);
  CHECK(r.error().kind() == error_kind::invalid_argument);
}

TEST_CASE("a relative symlink is resolved within the layers", "[rootfs_files]") {
  layer_dirs l(2);
  l.symlink(0, "/etc/passwd", "../usr/share/passwd");
  l.file(1, "/usr/share/passwd", "via link");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(r);
  CHECK(*r == "via link");
}

TEST_CASE("an absolute symlink starts over at the rootfs's root, not the host's",
          "[rootfs_files]") {
  layer_dirs l(1);
  l.symlink(0, "/etc/passwd", "/usr/lib/passwd");
  l.file(0, "/usr/lib/passwd", "in the rootfs");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(r);
  CHECK(*r == "in the rootfs");
}

TEST_CASE("dot-dot in a symlink never leaves the rootfs", "[rootfs_files]") {
  layer_dirs l(1);
  l.symlink(0, "/etc/passwd", "../../../../../../../etc/real");
  l.file(0, "/etc/real", "clamped at root");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(r);
  CHECK(*r == "clamped at root");
}

TEST_CASE("a symlinked directory on the way is followed", "[rootfs_files]") {
  layer_dirs l(2);
  l.symlink(0, "/etc", "private/etc");
  l.file(1, "/private/etc/passwd", "behind a dir link");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(r);
  CHECK(*r == "behind a dir link");
}

TEST_CASE("a dangling symlink is NOT_FOUND", "[rootfs_files]") {
  layer_dirs l(1);
  l.symlink(0, "/etc/passwd", "/nowhere");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(!r);
  CHECK(r.error().kind() == error_kind::not_found);
}

TEST_CASE("a symlink loop is INVALID_ARGUMENT, not a hang", "[rootfs_files]") {
  layer_dirs l(1);
  l.symlink(0, "/etc/passwd", "/etc/group");
  l.symlink(0, "/etc/group", "/etc/passwd");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(!r);
  CHECK(r.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(r.error().message(), Catch::Contains("symbolic links"));
}

TEST_CASE("a host symlink target outside the layers is never read", "[rootfs_files]") {
  layer_dirs l(1);
  // /etc/hostname exists on the host; in the rootfs it does not.
  l.symlink(0, "/etc/passwd", "/etc/hostname");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(!r);
  CHECK(r.error().kind() == error_kind::not_found);
}

TEST_CASE("no layers at all: NOT_FOUND", "[rootfs_files]") {
  auto r = read_rootfs_file({}, "/etc/passwd");
  REQUIRE(!r);
  CHECK(r.error().kind() == error_kind::not_found);
}
