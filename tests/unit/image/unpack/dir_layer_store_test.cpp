// The directory layer store (image/unpack/dir_layer_store.hpp): commit,
// abort, crash leftovers, removal, usage, and writers racing. Needs root.

#include "image/unpack/dir_layer_store.hpp"

#include <sys/resource.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "extract_support.hpp"
#include "image/unpack/layer_unpacker.hpp"

using namespace ringcri;
using namespace ringcri::image;
using namespace unpack_test;

namespace {

const bool is_root = require_root();

constexpr std::string_view oci_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";

struct layer_blob {
  std::string tar;
  std::string gz;
  digest blob_digest;
  digest diff_id;
};

layer_blob make_layer(const std::string& tag, int files = 20) {
  tar_writer w;
  w.dir("data");
  for (int i = 0; i < files; ++i)
    w.file("data/" + tag + "-" + std::to_string(i), std::string(1000 + i * 100, 'a' + i % 26));
  w.file("data/original", "linked").hard_link("data/link", "data/original");
  w.end();
  std::string gz = gzip(w.str());
  return {w.str(), gz, sha256_of(bytes_of(gz)), sha256_of(bytes_of(w.str()))};
}

// begin, unpack, check the diff_id, commit: what a pull does.
result<void> pull_into(layer_store& store, const layer_blob& l, std::size_t chunk = 16384) {
  auto w = store.begin(l.diff_id);
  if (!w) return tl::unexpected(w.error());
  auto u = layer_unpacker::create(l.blob_digest, l.gz.size(), oci_gzip, (*w)->sink());
  if (!u) return tl::unexpected(u.error());
  for (std::size_t at = 0; at < l.gz.size(); at += chunk)
    if (auto r = (*u)->feed(bytes_of(std::string_view(l.gz).substr(at, chunk))); !r) return r;
  auto done = (*u)->finish();
  if (!done) return tl::unexpected(done.error());
  if (done->diff_id != l.diff_id) return fail(error_kind::invalid_argument, "diff_id mismatch");
  return store.commit(std::move(*w));
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

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

TEST_CASE("a committed layer appears under its diff_id with its files", "[layer_store]") {
  temp_dir t;
  auto store = dir_layer_store::open(t.path);
  REQUIRE(store);
  layer_blob l = make_layer("a");
  CHECK_FALSE(*(*store)->has(l.diff_id));
  auto missing = (*store)->path_of(l.diff_id);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind() == error_kind::not_found);

  REQUIRE(pull_into(**store, l));
  CHECK(*(*store)->has(l.diff_id));
  auto path = (*store)->path_of(l.diff_id);
  REQUIRE(path);
  CHECK(*path == t.path / "layers/sha256" / std::string(l.diff_id.hex()));
  CHECK(read_file(*path / "data/a-3") == std::string(1300, 'd'));
  CHECK((lstat_of(*path).st_mode & 07777) == 0755);
  CHECK(names_in(t.path / "layers/tmp").empty());
  auto listed = (*store)->list();
  REQUIRE(listed);
  CHECK(*listed == std::vector<digest>{l.diff_id});

  auto u = (*store)->usage();
  REQUIRE(u);
  CHECK(u->inodes == 1 + 1 + 20 + 1);  // root, data/, 20 files, original+link once
  CHECK(u->bytes >= 20 * 4096);
}

TEST_CASE("a writer dropped without commit leaves nothing", "[layer_store]") {
  temp_dir t;
  auto store = dir_layer_store::open(t.path);
  REQUIRE(store);
  layer_blob l = make_layer("b");
  {
    auto w = (*store)->begin(l.diff_id);
    REQUIRE(w);
    CHECK(names_in(t.path / "layers/tmp").size() == 1);
    tar_writer tw;
    tw.file("half", "written").end();
    tar_reader reader((*w)->sink());
    REQUIRE(reader.feed(bytes_of(tw.str())));
    REQUIRE(reader.finish());
  }
  CHECK(names_in(t.path / "layers/tmp").empty());
  CHECK(names_in(t.path / "layers/sha256").empty());
  CHECK_FALSE(*(*store)->has(l.diff_id));

  // A layer whose digest check fails is not committed: the writer goes.
  auto w = (*store)->begin(l.diff_id);
  REQUIRE(w);
  auto u = layer_unpacker::create(l.blob_digest, l.gz.size() + 1, oci_gzip, (*w)->sink());
  REQUIRE((*u)->feed(bytes_of(l.gz)));
  REQUIRE_FALSE((*u)->finish());
  w->reset();
  CHECK(names_in(t.path / "layers/tmp").empty());
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

TEST_CASE("remove takes a layer away at once", "[layer_store]") {
  temp_dir t;
  auto store = dir_layer_store::open(t.path);
  REQUIRE(store);
  layer_blob a = make_layer("a"), b = make_layer("b", 5);
  REQUIRE(pull_into(**store, a));
  REQUIRE(pull_into(**store, b));
  auto both = (*store)->usage();
  REQUIRE(both);
  REQUIRE((*store)->remove(a.diff_id));
  CHECK_FALSE(*(*store)->has(a.diff_id));
  CHECK(*(*store)->has(b.diff_id));
  CHECK(names_in(t.path / "layers/tmp").empty());
  auto one = (*store)->usage();
  REQUIRE(one);
  CHECK(one->inodes == 1 + 1 + 5 + 1);
  CHECK(one->bytes < both->bytes);
  auto again = (*store)->remove(a.diff_id);
  REQUIRE_FALSE(again);
  CHECK(again.error().kind() == error_kind::not_found);
  CHECK(*(*store)->list() == std::vector<digest>{b.diff_id});
}

TEST_CASE("the same layer committed by racing pulls ends up once, whole", "[layer_store]") {
  temp_dir t;
  auto store = dir_layer_store::open(t.path);
  REQUIRE(store);
  layer_blob l = make_layer("race", 50);
  constexpr int pulls = 6;
  std::atomic<int> ok{0};
  std::vector<std::string> errors(pulls);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < pulls; ++i)
      threads.emplace_back([&, i] {
        auto r = pull_into(**store, l, 1000 + 997 * i);
        if (r)
          ++ok;
        else
          errors[i] = r.error().message();
      });
  }
  for (const auto& e : errors) CHECK(e.empty());
  CHECK(ok == pulls);
  CHECK(names_in(t.path / "layers/sha256") ==
        std::vector<std::string>{std::string(l.diff_id.hex())});
  CHECK(names_in(t.path / "layers/tmp").empty());
  auto path = (*store)->path_of(l.diff_id);
  REQUIRE(path);
  CHECK(names_in(*path / "data").size() == 52);
  CHECK(read_file(*path / "data/race-49") == std::string(1000 + 4900, 'a' + 49 % 26));
}

