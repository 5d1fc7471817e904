// Resource limits and stats on "hierarchies" that are plain directories
// named by made-up mountinfo (v1, hybrid and pure v2), without root: the
// exact files and values apply writes for each field, what it leaves
// alone, what it refuses, and how stats and read_resources parse the
// files back.

#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "exec/cgroups/hierarchy.hpp"

namespace cg = ringcri::exec::cgroups;
namespace fs = std::filesystem;
using ringcri::error_kind;

namespace {

constexpr const char* v1_unlimited = "9223372036854771712\n";

// A temporary tree of hierarchies and the mountinfo naming them.
struct fake_tree {
  fs::path root;
  std::string mountinfo;
  int minor = 100;

  fake_tree() {
    char tmpl[] = "/tmp/ringcri-cgroups-test-XXXXXX";
    root = ::mkdtemp(tmpl);
  }
  ~fake_tree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  // A v1 hierarchy of `controllers` ("cpu,cpuacct") at root/<controllers>.
  void v1(const std::string& controllers) {
    fs::create_directories(root / controllers);
    mountinfo += "1 1 0:" + std::to_string(minor++) + " / " + (root / controllers).string() +
                 " rw - cgroup cgroup rw," + controllers + "\n";
  }
  // The cgroup2 hierarchy at root/unified, its root cgroup.controllers
  // listing `controllers`.
  void v2(const std::string& controllers) {
    fs::create_directories(root / "unified");
    mountinfo += "1 1 0:" + std::to_string(minor++) + " / " + (root / "unified").string() +
                 " rw - cgroup2 cgroup2 rw\n";
    write("unified/cgroup.controllers", controllers + "\n");
  }
  cg::hierarchy detect() const {
    auto h = cg::hierarchy::detect_from(mountinfo);
    REQUIRE(h);
    return std::move(*h);
  }
  // `rel` is relative to root ("memory/pod/c/memory.max").
  void write(const std::string& rel, const std::string& content) const {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel) << content;
  }
  // Control files of one cgroup, all made with the same content.
  void files(const std::string& dir, std::initializer_list<const char*> names,
             const std::string& content = "") const {
    for (const char* n : names) write(dir + "/" + n, content);
  }
  std::string read(const std::string& rel) const {
    std::ifstream in(root / rel);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
};

// A v1 node like this one (cpu and cpuacct apart) with cgroup /pod/c made
// in each hierarchy, and the cpuset one too.
void make_v1(fake_tree& t) {
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "hugetlb"}) t.v1(c);
  t.files("cpu/pod/c", {"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cgroup.procs"});
  t.files("cpuacct/pod/c", {"cpuacct.usage", "cgroup.procs"});
  t.files("cpuset/pod/c", {"cpuset.cpus", "cpuset.mems", "cgroup.procs"});
  t.files("memory/pod/c", {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"}, v1_unlimited);
  t.files("memory/pod/c", {"memory.usage_in_bytes", "memory.stat", "cgroup.procs"});
  t.files("pids/pod/c", {"pids.max", "pids.current", "cgroup.procs"});
  t.files("hugetlb/pod/c", {"hugetlb.2MB.limit_in_bytes", "hugetlb.1GB.limit_in_bytes"},
          v1_unlimited);
  t.write("hugetlb/pod/c/hugetlb.2MB.rsvd.limit_in_bytes", v1_unlimited);
}

// A pure v2 node with cgroup /pod/c and every controller enabled for it.
void make_v2(fake_tree& t, const std::string& controllers = "cpu memory pids cpuset hugetlb") {
  t.v2(controllers);
  t.files("unified/pod/c",
          {"cpu.weight", "cpuset.cpus", "cpuset.mems", "memory.max", "memory.swap.max", "pids.max",
           "hugetlb.2MB.max", "memory.high", "cgroup.procs"},
          "max\n");
  t.write("unified/pod/c/cpu.max", "max 100000\n");
  t.write("unified/pod/c/cpu.weight", "100\n");
  t.write("unified/pod/c/cpuset.cpus", "\n");
  t.write("unified/pod/c/cpuset.mems", "\n");
}

std::string message_of(const ringcri::result<void>& r) { return r ? "" : r.error().message(); }

}  // namespace

