// What every layer store promises (image/layer_store.hpp), run on each:
// the directory store and the EROFS image store. Commit, abort, removal,
// usage and writers racing, checked through the paths the stores give
// overlayfs. Needs root; the EROFS store a kernel that mounts EROFS
// images from files (else its cases are skipped, saying why).

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "image/unpack/dir_layer_store.hpp"
#include "image/unpack/erofs_layer_store.hpp"
#include "layer_store_support.hpp"

using namespace ringcri;
using namespace ringcri::image;
using namespace unpack_test;

namespace {

const bool is_root = require_root();

struct dir_store {
  static constexpr const char* name = "dir";
  static result<std::unique_ptr<layer_store>> open(const fs::path& root) {
    auto s = dir_layer_store::open(root);
    if (!s) return tl::unexpected(s.error());
    return std::unique_ptr<layer_store>(std::move(*s));
  }
  static fs::path tmp(const fs::path& root) { return root / "layers/tmp"; }
  static fs::path committed(const fs::path& root) { return root / "layers/sha256"; }
  // Inodes a make_layer(tag, files) layer takes: root, data/, the files,
  // original and link once.
  static std::uint64_t inodes(int files) { return 1 + 1 + files + 1; }
};

struct erofs_store {
  static constexpr const char* name = "erofs";
  static result<std::unique_ptr<layer_store>> open(const fs::path& root) {
    auto s = erofs_layer_store::open(root);
    if (!s) return tl::unexpected(s.error());
    return std::unique_ptr<layer_store>(std::move(*s));
  }
  static fs::path tmp(const fs::path& root) { return root / "erofs/tmp"; }
  static fs::path committed(const fs::path& root) { return root / "erofs/sha256"; }
  static std::uint64_t inodes(int) { return 1; }  // the image file
};

// Skips (returns false, saying why) where the store cannot run here.
template <typename Store>
bool runs_here() {
  if constexpr (std::is_same_v<Store, erofs_store>) {
    temp_dir t;
    if (auto r = erofs_layer_store::supported(t.path); !r) {
      WARN("SKIP: the EROFS store: " << r.error().message());
      return false;
    }
  }
  return true;
}

}  // namespace

TEMPLATE_TEST_CASE("a committed layer is found under its diff_id with its files", "[layer_store]",
                   dir_store, erofs_store) {
  if (!runs_here<TestType>()) return;
  mount_temp_dir t;
  auto store = TestType::open(t.path);
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
  CHECK(path->filename() == std::string(l.diff_id.hex()));
  CHECK(read_file(*path / "data/a-3") == std::string(1300, 'd'));
  CHECK(read_file(*path / "data/link") == "linked");
  CHECK(lstat_of(*path / "data/link").st_ino == lstat_of(*path / "data/original").st_ino);
  CHECK((lstat_of(*path).st_mode & 07777) == 0755);
  CHECK(names_in(TestType::tmp(t.path)).empty());
  auto listed = (*store)->list();
  REQUIRE(listed);
  CHECK(*listed == std::vector<digest>{l.diff_id});

  auto u = (*store)->usage();
  REQUIRE(u);
  CHECK(u->inodes == TestType::inodes(20));
  CHECK(u->bytes >= 20 * 1000);
}

TEMPLATE_TEST_CASE("a writer dropped without commit leaves nothing", "[layer_store]", dir_store,
                   erofs_store) {
  if (!runs_here<TestType>()) return;
  mount_temp_dir t;
  auto store = TestType::open(t.path);
  REQUIRE(store);
  layer_blob l = make_layer("b");
  {
    auto w = (*store)->begin(l.diff_id);
    REQUIRE(w);
    CHECK(names_in(TestType::tmp(t.path)).size() == 1);
    tar_writer tw;
    tw.file("half", "written").end();
    tar_reader reader((*w)->sink());
    REQUIRE(reader.feed(bytes_of(tw.str())));
    REQUIRE(reader.finish());
  }
  CHECK(names_in(TestType::tmp(t.path)).empty());
  CHECK(names_in(TestType::committed(t.path)).empty());
  CHECK_FALSE(*(*store)->has(l.diff_id));

  // A layer whose digest check fails is not committed: the writer goes.
  auto w = (*store)->begin(l.diff_id);
  REQUIRE(w);
  auto u = layer_unpacker::create(l.blob_digest, l.gz.size() + 1, oci_gzip, (*w)->sink());
  REQUIRE((*u)->feed(bytes_of(l.gz)));
  REQUIRE_FALSE((*u)->finish());
  w->reset();
  CHECK(names_in(TestType::tmp(t.path)).empty());
}

