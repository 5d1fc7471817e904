// kill_all the v1 way (freezer), on this node's hierarchies seen without
// the unified one: a cgroup whose processes keep forking ends empty.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "exec/cgroups/hierarchy.hpp"

namespace cg = ringcri::exec::cgroups;

namespace {

std::string read_file(const std::string& p) {
  std::ifstream in(p);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TEST_CASE("kill_all on v1 freezes, kills every process of the cgroup, even one that forks, and thaws") {
  if (::geteuid() != 0) {
    std::printf("SKIP: needs root to make cgroups\n");
    std::exit(77);
  }
  auto full = cg::hierarchy::detect();
  REQUIRE(full);
  // This node seen without its unified hierarchy: no cgroup.kill, so the
  // v1 way is the one taken.
  std::ifstream mi("/proc/self/mountinfo");
  std::string text, line;
  while (std::getline(mi, line))
    if (line.find(" - cgroup2 ") == std::string::npos) text += line + "\n";
  auto v1 = cg::hierarchy::detect_from(text);
  if (!v1 || !v1->mount_of("freezer")) {
    std::printf("SKIP: no v1 freezer hierarchy here\n");
    std::exit(77);
  }
  struct remove_top {
    const cg::hierarchy& h;
    std::string top = "/ringcri-test-kill-" + std::to_string(::getpid());
    ~remove_top() {
      (void)h.kill_all(top);
      (void)h.remove(top);
    }
  } t{*full};
  const std::string path = t.top + "/forker";
  auto procs = v1->create(path);
  REQUIRE(procs);

  // A process that keeps forking children that keep forking.
  pid_t pid = ::fork();
  if (pid == 0) {
    for (const auto& p : *procs) std::ofstream(p) << "0";
    for (int i = 0; i < 200; ++i) {
      if (::fork() == 0) continue;  // the child goes on forking too, up to the bound
      ::usleep(1000);
    }
    ::pause();
    ::_exit(0);
  }
  bool many = false;
  for (int i = 0; i < 2000 && !many; ++i) {
    auto listed = v1->pids(path);
    many = listed && listed->size() > 8;
    if (!many) ::usleep(1000);
  }
  REQUIRE(many);

  REQUIRE(v1->kill_all(path));
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  bool empty = false;
  for (int i = 0; i < 5000 && !empty; ++i) {
    auto listed = v1->pids(path);
    empty = listed && listed->empty();
    if (!empty) ::usleep(1000);
  }
  CHECK(empty);
  auto freezer = v1->mount_of("freezer");
  CHECK(read_file(cg::hierarchy::dir_of(*freezer, path) + "/freezer.state") == "THAWED\n");
  REQUIRE(v1->remove(path));
}
