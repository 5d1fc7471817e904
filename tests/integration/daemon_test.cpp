// The daemon as a user starts it: flags, config file, logs, signals.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "support/cri_client.hpp"
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

TEST_CASE("under systemd the daemon says READY=1 once it serves and STOPPING=1 when it stops") {
  // What systemd's NOTIFY_SOCKET is: a unix datagram socket; the sender's
  // pid comes with each message (SCM_CREDENTIALS), as systemd checks it.
  temp_dir dir;
  const std::string path = (dir.path() / "notify").string();
  int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(sock >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  int on = 1;
  REQUIRE(::setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
  timeval wait{10, 0};
  REQUIRE(::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait) == 0);

  struct message {
    std::string text;
    pid_t from = 0;
  };
  auto receive = [&] {
    char buf[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    message out;
    ssize_t n = ::recvmsg(sock, &msg, 0);
    if (n < 0) return out;
    out.text.assign(buf, static_cast<std::size_t>(n));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
        out.from = reinterpret_cast<ucred*>(CMSG_DATA(c))->pid;
    return out;
  };

  ringcri_process d({}, {"NOTIFY_SOCKET=" + path});
  message ready = receive();
  CHECK_THAT(ready.text, Catch::Contains("READY=1") &&
                             Catch::Contains("STATUS=serving the CRI on " + d.socket().string()));
  const pid_t daemon_pid = d.pid();
  CHECK(ready.from == daemon_pid);
  int status = d.stop();
  CHECK(WIFEXITED(status));
  message stopping = receive();
  CHECK_THAT(stopping.text, Catch::Contains("STOPPING=1"));
  CHECK(stopping.from == daemon_pid);
  ::close(sock);
}

namespace {

namespace fs = std::filesystem;

// The inode /proc/<pid>/fd links name a socket by ("socket:[<inode>]").
ino_t inode_of_socket(int fd) {
  struct stat st {};
  ::fstat(fd, &st);
  return st.st_ino;
}

}  // namespace

TEST_CASE("socket activation: the daemon serves the CRI socket systemd made, and leaves it to systemd") {
  // As ringcri.socket has it: systemd makes and listens on the socket, and
  // passes it as fd 3 with LISTEN_FDS=1 and LISTEN_PID.
  temp_dir dir;
  const auto path = dir.path() / "activated.sock";
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 16) == 0);
  struct stat made {};
  REQUIRE(::stat(path.c_str(), &made) == 0);

  ringcri_process d({}, {}, listener);
  CHECK_THAT(d.log(), Catch::Contains("msg=\"serving\" socket=" + path.string() + " activated=true"));
  // Served on that socket, and no socket of its own.
  cri_client c(path);
  runtime::v1::VersionRequest req;
  runtime::v1::VersionResponse resp;
  auto st = c.runtime_call(&runtime::v1::RuntimeService::Stub::Version, req, &resp);
  INFO(st.error_message());
  CHECK(st.ok());
  CHECK(resp.runtime_name() == "ringcri");
  CHECK_FALSE(fs::exists(d.socket()));

  // The keeper it started holds no copy of the listening socket.
  std::ifstream lock(d.state() / "keeper.lock");
  pid_t keeper = 0;
  lock >> keeper;
  REQUIRE(keeper > 0);
  const std::string listening = "socket:[" + std::to_string(inode_of_socket(listener)) + "]";
  for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(keeper) + "/fd"))
    CHECK(fs::read_symlink(fd.path()).string() != listening);

  // Stopped, the daemon leaves systemd's socket file where it was.
  CHECK(WIFEXITED(d.stop()));
  struct stat after {};
  CHECK(::stat(path.c_str(), &after) == 0);
  CHECK(after.st_ino == made.st_ino);
  ::close(listener);
}
