// Writes of one key, at once, from one reactor and from two: the newest
// value wins, no put answers before a value at least as new as its own is on
// disk, and a failed write answers only the puts it covered.

#include <limits.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <thread>

#include "cri/store/record_store.hpp"
#include "reactor/pool.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"
#include "store_support.hpp"
#include "support/io_checks.hpp"

using namespace ringcri::reactor;
using ringcri::result;
using ringcri::cri::store::record_store;
using namespace store_test;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<record_store> open_store(const fs::path& dir) {
  auto store = record_store::open(dir, {"pods"});
  if (!store) FAIL("open: " << store.error().message());
  return std::move(*store);
}

// The record a file path names, as it is durably (store_support.hpp).
std::optional<std::string> record_at(const fs::path& file) {
  return durable(file.parent_path().parent_path(), file.parent_path().filename().string(),
                 file.filename().string());
}

// How the puts ended, seen from outside the store right after each answer.
struct tally {
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::atomic<int> early{0};  // answered while the file held an older version
  std::atomic<int> torn{0};
  std::atomic<int> wrong_thread{0};  // resumed on another thread than it started on
};

task<void> checked_put(record_store& s, const fs::path& file, std::string bytes,
                       std::uint64_t version, tally& t) {
  const auto thread = std::this_thread::get_id();
  auto written = co_await s.put("pods", "k", std::move(bytes));
  if (std::this_thread::get_id() != thread) ++t.wrong_thread;
  if (!written) {
    ++t.failed;
    co_return;
  }
  auto now = record_at(file);
  auto seen = now ? check_sample(*now) : std::nullopt;
  if (!seen)
    ++t.torn;
  else if (seen->version < version)
    ++t.early;
  else
    ++t.ok;
}

task<void> bump(std::atomic<std::uint64_t>& turn) {
  turn.fetch_add(1);
  co_return;
}

// Starts the put, and moves the turn on once the put has entered the store
// (when_all runs its first child until it suspends, then the second).
task<void> put_then_pass_turn(record_store& s, const fs::path& file, std::string bytes,
                              std::uint64_t version, tally& t, std::atomic<std::uint64_t>& turn,
                              std::atomic<int>& finished) {
  co_await when_all(checked_put(s, file, std::move(bytes), version, t), bump(turn));
  ++finished;
}

std::vector<std::string> samples(std::size_t n, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> size(10, 4000);
  std::vector<std::string> out;
  for (std::size_t v = 1; v <= n; ++v) out.push_back(make_sample("k", v, size(rng), rng));
  return out;
}

std::uint64_t version_on_disk(const fs::path& file) {
  auto bytes = record_at(file);
  if (!bytes) return 0;
  auto s = check_sample(*bytes);
  return s ? s->version : 0;
}

}  // namespace

TEST_CASE("100 puts of one key at once on one reactor: the newest wins, none answers early") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  const fs::path file = dir.path / "pods" / "k";
  std::mt19937_64 rng(42);
  auto values = samples(100, rng);
  tally t;

  r.block_on([](record_store& s, const fs::path& file, std::vector<std::string>& values,
                tally& t) -> task<void> {
    std::vector<task<void>> puts;
    for (std::size_t i = 0; i < values.size(); ++i)
      puts.push_back(checked_put(s, file, values[i], i + 1, t));
    co_await when_all(std::move(puts));
  }(*store, file, values, t));
  CHECK(t.ok == 100);
  CHECK(t.failed == 0);
  CHECK(t.early == 0);
  CHECK(t.torn == 0);
  CHECK(version_on_disk(file) == 100);
  CHECK(record_at(file) == values.back());
  CHECK(store->busy_keys() == 0);
  // The first write, then the newest: the 98 in between never hit the disk.
  CHECK(journal_entries_of(dir.path, "pods", "k") == 2);
  REQUIRE(store->checkpoint());
  CHECK(slurp(file) == values.back());
  CHECK(names_in(dir.path / "pods") == std::vector<std::string>{"k"});
}

