// The cgroups of this node, for real: a path made in every hierarchy, a
// process put into it shows there in /proc/PID/cgroup, v1 cpuset takes it
// (no ENOSPC), and removal leaves no dir. v2 controllers passed down are
// v2_controllers_test's (it needs a v2 hierarchy with controllers).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "real_cgroups.hpp"

using namespace cgroups_test;
namespace fs = std::filesystem;

namespace {

// A child that waits until told to go (or killed).
struct sleeper {
  pid_t pid = -1;
  int go = -1;
  sleeper() {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    pid = ::fork();
    if (pid == 0) {
      ::close(p[1]);
      char c;
      ssize_t n = ::read(p[0], &c, 1);
      ::_exit(n < 0 ? 1 : 0);
    }
    ::close(p[0]);
    go = p[1];
  }
  int reap() {
    int status = 0;
    if (pid > 0) ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
  ~sleeper() {
    if (go >= 0) ::close(go);
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      reap();
    }
  }
};

}  // namespace

TEST_CASE("a cgroup made in every hierarchy holds a process and goes away") {
  const auto& h = node();
  test_cgroup t(h);
  const std::string path = t.top + "/pod1/c1";

  auto procs = h.create(path, true);
  INFO((procs ? "" : procs.error().message()));
  REQUIRE(procs);
  REQUIRE(procs->size() == h.mounts().size());
  for (const auto& m : h.mounts()) CHECK(fs::is_directory(cg::hierarchy::dir_of(m, path)));

  // v1 cpuset: the new cgroup has cpus and mems to run on.
  for (const auto& m : h.mounts()) {
    if (m.unified) continue;
    if (std::find(m.controllers.begin(), m.controllers.end(), "cpuset") == m.controllers.end())
      continue;
    CHECK(read_file(cg::hierarchy::dir_of(m, path) + "/cpuset.cpus") != "\n");
    CHECK(read_file(cg::hierarchy::dir_of(m, path) + "/cpuset.mems") != "\n");
  }

  sleeper child;
  for (const auto& file : *procs) {
    INFO(file);
    std::ofstream out(file);
    out << child.pid;
    out.flush();
    CHECK(out.good());  // ENOSPC from an empty cpuset would show here
  }

  // Every line of /proc/PID/cgroup (one per hierarchy) names the path.
  std::istringstream lines(read_file("/proc/" + std::to_string(child.pid) + "/cgroup"));
  std::string line;
  size_t count = 0;
  while (std::getline(lines, line)) {
    INFO(line);
    CHECK(line.size() > path.size());
    CHECK(line.substr(line.size() - path.size() - 1) == ":" + path);
    ++count;
  }
  CHECK(count == h.mounts().size());

  auto pids = h.pids(path);
  REQUIRE(pids);
  CHECK(*pids == std::vector<pid_t>{child.pid});

  // Busy while the process lives: an error that names the dir.
  auto busy = h.remove(path);
  REQUIRE_FALSE(busy);
  CHECK(busy.error().message().find(path) != std::string::npos);

  REQUIRE(h.kill_all(path));
  int status = child.reap();
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  auto removed = h.remove(path);
  INFO((removed ? "" : removed.error().message()));
  REQUIRE(removed);
  for (const auto& m : h.mounts()) {
    CHECK_FALSE(fs::exists(cg::hierarchy::dir_of(m, path)));
    CHECK(fs::is_directory(cg::hierarchy::dir_of(m, t.top + "/pod1")));  // parents stay
  }

  REQUIRE(h.remove(t.top));
  CHECK_FALSE(t.exists_anywhere());
}

TEST_CASE("invalid cgroup paths are refused before touching any hierarchy") {
  const auto& h = node();
  for (const char* bad : {"ringcri-test", "/ringcri-test/../..", "/ringcri-test//x"}) {
    INFO(bad);
    auto procs = h.create(bad, true);
    REQUIRE_FALSE(procs);
    CHECK(procs.error().kind() == ringcri::error_kind::invalid_argument);
    CHECK(procs.error().message().find(bad) != std::string::npos);
  }
  CHECK_FALSE(h.remove("/"));
  CHECK_FALSE(h.kill_all("/"));
}
