// The daemon as a user starts it: flags, config file, logs, signals.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "support/ringcri_process.hpp"
#include "support/skip.hpp"

using namespace ringcri::testing;

TEST_CASE("the daemon starts with embedded defaults, logs its version, and stops on SIGTERM") {
  ringcri_process d({"--cores", "2"});
  CHECK_THAT(d.log(), Catch::Contains("msg=\"started\" version=") && Catch::Contains("reactors=2") &&
                          Catch::Contains("socket=" + d.socket().string()));
  int status = d.stop();
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(d.log(), Catch::Contains("signal=Terminated") && Catch::Contains("msg=\"stopped\""));
}

TEST_CASE("SIGINT stops the daemon cleanly too") {
  ringcri_process d;
  ::kill(d.pid(), SIGINT);
  int status = d.stop();  // SIGTERM after SIGINT is harmless: it is already stopping
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(d.log(), Catch::Contains("signal=Interrupt"));
}

TEST_CASE("a config file sets values, and flags override it") {
  temp_dir dir;
  auto file = dir.path() / "ringcri.toml";
  std::ofstream(file) << "cores = 1\nlog_level = \"debug\"\nroot = \"/nonexistent/overridden\"\n";
  ringcri_process d({"--config", file.string()});
  CHECK_THAT(d.log(), Catch::Contains("reactors=1") && Catch::Contains("root=" + d.root().string()));
}

TEST_CASE("a bad config file stops start-up with an error naming the file and key") {
  temp_dir dir;
  auto file = dir.path() / "bad.toml";
  std::ofstream(file) << "cores = 2\nsokcet = \"/x\"\n";
  auto [status, log] = run_ringcri({"--config", file.string()});
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_THAT(log, Catch::Contains(file.string()) && Catch::Contains("unknown key 'sokcet'"));
}

TEST_CASE("--version exits at once with success") {
  auto [status, log] = run_ringcri({"--version"});
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

namespace {

// The node's cgroup2 mount: its mount point and its super options (the
// last field of its /proc/self/mountinfo line, ",opt,"-wrapped); empty
// with no cgroup2.
struct cgroup2_mount {
  std::string point, options;
};

cgroup2_mount find_cgroup2() {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    auto dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), rest(line.substr(dash + 3));
    std::string id, parent, device, root, point, type, source, options;
    head >> id >> parent >> device >> root >> point;
    rest >> type >> source >> options;
    return {point, "," + options + ","};
  }
  return {};
}

// Reconfigures the hierarchy with its options but favordynmods, so that
// the daemon has it to switch on. False if the kernel refuses.
bool switch_off_favordynmods(const cgroup2_mount& m) {
  int fs = ::fspick(AT_FDCWD, m.point.c_str(), FSPICK_CLOEXEC);
  if (fs < 0) return false;
  bool ok = true;
  std::istringstream words(m.options.substr(1));
  for (std::string opt; ok && std::getline(words, opt, ',');)
    if (!opt.empty() && opt != "rw" && opt != "ro" && opt != "favordynmods")
      ok = ::fsconfig(fs, FSCONFIG_SET_FLAG, opt.c_str(), nullptr, 0) == 0;
  ok = ok && ::fsconfig(fs, FSCONFIG_CMD_RECONFIGURE, nullptr, nullptr, 0) == 0;
  ::close(fs);
  return ok;
}

}  // namespace

TEST_CASE("the daemon switches on favordynmods on the cgroup2 hierarchy, keeping its other options") {
  auto before = find_cgroup2();
  if (before.point.empty()) return skip_case("the node mounts no cgroup2 hierarchy");
  if (!switch_off_favordynmods(before))
    return skip_case("cannot reconfigure the cgroup2 hierarchy here (fspick, fsconfig)");
  REQUIRE_THAT(find_cgroup2().options, !Catch::Contains(",favordynmods,"));
  ringcri_process d;
  if (d.log().find("favordynmods not set") != std::string::npos)
    return skip_case("this kernel does not take favordynmods (Linux 6.0+)");
  auto after = find_cgroup2().options;
  CHECK_THAT(after, Catch::Contains(",favordynmods,"));
  for (const char* kept : {",nsdelegate,", ",memory_recursiveprot,"})
    if (before.options.find(kept) != std::string::npos) CHECK_THAT(after, Catch::Contains(kept));
  // (Not "switched on" in its log: a daemon of a test running beside this
  // one may have switched it on first.)
}

TEST_CASE("cgroup_favordynmods = false leaves the cgroup hierarchies alone") {
  temp_dir dir;
  auto file = dir.path() / "ringcri.toml";
  std::ofstream(file) << "cgroup_favordynmods = false\n";
  ringcri_process d({"--config", file.string()});
  CHECK_THAT(d.log(), Catch::Contains("favordynmods left as the node has it") &&
                          !Catch::Contains("favordynmods switched on"));
}
