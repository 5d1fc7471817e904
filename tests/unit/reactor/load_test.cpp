// Many ops at once on one ring.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "reactor/ops.hpp"
#include "support/io_checks.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"

using namespace ringcri::reactor;
namespace io = ringcri::reactor;
using namespace std::chrono_literals;

TEST_CASE("10,000 timers in flight at once on one ring all complete") {
  reactor r;
  auto [results, in_flight] = r.block_on([]() -> task<std::tuple<std::vector<int>, std::size_t>> {
    auto sleeper = [](int i) -> task<int> {
      auto res = co_await io::sleep_for(20ms);
      co_return res ? i : -1;
    };
    // Started after every sleeper has submitted its timer, before the loop
    // has taken any completion: it sees them all in flight at once.
    auto watcher = []() -> task<std::size_t> { co_return reactor::current()->ops_in_flight(); };
    std::vector<task<int>> tasks;
    for (int i = 0; i < 10'000; ++i) tasks.push_back(sleeper(i));
    co_return co_await when_all(when_all(std::move(tasks)), watcher());
  }());
  CHECK(in_flight == 10'000);
  REQUIRE(results.size() == 10'000);
  for (int i = 0; i < 10'000; ++i) REQUIRE(results[i] == i);
  CHECK(r.ops_in_flight() == 0);
}

TEST_CASE("10,000 concurrent reads of one file each get their own bytes") {
  reactor r;
  char tmpl[] = "/tmp/ringcri-load-XXXXXX";
  int fd = ::mkstemp(tmpl);
  REQUIRE(fd >= 0);
  ::unlink(tmpl);
  std::vector<std::uint32_t> data(10'000);
  for (std::uint32_t i = 0; i < data.size(); ++i) data[i] = i * 2654435761u;
  REQUIRE(::write(fd, data.data(), data.size() * 4) == static_cast<ssize_t>(data.size() * 4));

  auto got = r.block_on([](int fd) -> task<std::vector<std::uint32_t>> {
    auto reader = [](int fd, std::uint32_t i) -> task<std::uint32_t> {
      std::uint32_t v = 0;
      auto n = co_await io::read(fd, std::as_writable_bytes(std::span(&v, 1)), i * 4ull);
      co_return n && *n == 4 ? v : 0xffffffff;
    };
    std::vector<task<std::uint32_t>> tasks;
    for (std::uint32_t i = 0; i < 10'000; ++i) tasks.push_back(reader(fd, i));
    co_return co_await when_all(std::move(tasks));
  }(fd));
  ::close(fd);
  REQUIRE(got == data);
}

TEST_CASE("100,000 nops in waves of 10,000 keep the ring healthy") {
  reactor r;
  int ok = r.block_on([]() -> task<int> {
    int ok = 0;
    for (int wave = 0; wave < 10; ++wave) {
      std::vector<task<bool>> tasks;
      for (int i = 0; i < 10'000; ++i)
        tasks.push_back([]() -> task<bool> { co_return bool(co_await io::nop()); }());
      for (bool b : co_await when_all(std::move(tasks))) ok += b;
    }
    co_return ok;
  }());
  CHECK(ok == 100'000);
}
