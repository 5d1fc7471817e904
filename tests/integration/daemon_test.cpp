// The daemon as a user starts it: flags, config file, logs, signals.

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

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

// The super options of the node's cgroup2 mount (the last field of its
// /proc/self/mountinfo line, ",opt,"-wrapped), or "" with no cgroup2.
std::string cgroup2_options() {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    auto dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string type, source, options;
    rest >> type >> source >> options;
    return "," + options + ",";
  }
  return "";
}

}  // namespace

TEST_CASE("the daemon switches on favordynmods on the cgroup2 hierarchy, keeping its other options") {
  auto before = cgroup2_options();
  if (before.empty()) return skip_case("the node mounts no cgroup2 hierarchy");
  ringcri_process d;
  if (d.log().find("favordynmods not set") != std::string::npos)
    return skip_case("this kernel does not take favordynmods (Linux 6.0+)");
  auto after = cgroup2_options();
  CHECK_THAT(after, Catch::Contains(",favordynmods,"));
  for (const char* kept : {",nsdelegate,", ",memory_recursiveprot,"})
    if (before.find(kept) != std::string::npos) CHECK_THAT(after, Catch::Contains(kept));
  if (before.find(",favordynmods,") == std::string::npos)
    CHECK_THAT(d.log(), Catch::Contains("msg=\"cgroup favordynmods switched on\""));
}

TEST_CASE("cgroup_favordynmods = false leaves the cgroup hierarchies alone") {
  temp_dir dir;
  auto file = dir.path() / "ringcri.toml";
  std::ofstream(file) << "cgroup_favordynmods = false\n";
  ringcri_process d({"--config", file.string()});
  CHECK_THAT(d.log(), Catch::Contains("favordynmods left as the node has it") &&
                          !Catch::Contains("favordynmods switched on"));
}
