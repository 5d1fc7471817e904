// run_blocking: work on the blocking pool, resumption on the caller's reactor.

#include <sched.h>

#include <catch2/catch.hpp>

#include <latch>
#include <stdexcept>
#include <thread>

#include "reactor/blocking.hpp"
#include "reactor/ops.hpp"
#include "reactor/when_all.hpp"
#include "support/cpus.hpp"
#include "support/io_checks.hpp"

using namespace ringcri::reactor;
using ringcri::testing::own_cpus;
using ringcri::testing::pin_to_first_of;

// First in this file: the pool is made by the first job, here from a
// thread pinned to one core, as a reactor thread is.
TEST_CASE("blocking-pool-pinned: the pool's threads run on the process's CPUs, not its maker's core") {
  const cpu_set_t process = own_cpus();
  if (CPU_COUNT(&process) < 2) {
    WARN("skipped: this process may run on one CPU only");
    return;
  }
  cpu_set_t seen;
  CPU_ZERO(&seen);
  bool was_pinned = false;
  std::thread pinned([&] {
    was_pinned = pin_to_first_of(process);
    reactor r;
    r.block_on([](cpu_set_t& seen) -> task<void> {
      seen = co_await run_blocking([] { return own_cpus(); });
    }(seen));
  });
  pinned.join();
  REQUIRE(was_pinned);
  CHECK(CPU_EQUAL(&seen, &process));
}

TEST_CASE("run_blocking runs the work on another thread and resumes on the reactor's") {
  reactor r;
  auto reactor_thread = std::this_thread::get_id();
  auto [worker, resumed, value] =
      r.block_on([]() -> task<std::tuple<std::thread::id, std::thread::id, int>> {
        std::thread::id worker;
        int v = co_await run_blocking([&worker] {
          worker = std::this_thread::get_id();
          return 7;
        });
        co_return std::tuple{worker, std::this_thread::get_id(), v};
      }());
  CHECK(worker != reactor_thread);
  CHECK(resumed == reactor_thread);
  CHECK(value == 7);
}

TEST_CASE("run_blocking carries an exception back to the awaiter") {
  reactor r;
  CHECK_THROWS_WITH(r.block_on([]() -> task<void> {
    co_await run_blocking([] { throw std::runtime_error("blocked and failed"); });
  }()),
                    "blocked and failed");
}

TEST_CASE("blocking jobs run at once, and the reactor keeps serving meanwhile") {
  reactor r;
  std::latch both(2);
  int ticks = 0;
  r.block_on([](std::latch& both, int& ticks) -> task<void> {
    // Each job waits for the other: this ends only if they run at once.
    auto job = [](std::latch& both) -> task<void> {
      co_await run_blocking([&both] { both.arrive_and_wait(); });
    };
    auto ticker = [](int& ticks) -> task<void> {
      for (int i = 0; i < 3; ++i) {
        co_await ringcri::reactor::sleep_for(std::chrono::milliseconds(1));
        ++ticks;
      }
    };
    co_await when_all(job(both), job(both), ticker(ticks));
  }(both, ticks));
  CHECK(ticks == 3);
}
