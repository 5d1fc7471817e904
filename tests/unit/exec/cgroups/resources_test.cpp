// Resource limits and stats on this node's real cgroups: limits land in
// the kernel's files (v1 or v2, whichever has the controller) and change
// live, and stats show a process's memory and cpu use. Needs root and a
// memory controller (exits 77 without them); removes every cgroup it made.
// What needs more of the node has a binary of its own: memory+swap
// (resources_swap_test), cpuset (resources_cpuset_test), hugetlb
// (resources_hugetlb_test), the raw `unified` files
// (resources_unified_test) and pure v2 (resources_v2_test).

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "real_cgroups.hpp"

using namespace cgroups_test;
using ringcri::testing::skip_case;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t mib = 1 << 20;

// The node's hierarchies; the whole binary is skipped without root or
// without a memory controller.
const cg::hierarchy& memory_node() {
  (void)mount_or_skip("memory");
  return node();
}

// The files behind memory, cpu quota/period, shares and pids, in the
// version each controller has here, checked against what was applied.
void check_files(const cg::hierarchy& h, const std::string& path, std::int64_t memory,
                 std::int64_t quota, std::uint64_t period, std::uint64_t shares,
                 std::int64_t pids) {
  const auto* m = h.mount_of("memory");
  const auto* c = h.mount_of("cpu");
  const auto* p = h.mount_of("pids");
  REQUIRE(m != nullptr);
  const std::string mdir = cg::hierarchy::dir_of(*m, path);
  CHECK(trimmed(mdir + (m->unified ? "/memory.max" : "/memory.limit_in_bytes")) ==
        std::to_string(memory));
  if (c != nullptr) {
    const std::string cdir = cg::hierarchy::dir_of(*c, path);
    if (c->unified) {
      CHECK(trimmed(cdir + "/cpu.max") == std::to_string(quota) + " " + std::to_string(period));
      CHECK(trimmed(cdir + "/cpu.weight") == std::to_string(cg::cpu_weight_of_shares(shares)));
    } else {
      CHECK(trimmed(cdir + "/cpu.cfs_quota_us") == std::to_string(quota));
      CHECK(trimmed(cdir + "/cpu.cfs_period_us") == std::to_string(period));
      CHECK(trimmed(cdir + "/cpu.shares") == std::to_string(shares));
    }
  }
  if (p != nullptr)
    CHECK(trimmed(cg::hierarchy::dir_of(*p, path) + "/pids.max") == std::to_string(pids));

  auto back = h.read_resources(path);
  INFO((back ? "" : back.error().message()));
  REQUIRE(back);
  CHECK(back->memory_limit == memory);
  if (c != nullptr) {
    CHECK(back->cpu_quota == quota);
    CHECK(back->cpu_period == period);
    CHECK(cg::cpu_weight_of_shares(back->cpu_shares) == cg::cpu_weight_of_shares(shares));
  }
  if (p != nullptr) CHECK(back->pids_limit == pids);
}

cg::resources limits(std::int64_t memory, std::int64_t quota, std::uint64_t period,
                     std::uint64_t shares, std::int64_t pids) {
  cg::resources r;
  r.memory_limit = memory;
  r.cpu_quota = quota;
  r.cpu_period = period;
  r.cpu_shares = shares;
  r.pids_limit = pids;
  return r;
}

// Limits for controllers this node lacks are dropped (apply would refuse
// them, as the fake-tree test checks).
cg::resources available(const cg::hierarchy& h, cg::resources r) {
  static const bool said = [&h] {
    if (h.mount_of("cpu") == nullptr) skip_case("cpu limits not checked: no cpu controller here");
    if (h.mount_of("pids") == nullptr)
      skip_case("pids limits not checked: no pids controller here");
    return true;
  }();
  (void)said;
  if (h.mount_of("cpu") == nullptr) r.cpu_quota = 0, r.cpu_period = 0, r.cpu_shares = 0;
  if (h.mount_of("pids") == nullptr) r.pids_limit = 0;
  return r;
}

}  // namespace

