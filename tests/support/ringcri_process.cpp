#include "support/ringcri_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace ringcri::testing {

namespace fs = std::filesystem;

std::string ringcri_binary() {
  const char* bin = std::getenv("RINGCRI_BIN");
  if (!bin) throw std::runtime_error("RINGCRI_BIN is not set (run the tests through meson test)");
  return bin;
}

namespace {

// fork + exec ringcri with stderr on a pipe; returns {pid, read end}. With
// `log_fd`, stderr goes there instead (and the read end is -1). With
// `with_stdout`, stdout shares the pipe (a one-shot command's output).
// `listen_fd`: a listening socket passed as systemd's socket activation
// does (fd 3, LISTEN_FDS=1, LISTEN_PID).
std::pair<pid_t, int> spawn_ringcri(const std::vector<std::string>& args, int log_fd = -1,
                                    const std::vector<std::string>& env = {}, bool with_stdout = false,
                                    int listen_fd = -1) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::string bin = ringcri_binary();
  char listen_pid[64] = {};
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(log_fd >= 0 ? log_fd : p[1], 2);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(with_stdout ? p[1] : devnull, 1);
    // Nothing else of the test's: a daemon that outlives a killed test
    // must not hold its fds (the integration tests' lock file).
    if (listen_fd >= 0) {
      if (listen_fd == 3) ::fcntl(3, F_SETFD, 0);  // dup2 onto itself would keep FD_CLOEXEC
      else ::dup2(listen_fd, 3);
      ::close_range(4, ~0U, 0);
      std::snprintf(listen_pid, sizeof listen_pid, "LISTEN_PID=%d", static_cast<int>(::getpid()));
      ::putenv(listen_pid);
      ::putenv(const_cast<char*>("LISTEN_FDS=1"));
    } else {
      ::close_range(3, ~0U, 0);
    }
    std::vector<char*> argv{bin.data()};
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(p[1]);
  if (log_fd >= 0) {
    ::close(p[0]);
    return {pid, -1};
  }
  return {pid, p[0]};
}

}  // namespace

ringcri_process::ringcri_process(std::vector<std::string> extra, std::vector<std::string> env, int listen_fd)
    : dir_("ringcri-daemon"), extra_(std::move(extra)), env_(std::move(env)), listen_fd_(listen_fd) {
  start();
}

namespace {

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// A test that failed half-way may leave containers behind: the keeper of
// `state` and everything it holds are killed, the pod namespaces
// unmounted and the pod cgroups removed, so the next test starts clean.
void release_leftovers(const fs::path& dir, const fs::path& state) {
  std::ifstream lock(state / "keeper.lock");
  pid_t keeper = 0;
  lock >> keeper;
  if (keeper > 0 && alive(keeper)) {
    std::ifstream cmdline("/proc/" + std::to_string(keeper) + "/cmdline");
    std::string args((std::istreambuf_iterator<char>(cmdline)), {});
    if (args.find(state.string()) != std::string::npos) {
      std::error_code ec;
      for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(keeper) + "/task", ec)) {
        std::ifstream children(task.path() / "children");
        for (pid_t child; children >> child;) ::kill(child, SIGKILL);
      }
      ::kill(keeper, SIGKILL);
      for (int i = 0; i < 200 && alive(keeper); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::vector<std::string> mounts;
  std::ifstream info("/proc/self/mountinfo");
  for (std::string line; std::getline(info, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point.rfind(dir.string(), 0) == 0) mounts.push_back(point);
  }
  std::sort(mounts.rbegin(), mounts.rend());
  for (const auto& m : mounts) ::umount2(m.c_str(), MNT_DETACH);
  std::error_code ec;
  for (const auto& pod : fs::directory_iterator(state / "pods", ec)) {
    for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup", ec)) {
      fs::path cg = hierarchy.path() / "ringcri" / ("pod-" + pod.path().filename().string());
      std::error_code ignored;
      for (const auto& c : fs::directory_iterator(cg, ignored))
        if (c.is_directory(ignored)) ::rmdir(c.path().c_str());
      ::rmdir(cg.c_str());
      ::rmdir((hierarchy.path() / "ringcri").c_str());
    }
  }
}

}  // namespace