TEST_CASE("different layers committed at once all land", "[layer_store]") {
  temp_dir t;
  auto store = dir_layer_store::open(t.path);
  REQUIRE(store);
  std::vector<layer_blob> layers;
  for (int i = 0; i < 8; ++i) layers.push_back(make_layer("l" + std::to_string(i), 10 + i));
  std::vector<std::string> errors(layers.size());
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < layers.size(); ++i)
      threads.emplace_back([&, i] {
        if (auto r = pull_into(**store, layers[i]); !r) errors[i] = r.error().message();
      });
  }
  for (const auto& e : errors) CHECK(e.empty());
  auto listed = (*store)->list();
  REQUIRE(listed);
  CHECK(listed->size() == layers.size());
  for (const auto& l : layers) CHECK(*(*store)->has(l.diff_id));
  CHECK(names_in(t.path / "layers/tmp").empty());
}

TEST_CASE("a writer from another store is not committed here", "[layer_store]") {
  temp_dir t1, t2;
  auto s1 = dir_layer_store::open(t1.path);
  auto s2 = dir_layer_store::open(t2.path);
  layer_blob l = make_layer("x", 1);
  auto w = (*s1)->begin(l.diff_id);
  REQUIRE(w);
  auto r = (*s2)->commit(std::move(*w));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::internal);
  CHECK(names_in(t1.path / "layers/tmp").empty());  // the writer went with the failed commit
}
