// read_records_unlocked: the records as load() gives them, read beside an
// open store (the daemon's) without its lock and without writing a byte.

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cri/store/record_store.hpp"
#include "reactor/reactor.hpp"
#include "store_support.hpp"

using namespace ringcri::reactor;
using ringcri::error_kind;
using ringcri::cri::store::read_records_unlocked;
using ringcri::cri::store::record;
using ringcri::cri::store::record_store;
using namespace store_test;

namespace {

const std::vector<std::string> kinds = {"pods", "containers", "images"};

std::vector<std::pair<std::string, std::string>> pairs(const std::vector<record>& records) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : records) out.emplace_back(r.id, r.bytes);
  return out;
}

// Every file below `dir` with its bytes and modification time: what a
// reader must leave as it found it.
std::map<std::string, std::pair<std::string, std::int64_t>> tree_of(const fs::path& dir) {
  std::map<std::string, std::pair<std::string, std::int64_t>> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    REQUIRE(::lstat(e.path().c_str(), &st) == 0);
    const std::int64_t mtime = st.st_mtim.tv_sec * 1'000'000'000 + st.st_mtim.tv_nsec;
    out[e.path().string()] = {e.is_regular_file() ? slurp(e.path()).value_or("") : "", mtime};
  }
  return out;
}

}  // namespace

TEST_CASE(
    "read_records_unlocked sees what load() sees while the store is open, and writes nothing") {
  reactor r;
  temp_dir dir;
  auto store = record_store::open(dir.path, kinds);
  REQUIRE(store);
  // Some records in their files, newer ones only in the journal.
  REQUIRE(r.block_on((*store)->put("pods", "p1", "one")));
  REQUIRE(r.block_on((*store)->put("pods", "p2", "two")));
  REQUIRE((*store)->checkpoint());
  REQUIRE(r.block_on((*store)->put("pods", "p1", "one, again")));
  REQUIRE(r.block_on((*store)->remove("pods", "p2")));
  REQUIRE(r.block_on((*store)->put("pods", "p3", "three")));
  REQUIRE(r.block_on((*store)->put("containers", "c1", "container")));
  REQUIRE(journal_entries_of(dir.path, "pods", "p1") == 1);
  // A temp file a crash left: neither deleted nor read.
  std::ofstream(dir.path / "pods" / ".p9.tmp-0123456789abcdef") << "half";

  const auto before = tree_of(dir.path);
  for (const auto& kind : kinds) {
    INFO(kind);
    auto seen = read_records_unlocked(dir.path, kind);
    INFO((seen ? std::string() : seen.error().message()));
    REQUIRE(seen);
    auto loaded = (*store)->load(kind);
    REQUIRE(loaded);
    CHECK(pairs(*seen) == pairs(*loaded));
  }
  auto pods = read_records_unlocked(dir.path, "pods");
  REQUIRE(pods);
  CHECK(pairs(*pods) ==
        std::vector<std::pair<std::string, std::string>>{{"p1", "one, again"}, {"p3", "three"}});
  CHECK(tree_of(dir.path) == before);

  // The store's lock is still the store's.
  auto second = record_store::open(dir.path, kinds);
  REQUIRE_FALSE(second);
  CHECK(second.error().kind() == error_kind::failed_precondition);
  // And the store goes on writing where it was.
  REQUIRE(r.block_on((*store)->put("pods", "p4", "four")));
  pods = read_records_unlocked(dir.path, "pods");
  REQUIRE(pods);
  CHECK(pods->size() == 3);
}

TEST_CASE(
    "read_records_unlocked: no store or no kind directory is no records; a bad kind is refused") {
  temp_dir dir;
  auto none = read_records_unlocked(dir.path / "meta", "pods");
  REQUIRE(none);
  CHECK(none->empty());
  CHECK_FALSE(fs::exists(dir.path / "meta"));
  auto bad = read_records_unlocked(dir.path, "../pods");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind() == error_kind::invalid_argument);
}