TEST_CASE(
    "puts of one key from two reactors: the newest wins, none answers early, "
    "the file never goes back") {
  temp_dir dir;
  auto store = open_store(dir.path);
  const fs::path file = dir.path / "pods" / "k";
  std::mt19937_64 rng(7);
  constexpr std::uint64_t n = 100;
  auto values = samples(n, rng);
  tally t;
  std::atomic<std::uint64_t> turn{1};
  std::atomic<int> finished{0};

  // Watches the file from outside while the puts run.
  std::atomic<bool> watching{true};
  std::atomic<int> went_back{0}, torn_seen{0}, reads{0};
  std::thread watcher([&] {
    std::uint64_t last = 0;
    while (watching) {
      auto bytes = record_at(file);
      if (!bytes) continue;
      ++reads;
      auto s = check_sample(*bytes);
      if (!s) {
        ++torn_seen;
        continue;
      }
      if (s->version < last) ++went_back;
      last = s->version;
    }
  });

  {
    reactor_pool pool({.threads = 2, .pin = false, .ring = {}});
    // Versions alternate between the reactors; version v enters the store
    // only after v-1 has, so entry order is version order.
    for (unsigned core = 0; core < 2; ++core) {
      pool.spawn(core, [&, core]() -> task<void> {
        for (std::uint64_t v = 1 + core; v <= n; v += 2) {
          while (turn.load() != v) co_await yield_now{};
          reactor::current()->spawn(
              put_then_pass_turn(*store, file, values[v - 1], v, t, turn, finished));
        }
      });
    }
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (finished < static_cast<int>(n) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
  }
  watching = false;
  watcher.join();

  REQUIRE(finished == static_cast<int>(n));
  CHECK(t.ok == static_cast<int>(n));
  CHECK(t.failed == 0);
  CHECK(t.early == 0);
  CHECK(t.torn == 0);
  CHECK(t.wrong_thread == 0);
  CHECK(went_back == 0);
  CHECK(torn_seen == 0);
  CHECK(version_on_disk(file) == n);
  CHECK(store->busy_keys() == 0);
  REQUIRE(store->checkpoint());
  CHECK(version_on_disk(file) == n);
  CHECK(names_in(dir.path / "pods") == std::vector<std::string>{"k"});
  INFO("watcher reads: " << reads);
}

TEST_CASE("a remove after a put of the same key wins, and a put after a remove wins") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  const fs::path file = dir.path / "pods" / "k";

  auto run = [&](auto... ops) { return r.block_on(when_all(std::move(ops)...)); };
  auto [a, b] = run(store->put("pods", "k", "v1"), store->remove("pods", "k"));
  CHECK(a);
  CHECK(b);
  CHECK_FALSE(record_at(file));

  auto [c, d] = run(store->remove("pods", "k"), store->put("pods", "k", "v2"));
  CHECK(c);
  CHECK(d);
  CHECK(record_at(file) == "v2");

  auto [e, f, g, h] = run(store->put("pods", "k", "v3"), store->remove("pods", "k"),
                          store->put("pods", "k", "v4"), store->remove("pods", "k"));
  CHECK((e && f && g && h));
  CHECK_FALSE(record_at(file));

  auto [i, j, k] =
      run(store->remove("pods", "k"), store->put("pods", "k", "v5"), store->put("pods", "k", "v6"));
  CHECK((i && j && k));
  CHECK(record_at(file) == "v6");
  CHECK(store->busy_keys() == 0);
}

TEST_CASE("a failed write answers the puts it covered with its error, and no others") {
  reactor r;
  temp_dir dir;
  auto store = open_store(dir.path);
  const fs::path file = dir.path / "pods" / "k";
  const std::string small = "small", big(10'000, 'b');

  // Writes past 5 KiB fail with EFBIG: the journal's header and the small
  // batches fit, a batch of 10,000 bytes does not.
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = saved;
  limited.rlim_cur = 5120;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);

  // The first put writes; the other two wait, and only the newest (big) is
  // written next: it fails, and so does the one it covered.
  auto [a, b, c] =
      r.block_on(when_all(store->put("pods", "k", small), store->put("pods", "k", "mid"),
                          store->put("pods", "k", big)));
  auto on_disk_1 = record_at(file);
  // A failed first write does not poison the waiters: the newest is written.
  auto [d, e, f] = r.block_on(when_all(store->put("pods", "k", big), store->put("pods", "k", "x"),
                                       store->put("pods", "k", "y")));
  auto on_disk_2 = record_at(file);

  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, old_handler);

  CHECK(a);
  REQUIRE_FALSE(b);
  REQUIRE_FALSE(c);
  CHECK(b.error().message() == c.error().message());
  CHECK(c.error().sys_errno() == EFBIG);
  CHECK(on_disk_1 == small);

  REQUIRE_FALSE(d);
  CHECK(d.error().sys_errno() == EFBIG);
  CHECK(e);
  CHECK(f);
  CHECK(on_disk_2 == "y");
  CHECK(store->busy_keys() == 0);
  REQUIRE(store->checkpoint());
  CHECK(slurp(file) == "y");
  CHECK(names_in(dir.path / "pods") == std::vector<std::string>{"k"});
}

TEST_CASE("many keys from two reactors at once: each ends with its newest value") {
  temp_dir dir;
  auto store = open_store(dir.path);
  constexpr int keys = 20, per_reactor = 200;
  std::atomic<int> failed{0}, finished{0};
  {
    reactor_pool pool({.threads = 2, .pin = false, .ring = {}});
    for (unsigned core = 0; core < 2; ++core) {
      pool.spawn(core, [&, core]() -> task<void> {
        // Each reactor writes its own tag; with 16 in flight keys collide
        // with the other reactor's writes all the time.
        std::vector<task<void>> puts;
        for (int i = 0; i < per_reactor; ++i) {
          puts.push_back([](record_store& s, std::string id, std::string v,
                            std::atomic<int>& failed) -> task<void> {
            auto ok = co_await s.put("pods", std::move(id), std::move(v));
            if (!ok) ++failed;
          }(*store, "key-" + std::to_string(i % keys),
                                                      "core " + std::to_string(core) + " #" +
                                                          std::to_string(i),
                                                      failed));
          if (puts.size() == 16) {
            co_await when_all(std::move(puts));
            puts.clear();
          }
        }
        co_await when_all(std::move(puts));
        ++finished;
      });
    }
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (finished < 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
  }
  REQUIRE(finished == 2);
  CHECK(failed == 0);
  CHECK(store->busy_keys() == 0);
  // Each key holds one of the last values written to it by either core.
  for (int k = 0; k < keys; ++k) {
    auto bytes = record_at(dir.path / "pods" / ("key-" + std::to_string(k)));
    REQUIRE(bytes);
    bool last_of_a_core = false;
    for (int core = 0; core < 2; ++core) {
      int last = per_reactor - keys + k;
      last_of_a_core |= *bytes == "core " + std::to_string(core) + " #" + std::to_string(last);
    }
    INFO("key-" << k << " holds " << *bytes);
    CHECK(last_of_a_core);
  }
  CHECK(temp_files_in(dir.path / "pods") == 0);
}
