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

clock::duration elapsed_since(clock::time_point t) { return clock::now() - t; }

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

TEST_CASE("a timer fires no earlier than asked") {
  reactor r;
  auto start = clock::now();
  auto res = r.block_on([]() -> task<io_result<int>> { co_return co_await io::sleep_for(20ms); }());
  REQUIRE(res);
  CHECK(*res == 0);
  CHECK(elapsed_since(start) >= 20ms);
  CHECK(elapsed_since(start) < 5s);  // loose sanity bound
}

TEST_CASE("timers fire in deadline order") {
  reactor r;
  std::vector<int> order;
  r.block_on([](std::vector<int>& order) -> task<void> {
    auto at = [](std::vector<int>& order, int ms) -> task<void> {
      co_await io::sleep_for(std::chrono::milliseconds(ms));
      order.push_back(ms);
    };
    co_await when_all(at(order, 30), at(order, 10), at(order, 20));
  }(order));
  CHECK(order == std::vector<int>{10, 20, 30});
}

TEST_CASE("a cancelled timer ends at once with ECANCELED") {
  reactor r;
  auto start = clock::now();
  auto res = r.block_on([]() -> task<io_result<int>> {
    cancellation c;
    auto sleeper = [](cancellation& c) -> task<io_result<int>> {
      co_return co_await io::sleep_for(10s).with_cancel(c);
    };
    auto canceller = [](cancellation& c) -> task<void> {
      co_await io::sleep_for(5ms);
      c.cancel();
    };
    auto [slept, _] = co_await when_all(sleeper(c), canceller(c));
    co_return slept;
  }());
  REQUIRE_FALSE(res);
  CHECK(res.error().value() == ECANCELED);
  CHECK(elapsed_since(start) < 5s);
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

TEST_CASE("a read past its deadline fails with ETIMEDOUT") {
  reactor r;
  pipe_pair p;
  auto start = clock::now();
  auto res = r.block_on([](int fd) -> task<io_result<int>> {
    std::array<std::byte, 8> buf{};
    co_return co_await io::read(fd, buf).with_timeout(15ms);
  }(p.in));
  REQUIRE_FALSE(res);
  CHECK(res.error().value() == ETIMEDOUT);
  CHECK(elapsed_since(start) >= 15ms);
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
      co_await io::sleep_for(5ms);
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
