// task<T>, when_all and the loop itself: results, exceptions, ordering.

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "reactor/ops.hpp"
#include "support/io_checks.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"

using namespace ringcri::reactor;
namespace io = ringcri::reactor;

namespace {

task<int> answer() { co_return 42; }

task<int> add_after_yield(int a, int b) {
  co_await yield_now{};
  co_return a + b;
}

task<std::string> throws() {
  co_await yield_now{};
  throw std::runtime_error("boom");
}

task<int> deep(int n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await deep(n - 1);
}

}  // namespace

TEST_CASE("a task returns its value to its awaiter") {
  reactor r;
  CHECK(r.block_on(answer()) == 42);
  CHECK(r.block_on(add_after_yield(2, 3)) == 5);
}

TEST_CASE("a task is lazy: nothing runs before it is awaited") {
  reactor r;
  bool ran = false;
  auto t = [](bool& ran) -> task<void> {
    ran = true;
    co_return;
  }(ran);
  CHECK_FALSE(ran);
  r.block_on(std::move(t));
  CHECK(ran);
}

TEST_CASE("an exception in a task reaches its awaiter") {
  reactor r;
  CHECK_THROWS_WITH(r.block_on(throws()), "boom");
}

TEST_CASE("deep chains of awaits use symmetric transfer, not the stack") {
  reactor r;
  // 100,000 nested awaits would overflow an 8 MiB stack if each resumption
  // nested a call.
  CHECK(r.block_on(deep(100'000)) == 100'000);
}

TEST_CASE("when_all runs tasks at once and keeps their order") {
  reactor r;
  auto out = r.block_on([]() -> task<std::vector<int>> {
    std::vector<task<int>> tasks;
    for (int i = 0; i < 100; ++i) tasks.push_back(add_after_yield(i, 1000));
    co_return co_await when_all(std::move(tasks));
  }());
  REQUIRE(out.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(out[i] == i + 1000);
}

TEST_CASE("when_all of different types, finishing in reverse order") {
  reactor r;
  auto [a, b, c] = r.block_on([]() -> task<std::tuple<int, std::string, std::monostate>> {
    auto slow = []() -> task<int> {
      co_await io::sleep_for(std::chrono::milliseconds(30));
      co_return 1;
    };
    auto fast = []() -> task<std::string> {
      co_await io::sleep_for(std::chrono::milliseconds(1));
      co_return "two";
    };
    auto nothing = []() -> task<void> { co_return; };
    co_return co_await when_all(slow(), fast(), nothing());
  }());
  CHECK(a == 1);
  CHECK(b == "two");
  (void)c;
}

TEST_CASE("when_all rethrows a child's exception after all children finish") {
  reactor r;
  int finished = 0;
  auto run = [](int& finished) -> task<void> {
    auto ok = [](int& finished) -> task<std::string> {
      co_await io::sleep_for(std::chrono::milliseconds(5));
      ++finished;
      co_return "ok";
    };
    co_await when_all(ok(finished), throws());
  };
  CHECK_THROWS_WITH(r.block_on(run(finished)), "boom");
  CHECK(finished == 1);
}

TEST_CASE("when_all of nothing completes at once") {
  reactor r;
  auto out = r.block_on(when_all(std::vector<task<int>>{}));
  CHECK(out.empty());
}

TEST_CASE("spawned tasks run to completion and run() waits for them") {
  reactor r;
  int done = 0;
  for (int i = 0; i < 10; ++i) {
    r.spawn([](int& done, int i) -> task<void> {
      co_await io::sleep_for(std::chrono::milliseconds(i));
      ++done;
    }(done, i));
  }
  r.stop();
  r.run();
  CHECK(done == 10);
  CHECK(r.tasks_running() == 0);
}
