// bench_reactor: what the reactor costs. Prints one table:
//   nop and 4 KiB read ops per second on one core (batches in flight),
//   the same reads as plain pread(2) for comparison,
//   timer latency (how late a 1 ms timer fires), p50/p99,
//   cross-core handoff latency (post to another reactor), p50/p99.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "reactor/ops.hpp"
#include "reactor/pool.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"

using namespace ringcri::reactor;
namespace io = ringcri::reactor;
using namespace std::chrono;

namespace {

double seconds_since(clock::time_point t) { return duration<double>(clock::now() - t).count(); }

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

// Runs `total` ops with `depth` of them in flight at a time.
template <class MakeOp>
double ops_per_second(reactor& r, int total, int depth, MakeOp make) {
  auto start = clock::now();
  r.block_on([](int total, int depth, MakeOp make) -> task<void> {
    auto worker = [](int n, MakeOp make) -> task<void> {
      for (int i = 0; i < n; ++i) co_await make(i);
    };
    std::vector<task<void>> workers;
    for (int w = 0; w < depth; ++w) workers.push_back(worker(total / depth, make));
    co_await when_all(std::move(workers));
  }(total, depth, make));
  return total / seconds_since(start);
}

}  // namespace

int main() {
  constexpr int total = 1'000'000;
  constexpr int depth = 64;

  std::printf("%-44s %14s\n", "measure", "value");
  std::printf("%-44s %14s\n", "--------------------------------------------", "--------------");

  // Single-core throughput.
  {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(allowed_cores().front(), &set);
    sched_setaffinity(0, sizeof set, &set);

    reactor r;
    double nops = ops_per_second(r, total, depth, [](int) { return io::nop(); });
    std::printf("%-44s %14.0f\n", "nop ops/s (1 core, 64 in flight)", nops);

    char tmpl[] = "/tmp/ringcri-bench-XXXXXX";
    int fd = mkstemp(tmpl);
    unlink(tmpl);
    std::vector<char> data(1 << 20, 'x');
    if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) return 1;
    static thread_local std::array<std::byte, 4096> buf;
    double reads = ops_per_second(r, total, depth, [fd](int i) {
      return io::read(fd, buf, (i % 256) * 4096ull);
    });
    std::printf("%-44s %14.0f\n", "4 KiB read ops/s (page cache, 64 in flight)", reads);

    auto start = clock::now();
    for (int i = 0; i < total; ++i) {
      if (::pread(fd, buf.data(), 4096, (i % 256) * 4096) != 4096) return 1;
    }
    std::printf("%-44s %14.0f\n", "4 KiB pread(2) calls/s (baseline)", total / seconds_since(start));
    ::close(fd);

    // Timer latency: how late a 1 ms timer fires.
    std::vector<double> late;
    r.block_on([](std::vector<double>& late) -> task<void> {
      for (int i = 0; i < 2000; ++i) {
        auto due = clock::now() + milliseconds(1);
        co_await io::sleep_until(due);
        late.push_back(duration<double, std::micro>(clock::now() - due).count());
      }
    }(late));
    std::printf("%-44s %14.1f\n", "timer lateness p50 (us, 1 ms timer)", percentile(late, 0.50));
    std::printf("%-44s %14.1f\n", "timer lateness p99 (us, 1 ms timer)", percentile(late, 0.99));
  }

  // Cross-core handoff: post from core 0 to core 1, stamp on arrival.
  {
    reactor_pool pool({.threads = 2, .pin = true, .ring = {}});
    std::vector<double> hops;
    for (int i = 0; i < 20'000; ++i) {
      std::atomic<bool> arrived{false};
      clock::time_point sent;
      double latency = 0;
      pool.post(0, [&] {
        sent = clock::now();
        pool.post(1, [&] {
          latency = duration<double, std::micro>(clock::now() - sent).count();
          arrived.store(true, std::memory_order_release);
        });
      });
      while (!arrived.load(std::memory_order_acquire)) std::this_thread::yield();
      hops.push_back(latency);
    }
    std::printf("%-44s %14.1f\n", "cross-core post latency p50 (us, idle target)", percentile(hops, 0.50));
    std::printf("%-44s %14.1f\n", "cross-core post latency p99 (us, idle target)", percentile(hops, 0.99));

    // The same with the target busy (not sleeping): no eventfd write needed.
    std::atomic<bool> stop{false};
    pool.spawn(1, [&stop]() -> task<void> {
      while (!stop.load(std::memory_order_relaxed)) co_await io::nop();
    });
    hops.clear();
    for (int i = 0; i < 20'000; ++i) {
      std::atomic<bool> arrived{false};
      clock::time_point sent;
      double latency = 0;
      pool.post(0, [&] {
        sent = clock::now();
        pool.post(1, [&] {
          latency = duration<double, std::micro>(clock::now() - sent).count();
          arrived.store(true, std::memory_order_release);
        });
      });
      while (!arrived.load(std::memory_order_acquire)) std::this_thread::yield();
      hops.push_back(latency);
    }
    stop = true;
    std::printf("%-44s %14.1f\n", "cross-core post latency p50 (us, busy target)", percentile(hops, 0.50));
    std::printf("%-44s %14.1f\n", "cross-core post latency p99 (us, busy target)", percentile(hops, 0.99));
  }
  return 0;
}
