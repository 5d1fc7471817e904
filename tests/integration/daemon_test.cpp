// The daemon as a user starts it: flags, config file, logs, signals.

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <fstream>

#include "support/ringcri_process.hpp"

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
