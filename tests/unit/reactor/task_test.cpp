// task<T>, when_all and the loop itself: results, exceptions, ordering.

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"
#include "support/io_checks.hpp"
#include "support/skip.hpp"

using namespace ringcri::reactor;
using ringcri::testing::skip_case;
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

// Concurrency is shown by ordering, never by time: each when_all below has
// a task that waits for something only a later task does, so a when_all
// that ran its tasks one after the other would leave the first waiting.
// The waits carry a deadline so that such a when_all fails the test
// instead of hanging it.
constexpr auto no_sequential_wait = std::chrono::seconds(30);

struct pipe_pair {
  int in = -1, out = -1;
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
#if defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
  // g++ 12 emits the resume of a symmetric transfer as a plain call and
  // leaves it to the optimiser to make it a tail call. Under ASan it never
  // can: the frame's stack redzones and scope poisoning must be undone
  // after the call returns. Each await then nests a native frame, so this
  // chain overflows the stack in that build only; the regular build
  // compiles the same resume to a jmp.
  skip_case("g++ does not tail-call symmetric transfer under -fsanitize=address");
  return;
#endif
  reactor r;
  // 100,000 nested awaits would overflow an 8 MiB stack if each resumption
  // nested a call.
  CHECK(r.block_on(deep(100'000)) == 100'000);
}

TEST_CASE("when_all runs tasks at once and keeps their order") {
  reactor r;
  pipe_pair gate;
  constexpr int n = 100;
  auto out = r.block_on([](int in, int out) -> task<std::vector<int>> {
    int started = 0;
    // One deadline for all: one after the other, the waits would end
    // together, not one after another.
    const auto deadline = clock::now() + no_sequential_wait;
    // Every task but the last waits for a byte from the gate; the last to
    // start opens it for all the others.
    auto member = [](int in, int out, int& started, clock::time_point deadline,
                     int i) -> task<int> {
      if (++started == n) {
        std::string bytes(n - 1, 'g');
        auto wrote = co_await io::write(out, std::as_bytes(std::span(bytes)));
        bool opened = wrote && *wrote == n - 1;
        co_return opened ? i + 1000 : -1;
      }
      std::array<std::byte, 1> b{};
      auto got = co_await io::read(in, b).with_deadline(deadline);
      bool let_in = got && *got == 1;
      co_return let_in ? i + 1000 : -2;
    };
    std::vector<task<int>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(member(in, out, started, deadline, i));
    co_return co_await when_all(std::move(tasks));
  }(gate.in, gate.out));
  REQUIRE(out.size() == n);
  for (int i = 0; i < n; ++i) CHECK(out[i] == i + 1000);
}

TEST_CASE("when_all of different types, finishing in reverse order") {
  reactor r;
  pipe_pair signal;
  std::vector<std::string> finished;
  auto [a, b, c] = r.block_on(
      [](int in, int out,
         std::vector<std::string>& finished) -> task<std::tuple<int, std::string, std::monostate>> {
        // The first task ends only after the second has signalled it.
        auto first = [](int in, std::vector<std::string>& finished) -> task<int> {
          std::array<std::byte, 1> b{};
          auto got = co_await io::read(in, b).with_timeout(no_sequential_wait);
          finished.push_back("first");
          bool signalled = got && *got == 1;
          co_return signalled ? 1 : -1;
        };
        auto second = [](int out, std::vector<std::string>& finished) -> task<std::string> {
          std::array<std::byte, 1> b{std::byte{'s'}};
          auto wrote = co_await io::write(out, b);
          finished.push_back("second");
          co_return wrote ? "two" : "write failed";
        };
        auto nothing = []() -> task<void> { co_return; };
        co_return co_await when_all(first(in, finished), second(out, finished), nothing());
      }(signal.in, signal.out, finished));
  CHECK(a == 1);
  CHECK(b == "two");
  (void)c;
  CHECK(finished == std::vector<std::string>{"second", "first"});
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

TEST_CASE("a reactor destroyed before its spawned tasks end frees their frames, not leaks them") {
  // Each task holds a share of `held` in its frame and waits on a read
  // that never completes; block_on returns without waiting for them.
  auto held = std::make_shared<int>(0);
  std::weak_ptr<int> watch = held;
  pipe_pair never;
  {
    reactor r;
    auto waiting = [](std::shared_ptr<int> held, int fd) -> task<void> {
      std::array<std::byte, 1> b{};
      (void)co_await io::read(fd, b);
      ++*held;
    };
    r.spawn(waiting(held, never.in));
    r.spawn([](std::shared_ptr<int> held, int fd, auto waiting) -> task<void> {
      co_await waiting(std::move(held), fd);
    }(held, never.in, waiting));
    held.reset();
    r.block_on([]() -> task<void> { co_await yield_now{}; }());
    CHECK(r.tasks_running() == 2);
    CHECK(watch.use_count() == 2);
  }
  CHECK(watch.expired());
}
