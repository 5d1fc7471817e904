// Resource limits and stats on this node's real cgroups: limits land in
// the kernel's files (v1 or v2, whichever has the controller) and change
// live, a cpuset asked for after create moves the cgroup's process onto
// those cpus, hugetlb limits reach the hierarchy that has hugetlb, and
// stats show a process's memory and cpu use. Needs root and a memory
// controller (exits 77 without them); removes every cgroup it made.

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

#include "exec/cgroups/hierarchy.hpp"

namespace cg = ringcri::exec::cgroups;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t mib = 1 << 20;

std::string read_file(const std::string& p) {
  std::ifstream in(p);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string trimmed(const std::string& p) {
  std::string s = read_file(p);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string message_of(const ringcri::result<void>& r) { return r ? "" : r.error().message(); }

// The node's hierarchies; the whole test is skipped without root or
// without a memory controller.
const cg::hierarchy& node() {
  static const cg::hierarchy h = [] {
    if (::geteuid() != 0) {
      std::printf("skipped: needs root to make cgroups\n");
      std::exit(77);
    }
    auto detected = cg::hierarchy::detect();
    if (!detected) {
      std::printf("skipped: no cgroups here: %s\n", detected.error().message().c_str());
      std::exit(77);
    }
    if (detected->mount_of("memory") == nullptr) {
      std::printf("skipped: no hierarchy has the memory controller\n");
      std::exit(77);
    }
    std::printf("cgroup layout: %s\n", std::string(cg::to_string(detected->kind())).c_str());
    return std::move(*detected);
  }();
  return h;
}

std::string top_of_this_test() { return "/ringcri-test-" + std::to_string(::getpid()); }

// The test's own top cgroup, removed (with all below it, processes
// killed) at the end. The v2 root's cgroup.subtree_control, which create
// changes, is left as found (best effort).
struct test_cgroup {
  const cg::hierarchy& h;
  std::string top = top_of_this_test();
  std::string root_enabled_before;
  explicit test_cgroup(const cg::hierarchy& hier) : h(hier) {
    if (h.unified()) root_enabled_before = read_file(unified_root() + "/cgroup.subtree_control");
  }
  ~test_cgroup() {
    (void)h.kill_all(top);
    auto removed = h.remove(top);
    if (!removed) std::printf("cleanup: %s\n", removed.error().message().c_str());
    if (!h.unified()) return;
    std::istringstream now(read_file(unified_root() + "/cgroup.subtree_control"));
    std::string c;
    while (now >> c)
      if (root_enabled_before.find(c) == std::string::npos)
        std::ofstream(unified_root() + "/cgroup.subtree_control") << "-" << c;
  }
  std::string unified_root() const { return cg::hierarchy::dir_of(*h.unified(), "/"); }
};

// A child told when to go on through a pipe, and telling back when it is
// ready through another; killed and reaped at the end.
struct child_process {
  pid_t pid = -1;
  int go = -1;
  int ready = -1;
  // `body` runs in the child after "go"; it writes a byte to its argument
  // (an fd) when ready, then waits to be killed.
  template <class Body>
  explicit child_process(Body body) {
    int to_child[2], from_child[2];
    REQUIRE(::pipe(to_child) == 0);
    REQUIRE(::pipe(from_child) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(to_child[1]);
      ::close(from_child[0]);
      char c;
      if (::read(to_child[0], &c, 1) != 1) ::_exit(1);
      body(from_child[1]);
      while (true) ::pause();
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    go = to_child[1];
    ready = from_child[0];
  }
  // Into every cgroup.procs of `procs`, then go, then wait for ready.
  void join_and_start(const std::vector<std::string>& procs) {
    for (const auto& file : procs) {
      INFO(file);
      std::ofstream out(file);
      out << pid;
      out.flush();
      CHECK(out.good());
    }
    REQUIRE(::write(go, "g", 1) == 1);
    char c;
    REQUIRE(::read(ready, &c, 1) == 1);
  }
  ~child_process() {
    if (go >= 0) ::close(go);
    if (ready >= 0) ::close(ready);
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

void say_ready(int fd) {
  if (::write(fd, "r", 1) != 1) ::_exit(1);
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
  if (h.mount_of("cpu") == nullptr) r.cpu_quota = 0, r.cpu_period = 0, r.cpu_shares = 0;
  if (h.mount_of("pids") == nullptr) r.pids_limit = 0;
  return r;
}

}  // namespace

TEST_CASE("limits reach the kernel's files and change live") {
  const auto& h = node();
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

TEST_CASE("memory+swap goes up and down in the order the kernel takes") {
  const auto& h = node();
  const auto* m = h.mount_of("memory");
  test_cgroup t(h);
  const std::string path = t.top + "/swap";
  REQUIRE(h.create(path));
  const std::string dir = cg::hierarchy::dir_of(*m, path);
  const std::string swap_file =
      dir + (m->unified ? "/memory.swap.max" : "/memory.memsw.limit_in_bytes");
  if (!fs::exists(swap_file)) {
    std::printf("skipped memory+swap: no %s (swap accounting off)\n", swap_file.c_str());
    return;
  }
  // (memory, memory+swap) pairs in MiB: set, lowered below the old
  // memory limit, raised above the old memory+swap limit.
  for (auto [memory, memsw] : {std::pair{64, 96}, std::pair{32, 48}, std::pair{256, 512},
                               std::pair{300, 300}, std::pair{16, 32}}) {
    INFO(memory << " MiB, memory+swap " << memsw << " MiB");
    cg::resources r;
    r.memory_limit = memory * mib;
    r.memory_swap_limit = memsw * mib;
    auto applied = h.apply(path, r);
    INFO(message_of(applied));
    REQUIRE(applied);
    CHECK(trimmed(dir + (m->unified ? "/memory.max" : "/memory.limit_in_bytes")) ==
          std::to_string(memory * mib));
    CHECK(trimmed(swap_file) == std::to_string((m->unified ? memsw - memory : memsw) * mib));
    auto back = h.read_resources(path);
    REQUIRE(back);
    CHECK(back->memory_swap_limit == memsw * mib);
  }
  if (!m->unified) {
    // v1 refuses memory alone above the memory+swap limit set before; the
    // error says so.
    cg::resources memory_alone;
    memory_alone.memory_limit = 64 * mib;
    auto refused = h.apply(path, memory_alone);
    REQUIRE_FALSE(refused);
    INFO(refused.error().message());
    CHECK(refused.error().sys_errno() == EINVAL);
    CHECK(refused.error().message().find("memory.limit_in_bytes\" = \"67108864\"") !=
          std::string::npos);
    CHECK(refused.error().message().find("memory+swap limit is 33554432") != std::string::npos);
  }
  cg::resources unlimited;
  unlimited.memory_limit = 64 * mib;
  unlimited.memory_swap_limit = -1;
  REQUIRE(h.apply(path, unlimited));
  auto back = h.read_resources(path);
  REQUIRE(back);
  CHECK(back->memory_limit == 64 * mib);
  CHECK(back->memory_swap_limit == 0);  // no limit
}

TEST_CASE("cpus asked for after create move the cgroup's process onto them") {
  const auto& h = node();
  const auto* cpuset = h.mount_of("cpuset");
  if (cpuset == nullptr) {
    std::printf("skipped cpuset: no hierarchy has the cpuset controller\n");
    return;
  }
  test_cgroup t(h);
  const std::string path = t.top + "/cpus";
  auto procs = h.create(path);  // no cpuset cgroup in v1
  REQUIRE(procs);
  const std::string dir = cg::hierarchy::dir_of(*cpuset, path);
  if (!cpuset->unified) CHECK_FALSE(fs::exists(dir));

  child_process child(say_ready);
  child.join_and_start(*procs);
  const std::string proc = "/proc/" + std::to_string(child.pid);

  cg::resources r;
  r.cpuset_cpus = "0";
  auto applied = h.apply(path, r);
  INFO(message_of(applied));
  REQUIRE(applied);
  CHECK(trimmed(dir + "/cpuset.cpus") == "0");
  CHECK(trimmed(dir + "/cpuset.mems").size() > 0);  // inherited
  CHECK(trimmed(proc + "/cpuset") == path);
  std::istringstream status(read_file(proc + "/status"));
  std::string line, allowed;
  while (std::getline(status, line))
    if (line.starts_with("Cpus_allowed_list:")) allowed = line.substr(line.find_last_of(" \t") + 1);
  CHECK(allowed == "0");

  auto back = h.read_resources(path);
  REQUIRE(back);
  CHECK(back->cpuset_cpus == "0");

  // Applied again (a live update) with the process already in it.
  REQUIRE(h.apply(path, r));
  auto pids = h.pids(path);
  REQUIRE(pids);
  CHECK(*pids == std::vector<pid_t>{child.pid});
}

TEST_CASE("a 2MB hugetlb limit reaches the hierarchy that has hugetlb") {
  const auto& h = node();
  const auto* hugetlb = h.mount_of("hugetlb");
  if (hugetlb == nullptr) {
    std::printf("skipped hugetlb: no hierarchy has the hugetlb controller\n");
    return;
  }
  test_cgroup t(h);
  const std::string path = t.top + "/huge";
  REQUIRE(h.create(path));
  const std::string file = cg::hierarchy::dir_of(*hugetlb, path) +
                           (hugetlb->unified ? "/hugetlb.2MB.max" : "/hugetlb.2MB.limit_in_bytes");
  if (!fs::exists(file)) {
    std::printf("skipped hugetlb: no %s (no 2 MB huge pages here)\n", file.c_str());
    return;
  }
  std::printf("hugetlb in the %s hierarchy at %s\n", hugetlb->unified ? "v2" : "v1",
              hugetlb->mount_point.c_str());
  cg::resources r;
  r.hugepage_limits = {{"2MB", 4 * mib}};
  auto applied = h.apply(path, r);
  INFO(message_of(applied));
  REQUIRE(applied);
  CHECK(trimmed(file) == std::to_string(4 * mib));
  auto back = h.read_resources(path);
  REQUIRE(back);
  CHECK(back->hugepage_limits == std::vector<cg::hugepage_limit>{{"2MB", 4 * mib}});
}

TEST_CASE("stats show the memory and cpu a process uses") {
  const auto& h = node();
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

TEST_CASE("v2 limits on real files") {
  const auto& h = node();
  const auto* memory = h.mount_of("memory");
  const auto* cpu = h.mount_of("cpu");
  const auto* pids = h.mount_of("pids");
  if (!(memory && cpu && pids && memory->unified && cpu->unified && pids->unified)) {
    std::printf("skipped: no v2 hierarchy with memory/cpu/pids controllers here\n");
    return;
  }
  test_cgroup t(h);
  const std::string path = t.top + "/v2";
  REQUIRE(h.create(path));
  const std::string dir = cg::hierarchy::dir_of(*memory, path);
  cg::resources r = limits(64 * mib, 20000, 100000, 1024, 42);
  r.unified = {{"memory.high", std::to_string(48 * mib)}};
  auto applied = h.apply(path, r);
  INFO(message_of(applied));
  REQUIRE(applied);
  CHECK(trimmed(dir + "/memory.max") == std::to_string(64 * mib));
  CHECK(trimmed(dir + "/memory.high") == std::to_string(48 * mib));
  CHECK(trimmed(dir + "/cpu.max") == "20000 100000");
  CHECK(trimmed(dir + "/cpu.weight") == "39");
  CHECK(trimmed(dir + "/pids.max") == "42");

  cg::resources unlimited;
  unlimited.memory_limit = -1;
  unlimited.cpu_quota = -1;
  unlimited.pids_limit = -1;
  REQUIRE(h.apply(path, unlimited));
  CHECK(trimmed(dir + "/memory.max") == "max");
  CHECK(trimmed(dir + "/cpu.max") == "max 100000");
  CHECK(trimmed(dir + "/pids.max") == "max");
}

TEST_CASE("no cgroup of this test is left in any hierarchy") {
  const auto& h = node();
  for (const auto& m : h.mounts()) {
    const std::string dir = cg::hierarchy::dir_of(m, top_of_this_test());
    INFO(dir);
    CHECK_FALSE(fs::exists(dir));
  }
}
