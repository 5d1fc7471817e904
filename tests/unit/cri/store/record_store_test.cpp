// record_store against real files: what put, remove, open, load and
// checkpoint leave on disk, read from outside the store (the record files,
// and the journal as open() would read it after a crash).

#include "cri/store/record_store.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"
#include "store_support.hpp"
#include "support/io_checks.hpp"

using namespace ringcri::reactor;
using ringcri::error_kind;
using ringcri::result;
using ringcri::cri::store::record;
using ringcri::cri::store::record_store;
using namespace store_test;

namespace {

const std::vector<std::string> kinds = {"pods", "containers", "images"};

std::unique_ptr<record_store> open_store(const fs::path& dir) {
  auto store = record_store::open(dir, kinds);
  if (!store) FAIL("open: " << store.error().message());
  return std::move(*store);
}

// Runs one put or remove to its end on `r`.
result<void> put(reactor& r, record_store& s, std::string kind, std::string id, std::string bytes) {
  return r.block_on(s.put(std::move(kind), std::move(id), std::move(bytes)));
}
result<void> remove(reactor& r, record_store& s, std::string kind, std::string id) {
  return r.block_on(s.remove(std::move(kind), std::move(id)));
}

std::string message_of(const result<void>& r) { return r ? "ok" : r.error().message(); }

}  // namespace

TEST_CASE("put then load returns the bytes; a second put replaces them; remove deletes") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  const std::string id(64, 'a');

  auto first = put(r, *store, "pods", id, "first version");
  INFO(message_of(first));
  REQUIRE(first);
  CHECK(durable(dir.path, "pods", id) == "first version");

  auto loaded = store->load("pods");
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 1);
  CHECK((*loaded)[0].id == id);
  CHECK((*loaded)[0].bytes == "first version");

  REQUIRE(put(r, *store, "pods", id, "second, longer version"));
  CHECK(durable(dir.path, "pods", id) == "second, longer version");
  REQUIRE(put(r, *store, "pods", id, "v3"));
  CHECK(durable(dir.path, "pods", id) == "v3");
  loaded = store->load("pods");
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 1);
  CHECK((*loaded)[0].bytes == "v3");

  // A checkpoint puts the record in its file, mode 0600, and empties the
  // journal.
  REQUIRE(store->checkpoint());
  CHECK(slurp(dir.path / "pods" / id) == "v3");
  CHECK(journal_entries_of(dir.path, "pods", id) == 0);
  struct stat st {};
  REQUIRE(::stat((dir.path / "pods" / id).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(names_in(dir.path / "pods") == std::vector<std::string>{id});  // no temp left

  auto removed = remove(r, *store, "pods", id);
  INFO(message_of(removed));
  REQUIRE(removed);
  CHECK_FALSE(durable(dir.path, "pods", id));
  loaded = store->load("pods");
  REQUIRE(loaded);
  CHECK(loaded->empty());
  REQUIRE(store->checkpoint());
  CHECK(names_in(dir.path / "pods").empty());
}

TEST_CASE("removing a missing record succeeds") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  auto removed = remove(r, *store, "containers", "never-written");
  INFO(message_of(removed));
  CHECK(removed);
}

TEST_CASE("empty records and records of every kind round-trip, each in its own directory") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  REQUIRE(put(r, *store, "pods", "p", ""));
  REQUIRE(put(r, *store, "containers", "c", binary));
  const std::string digest = "sha256:" + std::string(64, 'e');
  REQUIRE(put(r, *store, "images", digest, "image"));
  CHECK(durable(dir.path, "pods", "p") == "");
  CHECK(durable(dir.path, "containers", "c") == binary);
  CHECK(durable(dir.path, "images", digest) == "image");
  REQUIRE(store->checkpoint());
  CHECK(slurp(dir.path / "pods" / "p") == "");
  CHECK(slurp(dir.path / "containers" / "c") == binary);
  CHECK(slurp(dir.path / "images" / digest) == "image");
  auto containers = store->load("containers");
  REQUIRE(containers);
  REQUIRE(containers->size() == 1);
  CHECK((*containers)[0].bytes == binary);
}

