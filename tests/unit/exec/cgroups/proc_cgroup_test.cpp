// Finding a process's v1 cgroup in /proc/<pid>/cgroup text. No root and no
// real cgroup is touched, but the last case reads this process's own file.

#include <catch2/catch.hpp>

#include "exec/cgroups/proc_cgroup.hpp"

namespace cg = ringcri::exec::cgroups;

namespace {
const char* const hybrid =
    "13:pids:/ringcri/pod1/c1\n"
    "12:hugetlb:/\n"
    "4:cpu,cpuacct:/ringcri/pod1/c1\n"
    "1:name=systemd:/user.slice/session-1.scope\n"
    "0::/ringcri/pod1/c1\n";
}  // namespace

TEST_CASE("v1_cgroup_in finds a hierarchy by its set of controllers") {
  CHECK(cg::v1_cgroup_in(hybrid, "pids") == "/ringcri/pod1/c1");
  CHECK(cg::v1_cgroup_in(hybrid, "cpu,cpuacct") == "/ringcri/pod1/c1");
  CHECK(cg::v1_cgroup_in(hybrid, "cpuacct,cpu") == "/ringcri/pod1/c1");  // a set, not a list
  CHECK(cg::v1_cgroup_in(hybrid, "none,name=systemd") == "/user.slice/session-1.scope");
  CHECK(cg::v1_cgroup_in(hybrid, "hugetlb") == "/");
  // Not there, a part of a hierarchy only, or v2's line: nothing.
  CHECK(cg::v1_cgroup_in(hybrid, "memory").empty());
  CHECK(cg::v1_cgroup_in(hybrid, "cpu").empty());
  CHECK(cg::v1_cgroup_in(hybrid, "").empty());
  CHECK(cg::v1_cgroup_in("garbage\n:\n", "pids").empty());
}

TEST_CASE("read_own_cgroups reads this process's cgroups") {
  auto text = cg::read_own_cgroups();
  REQUIRE(text);
  CHECK(text->find(':') != std::string::npos);
}