TEST_CASE("v1: apply writes every set field to its file") {
  fake_tree t;
  make_v1(t);
  auto h = t.detect();
  cg::resources r;
  r.cpu_shares = 512;
  r.cpu_quota = 50000;
  r.cpu_period = 100000;
  r.cpuset_cpus = "0-1";
  r.cpuset_mems = "0";
  r.memory_limit = 64 << 20;
  r.memory_swap_limit = 96 << 20;
  r.pids_limit = 42;
  r.hugepage_limits = {{"2MB", 4 << 20}, {"1GB", 0}};
  t.write("memory/pod/c/cgroup.procs", "12\n");
  auto applied = h.apply("/pod/c", r);
  INFO(message_of(applied));
  REQUIRE(applied);

  CHECK(t.read("cpu/pod/c/cpu.shares") == "512");
  CHECK(t.read("cpu/pod/c/cpu.cfs_quota_us") == "50000");
  CHECK(t.read("cpu/pod/c/cpu.cfs_period_us") == "100000");
  CHECK(t.read("cpuset/pod/c/cpuset.cpus") == "0-1");
  CHECK(t.read("cpuset/pod/c/cpuset.mems") == "0");
  // The cgroup's processes are moved into its cpuset cgroup.
  CHECK(t.read("cpuset/pod/c/cgroup.procs") == "12");
  CHECK(t.read("memory/pod/c/memory.limit_in_bytes") == "67108864");
  CHECK(t.read("memory/pod/c/memory.memsw.limit_in_bytes") == "100663296");
  CHECK(t.read("pids/pod/c/pids.max") == "42");
  CHECK(t.read("hugetlb/pod/c/hugetlb.2MB.limit_in_bytes") == "4194304");
  CHECK(t.read("hugetlb/pod/c/hugetlb.1GB.limit_in_bytes") == "0");

  auto back = h.read_resources("/pod/c");
  REQUIRE(back);
  CHECK(back->cpu_shares == 512);
  CHECK(back->cpu_quota == 50000);
  CHECK(back->cpu_period == 100000);
  CHECK(back->cpuset_cpus == "0-1");
  CHECK(back->cpuset_mems == "0");
  CHECK(back->memory_limit == 64 << 20);
  CHECK(back->memory_swap_limit == 96 << 20);
  CHECK(back->pids_limit == 42);
  CHECK(back->hugepage_limits == std::vector<cg::hugepage_limit>{{"1GB", 0}, {"2MB", 4 << 20}});
  CHECK(back->unified.empty());
}

TEST_CASE("v1: unlimited values") {
  fake_tree t;
  make_v1(t);
  auto h = t.detect();
  cg::resources r;
  r.cpu_quota = -1;
  r.memory_limit = -1;  // swap unsaid: lifted too, as runc does
  r.pids_limit = -1;
  REQUIRE(h.apply("/pod/c", r));
  CHECK(t.read("cpu/pod/c/cpu.cfs_quota_us") == "-1");
  CHECK(t.read("memory/pod/c/memory.limit_in_bytes") == "-1");
  CHECK(t.read("memory/pod/c/memory.memsw.limit_in_bytes") == "-1");
  CHECK(t.read("pids/pod/c/pids.max") == "max");

  cg::resources swap;
  swap.memory_limit = 1 << 30;
  swap.memory_swap_limit = -1;
  REQUIRE(h.apply("/pod/c", swap));
  CHECK(t.read("memory/pod/c/memory.limit_in_bytes") == "1073741824");
  CHECK(t.read("memory/pod/c/memory.memsw.limit_in_bytes") == "-1");

  // What a fresh v1 cgroup holds reads back as no limits at all.
  t.write("cpu/pod/c/cpu.cfs_quota_us", "-1\n");
  t.write("memory/pod/c/memory.limit_in_bytes", v1_unlimited);
  t.write("memory/pod/c/memory.memsw.limit_in_bytes", v1_unlimited);
  t.write("pids/pod/c/pids.max", "max\n");
  auto back = h.read_resources("/pod/c");
  REQUIRE(back);
  CHECK(back->cpu_quota == 0);
  CHECK(back->memory_limit == 0);
  CHECK(back->memory_swap_limit == 0);
  CHECK(back->pids_limit == 0);
  CHECK(back->hugepage_limits.empty());
}

TEST_CASE("v1: memory+swap is skipped without memory.memsw.limit_in_bytes") {
  fake_tree t;
  make_v1(t);
  fs::remove(t.root / "memory/pod/c/memory.memsw.limit_in_bytes");
  auto h = t.detect();
  cg::resources r;
  r.memory_limit = 64 << 20;
  r.memory_swap_limit = 128 << 20;
  REQUIRE(h.apply("/pod/c", r));
  CHECK(t.read("memory/pod/c/memory.limit_in_bytes") == "67108864");
  CHECK_FALSE(fs::exists(t.root / "memory/pod/c/memory.memsw.limit_in_bytes"));
}

TEST_CASE("v1: a missing cpuset cgroup is made, and a failure leaves nothing") {
  fake_tree t;
  make_v1(t);
  fs::remove_all(t.root / "cpuset/pod");
  auto h = t.detect();
  cg::resources r;
  r.cpuset_cpus = "0";
  // Plain directories get no cpuset.cpus to inherit into, so making the
  // cpuset cgroup fails here; on cgroupfs the real test covers it.
  auto applied = h.apply("/pod/c", r);
  REQUIRE_FALSE(applied);
  INFO(applied.error().message());
  CHECK(applied.error().message().find((t.root / "cpuset/pod").string()) != std::string::npos);
  CHECK_FALSE(fs::exists(t.root / "cpuset/pod"));

  // A cgroup that create never made is not made for its cpuset alone.
  auto nowhere = h.apply("/never/made", r);
  REQUIRE_FALSE(nowhere);
  CHECK(nowhere.error().kind() == error_kind::not_found);
  CHECK(nowhere.error().message().find("/never/made") != std::string::npos);
  CHECK_FALSE(fs::exists(t.root / "cpuset/never"));
}

