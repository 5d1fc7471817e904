#include "support/ringcri_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace ringcri::testing {

namespace fs = std::filesystem;

temp_dir::temp_dir(const char* prefix) {
  std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ringcri_binary() {
  const char* bin = std::getenv("RINGCRI_BIN");
  if (!bin) throw std::runtime_error("RINGCRI_BIN is not set (run the tests through meson test)");
  return bin;
}

namespace {

// fork + exec ringcri with stderr on a pipe; returns {pid, read end}.
std::pair<pid_t, int> spawn_ringcri(const std::vector<std::string>& args) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::string bin = ringcri_binary();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(p[1], 2);
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    std::vector<char*> argv{bin.data()};
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(p[1]);
  return {pid, p[0]};
}

}  // namespace

ringcri_process::ringcri_process(std::vector<std::string> extra)
    : dir_("ringcri-daemon"), extra_(std::move(extra)) {
  start();
}

ringcri_process::~ringcri_process() {
  if (pid_ > 0) kill();
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
}

void ringcri_process::start() {
  std::vector<std::string> args = {"--root", root().string(), "--state", state().string()};
  // No host config leaks into a test unless the test names one.
  if (std::find(extra_.begin(), extra_.end(), "--config") == extra_.end()) {
    args.push_back("--config");
    args.push_back("/dev/null");
  }
  args.insert(args.end(), extra_.begin(), extra_.end());
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
  log_.clear();
  std::tie(pid_, stderr_fd_) = spawn_ringcri(args);
  if (!wait_for_log("msg=\"serving\""))
    throw std::runtime_error("ringcri did not start serving; its log:\n" + log_);
}

bool ringcri_process::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout,
                                   std::size_t from) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (log_.find(needle, from) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{stderr_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    ssize_t n = ::read(stderr_fd_, buf, sizeof buf);
    if (n <= 0) return log_.find(needle, from) != std::string::npos;
    log_.append(buf, n);
  }
  return true;
}

int ringcri_process::stop() {
  int status = 0;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  char buf[4096];
  for (ssize_t n; (n = ::read(stderr_fd_, buf, sizeof buf)) > 0;) log_.append(buf, n);
  return status;
}

void ringcri_process::kill() {
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void ringcri_process::restart() {
  if (pid_ > 0) stop();
  start();
}

std::pair<int, std::string> run_ringcri(const std::vector<std::string>& args) {
  auto [pid, fd] = spawn_ringcri(args);
  std::string log;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) log.append(buf, n);
  ::close(fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {status, log};
}

}  // namespace ringcri::testing
