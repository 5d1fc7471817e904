// cpuset on this node's real cgroups: cpus asked for after create move the
// cgroup's process onto them. Its own binary: it exits 77 when no
// hierarchy has the cpuset controller.

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>
#include <string>

#include "real_cgroups.hpp"

using namespace cgroups_test;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t mib = 1 << 20;

}  // namespace

TEST_CASE("cpus asked for after create move the cgroup's process onto them") {
  const auto* cpuset = &mount_or_skip("cpuset");
  const auto& h = node();
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
