// The directory layer store (image/unpack/dir_layer_store.hpp): its
// layout and what a crash leaves. What every store promises is in
// layer_store_test.cpp. Needs root.

#include "image/unpack/dir_layer_store.hpp"

#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <string>

#include "layer_store_support.hpp"

using namespace ringcri;
using namespace ringcri::image;
using namespace unpack_test;

namespace {

const bool is_root = require_root();

}  // namespace

TEST_CASE("open makes the layout, private to root", "[layer_store]") {
  temp_dir t;
  auto store = dir_layer_store::open(t.path / "var/lib/ringcri");
  REQUIRE(store);
  for (const char* d : {"layers", "layers/sha256", "layers/tmp"}) {
    auto st = lstat_of(t.path / "var/lib/ringcri" / d);
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 07777) == 0700);
  }
  CHECK(store->get()->list()->empty());
  CHECK(store->get()->usage()->inodes == 0);
}

TEST_CASE("open deletes what a crash left in tmp, however deep, and keeps committed layers",
          "[layer_store]") {
  temp_dir t;
  layer_blob l = make_layer("c");
  {
    auto store = dir_layer_store::open(t.path);
    REQUIRE(store);
    REQUIRE(pull_into(**store, l));
  }
  // A crashed unpack: a half-written layer, 1500 levels deep, read-only
  // dirs and a file with no permissions.
  fs::path crashed = t.path / "layers/tmp/w-crashed";
  fs::create_directories(crashed / "etc");
  write_file(crashed / "etc/half", "x");
  ::chmod((crashed / "etc/half").c_str(), 0);
  ::chmod((crashed / "etc").c_str(), 0500);
  {
    unique_fd fd(::open(crashed.c_str(), O_RDONLY | O_DIRECTORY));
    for (int i = 0; i < 1500; ++i) {
      REQUIRE(::mkdirat(fd.get(), "d", 0755) == 0);
      fd.reset(::openat(fd.get(), "d", O_RDONLY | O_DIRECTORY));
      REQUIRE(fd);
    }
    write_file("/proc/self/fd/" + std::to_string(fd.get()) + "/leaf", "deep");
  }
  fs::create_directories(t.path / "layers/tmp/rm-interrupted/x");

  // One fd at a time: a low fd limit must not matter.
  rlimit old{};
  ::getrlimit(RLIMIT_NOFILE, &old);
  rlimit low = old;
  low.rlim_cur = 64;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  auto store = dir_layer_store::open(t.path);
  ::setrlimit(RLIMIT_NOFILE, &old);
  if (!store) FAIL(store.error().message());
  CHECK(names_in(t.path / "layers/tmp").empty());
  CHECK(*(*store)->has(l.diff_id));
  CHECK(read_file(*(*store)->path_of(l.diff_id) / "data/original") == "linked");
}