TEST_CASE("v2: apply converts and writes every set field") {
  fake_tree t;
  make_v2(t);
  auto h = t.detect();
  cg::resources r;
  r.cpu_shares = 1024;
  r.cpu_quota = 50000;
  r.cpu_period = 100000;
  r.cpuset_cpus = "0-1";
  r.cpuset_mems = "0";
  r.memory_limit = 64 << 20;
  r.memory_swap_limit = 96 << 20;
  r.pids_limit = 42;
  r.hugepage_limits = {{"2MB", 4 << 20}};
  r.unified = {{"memory.high", "50331648"}};
  auto applied = h.apply("/pod/c", r);
  INFO(message_of(applied));
  REQUIRE(applied);

  CHECK(t.read("unified/pod/c/cpu.weight") == "39");
  CHECK(t.read("unified/pod/c/cpu.max") == "50000 100000");
  CHECK(t.read("unified/pod/c/cpuset.cpus") == "0-1");
  CHECK(t.read("unified/pod/c/cpuset.mems") == "0");
  CHECK(t.read("unified/pod/c/memory.max") == "67108864");
  CHECK(t.read("unified/pod/c/memory.swap.max") == "33554432");  // swap alone: 96 - 64 MiB
  CHECK(t.read("unified/pod/c/pids.max") == "42");
  CHECK(t.read("unified/pod/c/hugetlb.2MB.max") == "4194304");
  CHECK(t.read("unified/pod/c/memory.high") == "50331648");

  auto back = h.read_resources("/pod/c");
  REQUIRE(back);
  CHECK(back->cpu_shares == 999);  // the smallest shares whose weight is 39
  CHECK(cg::cpu_weight_of_shares(back->cpu_shares) == 39);
  CHECK(back->cpu_quota == 50000);
  CHECK(back->cpu_period == 100000);
  CHECK(back->cpuset_cpus == "0-1");
  CHECK(back->memory_limit == 64 << 20);
  CHECK(back->memory_swap_limit == 96 << 20);
  CHECK(back->pids_limit == 42);
  CHECK(back->hugepage_limits == std::vector<cg::hugepage_limit>{{"2MB", 4 << 20}});
}

TEST_CASE("v2: cpu.max keeps the half not asked for") {
  fake_tree t;
  make_v2(t);
  auto h = t.detect();
  cg::resources unlimited;
  unlimited.cpu_quota = -1;
  REQUIRE(h.apply("/pod/c", unlimited));
  CHECK(t.read("unified/pod/c/cpu.max") == "max 100000");

  cg::resources quota;
  quota.cpu_quota = 20000;
  t.write("unified/pod/c/cpu.max", "max 50000\n");
  REQUIRE(h.apply("/pod/c", quota));
  CHECK(t.read("unified/pod/c/cpu.max") == "20000 50000");

  cg::resources period;
  period.cpu_period = 200000;
  REQUIRE(h.apply("/pod/c", period));
  CHECK(t.read("unified/pod/c/cpu.max") == "20000 200000");

  // Nothing to keep: the kernel's default period.
  t.write("unified/pod/c/cpu.max", "");
  REQUIRE(h.apply("/pod/c", quota));
  CHECK(t.read("unified/pod/c/cpu.max") == "20000 100000");
}

TEST_CASE("v2: unlimited values and swap") {
  fake_tree t;
  make_v2(t);
  auto h = t.detect();
  cg::resources r;
  r.memory_limit = -1;
  r.pids_limit = -1;
  REQUIRE(h.apply("/pod/c", r));
  CHECK(t.read("unified/pod/c/memory.max") == "max");
  CHECK(t.read("unified/pod/c/memory.swap.max") == "max");
  CHECK(t.read("unified/pod/c/pids.max") == "max");

  cg::resources no_swap;  // memory+swap = memory: no swap at all
  no_swap.memory_limit = 1 << 30;
  no_swap.memory_swap_limit = 1 << 30;
  REQUIRE(h.apply("/pod/c", no_swap));
  CHECK(t.read("unified/pod/c/memory.swap.max") == "0");
  CHECK(t.read("unified/pod/c/memory.max") == "1073741824");

  cg::resources unlimited_swap;
  unlimited_swap.memory_limit = 1 << 30;
  unlimited_swap.memory_swap_limit = -1;
  REQUIRE(h.apply("/pod/c", unlimited_swap));
  CHECK(t.read("unified/pod/c/memory.swap.max") == "max");

  // Without swap accounting there is no memory.swap.max: "no swap" holds.
  fs::remove(t.root / "unified/pod/c/memory.swap.max");
  REQUIRE(h.apply("/pod/c", no_swap));
  cg::resources some_swap = no_swap;
  some_swap.memory_swap_limit = std::int64_t{2} << 30;
  auto refused = h.apply("/pod/c", some_swap);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("memory.swap.max") != std::string::npos);

  cg::resources swap_alone;
  swap_alone.memory_swap_limit = 1 << 30;
  auto alone = h.apply("/pod/c", swap_alone);
  REQUIRE_FALSE(alone);
  CHECK(alone.error().kind() == error_kind::invalid_argument);
}