TEST_CASE("limits reach the kernel's files and change live") {
  const auto& h = memory_node();
  test_cgroup t(h);
  const std::string path = t.top + "/c";
  auto procs = h.create(path);
  INFO((procs ? "" : procs.error().message()));
  REQUIRE(procs);

  auto applied = h.apply(path, available(h, limits(64 * mib, 20000, 100000, 512, 42)));
  INFO(message_of(applied));
  REQUIRE(applied);
  check_files(h, path, 64 * mib, 20000, 100000, 512, 42);

  // A live update: every value changes, the period goes down.
  applied = h.apply(path, available(h, limits(128 * mib, 25000, 50000, 1024, 100)));
  INFO(message_of(applied));
  REQUIRE(applied);
  check_files(h, path, 128 * mib, 25000, 50000, 1024, 100);

  // Lowered again; a cgroup without processes takes any limit.
  applied = h.apply(path, available(h, limits(32 * mib, 10000, 100000, 2, 1)));
  INFO(message_of(applied));
  REQUIRE(applied);
  check_files(h, path, 32 * mib, 10000, 100000, 2, 1);

  // Unlimited.
  applied = h.apply(path, available(h, limits(-1, -1, 100000, 1024, -1)));
  INFO(message_of(applied));
  REQUIRE(applied);
  auto back = h.read_resources(path);
  REQUIRE(back);
  CHECK(back->memory_limit == 0);
  CHECK(back->cpu_quota == 0);
  CHECK(back->pids_limit == 0);
}

TEST_CASE("stats show the memory and cpu a process uses") {
  const auto& h = memory_node();
  test_cgroup t(h);
  const std::string path = t.top + "/busy";
  auto procs = h.create(path);
  REQUIRE(procs);

  constexpr size_t size = 20 << 20;
  child_process child([](int ready) {
    // ~20 MiB touched, then ~50 ms of cpu.
    auto* p = static_cast<char*>(std::malloc(size));
    if (p == nullptr) ::_exit(1);
    std::memset(p, 1, size);
    timespec ts{};
    volatile std::uint64_t spin = 0;
    do {
      for (int i = 0; i < 100000; ++i) spin = spin + p[i % size];
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    } while (ts.tv_sec == 0 && ts.tv_nsec < 50'000'000);
    say_ready(ready);
  });
  child.join_and_start(*procs);

  auto s = h.stats(path);
  INFO((s ? "" : s.error().message()));
  REQUIRE(s);
  std::printf(
      "stats: cpu %llu ns, memory usage %llu, working set %llu, rss %llu, faults %llu, "
      "pids %llu\n",
      static_cast<unsigned long long>(s->cpu_usage_ns),
      static_cast<unsigned long long>(s->memory_usage),
      static_cast<unsigned long long>(s->memory_working_set),
      static_cast<unsigned long long>(s->memory_rss),
      static_cast<unsigned long long>(s->page_faults), static_cast<unsigned long long>(s->pids));
  CHECK(s->has_memory);
  CHECK(s->has_cpu);
  CHECK(s->memory_usage >= size);
  CHECK(s->memory_working_set > 0);
  CHECK(s->memory_working_set <= s->memory_usage);
  CHECK(s->memory_rss >= size);
  CHECK(s->page_faults > 0);
  CHECK(s->memory_limit == 0);
  CHECK(s->cpu_usage_ns > 0);
  if (h.mount_of("pids") != nullptr) CHECK(s->pids == 1);

  cg::resources r;
  r.memory_limit = 256 * mib;
  REQUIRE(h.apply(path, r));
  s = h.stats(path);
  REQUIRE(s);
  CHECK(s->memory_limit == static_cast<std::uint64_t>(256 * mib));

  auto gone = h.stats(t.top + "/never-made");
  REQUIRE_FALSE(gone);
  CHECK(gone.error().kind() == ringcri::error_kind::not_found);
}

TEST_CASE("no cgroup of this test is left in any hierarchy") {
  const auto& h = memory_node();
  for (const auto& m : h.mounts()) {
    const std::string dir = cg::hierarchy::dir_of(m, top_of_this_test());
    INFO(dir);
    CHECK_FALSE(fs::exists(dir));
  }
}
