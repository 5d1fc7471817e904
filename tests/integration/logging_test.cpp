// Where the daemon and its keeper log when run as a node service: the
// keeper's own log file stays under its size cap with three old files,
// and under systemd (stderr being the journal stream JOURNAL_STREAM names)
// both log through the journal's native protocol. The journal is a unix
// datagram socket of the test's, seen by the daemon at
// /run/systemd/journal/socket in a mount namespace of its own; the host's
// /run/systemd is never touched.

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/ringcri_process.hpp"
#include "support/skip.hpp"

using namespace ringcri::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A config with no host CNI network, and `extra` lines at the top.
fs::path write_config(const fs::path& dir, const std::string& extra) {
  fs::create_directories(dir / "net.d");
  std::ofstream(dir / "ringcri.toml")
      << extra << "[cni]\nconf_dir = \"" << (dir / "net.d").string() << "\"\n";
  return dir / "ringcri.toml";
}

pid_t keeper_pid(const fs::path& state) {
  std::ifstream lock(state / "keeper.lock");
  pid_t pid = 0;
  lock >> pid;
  return pid;
}

bool alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Connects to the keeper's socket and hangs up at once: the keeper logs
// "client connected" and "client disconnected" at info level, two lines
// each time.
bool knock(const fs::path& socket) {
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.c_str());
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The highest `client=N` the keeper logged in `text`.
int last_client(const std::string& text) {
  int last = 0;
  const std::string key = "client=";
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + 1))
    last = std::max(last, std::atoi(text.c_str() + at + key.size()));
  return last;
}

}  // namespace

TEST_CASE(
    "the keeper's log stays under keeper_log_max_bytes, three old files kept, stderr the current "
    "one") {
  temp_dir dir;
  const std::uint64_t cap = 4096;
  auto config = write_config(dir.path(), "keeper_log_max_bytes = " + std::to_string(cap) + "\n");
  ringcri_process d({"--config", config.string()});
  const fs::path log = d.state() / "keeper.log";
  REQUIRE(
      eventually([&] { return slurp(log).find("msg=\"client connected\"") != std::string::npos; }));
  const int before = last_client(slurp(log));

  // About 200 bytes of log a knock: 300 are 15 files' worth.
  const int knocks = 300;
  for (int i = 0; i < knocks; ++i) REQUIRE(knock(d.state() / "keeper.sock"));
  const std::string last =
      "msg=\"client disconnected\" client=" + std::to_string(before + knocks) + "\n";
  REQUIRE(eventually([&] { return slurp(log).find(last) != std::string::npos; }));

  CHECK(fs::file_size(log) <= cap);
  for (const char* name : {"keeper.log.1", "keeper.log.2", "keeper.log.3"}) {
    INFO(name);
    REQUIRE(fs::exists(d.state() / name));
    const auto size = fs::file_size(d.state() / name);
    CHECK(size <= cap);
    CHECK(size > cap - 200);  // rotated only once full: past the cap by less than a line
    CHECK_THAT(slurp(d.state() / name),
               Catch::Contains("component=keeper msg=\"client connected\""));
  }
  CHECK_FALSE(fs::exists(d.state() / "keeper.log.4"));
  // What the keeper (or a sanitizer in it) prints outside the logger lands
  // in the current file, not in one rotated away.
  const pid_t keeper = keeper_pid(d.state());
  REQUIRE(alive(keeper));
  std::error_code ec;
  CHECK(fs::read_symlink("/proc/" + std::to_string(keeper) + "/fd/2", ec) == log);
  CHECK(fs::read_symlink("/proc/" + std::to_string(keeper) + "/fd/1", ec) == log);
}

TEST_CASE(
    "SIGHUP makes the keeper reopen keeper.log after it was moved away, and does not end it") {
  temp_dir dir;
  ringcri_process d({"--config", write_config(dir.path(), "").string()});
  const fs::path log = d.state() / "keeper.log";
  REQUIRE(
      eventually([&] { return slurp(log).find("msg=\"client connected\"") != std::string::npos; }));
  const pid_t keeper = keeper_pid(d.state());
  REQUIRE(alive(keeper));

  const fs::path moved = d.state() / "keeper.log-moved";
  fs::rename(log, moved);
  REQUIRE(::kill(keeper, SIGHUP) == 0);
  const int next = last_client(slurp(moved)) + 1;
  REQUIRE(knock(d.state() / "keeper.sock"));
  const std::string line = "msg=\"client disconnected\" client=" + std::to_string(next);
  CHECK(eventually([&] { return slurp(log).find(line) != std::string::npos; }));
  CHECK_THAT(slurp(moved), !Catch::Contains(line));
  CHECK(alive(keeper));
  std::error_code ec;
  CHECK(fs::read_symlink("/proc/" + std::to_string(keeper) + "/fd/2", ec) == log);
}