TEST_CASE("unset fields leave their files alone") {
  fake_tree t;
  make_v1(t);
  t.write("cpu/pod/c/cpu.shares", "1024\n");
  t.write("cpu/pod/c/cpu.cfs_quota_us", "-1\n");
  t.write("cpu/pod/c/cpu.cfs_period_us", "100000\n");
  t.write("cpuset/pod/c/cpuset.cpus", "0-3\n");
  auto h = t.detect();
  cg::resources r;
  r.pids_limit = 7;
  REQUIRE(h.apply("/pod/c", r));
  CHECK(t.read("pids/pod/c/pids.max") == "7");
  CHECK(t.read("cpu/pod/c/cpu.shares") == "1024\n");
  CHECK(t.read("cpu/pod/c/cpu.cfs_quota_us") == "-1\n");
  CHECK(t.read("cpu/pod/c/cpu.cfs_period_us") == "100000\n");
  CHECK(t.read("cpuset/pod/c/cpuset.cpus") == "0-3\n");
  CHECK(t.read("memory/pod/c/memory.limit_in_bytes") == v1_unlimited);
  CHECK(t.read("hugetlb/pod/c/hugetlb.2MB.limit_in_bytes") == v1_unlimited);

  // Only the period: the quota stays.
  cg::resources period;
  period.cpu_period = 50000;
  REQUIRE(h.apply("/pod/c", period));
  CHECK(t.read("cpu/pod/c/cpu.cfs_period_us") == "50000");
  CHECK(t.read("cpu/pod/c/cpu.cfs_quota_us") == "-1\n");

  fake_tree t2;
  make_v2(t2);
  auto h2 = t2.detect();
  REQUIRE(h2.apply("/pod/c", r));
  CHECK(t2.read("unified/pod/c/pids.max") == "7");
  CHECK(t2.read("unified/pod/c/cpu.weight") == "100\n");
  CHECK(t2.read("unified/pod/c/cpu.max") == "max 100000\n");
  CHECK(t2.read("unified/pod/c/memory.max") == "max\n");
  CHECK(t2.read("unified/pod/c/memory.swap.max") == "max\n");
  CHECK(t2.read("unified/pod/c/memory.high") == "max\n");

  // Nothing set: nothing written, nothing refused.
  CHECK(h.apply("/pod/c", cg::resources{}));
}

TEST_CASE("a limit whose controller no hierarchy has is refused before any write") {
  fake_tree t;
  t.v1("memory");
  t.files("memory/pod/c", {"memory.limit_in_bytes"}, v1_unlimited);
  auto h = t.detect();

  struct refused_case {
    const char* needs;
    cg::resources r;
  };
  std::vector<refused_case> cases;
  cases.push_back({"cpu shares need the cpu controller, which is not mounted", {}});
  cases.back().r.cpu_shares = 512;
  cases.push_back({"a cpu quota needs the cpu controller, which is not mounted", {}});
  cases.back().r.cpu_quota = 20000;
  cases.push_back({"a cpu period needs the cpu controller, which is not mounted", {}});
  cases.back().r.cpu_period = 20000;
  cases.push_back({"cpuset cpus need the cpuset controller, which is not mounted", {}});
  cases.back().r.cpuset_cpus = "0";
  cases.push_back({"pids limit needs the pids controller, which is not mounted", {}});
  cases.back().r.pids_limit = 5;
  cases.push_back({"hugepage limits need the hugetlb controller, which is not mounted", {}});
  cases.back().r.hugepage_limits = {{"2MB", 0}};
  cases.push_back(
      {"unified (cgroup v2) files need a cgroup v2 hierarchy, which is not mounted", {}});
  cases.back().r.unified = {{"memory.high", "1000"}};
  for (auto& c : cases) {
    INFO(c.needs);
    c.r.memory_limit = 1000;  // would be written first, were nothing checked before
    auto applied = h.apply("/pod/c", c.r);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().kind() == error_kind::invalid_argument);
    CHECK(applied.error().message() == std::string("set resources of cgroup /pod/c: ") + c.needs);
    CHECK(t.read("memory/pod/c/memory.limit_in_bytes") == v1_unlimited);
  }

  fake_tree v2;
  make_v2(v2, "cpu pids");  // memory not enabled in the unified hierarchy
  auto h2 = v2.detect();
  cg::resources memory;
  memory.memory_limit = 1 << 20;
  auto applied = h2.apply("/pod/c", memory);
  REQUIRE_FALSE(applied);
  CHECK(applied.error().kind() == error_kind::invalid_argument);
  CHECK(applied.error().message().find(
            "memory limit needs the memory controller, which is not mounted") != std::string::npos);
  CHECK(v2.read("unified/pod/c/memory.max") == "max\n");
}

