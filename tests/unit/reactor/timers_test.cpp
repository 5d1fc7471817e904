// Timers, deadlines and cancellation.

#include <catch2/catch.hpp>

#include <unistd.h>

#include "reactor/ops.hpp"
#include "support/io_checks.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"

using namespace ringcri::reactor;
namespace io = ringcri::reactor;
using namespace std::chrono_literals;

namespace {

struct pipe_pair {
  int in, out;
  pipe_pair() {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    in = p[0];
    out = p[1];
  }
  ~pipe_pair() {
    ::close(in);
    ::close(out);
  }
};

}  // namespace

// No durations are asserted here (they belong in bench/): a timer is
// checked against its own deadline, against other timers, and against
// what a cancellation or a deadline ends.

TEST_CASE("a timer ends with 0 once its deadline has passed, not before") {
  reactor r;
  const auto deadline = clock::now() + 20ms;
  auto [res, woke] = r.block_on(
      [](clock::time_point deadline) -> task<std::pair<io_result<int>, clock::time_point>> {
        auto slept = co_await io::sleep_until(deadline);
        co_return std::pair{slept, clock::now()};
      }(deadline));
  REQUIRE(res);
  CHECK(*res == 0);
  CHECK(woke >= deadline);
}

TEST_CASE("timers fire in deadline order") {
  reactor r;
  std::vector<int> order;
  const auto base = clock::now();
  r.block_on([](std::vector<int>& order, clock::time_point base) -> task<void> {
    auto at = [](std::vector<int>& order, clock::time_point base, int ms) -> task<void> {
      co_await io::sleep_until(base + std::chrono::milliseconds(ms));
      order.push_back(ms);
    };
    co_await when_all(at(order, base, 30), at(order, base, 10), at(order, base, 20));
  }(order, base));
  CHECK(order == std::vector<int>{10, 20, 30});
}

TEST_CASE("a cancelled timer ends with ECANCELED, not at its deadline") {
  reactor r;
  auto res = r.block_on([]() -> task<io_result<int>> {
    cancellation c;
    // Uncancelled, it would end with 0 after 10 s: the result tells.
    auto sleeper = [](cancellation& c) -> task<io_result<int>> {
      co_return co_await io::sleep_for(10s).with_cancel(c);
    };
    auto canceller = [](cancellation& c) -> task<void> {
      co_await io::nop();  // the sleeper's timer is in the kernel by now
      c.cancel();
    };
    auto [slept, _] = co_await when_all(sleeper(c), canceller(c));
    co_return slept;
  }());
  REQUIRE_FALSE(res);
  CHECK(res.error().value() == ECANCELED);
}

TEST_CASE("an op started after its token was cancelled fails without reaching the kernel") {
  reactor r;
  r.block_on([]() -> task<void> {
    cancellation c;
    c.cancel();
    auto res = co_await io::nop().with_cancel(c);
    REQUIRE_FALSE(res);
    CHECK(res.error().value() == ECANCELED);
  }());
  CHECK(r.ops_in_flight() == 0);
}

TEST_CASE("a read past its deadline fails with ETIMEDOUT once the deadline has passed") {
  reactor r;
  pipe_pair p;
  const auto deadline = clock::now() + 15ms;
  auto [res, ended] = r.block_on(
      [](int fd, clock::time_point deadline) -> task<std::pair<io_result<int>, clock::time_point>> {
        std::array<std::byte, 8> buf{};
        auto got = co_await io::read(fd, buf).with_deadline(deadline);
        co_return std::pair{got, clock::now()};
      }(p.in, deadline));
  REQUIRE_FALSE(res);
  CHECK(res.error().value() == ETIMEDOUT);
  CHECK(ended >= deadline);
  CHECK(r.ops_in_flight() == 0);
}

TEST_CASE("a read that completes before its deadline returns its data") {
  reactor r;
  pipe_pair p;
  REQUIRE(::write(p.out, "hi", 2) == 2);
  auto res = r.block_on([](int fd) -> task<io_result<int>> {
    std::array<std::byte, 8> buf{};
    co_return co_await io::read(fd, buf).with_timeout(5s);
  }(p.in));
  REQUIRE(res);
  CHECK(*res == 2);
  // The linked timeout was cancelled with the read: nothing is left behind.
  CHECK(r.ops_in_flight() == 0);
}

TEST_CASE("a cancellation token cancels every op in flight that carries it") {
  reactor r;
  pipe_pair a, b;
  auto results = r.block_on([](int fa, int fb) -> task<std::vector<io_result<int>>> {
    cancellation c;
    auto reader = [](int fd, cancellation& c) -> task<io_result<int>> {
      std::array<std::byte, 8> buf{};
      co_return co_await io::read(fd, buf).with_cancel(c);
    };
    auto canceller = [](cancellation& c) -> task<io_result<int>> {
      co_await io::nop();  // both reads are in the kernel by now
      c.cancel();
      co_return 0;
    };
    std::vector<task<io_result<int>>> tasks;
    tasks.push_back(reader(fa, c));
    tasks.push_back(reader(fb, c));
    tasks.push_back(canceller(c));
    co_return co_await when_all(std::move(tasks));
  }(a.in, b.in));
  REQUIRE(results.size() == 3);
  for (int i = 0; i < 2; ++i) {
    REQUIRE_FALSE(results[i]);
    CHECK(results[i].error().value() == ECANCELED);
  }
}

TEST_CASE("destroying a task with a timer in flight cancels the timer") {
  reactor r;
  {
    auto t = []() -> task<void> { co_await io::sleep_for(1h); }();
    r.block_on([](task<void>& t) -> task<void> {
      t.handle().resume();
      co_await io::nop();
    }(t));
    CHECK(r.ops_in_flight() == 1);
  }
  CHECK(r.ops_in_flight() == 0);
}