namespace {

// One entry of the journal's native protocol: FIELD=value lines, or for a
// value with a newline FIELD\n, its length (64-bit little endian), the
// value and \n.
std::map<std::string, std::string> parse_entry(const std::string& d) {
  std::map<std::string, std::string> fields;
  std::size_t pos = 0;
  while (pos < d.size()) {
    auto nl = d.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string head = d.substr(pos, nl - pos);
    if (auto eq = head.find('='); eq != std::string::npos) {
      fields[head.substr(0, eq)] = head.substr(eq + 1);
      pos = nl + 1;
      continue;
    }
    if (nl + 9 > d.size()) break;
    std::uint64_t len = 0;
    std::memcpy(&len, d.data() + nl + 1, 8);
    if (nl + 9 + len > d.size()) break;
    fields[head] = d.substr(nl + 9, len);
    pos = nl + 9 + len + 1;
  }
  return fields;
}

// The journal's socket, bound under the test's directory, and a thread
// that takes every entry sent to it (the socket queues only a few: a
// sender that found it full would wait).
class journal_socket {
 public:
  explicit journal_socket(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", (dir / "socket").c_str());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval wait{0, 100'000};
    REQUIRE(::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait) == 0);
    reader_ = std::thread([this] {
      std::vector<char> buf(256 * 1024);
      while (!stop_) {
        ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
        if (n <= 0) continue;
        auto entry = parse_entry(std::string(buf.data(), static_cast<std::size_t>(n)));
        std::lock_guard lock(mutex_);
        entries_.push_back(std::move(entry));
      }
    });
  }
  ~journal_socket() {
    stop_ = true;
    reader_.join();
    ::close(fd_);
  }

  // The directory that holds `socket`: bind-mounted on /run/systemd/journal.
  const fs::path& dir() const { return dir_; }

  std::vector<std::map<std::string, std::string>> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

  // The first entry from `identifier` whose MESSAGE holds `needle`; empty
  // when none came within `limit`.
  std::map<std::string, std::string> wait_for(const std::string& identifier,
                                              const std::string& needle,
                                              std::chrono::milliseconds limit = 30s) const {
    std::map<std::string, std::string> found;
    eventually(
        [&] {
          for (const auto& e : entries()) {
            auto id = e.find("SYSLOG_IDENTIFIER");
            auto message = e.find("MESSAGE");
            if (id != e.end() && id->second == identifier && message != e.end() &&
                message->second.find(needle) != std::string::npos) {
              found = e;
              return true;
            }
          }
          return false;
        },
        limit);
    return found;
  }

 private:
  fs::path dir_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread reader_;
  mutable std::mutex mutex_;
  std::vector<std::map<std::string, std::string>> entries_;
};

// The daemon in a mount namespace of its own in which `journal`'s
// directory is /run/systemd/journal, its stderr the file `log`, and
// JOURNAL_STREAM naming `journal_stream_of` (a file's device and inode:
// the log's, or another's for a child that inherited it).
class namespaced_daemon {
 public:
  namespaced_daemon(const fs::path& dir, const fs::path& config, const journal_socket& journal,
                    const fs::path& journal_stream_of)
      : state_(dir / "state") {
    const std::string bin = ringcri_binary();
    std::vector<std::string> args = {
        bin,        "--root",       (dir / "root").string(), "--state", state_.string(),
        "--config", config.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    log_ = dir / "ringcri.log";
    int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    REQUIRE(log_fd >= 0);
    struct stat st {};
    REQUIRE(::stat(journal_stream_of.c_str(), &st) == 0);
    std::string stream =
        "JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    const std::string journal_dir = journal.dir().string();

    // The nearest of /run/systemd/journal, /run/systemd and /run that
    // exists gets a tmpfs (in the new namespace only), the missing
    // directories are made on it, and the journal directory is bound on
    // /run/systemd/journal.
    const char* mount_on = fs::is_directory("/run/systemd/journal") ? "/run/systemd/journal"
                           : fs::is_directory("/run/systemd")       ? "/run/systemd"
                                                                    : "/run";
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      if (::unshare(CLONE_NEWNS) != 0) ::_exit(77);
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(77);
      if (::mount("tmpfs", mount_on, "tmpfs", 0, "mode=0755") != 0) ::_exit(77);
      ::mkdir("/run/systemd", 0755);
      ::mkdir("/run/systemd/journal", 0755);
      if (::mount(journal_dir.c_str(), "/run/systemd/journal", nullptr, MS_BIND, nullptr) != 0)
        ::_exit(77);
      int null_fd = ::open("/dev/null", O_RDWR);
      ::dup2(null_fd, 0);
      ::dup2(null_fd, 1);
      ::dup2(log_fd, 2);
      ::putenv(stream.data());
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
  }

  ~namespaced_daemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    // With the daemon gone the keeper holds nothing and exits by itself;
    // one that does not is killed.
    const pid_t keeper = keeper_pid(state_);
    if (alive(keeper) && !eventually([&] { return !alive(keeper); }, 10s)) ::kill(keeper, SIGKILL);
  }