TEST_CASE("malformed values are refused before any write") {
  fake_tree t;
  make_v2(t);
  auto h = t.detect();
  auto refuse = [&](cg::resources r, const std::string& named) {
    INFO(named);
    r.pids_limit = 9;
    auto applied = h.apply("/pod/c", r);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().kind() == error_kind::invalid_argument);
    CHECK(applied.error().message().find(named) != std::string::npos);
    CHECK(t.read("unified/pod/c/pids.max") == "max\n");
  };
  cg::resources r;
  r.unified = {{"../../etc/passwd", "x"}};
  refuse(r, "\"../../etc/passwd\"");
  r.unified = {{"sub/memory.max", "x"}};
  refuse(r, "\"sub/memory.max\"");
  r.unified = {{"", "x"}};
  refuse(r, "\"\"");
  r.unified = {{"memory.nonexistent", "x"}};  // caught by the write, after pids
  auto late = h.apply("/pod/c", r);
  REQUIRE_FALSE(late);
  CHECK(late.error().kind() == error_kind::invalid_argument);
  CHECK(late.error().message().find("\"memory.nonexistent\"") != std::string::npos);

  cg::resources huge;
  huge.hugepage_limits = {{"../2MB", 1}};
  refuse(huge, "\"../2MB\"");
  huge.hugepage_limits = {{"2048kB", 1}};
  refuse(huge, "\"2048kB\"");
  huge.hugepage_limits = {{"1GB", 1}};  // a size without a file here
  auto no_size = h.apply("/pod/c", huge);
  REQUIRE_FALSE(no_size);
  CHECK(no_size.error().kind() == error_kind::invalid_argument);
  CHECK(no_size.error().message().find("\"1GB\"") != std::string::npos);

  cg::resources swap;
  swap.memory_limit = 2000;
  swap.memory_swap_limit = 1000;
  refuse(swap, "memory+swap limit 1000 is below the memory limit 2000");
  cg::resources negative;
  negative.memory_limit = -5;
  refuse(negative, "memory limit -5");
  negative = {};
  negative.cpu_quota = -2;
  refuse(negative, "cpu quota -2");

  auto bad_path = h.apply("pod/c", cg::resources{});
  REQUIRE_FALSE(bad_path);
  CHECK(bad_path.error().kind() == error_kind::invalid_argument);
}

TEST_CASE("hybrid: each limit goes to the hierarchy that has its controller") {
  fake_tree t;
  t.v1("memory");
  t.v1("pids");
  t.v2("hugetlb");  // as on this kind of node: v1 left only hugetlb to v2
  t.files("memory/pod/c", {"memory.limit_in_bytes"}, v1_unlimited);
  t.files("pids/pod/c", {"pids.max"}, "max\n");
  t.files("unified/pod/c", {"hugetlb.2MB.max", "memory.high"}, "max\n");
  auto h = t.detect();
  CHECK(h.mount_of("memory")->mount_point == (t.root / "memory").string());
  CHECK(h.mount_of("hugetlb")->mount_point == (t.root / "unified").string());
  CHECK(h.mount_of("cpu") == nullptr);

  cg::resources r;
  r.memory_limit = 1 << 20;
  r.pids_limit = 3;
  r.hugepage_limits = {{"2MB", 2 << 20}};
  REQUIRE(h.apply("/pod/c", r));
  CHECK(t.read("memory/pod/c/memory.limit_in_bytes") == "1048576");
  CHECK(t.read("pids/pod/c/pids.max") == "3");
  CHECK(t.read("unified/pod/c/hugetlb.2MB.max") == "2097152");

  // Raw v2 files go to the unified hierarchy, whatever it holds.
  cg::resources raw;
  raw.unified = {{"memory.high", "4096"}};
  REQUIRE(h.apply("/pod/c", raw));
  CHECK(t.read("unified/pod/c/memory.high") == "4096");
}

TEST_CASE("a write that fails names the file and the value") {
  fake_tree t;
  make_v1(t);
  auto h = t.detect();
  cg::resources r;
  r.memory_limit = 1000;
  auto applied = h.apply("/gone", r);
  REQUIRE_FALSE(applied);
  CHECK(applied.error().kind() == error_kind::not_found);
  CHECK(applied.error().message() == "set resources of cgroup /gone: write \"" +
                                         (t.root / "memory/gone/memory.limit_in_bytes").string() +
                                         "\" = \"1000\": No such file or directory");
}

