// The spawn tests' rootfs, spec and keeper-like helpers.

#include "spawn_fixture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace ringcri::exec;

namespace spawn_test {

void skip_unless_able() {
  auto skip = [](const char* why) {
    std::printf("SKIP: %s\n", why);
    std::fflush(stdout);
    std::_Exit(77);
  };
  if (::geteuid() != 0) skip("the spawn engine's tests need root");
  if (read_file("/proc/filesystems").find("\toverlay\n") == std::string::npos)
    skip("overlayfs is not available");
  if (::access("/bin/busybox", X_OK) != 0) skip("no /bin/busybox (Debian's busybox-static)");
}

temp_dir::temp_dir() {
  char tmpl[] = "/tmp/ringcri-spawn-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
}

image::image() {
  const std::string b = bottom(), t = top();
  for (const char* d : {"/bin", "/etc/secretdir", "/proc", "/sys", "/dev", "/data", "/tmp"})
    fs::create_directories(b + d);
  fs::permissions(b + "/tmp", fs::perms::all | fs::perms::sticky_bit);
  fs::create_directories(t + "/etc");
  // A hard link costs nothing on the same file system; copy otherwise.
  if (::link("/bin/busybox", (b + "/bin/busybox").c_str()) != 0)
    fs::copy_file("/bin/busybox", b + "/bin/busybox");
  for (const char* applet : {"sh", "cat", "echo", "id", "sleep", "ls", "hostname", "mount", "env",
                             "pwd", "mkdir", "touch", "readlink", "true", "false", "grep"})
    fs::create_symlink("busybox", b + "/bin/" + applet);
  write_file(b + "/etc/passwd",
             "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n");
  write_file(b + "/etc/group", "root:x:0:\nwheel:x:10:\naudio:x:29:\nuser:x:1000:\n");
  write_file(b + "/etc/layer", "bottom\n");
  write_file(b + "/etc/bottom-only", "from bottom\n");
  write_file(b + "/etc/secret", "secret\n");
  write_file(b + "/etc/secretdir/file", "secret\n");
  write_file(t + "/etc/layer", "top\n");
}

rootfs_spec image::rootfs(const std::string& name) const {
  rootfs_spec r;
  r.lowers = {top(), bottom()};
  const std::string base = dir() + "/containers/" + name;
  r.upper = base + "/upper";
  r.work = base + "/work";
  r.target = base + "/rootfs";
  for (const std::string& d : {r.upper, r.work, r.target}) fs::create_directories(d);
  return r;
}

std::vector<std::string> docker_default_caps() {
  return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
          "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
          "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

container_spec default_spec(const rootfs_spec& rootfs, std::vector<std::string> args) {
  container_spec s;
  s.id = "c0ffee";
  s.rootfs = rootfs;
  s.process.args = std::move(args);
  s.process.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  auto caps = docker_default_caps();
  s.process.capabilities = {caps, caps, caps, {}, {}};
  s.namespaces = {{"mount", ""}, {"pid", ""}, {"network", ""},
                  {"ipc", ""},   {"uts", ""}, {"cgroup", ""}};
  s.mounts = {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
  };
  s.devices = {
      {"/dev/null", 'c', 1, 3, 0666, 0, 0},    {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
      {"/dev/full", 'c', 1, 7, 0666, 0, 0},    {"/dev/random", 'c', 1, 8, 0666, 0, 0},
      {"/dev/urandom", 'c', 1, 9, 0666, 0, 0}, {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
  };
  return s;
}

report wait_report(int report_fd) {
  for (;;) {
    auto r = read_report(report_fd);
    REQUIRE(r);
    if (r->kind != report_kind::not_yet) return *r;
    pollfd p{report_fd, POLLIN, 0};
    ::poll(&p, 1, -1);
  }
}

report wait_exec(child& x) {
  auto first = wait_report(x.report.get());
  if (first.kind != report_kind::spawned) return first;
  // As the keeper does: reap the first child, hold the second (our child
  // too) by a pidfd of its own.
  CHECK(reap(x.pidfd.get()).code == 0);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, first.pid, 0));
  REQUIRE(pidfd >= 0);
  x.pidfd.reset(pidfd);
  x.pid = first.pid;
  return wait_report(x.report.get());
}

exit_info reap(int pidfd) {
  siginfo_t info{};
  int rc;
  do {
    rc = ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
  } while (rc < 0 && errno == EINTR);
  REQUIRE(rc == 0);
  exit_info e;
  if (info.si_code == CLD_EXITED)
    e.code = info.si_status;
  else
    e.signal = info.si_status;
  return e;
}

pipe_pair make_pipe() {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  return {ringcri::unique_fd(fds[0]), ringcri::unique_fd(fds[1])};
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

run_result run(const container_spec& spec, int rootfs_mount, int mount_base) {
  auto out = make_pipe(), err = make_pipe();
  run_result r;
  auto c = clone_container(spec, stdio_fds{-1, out.write.get(), err.write.get()}, rootfs_mount,
                           mount_base);
  REQUIRE(c);
  out.write.reset();
  err.write.reset();
  r.created = wait_report(c->report.get());
  if (r.created.kind == report_kind::ready) {
    REQUIRE(release(*c));
    r.started = wait_report(c->report.get());
  }
  r.out = read_all(out.read.get());
  r.err = read_all(err.read.get());
  r.exit = reap(c->pidfd.get());
  return r;
}

child start(const container_spec& spec, const stdio_fds& io) {
  auto c = clone_container(spec, io);
  REQUIRE(c);
  auto created = wait_report(c->report.get());
  INFO(created.message);
  REQUIRE(created.kind == report_kind::ready);
  REQUIRE(release(*c));
  auto started = wait_report(c->report.get());
  INFO(started.message);
  REQUIRE(started.kind == report_kind::exec_done);
  return std::move(*c);
}

void kill_and_reap(child& c) {
  ::syscall(SYS_pidfd_send_signal, c.pidfd.get(), SIGKILL, nullptr, 0);
  reap(c.pidfd.get());
}

std::string ns_link(pid_t pid, const std::string& kind) {
  std::string path =
      (pid == 0 ? std::string("/proc/self") : "/proc/" + std::to_string(pid)) + "/ns/" + kind;
  char buf[256];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string status_field(pid_t pid, const std::string& field) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    auto v = line.substr(field.size() + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    return v;
  }
  return {};
}

std::vector<std::string> mounts_under(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(read_file("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line))
    if (line.find(path) != std::string::npos) lines.push_back(line);
  return lines;
}

}  // namespace spawn_test
