#pragma once
// Shared by the tests that work on this node's real cgroups: the node's
// hierarchies (the binary exits 77 without root or cgroups), the test's own
// top cgroup removed at the end, and a child process to put into it.
//
// A case that needs a controller or file the node may lack lives in a
// binary of its own and exits 77 naming what is missing
// (ringcri::testing::skip_binary), so no case passes by doing nothing.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "exec/cgroups/hierarchy.hpp"
#include "support/skip.hpp"

namespace cgroups_test {

namespace cg = ringcri::exec::cgroups;
using ringcri::testing::skip_binary;

inline std::string read_file(const std::string& p) {
  std::ifstream in(p);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::string trimmed(const std::string& p) {
  std::string s = read_file(p);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

inline std::string message_of(const ringcri::result<void>& r) {
  return r ? "" : r.error().message();
}

// The node's hierarchies, detected once; the binary is skipped without
// root or without any cgroup hierarchy.
inline const cg::hierarchy& node() {
  static const cg::hierarchy h = [] {
    if (::geteuid() != 0) skip_binary("needs root to make cgroups");
    auto detected = cg::hierarchy::detect();
    if (!detected) skip_binary("no cgroups here: " + detected.error().message());
    std::printf("cgroup layout: %s, %zu hierarchies\n",
                std::string(cg::to_string(detected->kind())).c_str(), detected->mounts().size());
    return std::move(*detected);
  }();
  return h;
}

// The hierarchy that has `controller`; the binary is skipped when none has.
inline const cg::cgroup_mount& mount_or_skip(const std::string& controller) {
  const auto* m = node().mount_of(controller);
  if (m == nullptr) skip_binary("no hierarchy has the " + controller + " controller here");
  return *m;
}

inline std::string top_of_this_test() { return "/ringcri-test-" + std::to_string(::getpid()); }

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
  test_cgroup(const test_cgroup&) = delete;
  test_cgroup& operator=(const test_cgroup&) = delete;
  std::string unified_root() const { return cg::hierarchy::dir_of(*h.unified(), "/"); }
  bool exists_anywhere() const {
    for (const auto& m : h.mounts())
      if (std::filesystem::exists(cg::hierarchy::dir_of(m, top))) return true;
    return false;
  }
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
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
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

inline void say_ready(int fd) {
  if (::write(fd, "r", 1) != 1) ::_exit(1);
}

}  // namespace cgroups_test