TEMPLATE_TEST_CASE("remove takes a layer away at once", "[layer_store]", dir_store, erofs_store) {
  if (!runs_here<TestType>()) return;
  mount_temp_dir t;
  auto store = TestType::open(t.path);
  REQUIRE(store);
  layer_blob a = make_layer("a"), b = make_layer("b", 5);
  REQUIRE(pull_into(**store, a));
  REQUIRE(pull_into(**store, b));
  auto a_path = (*store)->path_of(a.diff_id);
  REQUIRE(a_path);
  auto both = (*store)->usage();
  REQUIRE(both);
  REQUIRE((*store)->remove(a.diff_id));
  CHECK_FALSE(*(*store)->has(a.diff_id));
  CHECK(*(*store)->has(b.diff_id));
  CHECK_FALSE(fs::exists(*a_path / "data/a-3"));
  CHECK(names_in(TestType::tmp(t.path)).empty());
  auto one = (*store)->usage();
  REQUIRE(one);
  CHECK(one->inodes == TestType::inodes(5));
  CHECK(one->bytes < both->bytes);
  auto again = (*store)->remove(a.diff_id);
  REQUIRE_FALSE(again);
  CHECK(again.error().kind() == error_kind::not_found);
  CHECK(*(*store)->list() == std::vector<digest>{b.diff_id});
}

TEMPLATE_TEST_CASE("the same layer committed by racing pulls ends up once, whole", "[layer_store]",
                   dir_store, erofs_store) {
  if (!runs_here<TestType>()) return;
  mount_temp_dir t;
  auto store = TestType::open(t.path);
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
  CHECK(names_in(TestType::committed(t.path)).size() == 1);
  CHECK(names_in(TestType::tmp(t.path)).empty());
  auto path = (*store)->path_of(l.diff_id);
  REQUIRE(path);
  CHECK(names_in(*path / "data").size() == 52);
  CHECK(read_file(*path / "data/race-49") == std::string(1000 + 4900, 'a' + 49 % 26));
}

TEMPLATE_TEST_CASE("different layers committed at once all land", "[layer_store]", dir_store,
                   erofs_store) {
  if (!runs_here<TestType>()) return;
  mount_temp_dir t;
  auto store = TestType::open(t.path);
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
  for (const auto& l : layers) {
    CHECK(*(*store)->has(l.diff_id));
    auto path = (*store)->path_of(l.diff_id);
    REQUIRE(path);
    CHECK(read_file(*path / "data/original") == "linked");
  }
  CHECK(names_in(TestType::tmp(t.path)).empty());
}

TEMPLATE_TEST_CASE("a writer from another store is not committed here", "[layer_store]",
                   dir_store, erofs_store) {
  if (!runs_here<TestType>()) return;
  mount_temp_dir t1, t2;
  auto s1 = TestType::open(t1.path);
  auto s2 = TestType::open(t2.path);
  REQUIRE(s1);
  REQUIRE(s2);
  layer_blob l = make_layer("x", 1);
  auto w = (*s1)->begin(l.diff_id);
  REQUIRE(w);
  auto r = (*s2)->commit(std::move(*w));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == error_kind::internal);
  CHECK(names_in(TestType::tmp(t1.path)).empty());  // the writer went with the failed commit
}
