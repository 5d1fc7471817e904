// Per-core reactors: posts from many threads, hops, shutdown while busy.

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "reactor/ops.hpp"
#include "support/io_checks.hpp"
#include "reactor/pool.hpp"

using namespace ringcri::reactor;
namespace io = ringcri::reactor;
using namespace std::chrono_literals;

TEST_CASE("posts from 8 threads all run, each on its target reactor's thread") {
  std::vector<std::size_t> counts;
  std::vector<std::thread::id> seen_on;
  {
    reactor_pool pool({.threads = 2, .pin = true, .ring = {}});
    counts.assign(pool.size(), 0);  // each count touched only by its reactor
    std::vector<std::thread::id> ids(pool.size());
    for (unsigned c = 0; c < pool.size(); ++c) {
      std::atomic<bool> got{false};
      pool.post(c, [&ids, &got, c] {
        ids[c] = std::this_thread::get_id();
        got = true;
      });
      while (!got) std::this_thread::yield();
    }
    std::atomic<int> wrong_thread{0};
    std::vector<std::thread> posters;
    for (int t = 0; t < 8; ++t) {
      posters.emplace_back([&, t] {
        for (int i = 0; i < 10'000; ++i) {
          unsigned core = (t + i) % pool.size();
          pool.post(core, [&counts, &ids, &wrong_thread, core] {
            if (std::this_thread::get_id() != ids[core]) ++wrong_thread;
            ++counts[core];
          });
        }
      });
    }
    for (auto& p : posters) p.join();
    pool.stop();
    pool.join();
    CHECK(wrong_thread == 0);
    CHECK(ids[0] != ids[1]);
  }
  std::size_t total = 0;
  for (auto c : counts) total += c;
  CHECK(total == 80'000);
}

TEST_CASE("a coroutine hops between reactors and does I/O on each") {
  reactor_pool pool({.threads = 2, .pin = false, .ring = {}});
  std::atomic<bool> done{false};
  std::thread::id first, second;
  bool ops_ok = false;
  pool.spawn(0, [&]() -> task<void> {
    first = std::this_thread::get_id();
    auto a = co_await io::nop();
    co_await pool.hop(1);
    second = std::this_thread::get_id();
    auto b = co_await io::sleep_for(1ms);  // on the second ring
    ops_ok = a && b;
    done = true;
  });
  while (!done) std::this_thread::yield();
  pool.stop();
  pool.join();
  CHECK(first != second);
  CHECK(ops_ok);
}

TEST_CASE("shutdown drains work in flight and cancels loops on the shutdown token") {
  std::atomic<int> finished{0};
  std::atomic<int> loops_ended{0};
  {
    reactor_pool pool({.threads = 2, .pin = false, .ring = {}});
    for (unsigned c = 0; c < pool.size(); ++c) {
      // Ordinary work: must finish before the pool stops.
      for (int i = 0; i < 50; ++i) {
        pool.spawn(c, [&finished, i]() -> task<void> {
          co_await io::sleep_for(std::chrono::milliseconds(10 + i));
          ++finished;
        });
      }
      // A server-like loop: ends when the shutdown token is cancelled.
      pool.spawn(c, [&loops_ended]() -> task<void> {
        auto& token = reactor::current()->shutdown_token();
        while (co_await io::sleep_for(1h).with_cancel(token)) {
        }
        ++loops_ended;
      });
    }
    std::this_thread::sleep_for(2ms);
    pool.stop();
    pool.join();
  }
  CHECK(finished == 100);
  CHECK(loops_ended == 2);
}
