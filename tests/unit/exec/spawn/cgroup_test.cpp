// A container joins the cgroups its spec names, in every kind of hierarchy
// the node has (a v1 one and the unified one: v1, hybrid or pure v2), and
// sees itself at the root of its own cgroup namespace. Its own binary: it
// needs a cgroup hierarchy to make a cgroup in, and exits 77 without one.

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "exec/cgroups/hierarchy.hpp"
#include "exec/spawn/mounts.hpp"
#include "spawn_fixture.hpp"
#include "support/skip.hpp"

using namespace ringcri::exec;
using namespace spawn_test;
namespace cg = ringcri::exec::cgroups;

namespace {

// One v1 hierarchy (pids when there is one) and the unified one, as found
// in this process's mountinfo.
std::vector<const cg::cgroup_mount*> hierarchies_to_join(const cg::hierarchy& h) {
  std::vector<const cg::cgroup_mount*> out;
  const cg::cgroup_mount* v1 = nullptr;
  for (const auto& m : h.mounts()) {
    if (m.unified) continue;
    if (v1 == nullptr || h.mount_of("pids") == &m) v1 = &m;
  }
  if (v1 != nullptr) out.push_back(v1);
  if (h.unified() != nullptr) out.push_back(h.unified());
  return out;
}

}  // namespace

TEST_CASE("the process joins its cgroups, then sees itself at the root of its cgroup namespace",
          "[spawn]") {
  skip_unless_able();
  auto h = cg::hierarchy::detect();
  if (!h) ringcri::testing::skip_binary("no cgroup hierarchy here: " + h.error().message());
  const auto joined = hierarchies_to_join(*h);
  if (joined.empty()) ringcri::testing::skip_binary("no cgroup hierarchy is mounted here");

  image img;
  const std::string name = "/ringcri-spawn-test-" + std::to_string(::getpid());
  std::vector<std::string> dirs;
  for (const auto* m : joined) {
    std::string d = cg::hierarchy::dir_of(*m, name);
    INFO(d);
    REQUIRE(::mkdir(d.c_str(), 0755) == 0);
    dirs.push_back(d);
  }
  auto spec = default_spec(img.rootfs("cgroup"), {"sleep", "1000"});
  for (const auto& d : dirs) spec.cgroup_procs.push_back(d + "/cgroup.procs");
  child c = start(spec);
  for (const auto& d : dirs) {
    INFO(d);
    CHECK(read_file(d + "/cgroup.procs") == std::to_string(c.pid) + "\n");
  }
  // One line per hierarchy in /proc/<pid>/cgroup, each naming the cgroup.
  const std::string seen = read_file("/proc/" + std::to_string(c.pid) + "/cgroup");
  for (const auto* m : joined) {
    INFO(seen);
    std::string controllers;
    for (const auto& c : m->controllers) controllers += (controllers.empty() ? "" : ",") + c;
    const std::string line_end = ":" + controllers + ":" + name + "\n";
    CHECK(seen.find(line_end) != std::string::npos);
  }
  kill_and_reap(c);

  spec.rootfs = img.rootfs("cgroup2");
  spec.process.args = {"cat", "/proc/self/cgroup"};
  auto r = run(spec);
  INFO(r.created.message);
  CHECK(r.exit.code == 0);
  CHECK(r.out.find("ringcri-spawn-test") == std::string::npos);
  for (const auto& d : dirs) CHECK(::rmdir(d.c_str()) == 0);
}

TEST_CASE("its /sys/fs/cgroup shows its own v1 cgroup, bound from the node's hierarchy, read-only",
          "[spawn]") {
  skip_unless_able();
  auto h = cg::hierarchy::detect();
  if (!h) ringcri::testing::skip_binary("no cgroup hierarchy here: " + h.error().message());
  const cg::cgroup_mount* v1 = nullptr;
  for (const auto* m : hierarchies_to_join(*h))
    if (!m->unified) v1 = m;
  if (v1 == nullptr) ringcri::testing::skip_binary("no cgroup v1 hierarchy here");

  image img;
  const std::string name = "/ringcri-spawn-tree-" + std::to_string(::getpid());
  const std::string dir = cg::hierarchy::dir_of(*v1, name);
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  std::string controllers;
  for (const auto& c : v1->controllers) controllers += (controllers.empty() ? "" : ",") + c;
  const std::string dir_name = v1->mount_point.substr(v1->mount_point.rfind('/') + 1);
  cgroup_hierarchy_spec hierarchy{dir_name, "cgroup", controllers, v1->mount_point, v1->root};

  // The clone is made only for a v1 hierarchy that names its mount point.
  {
    cgroup_hierarchy_spec anew = hierarchy;
    anew.mount_point.clear();
    auto dirs = spawn_detail::clone_cgroup_dirs({hierarchy, anew});
    INFO((dirs ? "" : dirs.error().message()));
    REQUIRE(dirs);
    CHECK((*dirs)[0]);
    CHECK(!(*dirs)[1]);
  }

  auto spec = default_spec(img.rootfs("tree"),
                           {"sh", "-c",
                            "read -r first < /sys/fs/cgroup/" + dir_name + "/cgroup.procs; echo $first; ls /sys/fs/cgroup/" +
                                dir_name + " | grep -c ringcri-spawn; mkdir /sys/fs/cgroup/" + dir_name +
                                "/x 2>/dev/null || echo refused"});
  spec.cgroup_procs = {dir + "/cgroup.procs"};
  spec.cgroup_hierarchies = {hierarchy};
  spec.mounts.push_back({"/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid", "nodev", "noexec"}});
  auto r = run(spec);
  INFO(r.created.message << r.started.message << r.err);
  CHECK(r.exit.code == 0);
  // Itself, pid 1 of its pid namespace, at the root; no other cgroup of
  // the node; nothing made through it.
  CHECK(r.out == "1\n0\nrefused\n");
  CHECK(!std::filesystem::exists(dir + "/x"));
  CHECK(::rmdir(dir.c_str()) == 0);
}