  // The wait status when the daemon ended, else -1.
  int exited() {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    return -1;
  }

  int stop() {
    int status = 0;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  std::string log() const { return slurp(log_); }
  const fs::path& state() const { return state_; }

 private:
  fs::path state_;
  fs::path log_;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE(
    "under systemd the daemon and its keeper log to the journal, as ringcri and ringcri-keeper") {
  temp_dir dir;
  journal_socket journal(dir.path() / "journal");
  namespaced_daemon d(dir.path(), write_config(dir.path(), ""), journal,
                      dir.path() / "ringcri.log");

  auto serving = journal.wait_for("ringcri", "msg=\"serving\"");
  if (serving.empty() && d.exited() == 77 << 8)
    return skip_case("cannot make a mount namespace with a journal socket in it (unshare, mount)");
  INFO("the daemon's stderr:\n" << d.log());
  REQUIRE_FALSE(serving.empty());
  CHECK(serving["MESSAGE"].rfind("msg=\"serving\" socket=", 0) == 0);
  CHECK(serving["PRIORITY"] == "6");
  auto keeper = journal.wait_for("ringcri-keeper", "msg=\"keeper started\"");
  REQUIRE_FALSE(keeper.empty());
  CHECK(keeper["PRIORITY"] == "6");
  CHECK_FALSE(journal.wait_for("ringcri-keeper", "msg=\"client connected\"").empty());

  // Nothing of either went to its file as well.
  CHECK_THAT(d.log(), !Catch::Contains("msg=\"serving\""));
  CHECK_THAT(slurp(d.state() / "keeper.log"), !Catch::Contains("msg="));

  int status = d.stop();
  CHECK(WIFEXITED(status));
  CHECK_FALSE(journal.wait_for("ringcri", "msg=\"stopped\"").empty());
}

TEST_CASE("a JOURNAL_STREAM that is not the daemon's stderr leaves its logs on stderr") {
  temp_dir dir;
  journal_socket journal(dir.path() / "journal");
  std::ofstream(dir.path() / "elsewhere") << "";
  namespaced_daemon d(dir.path(), write_config(dir.path(), ""), journal, dir.path() / "elsewhere");
  const bool serving =
      eventually([&] { return d.log().find("msg=\"serving\"") != std::string::npos; }, 30s);
  if (!serving && d.exited() == 77 << 8)
    return skip_case("cannot make a mount namespace with a journal socket in it (unshare, mount)");
  INFO("the daemon's stderr:\n" << d.log());
  REQUIRE(serving);
  CHECK(eventually([&] {
    return slurp(d.state() / "keeper.log").find("msg=\"keeper started\"") != std::string::npos;
  }));
  CHECK(journal.entries().empty());
}

TEST_CASE(
    "log_target = \"journald\" logs to the journal without JOURNAL_STREAM, and \"stderr\" never "
    "does") {
  temp_dir dir;
  journal_socket journal(dir.path() / "journal");
  std::ofstream(dir.path() / "elsewhere") << "";
  {
    namespaced_daemon d(dir.path(), write_config(dir.path(), "log_target = \"journald\"\n"),
                        journal, dir.path() / "elsewhere");
    auto serving = journal.wait_for("ringcri", "msg=\"serving\"");
    if (serving.empty() && d.exited() == 77 << 8)
      return skip_case(
          "cannot make a mount namespace with a journal socket in it (unshare, mount)");
    CHECK_FALSE(serving.empty());
    CHECK_FALSE(journal.wait_for("ringcri-keeper", "msg=\"keeper started\"").empty());
    d.stop();
  }
  temp_dir second;
  journal_socket quiet(second.path() / "journal");
  namespaced_daemon d(second.path(), write_config(second.path(), "log_target = \"stderr\"\n"),
                      quiet, second.path() / "ringcri.log");
  REQUIRE(eventually([&] { return d.log().find("msg=\"serving\"") != std::string::npos; }, 30s));
  CHECK(eventually([&] {
    return slurp(d.state() / "keeper.log").find("msg=\"keeper started\"") != std::string::npos;
  }));
  CHECK(quiet.entries().empty());
}