std::string sanitizer_reports(const fs::path& log_path) {
  std::ifstream in(log_path, std::ios::binary);
  std::string log((std::istreambuf_iterator<char>(in)), {});
  std::string found;
  for (const char* mark :
       {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: "}) {
    auto at = log.find(mark);
    if (at == std::string::npos) continue;
    auto start = log.rfind('\n', at);
    start = start == std::string::npos ? 0 : start + 1;
    found += log_path.string() + ":\n" + log.substr(start, 8000) + "\n";
  }
  return found;
}

ringcri_process::~ringcri_process() {
  if (pid_ > 0) kill();
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
  release_leftovers(dir(), state());
  // In a sanitizer build the daemon and the keeper write their reports to
  // their logs. A report may not stop them (UBSan goes on unless told to
  // halt) and a daemon that aborts on one shows the test only a broken
  // socket: the test binary aborts here, the report on its stderr. (Not a
  // Catch2 failure: the benchmarks link this file without Catch2.)
  std::string reports =
      sanitizer_reports(dir() / "ringcri.log") + sanitizer_reports(state() / "keeper.log");
  if (!reports.empty()) {
    std::fprintf(stderr, "sanitizer report from the daemon or its keeper:\n%s", reports.c_str());
    std::abort();
  }
}

void ringcri_process::start() {
  std::vector<std::string> args = {"--root", root().string(), "--state", state().string()};
  // No host config leaks into a test unless the test names one: not the
  // node's ringcri.toml, nor its CNI network (pods get loopback only).
  if (std::find(extra_.begin(), extra_.end(), "--config") == extra_.end()) {
    std::filesystem::create_directories(dir() / "net.d");
    std::ofstream config(dir() / "ringcri.toml");
    config << "[cni]\nconf_dir = \"" << (dir() / "net.d").string() << "\"\n";
    // The layer store a test suite runs on (meson runs the image tests on
    // each); unset: the daemon's default.
    if (const char* store = std::getenv("RINGCRI_LAYER_STORE"))
      config << "[image]\nlayer_store = \"" << store << "\"\n";
    args.push_back("--config");
    args.push_back((dir() / "ringcri.toml").string());
  }
  args.insert(args.end(), extra_.begin(), extra_.end());
  // The log goes to a file, never a pipe: a pipe nobody reads fills up
  // and blocks the daemon's logging (and with it a reactor).
  if (stderr_fd_ < 0) {
    stderr_fd_ = ::open((dir() / "ringcri.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (stderr_fd_ < 0) throw std::runtime_error("cannot open the daemon's log file");
  }
  struct stat st {};
  ::fstat(stderr_fd_, &st);
  log_start_ = static_cast<std::size_t>(st.st_size);
  pid_ = spawn_ringcri(args, stderr_fd_, env_, false, listen_fd_).first;
  if (!wait_for_log("msg=\"serving\""))
    throw std::runtime_error("ringcri did not start serving; its log:\n" + log());
}

std::string ringcri_process::layer_store() const {
  const std::string text = log();
  const std::string key = "msg=\"layer store\" kind=";
  auto at = text.rfind(key);
  if (at == std::string::npos) throw std::runtime_error("the daemon's log names no layer store");
  at += key.size();
  return text.substr(at, text.find(' ', at) - at);
}

std::filesystem::path ringcri_process::layers_dir() const {
  return root() / (layer_store() == "erofs" ? "erofs" : "layers");
}

std::filesystem::path ringcri_process::layer_path(const std::string& diff_id) const {
  const std::string hex = diff_id.substr(diff_id.find(':') + 1);
  const bool erofs = layer_store() == "erofs";
  return layers_dir() / "sha256" / (erofs ? hex + ".erofs" : hex);
}

std::string ringcri_process::log() const {
  std::ifstream in(dir() / "ringcri.log", std::ios::binary);
  in.seekg(static_cast<std::streamoff>(log_start_));
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

bool ringcri_process::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout,
                                   std::size_t from) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (log().find(needle, from) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int ringcri_process::stop() {
  int status = 0;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
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

int ringcri_process::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return status;
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::pair<int, std::string> run_ringcri(const std::vector<std::string>& args) {
  auto [pid, fd] = spawn_ringcri(args, -1, {}, true);
  std::string log;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) log.append(buf, n);
  ::close(fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {status, log};
}

}  // namespace ringcri::testing
