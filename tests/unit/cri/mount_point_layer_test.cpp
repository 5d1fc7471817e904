// The mount point layer: what it holds, and on which images it may go on
// top, checked on real directories shaped as image layers (whiteouts and
// opaque directories as the layer store writes them). Needs root (owners,
// trusted.* xattrs, device nodes).

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cri/mount_point_layer.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using ringcri::cri::make_mount_point_layer;
using ringcri::cri::mount_point_layer_fits;
using ringcri::testing::temp_dir;

namespace {

void need_root() {
  if (::geteuid() == 0) return;
  std::printf("SKIP: needs root (owners, trusted.* xattrs, device nodes)\n");
  std::exit(77);
}

struct layers {
  temp_dir dir{"ringcri-mount-points"};
  std::string layer(const std::string& name) {
    fs::create_directories(dir.path() / name);
    return (dir.path() / name).string();
  }
  static void make_dir(const std::string& path, mode_t mode = 0755) {
    fs::create_directories(path);
    REQUIRE(::chmod(path.c_str(), mode) == 0);
  }
  static void file(const std::string& path) { std::ofstream(path) << "from the image\n"; }
  static void whiteout(const std::string& path) { REQUIRE(::mknod(path.c_str(), S_IFCHR | 0, makedev(0, 0)) == 0); }
  static void opaque(const std::string& dir) {
    REQUIRE(::setxattr(dir.c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0);
  }
};

}  // namespace

TEST_CASE("the layer holds /etc (0755) and three empty files (0644), all root's, and is remade when changed") {
  need_root();
  temp_dir dir("ringcri-mount-points");
  const fs::path layer = dir.path() / "mount-points";
  REQUIRE(make_mount_point_layer(layer));
  struct stat st;
  REQUIRE(::lstat((layer / "etc").c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 07777) == 0755);
  CHECK(st.st_uid == 0);
  for (const char* name : {"hostname", "hosts", "resolv.conf"}) {
    INFO(name);
    REQUIRE(::lstat((layer / "etc" / name).c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 07777) == 0644);
    CHECK(st.st_size == 0);
  }

  // Something wrote into it: it is made again, as it was.
  std::ofstream(layer / "etc" / "hosts") << "stale\n";
  REQUIRE(make_mount_point_layer(layer));
  CHECK(fs::file_size(layer / "etc" / "hosts") == 0);
}

TEST_CASE("the layer fits an image whose /etc is a root directory of mode 0755 with plain files or none") {
  need_root();
  layers l;
  const auto top = l.layer("top"), bottom = l.layer("bottom");
  CHECK(mount_point_layer_fits({top, bottom}));  // no /etc at all
  layers::make_dir(bottom + "/etc");
  layers::file(bottom + "/etc/hosts");
  CHECK(mount_point_layer_fits({top, bottom}));
  // A deleted resolv.conf in the top layer is fine too.
  layers::make_dir(top + "/etc");
  layers::whiteout(top + "/etc/resolv.conf");
  CHECK(mount_point_layer_fits({top, bottom}));
}

TEST_CASE("the layer does not fit where it would change what the container sees") {
  need_root();
  SECTION("/etc is a symlink") {
    layers l;
    const auto top = l.layer("top");
    layers::make_dir(top + "/private/etc");
    fs::create_symlink("private/etc", top + "/etc");
    CHECK_FALSE(mount_point_layer_fits({top}));
  }
  SECTION("the top-most /etc has another mode") {
    layers l;
    const auto top = l.layer("top"), bottom = l.layer("bottom");
    layers::make_dir(bottom + "/etc");
    layers::make_dir(top + "/etc", 0750);
    CHECK_FALSE(mount_point_layer_fits({top, bottom}));
  }
  SECTION("resolv.conf is a symlink in a lower layer") {
    layers l;
    const auto top = l.layer("top"), bottom = l.layer("bottom");
    layers::make_dir(top + "/etc");
    layers::make_dir(bottom + "/etc");
    fs::create_symlink("../run/resolv.conf", bottom + "/etc/resolv.conf");
    CHECK_FALSE(mount_point_layer_fits({top, bottom}));
  }
  SECTION("hosts is a directory") {
    layers l;
    const auto top = l.layer("top");
    layers::make_dir(top + "/etc/hosts");
    CHECK_FALSE(mount_point_layer_fits({top}));
  }
}

TEST_CASE("what lies beneath an opaque or a deleted /etc does not count") {
  need_root();
  layers l;
  const auto top = l.layer("top"), bottom = l.layer("bottom");
  layers::make_dir(bottom + "/etc");
  fs::create_symlink("elsewhere", bottom + "/etc/hostname");
  CHECK_FALSE(mount_point_layer_fits({top, bottom}));
  layers::make_dir(top + "/etc");
  layers::opaque(top + "/etc");
  CHECK(mount_point_layer_fits({top, bottom}));

  layers d;
  const auto upper = d.layer("upper"), lower = d.layer("lower");
  fs::create_symlink("private/etc", lower + "/etc");
  CHECK_FALSE(mount_point_layer_fits({upper, lower}));
  layers::whiteout(upper + "/etc");
  CHECK(mount_point_layer_fits({upper, lower}));
}
