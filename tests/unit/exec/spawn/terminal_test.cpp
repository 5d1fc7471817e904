// process.terminal: a container or an exec'd command whose stdio is a pty
// slave gets it as its controlling terminal, in a session of its own.

#include "exec/spawn/terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "spawn_fixture.hpp"

using namespace ringcri::exec;
using namespace spawn_test;

namespace {

struct host_terminal {
  ringcri::unique_fd master, slave;
  stdio_fds stdio() const { return {slave.get(), slave.get(), slave.get()}; }
};

host_terminal open_host_terminal() {
  int master = -1, slave = -1;
  REQUIRE(::openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  host_terminal t{ringcri::unique_fd(master), ringcri::unique_fd(slave)};
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  return t;
}

// What the master reads until every slave fd is closed (EIO), without
// the "\r" the terminal puts before each newline; bounded at 20 s.
std::string read_terminal(int master) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 20'000) <= 0) break;
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  std::string clean;
  for (char ch : out)
    if (ch != '\r') clean += ch;
  return clean;
}

// tty_nr of /proc/<pid>/stat as the kernel encodes a device number.
std::string tty_nr_of(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  unsigned major = ::major(st.st_rdev), minor = ::minor(st.st_rdev);
  return std::to_string((minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12));
}

// Fields 6 (session) and 7 (tty_nr) of a /proc/<pid>/stat line.
std::pair<std::string, std::string> session_and_tty(const std::string& stat_line) {
  std::istringstream in(stat_line.substr(stat_line.rfind(')') + 2));
  std::string state, ppid, pgrp, session, tty_nr;
  in >> state >> ppid >> pgrp >> session >> tty_nr;
  return {session, tty_nr};
}

}  // namespace

TEST_CASE("a terminal container has its pty slave as controlling terminal", "[spawn][terminal]") {
  skip_unless_able();
  image img;
  host_terminal t = open_host_terminal();
  const std::string expected_tty = tty_nr_of(t.slave.get());
  auto spec = default_spec(img.rootfs("tty"),
                           {"sh", "-c", "test -t 0 && echo isatty; cat /proc/self/stat"});
  spec.process.terminal = true;
  auto c = clone_container(spec, t.stdio());
  REQUIRE(c);
  t.slave.reset();
  auto created = wait_report(c->report.get());
  INFO(created.message);
  REQUIRE(created.kind == report_kind::ready);
  REQUIRE(release(*c));
  auto started = wait_report(c->report.get());
  INFO(started.message);
  REQUIRE(started.kind == report_kind::exec_done);
  std::string out = read_terminal(t.master.get());
  CHECK(reap(c->pidfd.get()).code == 0);

  INFO(out);
  REQUIRE(out.rfind("isatty\n", 0) == 0);
  auto [session, tty_nr] = session_and_tty(out.substr(7));
  // The shell is pid 1 of the container and leads the session of `cat`.
  CHECK(session == "1");
  CHECK(tty_nr == expected_tty);
}

TEST_CASE("a command exec'd with terminal gets its pty as controlling terminal",
          "[spawn][terminal]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("tty-exec"), {"sleep", "1000"});
  child c = start(spec);

  host_terminal t = open_host_terminal();
  const std::string expected_tty = tty_nr_of(t.slave.get());
  exec_spec e;
  e.container_id = spec.id;
  e.process = spec.process;
  e.process.terminal = true;
  e.process.args = {"sh", "-c",
                    "test -t 0 && test -t 1 && echo isatty; echo $$; cat /proc/self/stat"};
  auto x = clone_exec(e, c.pidfd.get(), t.stdio());
  REQUIRE(x);
  t.slave.reset();
  auto started = wait_exec(*x);
  INFO(started.message);
  CHECK(started.kind == report_kind::exec_done);
  std::string out = read_terminal(t.master.get());
  CHECK(reap(x->pidfd.get()).code == 0);
  INFO(out);
  REQUIRE(out.rfind("isatty\n", 0) == 0);
  std::istringstream lines(out.substr(7));
  std::string shell_pid, stat_line;
  std::getline(lines, shell_pid);
  std::getline(lines, stat_line);
  auto [session, tty_nr] = session_and_tty(stat_line);
  // The shell leads a session of its own, which `cat` is in.
  CHECK(session == shell_pid);
  CHECK(tty_nr == expected_tty);
  kill_and_reap(c);
}