TEST_CASE("load returns every record sorted by id") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  for (std::string id : {"c", "a", "d", "b"}) REQUIRE(put(r, *store, "pods", id, "rec " + id));
  auto loaded = store->load("pods");
  REQUIRE(loaded);
  std::vector<std::string> ids;
  for (const auto& rec : *loaded) {
    ids.push_back(rec.id);
    CHECK(rec.bytes == "rec " + rec.id);
  }
  CHECK(ids == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("bad ids and unknown kinds are refused with invalid_argument, and nothing is written") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  const std::vector<std::string> bad = {
      "",        "a/b", ".hidden", ".", "..", std::string(256, 'x'), std::string("nul\0inside", 10),
      ".x.tmp-1"};
  for (const auto& id : bad) {
    INFO("id of " << id.size() << " bytes: " << id.substr(0, 20));
    auto put_bad = put(r, *store, "pods", id, "data");
    REQUIRE_FALSE(put_bad);
    CHECK(put_bad.error().kind() == error_kind::invalid_argument);
    CHECK_THAT(put_bad.error().message(), Catch::Contains("invalid record id"));
    auto remove_bad = remove(r, *store, "pods", id);
    REQUIRE_FALSE(remove_bad);
    CHECK(remove_bad.error().kind() == error_kind::invalid_argument);
  }
  auto unknown = put(r, *store, "volumes", "v1", "data");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().kind() == error_kind::invalid_argument);
  CHECK_THAT(unknown.error().message(), Catch::Contains("unknown record kind \"volumes\""));
  CHECK_FALSE(store->load("volumes"));
  CHECK(names_in(dir.path / "pods").empty());
  CHECK_FALSE(fs::exists(dir.path / "volumes"));
}

TEST_CASE("an id of 255 bytes is stored: its temp name is cut to fit") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  const std::string id(255, 'f');
  auto written = put(r, *store, "pods", id, "long");
  INFO(message_of(written));
  REQUIRE(written);
  auto checkpointed = store->checkpoint();
  INFO(message_of(checkpointed));
  REQUIRE(checkpointed);
  CHECK(slurp(dir.path / "pods" / id) == "long");
}

TEST_CASE("open deletes leftover temp files, and load never returns them") {
  temp_dir dir;
  fs::create_directories(dir.path / "pods");
  auto write = [](const fs::path& p, std::string_view s) {
    int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
    ::close(fd);
  };
  write(dir.path / "pods" / "x", "whole record");
  write(dir.path / "pods" / ".x.tmp-7", "half a rec");
  write(dir.path / "pods" / ".y.tmp-12", "");
  write(dir.path / "pods" / "z.tmp-1", "an id that merely looks like a temp");

  auto store = open_store(dir.path);
  CHECK(names_in(dir.path / "pods") == std::vector<std::string>{"x", "z.tmp-1"});
  auto loaded = store->load("pods");
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 2);
  CHECK((*loaded)[0].id == "x");
  CHECK((*loaded)[0].bytes == "whole record");
  CHECK((*loaded)[1].id == "z.tmp-1");

  // A temp that appears later (another writer's) is skipped by load too.
  write(dir.path / "pods" / ".w.tmp-3", "partial");
  loaded = store->load("pods");
  REQUIRE(loaded);
  CHECK(loaded->size() == 2);
}

TEST_CASE("open creates the directory and its kinds, and reopening keeps the records") {
  reactor r;
  temp_dir dir;
  const fs::path root = dir.path / "var" / "lib" / "ringcri" / "meta";
  {
    auto store = open_store(root);
    for (const auto& k : kinds) CHECK(fs::is_directory(root / k));
    REQUIRE(put(r, *store, "images", "img", "bytes"));
  }
  auto again = open_store(root);
  auto loaded = again->load("images");
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 1);
  CHECK((*loaded)[0].bytes == "bytes");
}

TEST_CASE("a second store on the same directory is refused while the first is open") {
  temp_dir dir;
  auto first = open_store(dir.path);
  auto second = record_store::open(dir.path, kinds);
  REQUIRE_FALSE(second);
  CHECK(second.error().kind() == error_kind::failed_precondition);
  CHECK_THAT(second.error().message(), Catch::Contains(dir.path.string()));
  first.reset();
  CHECK(record_store::open(dir.path, kinds));
}

TEST_CASE("bad kind names are refused by open") {
  temp_dir dir;
  auto store = record_store::open(dir.path, {"pods", "../escape"});
  REQUIRE_FALSE(store);
  CHECK(store.error().kind() == error_kind::invalid_argument);
}

TEST_CASE(
    "a write that fails half-way names the step and the path, and keeps the old record") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  REQUIRE(put(r, *store, "pods", "p1", "old"));

  // A file-size limit makes the kernel refuse the journal's write past
  // 4 KiB (EFBIG): the batch is not whole.
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  auto failed = put(r, *store, "pods", "p1", std::string(10'000, 'n'));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, old_handler);

  REQUIRE_FALSE(failed);
  INFO(failed.error().message());
  CHECK(failed.error().sys_errno() == EFBIG);
  CHECK_THAT(failed.error().message(),
             Catch::StartsWith("write record pods/p1: write " + (dir.path / "journal.0").string()));
  CHECK(durable(dir.path, "pods", "p1") == "old");

  // The key is free again: the next put goes through, over the torn batch.
  REQUIRE(put(r, *store, "pods", "p1", "new"));
  CHECK(durable(dir.path, "pods", "p1") == "new");
  CHECK(store->busy_keys() == 0);
  store.reset();
  auto again = open_store(dir.path);
  auto loaded = again->load("pods");
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 1);
  CHECK((*loaded)[0].bytes == "new");
  CHECK(names_in(dir.path / "pods") == std::vector<std::string>{"p1"});
}

