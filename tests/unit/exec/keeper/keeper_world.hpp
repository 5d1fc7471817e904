#pragma once
// Shared by the keeper's end-to-end tests: a busybox image, a state dir,
// the keeper_host binary the client starts, and checks made from outside
// (log files, /proc). Needs root, overlayfs and /bin/busybox (static);
// world's constructor exits 77 with the reason otherwise.

#include <sys/types.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "exec/keeper/client.hpp"
#include "exec/spec.hpp"
#include "reactor/ops.hpp"
#include "reactor/task.hpp"

namespace keeper_test {

namespace fs = std::filesystem;
namespace io = ringcri::reactor;
namespace keeper = ringcri::exec::keeper;
using namespace std::chrono_literals;

std::string slurp(const fs::path& p);

// A zombie (not yet reaped by whoever adopted it) counts as gone.
bool process_gone(pid_t pid);

// Waits (bounded, to never hang the suite) until `done` holds.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    ::usleep(10'000);
  }
  return true;
}

template <class F>
io::task<bool> eventually_async(F done, std::chrono::milliseconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    co_await io::sleep_for(10ms);
  }
  co_return true;
}

// One test's world: a busybox image, a state dir, and the keeper it starts.
class world {
 public:
  world();
  ~world();
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  pid_t keeper_pid() const;
  std::string keeper_log() const;

  ringcri::exec::container_spec spec(const std::string& id, std::vector<std::string> args) const;
  ringcri::exec::exec_spec exec_spec(const std::string& id, std::vector<std::string> args) const;

  keeper::options opts;

 private:
  fs::path dir_;
};

struct exits {
  std::vector<keeper::exit_status> seen;
  const keeper::exit_status* find(const std::string& id) const;
};

// A client of the world's keeper (started if none runs); exits go to `ex`.
io::task<std::unique_ptr<keeper::client>> connect(const keeper::options& opts, exits* ex);

// "stdout F hello" for each line of a CRI log, after checking the format.
std::vector<std::string> log_lines(const fs::path& path);

bool contains(const std::vector<std::string>& v, const std::string& s);

}  // namespace keeper_test
