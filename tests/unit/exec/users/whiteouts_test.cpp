// read_rootfs_file and resolve_user with overlayfs whiteouts (0:0 char
// devices) and opaque dirs (xattr trusted.overlay.opaque=y), which only root
// can make: without that, the test prints why and exits 77 (skipped).

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "exec/users/rootfs_files.hpp"
#include "exec/users/users.hpp"
#include "support/skip.hpp"
#include "unit/exec/users/layer_dirs.hpp"

using ringcri::error_kind;
using ringcri::exec::read_rootfs_file;
using ringcri::exec::resolve_user;
using ringcri::test::layer_dirs;

namespace {

void whiteout(const layer_dirs& l, int layer, const std::string& rel) {
  std::filesystem::create_directories(std::filesystem::path(l.path(layer, rel)).parent_path());
  REQUIRE(::mknod(l.path(layer, rel).c_str(), S_IFCHR | 0000, makedev(0, 0)) == 0);
}

void opaque(const layer_dirs& l, int layer, const std::string& rel) {
  l.dir(layer, rel);
  REQUIRE(::setxattr(l.path(layer, rel).c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0);
}

// Exits 77 when whiteouts or trusted xattrs cannot be made here; called
// before a test makes anything, so nothing is left behind.
void skip_unless_privileged() {
  static bool checked = false;
  if (checked) return;
  std::string why;
  {
    layer_dirs probe(1);
    std::string dev = probe.path(0, "/wh");
    if (::mknod(dev.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0)
      why = std::string("mknod of a 0:0 whiteout: ") + std::strerror(errno);
    else if (::setxattr(probe.path(0, "").c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0)
      why = std::string("setxattr trusted.overlay.opaque: ") + std::strerror(errno);
  }
  if (!why.empty()) ringcri::testing::skip_binary("needs root (CAP_MKNOD, CAP_SYS_ADMIN): " + why);
  checked = true;
}

}  // namespace

TEST_CASE("a whiteout hides the file of every lower layer", "[whiteouts]") {
  skip_unless_privileged();
  layer_dirs l(3);
  l.file(2, "/etc/passwd", "deleted by the middle layer");
  whiteout(l, 1, "/etc/passwd");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(!r);
  CHECK(r.error().kind() == error_kind::not_found);
}

TEST_CASE("a file above a whiteout is seen again", "[whiteouts]") {
  skip_unless_privileged();
  layer_dirs l(3);
  l.file(2, "/etc/passwd", "old");
  whiteout(l, 1, "/etc/passwd");
  l.file(0, "/etc/passwd", "recreated");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(r);
  CHECK(*r == "recreated");
}

TEST_CASE("a whiteout of a directory hides everything under it", "[whiteouts]") {
  skip_unless_privileged();
  layer_dirs l(2);
  l.file(1, "/etc/passwd", "under a deleted dir");
  whiteout(l, 0, "/etc");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(!r);
  CHECK(r.error().kind() == error_kind::not_found);
}

TEST_CASE("an opaque dir hides the lower layers' files in it", "[whiteouts]") {
  skip_unless_privileged();
  layer_dirs l(2);
  l.file(1, "/etc/passwd", "below the opaque dir");
  l.file(1, "/etc/group", "below too");
  opaque(l, 0, "/etc");
  l.file(0, "/etc/group", "in the opaque dir");
  auto p = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(!p);
  CHECK(p.error().kind() == error_kind::not_found);
  auto g = read_rootfs_file(l.layers(), "/etc/group");
  REQUIRE(g);
  CHECK(*g == "in the opaque dir");
}

TEST_CASE("an opaque dir in the middle still shows the layers above it", "[whiteouts]") {
  skip_unless_privileged();
  layer_dirs l(3);
  l.file(2, "/etc/passwd", "hidden");
  opaque(l, 1, "/etc");
  l.file(0, "/etc/passwd", "top");
  auto r = read_rootfs_file(l.layers(), "/etc/passwd");
  REQUIRE(r);
  CHECK(*r == "top");
}

TEST_CASE("a user whose passwd file was whited out is unknown", "[whiteouts]") {
  skip_unless_privileged();
  layer_dirs l(2);
  l.file(1, "/etc/passwd", "app:x:1000:1000::/home/app:/bin/sh\n");
  whiteout(l, 0, "/etc/passwd");
  auto by_name = resolve_user(l.layers(), "app", {}, {}, {}, {});
  REQUIRE(!by_name);
  CHECK(by_name.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(by_name.error().message(), Catch::Contains("app") && Catch::Contains("/etc/passwd"));
  // A uid needs no entry: it runs with gid 0.
  auto by_uid = resolve_user(l.layers(), "1000", {}, {}, {}, {});
  REQUIRE(by_uid);
  CHECK(by_uid->uid == 1000);
  CHECK(by_uid->gid == 0);
}