TEST_CASE(
    "a kind directory deleted after open: puts still land in the journal, the checkpoint "
    "fails naming the path, and the next open applies them") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  fs::remove_all(dir.path / "containers");
  auto written = put(r, *store, "containers", "c1", "data");
  INFO(message_of(written));
  REQUIRE(written);
  auto failed = store->checkpoint();
  REQUIRE_FALSE(failed);
  INFO(failed.error().message());
  CHECK(failed.error().kind() == error_kind::not_found);
  CHECK_THAT(failed.error().message(),
             Catch::StartsWith("create " + (dir.path / "containers" / ".c1.tmp-").string()));
  // A file where the directory was: refused, left alone.
  { std::ofstream(dir.path / "containers") << "not a directory"; }
  CHECK_FALSE(store->checkpoint());
  CHECK(fs::is_regular_file(dir.path / "containers"));
  store.reset();
  fs::remove(dir.path / "containers");

  auto again = open_store(dir.path);
  CHECK(slurp(dir.path / "containers" / "c1") == "data");
  auto loaded = again->load("containers");
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 1);
  CHECK((*loaded)[0].bytes == "data");
}

TEST_CASE("a journal that fills is checkpointed while puts go on: every record in its file") {
  reactor r;
  temp_dir dir;
  // 16 KiB: a checkpoint every few puts of 1.5 KB.
  auto store = record_store::open(dir.path, kinds, 16 * 1024);
  REQUIRE(store);
  const std::string bytes(1536, 'j');
  for (int i = 0; i < 40; ++i)
    REQUIRE(put(r, **store, "pods", "p" + std::to_string(i % 7), bytes + std::to_string(i)));
  CHECK((*store)->journal_checkpoints() >= 3);
  // Checkpoints came: every key has a file, and the journal holds less
  // than was written.
  std::size_t in_journal = 0;
  for (int k = 0; k < 7; ++k) {
    in_journal += journal_entries_of(dir.path, "pods", "p" + std::to_string(k));
    auto on_file = slurp(dir.path / "pods" / ("p" + std::to_string(k)));
    REQUIRE(on_file);
    CHECK(on_file->starts_with(bytes));
  }
  CHECK(in_journal < 40);
  for (int k = 0; k < 7; ++k) {
    int last = 39 - (39 - k) % 7;
    CHECK(durable(dir.path, "pods", "p" + std::to_string(k)) == bytes + std::to_string(last));
  }
  auto loaded = (*store)->load("pods");
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 7);
  CHECK((*loaded)[0].bytes == bytes + "35");
  // One record larger than a whole journal file: the file grows to hold it.
  const std::string huge(100 * 1024, 'h');
  REQUIRE(put(r, **store, "images", "big", huge));
  CHECK(durable(dir.path, "images", "big") == huge);
  CHECK(std::max(fs::file_size(dir.path / "journal.0"), fs::file_size(dir.path / "journal.1")) >= huge.size());
  store->reset();
  auto again = open_store(dir.path);
  loaded = again->load("images");
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 1);
  CHECK((*loaded)[0].bytes == huge);
  CHECK(journal_entries(dir.path).empty());  // open() applied them
}

TEST_CASE("cost of one put (1.5 KB): sequential, and 32 keys in flight") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  const std::string bytes(1536, 'r');
  constexpr int n = 1000;

  auto t0 = std::chrono::steady_clock::now();
  auto sequential = r.block_on([](record_store& s, const std::string& bytes) -> task<int> {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      auto written = co_await s.put("pods", "seq-" + std::to_string(i % 100), bytes);
      if (written) ++ok;
    }
    co_return ok;
  }(*store, bytes));
  auto t1 = std::chrono::steady_clock::now();
  CHECK(sequential == n);

  auto parallel = r.block_on([](record_store& s, const std::string& bytes) -> task<int> {
    int ok = 0;
    for (int round = 0; round < n / 32; ++round) {
      std::vector<task<result<void>>> puts;
      for (int i = 0; i < 32; ++i)
        puts.push_back(s.put("containers", "par-" + std::to_string(i), bytes));
      auto results = co_await when_all(std::move(puts));
      for (auto& written : results)
        if (written) ++ok;
    }
    co_return ok;
  }(*store, bytes));
  auto t2 = std::chrono::steady_clock::now();
  CHECK(parallel == n / 32 * 32);

  using us = std::chrono::duration<double, std::micro>;
  WARN("put of 1.5 KB, " << n << " sequential: " << us(t1 - t0).count() / n << " us each; "
                         << n / 32 * 32 << " with 32 keys in flight: "
                         << us(t2 - t1).count() / (n / 32 * 32) << " us each ("
                         << (n / 32 * 32) / std::chrono::duration<double>(t2 - t1).count()
                         << " puts/s)");
}