TEST_CASE("v1 stats come from cpuacct.usage, memory.stat's totals and pids.current") {
  fake_tree t;
  make_v1(t);
  t.write("cpuacct/pod/c/cpuacct.usage", "123456789\n");
  t.write("memory/pod/c/memory.usage_in_bytes", "50000000\n");
  t.write("memory/pod/c/memory.limit_in_bytes", "67108864\n");
  // The cgroup's own keys differ from the hierarchical total_* ones.
  t.write("memory/pod/c/memory.stat",
          "cache 1\nrss 2\nrss_huge 0\ninactive_file 3\npgfault 4\npgmajfault 5\n"
          "total_cache 30000000\ntotal_rss 15000000\ntotal_rss_huge 2097152\n"
          "total_inactive_file 10000000\ntotal_active_file 5000000\ntotal_pgfault 777\n"
          "total_pgmajfault 8\n");
  t.write("pids/pod/c/pids.current", "3\n");
  auto h = t.detect();
  auto s = h.stats("/pod/c");
  INFO((s ? "" : s.error().message()));
  REQUIRE(s);
  CHECK(s->has_cpu);
  CHECK(s->cpu_usage_ns == 123456789);
  CHECK(s->has_memory);
  CHECK(s->memory_usage == 50000000);
  CHECK(s->memory_working_set == 40000000);
  CHECK(s->memory_rss == 15000000);
  CHECK(s->memory_limit == 67108864);
  CHECK(s->page_faults == 777);
  CHECK(s->major_page_faults == 8);
  CHECK(s->pids == 3);

  // More inactive file pages than usage (counters read at different
  // moments): the working set floors at 0. No limit reads as 0.
  t.write("memory/pod/c/memory.stat", "total_inactive_file 60000000\n");
  t.write("memory/pod/c/memory.limit_in_bytes", v1_unlimited);
  s = h.stats("/pod/c");
  REQUIRE(s);
  CHECK(s->memory_working_set == 0);
  CHECK(s->memory_limit == 0);
}

TEST_CASE("v2 stats come from cpu.stat, memory.current, memory.stat and pids.current") {
  fake_tree t;
  make_v2(t);
  t.write("unified/pod/c/cpu.stat",
          "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 0\n");
  t.write("unified/pod/c/memory.current", "30000000\n");
  t.write("unified/pod/c/memory.max", "max\n");
  t.write("unified/pod/c/memory.stat",
          "anon 12000000\nfile 16000000\nkernel 100000\nactive_anon 0\ninactive_anon 12000000\n"
          "active_file 6000000\ninactive_file 10000000\npgfault 999\npgmajfault 4\n"
          "workingset_refault_anon 0\n");
  t.write("unified/pod/c/pids.current", "2\n");
  auto h = t.detect();
  auto s = h.stats("/pod/c");
  INFO((s ? "" : s.error().message()));
  REQUIRE(s);
  CHECK(s->has_cpu);
  CHECK(s->cpu_usage_ns == 2500000);
  CHECK(s->has_memory);
  CHECK(s->memory_usage == 30000000);
  CHECK(s->memory_working_set == 20000000);
  CHECK(s->memory_rss == 12000000);
  CHECK(s->memory_limit == 0);
  CHECK(s->page_faults == 999);
  CHECK(s->major_page_faults == 4);
  CHECK(s->pids == 2);

  t.write("unified/pod/c/memory.max", "67108864\n");
  s = h.stats("/pod/c");
  REQUIRE(s);
  CHECK(s->memory_limit == 67108864);
}

