// The daemon as a user starts it: flags, config file, logs, signals.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const char* ringcri_bin() {
  const char* bin = std::getenv("RINGCRI_BIN");
  REQUIRE(bin != nullptr);
  return bin;
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/ringcri-daemon-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~temp_dir() { fs::remove_all(path); }
};

// A ringcri process with its stderr captured.
struct daemon_process {
  pid_t pid = -1;
  int err = -1;
  std::string log;

  explicit daemon_process(std::vector<std::string> args) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(p[1], 2);
      std::vector<char*> argv;
      std::string bin = ringcri_bin();
      argv.push_back(bin.data());
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(p[1]);
    err = p[0];
  }

  ~daemon_process() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    ::close(err);
  }

  // Reads stderr until `needle` appears or `timeout` passes.
  bool wait_for_log(const std::string& needle, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (log.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{err, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      ssize_t n = ::read(err, buf, sizeof buf);
      if (n <= 0) return log.find(needle) != std::string::npos;
      log.append(buf, n);
    }
    return true;
  }

  int wait_exit() {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    pid = -1;
    char buf[4096];
    for (ssize_t n; (n = ::read(err, buf, sizeof buf)) > 0;) log.append(buf, n);
    return status;
  }
};

}  // namespace

TEST_CASE("the daemon starts with embedded defaults, logs its version, and stops on SIGTERM") {
  temp_dir dir;
  daemon_process d({"--root", (dir.path / "root").string(), "--state", (dir.path / "state").string(),
                    "--config", "/dev/null", "--cores", "2"});
  REQUIRE(d.wait_for_log("msg=\"started\""));
  CHECK_THAT(d.log, Catch::Contains("version=") && Catch::Contains("reactors=2") &&
                        Catch::Contains("socket=" + (dir.path / "state" / "ringcri.sock").string()));
  REQUIRE(::kill(d.pid, SIGTERM) == 0);
  int status = d.wait_exit();
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(d.log, Catch::Contains("signal=Terminated") && Catch::Contains("msg=\"stopped\""));
}

TEST_CASE("SIGINT stops the daemon cleanly too") {
  temp_dir dir;
  daemon_process d({"--root", (dir.path / "root").string(), "--state", (dir.path / "state").string(),
                    "--config", "/dev/null"});
  REQUIRE(d.wait_for_log("msg=\"started\""));
  REQUIRE(::kill(d.pid, SIGINT) == 0);
  int status = d.wait_exit();
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a config file sets values, and flags override it") {
  temp_dir dir;
  auto file = dir.path / "ringcri.toml";
  std::ofstream(file) << "cores = 1\nlog_level = \"debug\"\nstate = \"" << (dir.path / "st").string()
                      << "\"\nroot = \"" << (dir.path / "rt").string() << "\"\n";
  daemon_process d({"--config", file.string(), "--root", (dir.path / "flag-root").string()});
  REQUIRE(d.wait_for_log("msg=\"started\""));
  CHECK_THAT(d.log, Catch::Contains("reactors=1") &&
                        Catch::Contains("root=" + (dir.path / "flag-root").string()) &&
                        Catch::Contains("state=" + (dir.path / "st").string()));
  ::kill(d.pid, SIGTERM);
  d.wait_exit();
}

TEST_CASE("a bad config file stops start-up with an error naming the file and key") {
  temp_dir dir;
  auto file = dir.path / "bad.toml";
  std::ofstream(file) << "cores = 2\nsokcet = \"/x\"\n";
  daemon_process d({"--config", file.string()});
  int status = d.wait_exit();
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_THAT(d.log, Catch::Contains(file.string()) && Catch::Contains("unknown key 'sokcet'"));
}

TEST_CASE("--version prints the version and exits") {
  daemon_process d({"--version"});
  // CLI11 prints the version on stdout; only the exit status is ours to check here.
  int status = d.wait_exit();
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
