// The EROFS layer store (image/unpack/erofs_layer_store.hpp): its layout,
// one mount per layer shared by its users, a container's overlay that
// outlives the layer's removal, what a crash leaves, and which store
// "auto" opens. What every store promises is in layer_store_test.cpp.
// Needs root and a kernel that mounts EROFS images from files.

#include "image/unpack/erofs_layer_store.hpp"

#include <fcntl.h>
#include <sys/mount.h>

#include <catch2/catch.hpp>
#include <string>

#include "layer_store_support.hpp"

using namespace ringcri;
using namespace ringcri::image;
using namespace unpack_test;

namespace {

const bool is_root = require_root();

const bool erofs_here = [] {
  temp_dir t;
  if (auto r = erofs_layer_store::supported(t.path); !r) {
    std::fprintf(stderr, "SKIP: this kernel does not mount EROFS images from files: %s\n",
                 r.error().message().c_str());
    std::_Exit(77);
  }
  return true;
}();

}  // namespace

TEST_CASE("open makes the layout, private to root", "[erofs_layer_store]") {
  mount_temp_dir t;
  auto store = erofs_layer_store::open(t.path / "var/lib/ringcri");
  REQUIRE(store);
  for (const char* d : {"erofs", "erofs/sha256", "erofs/tmp", "erofs/mnt"}) {
    auto st = lstat_of(t.path / "var/lib/ringcri" / d);
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 07777) == 0700);
  }
  CHECK((*store)->list()->empty());
}

TEST_CASE("a layer is one image file, mounted once however many ask", "[erofs_layer_store]") {
  mount_temp_dir t;
  auto store = erofs_layer_store::open(t.path);
  REQUIRE(store);
  layer_blob l = make_layer("m", 30);
  REQUIRE(pull_into(**store, l));
  const std::string hex(l.diff_id.hex());
  CHECK(names_in(t.path / "erofs/sha256") == std::vector<std::string>{hex + ".erofs"});
  CHECK(mounts_under(t.path).empty());  // nothing mounted before a container asks

  auto first = (*store)->path_of(l.diff_id);
  REQUIRE(first);
  CHECK(*first == t.path / "erofs/mnt" / hex);
  auto second = (*store)->path_of(l.diff_id);
  REQUIRE(second);
  CHECK(*second == *first);
  CHECK(mounts_under(t.path, "erofs") == std::vector<std::string>{first->string()});
  CHECK(read_file(*first / "data/m-29") == std::string(1000 + 2900, 'a' + 29 % 26));
  // Read-only, as a lower layer is.
  CHECK(::open((*first / "data/new").c_str(), O_CREAT | O_WRONLY, 0644) == -1);
  CHECK(errno == EROFS);

  // A daemon restarted finds the mount and keeps it.
  store->reset();
  auto reopened = erofs_layer_store::open(t.path);
  REQUIRE(reopened);
  auto again = (*reopened)->path_of(l.diff_id);
  REQUIRE(again);
  CHECK(mounts_under(t.path, "erofs").size() == 1);
  CHECK(read_file(*again / "data/original") == "linked");
}

TEST_CASE("an overlay on a layer keeps reading it after the layer is removed",
          "[erofs_layer_store]") {
  mount_temp_dir t;
  auto store = erofs_layer_store::open(t.path / "root");
  REQUIRE(store);
  layer_blob l = make_layer("o", 3);
  REQUIRE(pull_into(**store, l));
  auto lower = (*store)->path_of(l.diff_id);
  REQUIRE(lower);
  for (const char* d : {"upper", "work", "rootfs"}) fs::create_directories(t.path / d);
  const std::string options = "lowerdir=" + lower->string() + ",upperdir=" +
                              (t.path / "upper").string() + ",workdir=" + (t.path / "work").string();
  REQUIRE(::mount("overlay", (t.path / "rootfs").c_str(), "overlay", 0, options.c_str()) == 0);

  REQUIRE((*store)->remove(l.diff_id));
  CHECK(names_in(t.path / "root/erofs/sha256").empty());
  CHECK(names_in(t.path / "root/erofs/mnt").empty());
  CHECK(mounts_under(t.path / "root").empty());
  // The container's view is whole: the overlay holds the layer's mount.
  CHECK(read_file(t.path / "rootfs/data/o-2") == std::string(1200, 'c'));
  CHECK(read_file(t.path / "rootfs/data/link") == "linked");
}

TEST_CASE("open clears what a crash left: half-written images, mounts of removed layers",
          "[erofs_layer_store]") {
  mount_temp_dir t;
  layer_blob kept = make_layer("k", 2), gone = make_layer("g", 2);
  {
    auto store = erofs_layer_store::open(t.path);
    REQUIRE(store);
    REQUIRE(pull_into(**store, kept));
    REQUIRE(pull_into(**store, gone));
    REQUIRE((*store)->path_of(kept.diff_id));
    REQUIRE((*store)->path_of(gone.diff_id));
  }
  // A pull killed while writing; a removal killed after its rename.
  write_file(t.path / "erofs/tmp/w-crashed", std::string(10000, 'x'));
  fs::rename(t.path / "erofs/sha256" / (std::string(gone.diff_id.hex()) + ".erofs"),
             t.path / "erofs/tmp/rm-interrupted");
  REQUIRE(mounts_under(t.path, "erofs").size() == 2);

  auto store = erofs_layer_store::open(t.path);
  REQUIRE(store);
  CHECK(names_in(t.path / "erofs/tmp").empty());
  CHECK(names_in(t.path / "erofs/mnt") == std::vector<std::string>{std::string(kept.diff_id.hex())});
  CHECK(mounts_under(t.path, "erofs").size() == 1);
  CHECK(*(*store)->list() == std::vector<digest>{kept.diff_id});
  CHECK(read_file(*(*store)->path_of(kept.diff_id) / "data/original") == "linked");
}

TEST_CASE("auto opens the EROFS store on a kernel that mounts EROFS files", "[erofs_layer_store]") {
  mount_temp_dir t;
  auto opened = open_layer_store(t.path);
  REQUIRE(opened);
  CHECK(opened->kind == layer_store_kind::erofs);
  CHECK(fs::is_directory(t.path / "erofs/sha256"));
  CHECK_FALSE(fs::exists(t.path / "layers"));
  CHECK(names_in(t.path) == std::vector<std::string>{"erofs"});  // the probe's image is gone

  auto dir = open_layer_store(t.path / "d", layer_store_kind::dir);
  REQUIRE(dir);
  CHECK(dir->kind == layer_store_kind::dir);
  CHECK(fs::is_directory(t.path / "d/layers/sha256"));
  CHECK(parse_layer_store_kind("auto") == layer_store_kind::automatic);
  CHECK(parse_layer_store_kind("erofs") == layer_store_kind::erofs);
  CHECK_FALSE(parse_layer_store_kind("zfs"));
}

TEST_CASE("auto keeps the directory store on a node whose layers are directories already",
          "[erofs_layer_store]") {
  mount_temp_dir t;
  {
    auto dir = open_layer_store(t.path, layer_store_kind::dir);
    REQUIRE(dir);
    REQUIRE(pull_into(*dir->store, make_layer("old", 2)));
  }
  auto opened = open_layer_store(t.path);
  REQUIRE(opened);
  CHECK(opened->kind == layer_store_kind::dir);
  CHECK_THAT(opened->why, Catch::Contains("directories already"));
  CHECK(opened->store->list()->size() == 1);
  CHECK_FALSE(fs::exists(t.path / "erofs"));
}