TEST_CASE("stats of a missing cgroup or controller") {
  fake_tree t;
  make_v1(t);
  auto h = t.detect();
  auto missing = h.stats("/pod/nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind() == error_kind::not_found);
  CHECK(missing.error().message().find("/pod/nope") != std::string::npos);
  auto missing_limits = h.read_resources("/pod/nope");
  REQUIRE_FALSE(missing_limits);
  CHECK(missing_limits.error().kind() == error_kind::not_found);

  // Only pids mounted: cpu and memory are not there, and say so.
  fake_tree p;
  p.v1("pids");
  p.write("pids/pod/c/pids.current", "5\n");
  auto hp = p.detect();
  auto s = hp.stats("/pod/c");
  REQUIRE(s);
  CHECK_FALSE(s->has_cpu);
  CHECK_FALSE(s->has_memory);
  CHECK(s->memory_usage == 0);
  CHECK(s->pids == 5);

  // A unified hierarchy without the memory controller: no memory stats,
  // yet cpu.stat is there with or without the cpu controller.
  fake_tree v2;
  make_v2(v2, "cpu pids");
  v2.write("unified/pod/c/cpu.stat", "usage_usec 7\n");
  auto h2 = v2.detect();
  s = h2.stats("/pod/c");
  REQUIRE(s);
  CHECK(s->has_cpu);
  CHECK(s->cpu_usage_ns == 7000);
  CHECK_FALSE(s->has_memory);
  CHECK(s->pids == 0);
}

TEST_CASE("v1 full stats add the cpu split, throttling, memory peaks and failures, swap and pids.max") {
  fake_tree t;
  make_v1(t);
  t.write("cpuacct/pod/c/cpuacct.usage", "2900000000\n");
  t.write("cpuacct/pod/c/cpuacct.stat", "user 250\nsystem 40\n");
  // cpu and cpuacct are mounted apart here: throttling is in the cpu one.
  t.write("cpu/pod/c/cpu.stat", "nr_periods 40\nnr_throttled 7\nthrottled_time 3500000000\nnr_bursts 0\n");
  t.write("memory/pod/c/memory.usage_in_bytes", "50000000\n");
  t.write("memory/pod/c/memory.stat",
          "cache 1\nrss 2\nmapped_file 3\npgfault 40\npgmajfault 4\nswap 5\n"
          "total_cache 30000000\ntotal_rss 15000000\ntotal_mapped_file 2000000\ntotal_swap 4096\n"
          "total_inactive_file 10000000\ntotal_pgfault 777\ntotal_pgmajfault 8\n");
  t.write("memory/pod/c/memory.max_usage_in_bytes", "60000000\n");
  t.write("memory/pod/c/memory.failcnt", "3\n");
  t.write("memory/pod/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  t.write("pids/pod/c/pids.current", "3\n");
  t.write("pids/pod/c/pids.max", "max\n");
  auto h = t.detect();

  // The stats RPCs' reading leaves every optional field alone.
  auto usage = h.stats("/pod/c");
  REQUIRE(usage);
  CHECK_FALSE(usage->cpu_time);
  CHECK_FALSE(usage->throttling);
  CHECK_FALSE(usage->memory_swap);
  CHECK_FALSE(usage->memory_max_usage);
  CHECK_FALSE(usage->memory_failcnt);
  CHECK_FALSE(usage->oom_kills);
  CHECK_FALSE(usage->pids_max);
  CHECK(usage->memory_cache == 30000000);
  CHECK(usage->memory_mapped_file == 2000000);
  CHECK(usage->own_page_faults == 40);
  CHECK(usage->own_major_page_faults == 4);

  auto s = h.stats("/pod/c", cg::stats_detail::full);
  INFO((s ? "" : s.error().message()));
  REQUIRE(s);
  CHECK(s->cpu_usage_ns == 2900000000);
  // cpuacct.stat counts USER_HZ ticks.
  const auto ns_per_tick = 1'000'000'000ULL / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
  REQUIRE(s->cpu_time);
  CHECK(s->cpu_time->user_ns == 250 * ns_per_tick);
  CHECK(s->cpu_time->system_ns == 40 * ns_per_tick);
  REQUIRE(s->throttling);
  CHECK(s->throttling->periods == 40);
  CHECK(s->throttling->throttled_periods == 7);
  CHECK(s->throttling->throttled_ns == 3500000000);
  CHECK(s->memory_swap == std::optional<std::uint64_t>(4096));
  CHECK(s->memory_max_usage == std::optional<std::uint64_t>(60000000));
  CHECK(s->memory_failcnt == std::optional<std::uint64_t>(3));
  CHECK(s->oom_kills == std::optional<std::uint64_t>(2));
  CHECK(s->has_pids);
  CHECK(s->pids == 3);
  CHECK(s->pids_max == std::optional<std::uint64_t>(0));  // "max"

  // A kernel without a file (no swap accounting, no oom_kill count) just
  // lacks that field; the rest is read.
  t.write("memory/pod/c/memory.stat", "total_inactive_file 0\n");
  fs::remove(t.root / "memory/pod/c/memory.oom_control");
  fs::remove(t.root / "cpu/pod/c/cpu.stat");
  t.write("pids/pod/c/pids.max", "512\n");
  s = h.stats("/pod/c", cg::stats_detail::full);
  REQUIRE(s);
  CHECK(s->has_memory);
  CHECK_FALSE(s->memory_swap);
  CHECK_FALSE(s->oom_kills);
  CHECK_FALSE(s->throttling);
  CHECK(s->memory_failcnt == std::optional<std::uint64_t>(3));
  CHECK(s->pids_max == std::optional<std::uint64_t>(512));
}

TEST_CASE("v2 full stats come from cpu.stat, memory.peak, memory.swap.current and memory.events") {
  fake_tree t;
  make_v2(t);
  t.write("unified/pod/c/cpu.stat",
          "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 12\nnr_throttled 5\n"
          "throttled_usec 1500000\n");
  t.write("unified/pod/c/memory.current", "30000000\n");
  t.write("unified/pod/c/memory.stat",
          "anon 12000000\nfile 16000000\nfile_mapped 3000000\ninactive_file 10000000\npgfault 999\n"
          "pgmajfault 4\n");
  t.write("unified/pod/c/memory.swap.current", "8192\n");
  t.write("unified/pod/c/memory.peak", "40000000\n");
  t.write("unified/pod/c/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
  t.write("unified/pod/c/pids.current", "2\n");
  auto h = t.detect();
  auto s = h.stats("/pod/c", cg::stats_detail::full);
  INFO((s ? "" : s.error().message()));
  REQUIRE(s);
  REQUIRE(s->cpu_time);
  CHECK(s->cpu_time->user_ns == 2000000000);
  CHECK(s->cpu_time->system_ns == 500000000);
  REQUIRE(s->throttling);
  CHECK(s->throttling->periods == 12);
  CHECK(s->throttling->throttled_periods == 5);
  CHECK(s->throttling->throttled_ns == 1500000000);
  CHECK(s->memory_cache == 16000000);
  CHECK(s->memory_mapped_file == 3000000);
  // v2 keeps no count of the cgroup's own faults apart.
  CHECK(s->own_page_faults == 999);
  CHECK(s->own_major_page_faults == 4);
  CHECK(s->memory_swap == std::optional<std::uint64_t>(8192));
  CHECK(s->memory_max_usage == std::optional<std::uint64_t>(40000000));
  CHECK_FALSE(s->memory_failcnt);  // v2 has none
  CHECK(s->oom_kills == std::optional<std::uint64_t>(1));
  CHECK(s->pids_max == std::optional<std::uint64_t>(0));  // make_v2 wrote "max"

  // Without the cpu controller cpu.stat has no throttling keys; a kernel
  // before memory.peak has no peak.
  fake_tree bare;
  make_v2(bare, "memory pids");
  bare.write("unified/pod/c/cpu.stat", "usage_usec 7\nuser_usec 5\nsystem_usec 2\n");
  bare.files("unified/pod/c", {"memory.current", "memory.stat", "memory.swap.current"}, "0\n");
  bare.write("unified/pod/c/memory.events", "oom_kill 0\n");
  auto hb = bare.detect();
  s = hb.stats("/pod/c", cg::stats_detail::full);
  REQUIRE(s);
  REQUIRE(s->cpu_time);
  CHECK(s->cpu_time->user_ns == 5000);
  CHECK_FALSE(s->throttling);
  CHECK_FALSE(s->memory_max_usage);
  CHECK(s->oom_kills == std::optional<std::uint64_t>(0));
}

TEST_CASE("cpu shares and v2 weights convert both ways") {
  CHECK(cg::cpu_weight_of_shares(1024) == 39);
  CHECK(cg::cpu_weight_of_shares(2) == 1);
  CHECK(cg::cpu_weight_of_shares(1) == 1);  // clamped to 2
  CHECK(cg::cpu_weight_of_shares(262144) == 10000);
  CHECK(cg::cpu_weight_of_shares(1000000) == 10000);
  CHECK(cg::cpu_weight_of_shares(512) == 20);
  for (std::uint64_t w : {1, 2, 20, 39, 100, 5000, 9999, 10000}) {
    INFO(w);
    CHECK(cg::cpu_weight_of_shares(cg::cpu_shares_of_weight(w)) == w);
    if (w > 1) CHECK(cg::cpu_weight_of_shares(cg::cpu_shares_of_weight(w) - 1) < w);
  }
}

TEST_CASE("device rules: v1 files, a v2 program on a real cgroup, else not enforced") {
  CHECK(cg::to_string({'c', 1, 3, "rwm"}) == "c 1:3 rwm");
  CHECK(cg::to_string({'c', 136, -1, "rwm"}) == "c 136:* rwm");
  CHECK(cg::to_string({'b', -1, -1, "m"}) == "b *:* m");
  const auto& defaults = cg::default_device_rules();
  CHECK(std::find(defaults.begin(), defaults.end(), cg::device_rule{'c', 1, 3, "rwm"}) != defaults.end());
  CHECK(std::find(defaults.begin(), defaults.end(), cg::device_rule{'a', -1, -1, "rwm"}) == defaults.end());

  fake_tree v1;
  v1.v1("devices");
  v1.files("devices/pod/c", {"devices.deny", "devices.allow"});
  auto h = v1.detect();
  auto limited = h.limit_devices("/pod/c", {{'c', 1, 3, "rwm"}, {'c', 10, 200, "rw"}});
  REQUIRE(limited);
  CHECK(*limited);
  CHECK(v1.read("devices/pod/c/devices.deny") == "a");
  // A plain file keeps the last write; the kernel's file adds each rule.
  CHECK(v1.read("devices/pod/c/devices.allow") == "c 10:200 rw");
  auto missing = h.limit_devices("/pod/other", {});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind() == error_kind::not_found);

  // Pure v2: the rules become a BPF program attached to the cgroup's
  // directory (device_program_test does that on real cgroups). A missing
  // cgroup is NOT_FOUND; a plain directory takes no program, and the error
  // names it.
  fake_tree v2;
  v2.v2("cpu memory pids");
  fs::create_directories(v2.root / "unified/pod/c");
  auto pure = v2.detect();
  auto v2_missing = pure.limit_devices("/pod/other", cg::default_device_rules());
  REQUIRE_FALSE(v2_missing);
  CHECK(v2_missing.error().kind() == error_kind::not_found);
  auto not_cgroup = pure.limit_devices("/pod/c", cg::default_device_rules());
  REQUIRE_FALSE(not_cgroup);
  CHECK(not_cgroup.error().message().find((v2.root / "unified/pod/c").string()) !=
        std::string::npos);

  // Neither a v1 devices hierarchy nor a unified one: nothing enforces
  // them, and the caller is told.
  fake_tree none;
  none.v1("memory");
  none.v1("pids");
  auto bare = none.detect();
  auto unenforced = bare.limit_devices("/pod/c", cg::default_device_rules());
  REQUIRE(unenforced);
  CHECK_FALSE(*unenforced);
}
