// The keeper's own log file (rotating_log.hpp): the size cap and the old
// files kept, a file moved or truncated from outside, SIGHUP, and stderr
// following the current file. Checked from outside, by reading the files.

#include "exec/keeper/rotating_log.hpp"

#include <signal.h>
#include <spdlog/logger.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using ringcri::exec::keeper::reopen_on_sighup;
using ringcri::exec::keeper::rotating_log_options;
using ringcri::exec::keeper::rotating_log_sink;
using ringcri::testing::temp_dir;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

struct log_under_test {
  std::shared_ptr<rotating_log_sink> sink;
  std::shared_ptr<spdlog::logger> logger;

  explicit log_under_test(rotating_log_options options) {
    auto opened = rotating_log_sink::open(std::move(options));
    REQUIRE(opened);
    sink = *opened;
    logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_pattern("%v");
  }
  // "line <n> " padded with dots to `width` bytes, newline included.
  void line(int n, std::size_t width = 50) {
    std::string text = "line " + std::to_string(n) + " ";
    text.resize(width - 1, '.');
    logger->info(text);
  }
};

}  // namespace

TEST_CASE("past the cap the file becomes .1, the older ones move up, and the oldest is dropped") {
  temp_dir dir;
  const fs::path path = dir.path() / "keeper.log";
  log_under_test log({.path = path, .max_bytes = 1000, .keep = 3});
  for (int n = 0; n < 100; ++n) log.line(n);  // 5000 bytes: five files' worth

  for (const char* name : {"keeper.log", "keeper.log.1", "keeper.log.2", "keeper.log.3"}) {
    INFO(name);
    REQUIRE(fs::exists(dir.path() / name));
    CHECK(fs::file_size(dir.path() / name) <= 1000);
  }
  CHECK_FALSE(fs::exists(dir.path() / "keeper.log.4"));
  // Oldest to newest, the kept files are one run of lines ending with the last.
  auto kept = lines_of(slurp(dir.path() / "keeper.log.3") + slurp(dir.path() / "keeper.log.2") +
                       slurp(dir.path() / "keeper.log.1") + slurp(path));
  REQUIRE(kept.size() == 80);
  for (std::size_t i = 0; i < kept.size(); ++i)
    CHECK(kept[i].rfind("line " + std::to_string(20 + i) + " ", 0) == 0);
  CHECK(fs::file_size(dir.path() / "keeper.log.1") == 1000);  // 20 whole lines, none split
}

TEST_CASE("an existing file is appended to, and counts toward the cap") {
  temp_dir dir;
  const fs::path path = dir.path() / "keeper.log";
  std::ofstream(path) << std::string(979, 'x') << "\n";
  log_under_test log({.path = path, .max_bytes = 1000, .keep = 3});
  log.line(0);
  CHECK(fs::file_size(dir.path() / "keeper.log.1") == 980);
  CHECK(slurp(path).rfind("line 0 ", 0) == 0);
}

TEST_CASE("a line longer than the cap gets a file of its own") {
  temp_dir dir;
  const fs::path path = dir.path() / "keeper.log";
  log_under_test log({.path = path, .max_bytes = 100, .keep = 2});
  log.line(0);
  log.line(1, 300);
  log.line(2);
  CHECK(lines_of(slurp(dir.path() / "keeper.log.2")).size() == 1);
  CHECK(fs::file_size(dir.path() / "keeper.log.1") == 300);
  CHECK(slurp(path).rfind("line 2 ", 0) == 0);
}

TEST_CASE(
    "a file moved away goes on until the cap, then a new one starts and the moved one stays") {
  temp_dir dir;
  const fs::path path = dir.path() / "keeper.log";
  log_under_test log({.path = path, .max_bytes = 1000, .keep = 3});
  for (int n = 0; n < 10; ++n) log.line(n);
  fs::rename(path, dir.path() / "keeper.log-rotated");
  for (int n = 10; n < 25; ++n) log.line(n);
  CHECK(lines_of(slurp(dir.path() / "keeper.log-rotated")).size() == 20);
  CHECK(lines_of(slurp(path)).size() == 5);
  CHECK_FALSE(fs::exists(dir.path() / "keeper.log.1"));
}

TEST_CASE("after request_reopen the next line goes to a new file at the path") {
  temp_dir dir;
  const fs::path path = dir.path() / "keeper.log";
  log_under_test log({.path = path, .max_bytes = 1000, .keep = 3});
  log.line(0);
  fs::rename(path, dir.path() / "keeper.log-rotated");
  log.line(1);
  log.sink->request_reopen();
  log.line(2);
  CHECK(lines_of(slurp(dir.path() / "keeper.log-rotated")).size() == 2);
  CHECK(slurp(path).rfind("line 2 ", 0) == 0);
}

TEST_CASE("a file truncated from outside is written on from its new end, not rotated") {
  temp_dir dir;
  const fs::path path = dir.path() / "keeper.log";
  log_under_test log({.path = path, .max_bytes = 1000, .keep = 3});
  for (int n = 0; n < 18; ++n) log.line(n);
  fs::resize_file(path, 0);                   // logrotate's copytruncate
  for (int n = 18; n < 23; ++n) log.line(n);  // past the cap by the count of what was written
  CHECK_FALSE(fs::exists(dir.path() / "keeper.log.1"));
  auto lines = lines_of(slurp(path));
  REQUIRE(lines.size() == 5);
  CHECK(lines.front().rfind("line 18 ", 0) == 0);
}

namespace {

// Runs `body` in a child (it changes stdout, stderr and SIGHUP for good);
// true when it exited 0.
template <class F>
bool in_child(F body) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 1;
    try {
      code = body() ? 0 : 1;
    } catch (...) {
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

TEST_CASE("with as_stdio, stderr is always the current file, also after a rotation") {
  temp_dir dir;
  const fs::path path = dir.path() / "keeper.log";
  CHECK(in_child([&] {
    auto sink =
        rotating_log_sink::open({.path = path, .max_bytes = 100, .keep = 3, .as_stdio = true});
    if (!sink) return false;
    auto logger = std::make_shared<spdlog::logger>("test", *sink);
    logger->set_pattern("%v");
    logger->info(std::string(80, 'a'));
    logger->info(std::string(80, 'b'));  // rotates
    return ::write(STDERR_FILENO, "crash\n", 6) == 6 && ::write(STDOUT_FILENO, "out\n", 4) == 4;
  }));
  CHECK(slurp(path) == std::string(80, 'b') + "\ncrash\nout\n");
  CHECK(slurp(dir.path() / "keeper.log.1") == std::string(80, 'a') + "\n");
}

TEST_CASE("SIGHUP reopens the file: the next line goes to a new one at the path") {
  temp_dir dir;
  const fs::path path = dir.path() / "keeper.log";
  CHECK(in_child([&] {
    auto sink = rotating_log_sink::open({.path = path, .max_bytes = 1000, .keep = 3});
    if (!sink) return false;
    auto logger = std::make_shared<spdlog::logger>("test", *sink);
    logger->set_pattern("%v");
    if (!reopen_on_sighup(*sink)) return false;
    logger->info("before");
    fs::rename(path, dir.path() / "keeper.log-rotated");
    if (::raise(SIGHUP) != 0) return false;  // handled: the child lives on
    logger->info("after");
    return true;
  }));
  CHECK(slurp(dir.path() / "keeper.log-rotated") == "before\n");
  CHECK(slurp(path) == "after\n");
}