TEST_CASE("terminal with a stdin that is no tty fails at create, naming the step",
          "[spawn][terminal]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("no-tty"), {"true"});
  spec.process.terminal = true;
  pipe_pair in = make_pipe();
  auto c = clone_container(spec, stdio_fds{in.read.get(), -1, -1});
  REQUIRE(c);
  auto created = wait_report(c->report.get());
  CHECK(created.kind == report_kind::error);
  CHECK(created.message.find("controlling terminal") != std::string::npos);
  CHECK(reap(c->pidfd.get()).code == 127);
}

TEST_CASE("a terminal container opens its pty in its own /dev/pts and hands over the master",
          "[spawn][terminal]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("own-pts"),
                           {"sh", "-c", "tty; ls -l /dev/pts/0; test -t 2 && echo isatty"});
  spec.process.terminal = true;
  spec.process.user = {1000, 1000, {}};
  auto c = clone_container(spec, {});
  REQUIRE(c);
  auto created = wait_report(c->report.get());
  INFO(created.message);
  REQUIRE(created.kind == report_kind::ready);
  auto master = take_terminal(*c);
  INFO((master ? std::string() : master.error().message()));
  REQUIRE(master);
  REQUIRE(release(*c));
  auto started = wait_report(c->report.get());
  INFO(started.message);
  REQUIRE(started.kind == report_kind::exec_done);
  std::string out = read_terminal(master->get());
  CHECK(reap(c->pidfd.get()).code == 0);
  INFO(out);
  std::istringstream lines(out);
  std::string name, listing, isatty;
  std::getline(lines, name);
  std::getline(lines, listing);
  std::getline(lines, isatty);
  // Its first pty, by name, owned by the process's user.
  CHECK(name == "/dev/pts/0");
  CHECK(listing.find(" user ") != std::string::npos);
  CHECK(isatty == "isatty");
}

TEST_CASE("a terminal container without /dev/pts gets a pty of the caller's",
          "[spawn][terminal]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("no-pts"), {"sh", "-c", "test -t 0 && echo isatty"});
  spec.mounts.erase(spec.mounts.begin() + 2);  // /dev/pts
  REQUIRE(spec.mounts[1].destination == "/dev");
  spec.process.terminal = true;
  auto c = clone_container(spec, {});
  REQUIRE(c);
  REQUIRE(wait_report(c->report.get()).kind == report_kind::ready);
  auto master = take_terminal(*c);
  INFO((master ? std::string() : master.error().message()));
  REQUIRE(master);
  REQUIRE(release(*c));
  CHECK(wait_report(c->report.get()).kind == report_kind::exec_done);
  CHECK(read_terminal(master->get()) == "isatty\n");
  CHECK(reap(c->pidfd.get()).code == 0);
}

TEST_CASE("open_terminal makes a pty in a running container's /dev/pts, for an exec",
          "[spawn][terminal]") {
  skip_unless_able();
  image img;
  auto spec = default_spec(img.rootfs("exec-pts"), {"sleep", "1000"});
  child c = start(spec);
  auto t = open_terminal(c.pid, spec.process.user);
  INFO((t ? std::string() : t.error().message()));
  REQUIRE(t);
  exec_spec e;
  e.container_id = spec.id;
  e.process = spec.process;
  e.process.terminal = true;
  e.process.args = {"readlink", "/proc/self/fd/0"};
  auto x = clone_exec(e, c.pidfd.get(), stdio_fds{t->slave.get(), t->slave.get(), t->slave.get()});
  REQUIRE(x);
  t->slave.reset();
  auto started = wait_exec(*x);
  INFO(started.message);
  REQUIRE(started.kind == report_kind::exec_done);
  std::string out = read_terminal(t->master.get());
  CHECK(reap(x->pidfd.get()).code == 0);
  CHECK(out == "/dev/pts/0\n");
  kill_and_reap(c);
}
