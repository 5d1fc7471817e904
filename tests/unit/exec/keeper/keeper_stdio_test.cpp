// A container's stdio as CRI Exec and Attach use it, through a real
// keeper: terminal containers and execs (a pty), an exec ended by its
// hang-up pipe, and attach (live output, input, detach, close_stdin).

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "exec/keeper/client.hpp"
#include "exec/spawn/terminal.hpp"
#include "keeper_world.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "support/io_checks.hpp"

using namespace keeper_test;
using ringcri::unique_fd;

namespace {

struct terminal {
  unique_fd master, slave;
};

terminal open_terminal() {
  int master = -1, slave = -1;
  REQUIRE(::openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  return {unique_fd(master), unique_fd(slave)};
}

std::string without_cr(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '\r'), s.end());
  return s;
}

// Log lines with the "\r" a terminal puts before each newline removed.
std::vector<std::string> tty_log_lines(const fs::path& path) {
  auto lines = log_lines(path);
  for (auto& l : lines) l = without_cr(l);
  return lines;
}

// Reads `fd` until `done(what was read)`, end of file, or 10 s.
template <class F>
io::task<std::string> read_until(int fd, F done) {
  std::string got;
  std::vector<std::byte> buf(4096);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done(got) && std::chrono::steady_clock::now() < deadline) {
    auto ready = co_await io::poll(fd, POLLIN).with_timeout(1s);
    if (!ready) continue;
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;  // end of file (EIO for a pty master)
    got.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
  }
  co_return got;
}

io::task<std::string> read_lines(int fd, std::size_t lines) {
  auto enough = [lines](const std::string& s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')) >= lines;
  };
  std::string got = co_await read_until(fd, enough);
  co_return got;
}

io::task<std::string> read_to_eof(int fd) {
  auto never = [](const std::string&) { return false; };
  std::string got = co_await read_until(fd, never);
  co_return got;
}

// Nothing left to read and no writer left.
bool at_eof(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) != 1) return false;
  char byte;
  return ::read(fd, &byte, 1) == 0;
}

// The complete lines of `chunk`, without their newlines.
std::vector<std::string> split_lines(const std::string& chunk) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = chunk.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(chunk.substr(start, nl - start));
  return out;
}

bool write_all(int fd, const std::string& s) {
  return ::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
}

// A terminal container with its own /dev/pts, as the CRI gives one.
ringcri::exec::container_spec with_terminal(ringcri::exec::container_spec spec) {
  spec.process.terminal = true;
  spec.mounts.push_back({"/dev/pts",
                         "devpts",
                         "devpts",
                         {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}});
  return spec;
}

// A container printing "line<N>" every 50 ms, forever.
const std::vector<std::string> counter = {
    "sh", "-c", "i=0; while true; do i=$((i+1)); echo line$i; sleep 0.05; done"};

}  // namespace

TEST_CASE("a terminal container writes through its pty into the log as stdout") {
  world w;
  io::reactor r;
  exits ex;
  auto spec = with_terminal(
      w.spec("c-tty", {"sh", "-c", "tty; test -t 0 && echo isatty; echo to-stderr >&2"}));
  r.block_on([](world& w, exits& ex, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, &ex);
    auto created = co_await k->create(spec);
    INFO((created ? std::string() : created.error().message()) << "\n" << w.keeper_log());
    REQUIRE(created);
    CO_REQUIRE(co_await k->start(spec.id));
    bool got = co_await eventually_async([&] { return ex.find(spec.id) != nullptr; });
    REQUIRE(got);
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, ex, spec));
  REQUIRE(ex.find(spec.id));
  CHECK(ex.find(spec.id)->exit_code == 0);
  auto lines = tty_log_lines(spec.log_path);
  INFO(slurp(spec.log_path));
  REQUIRE(lines.size() == 3);
  // The pty is the container's first.
  CHECK(lines[0] == "stdout F /dev/pts/0");
  CHECK(lines[1] == "stdout F isatty");
  CHECK(lines[2] == "stdout F to-stderr");
}

TEST_CASE("an exec with a pty slave and terminal runs on that terminal") {
  world w;
  io::reactor r;
  // /dev/pts of its own, so the daemon can open the exec's pty there.
  auto spec = with_terminal(w.spec("c-tty-exec", {"sleep", "100"}));
  spec.process.terminal = false;
  r.block_on([](world& w, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    auto created = co_await k->create(spec);
    REQUIRE(created);
    CO_REQUIRE(co_await k->start(spec.id));

    auto cmd = w.exec_spec(spec.id, {"sh", "-c", "tty; test -t 0 && test -t 2 && echo isatty"});
    cmd.process.terminal = true;
    auto t = ringcri::exec::open_terminal(created->pid, cmd.process.user);
    INFO((t ? std::string() : t.error().message()));
    REQUIRE(t);
    ringcri::exec::stdio_fds stdio{t->slave.get(), t->slave.get(), t->slave.get()};
    auto res = co_await k->exec(cmd, stdio, 0ms);
    INFO((res ? std::string() : res.error().message()) << "\n" << w.keeper_log());
    REQUIRE(res);
    CHECK(res->exit_code == 0);
    t->slave.reset();
    std::string out = co_await read_to_eof(t->master.get());
    CHECK(without_cr(out) == "/dev/pts/0\nisatty\n");

    // A pty of the daemon's own works as well, without a name inside.
    terminal own = open_terminal();
    ringcri::exec::stdio_fds own_stdio{own.slave.get(), own.slave.get(), own.slave.get()};
    auto again = co_await k->exec(cmd, own_stdio, 0ms);
    REQUIRE(again);
    CHECK(again->exit_code == 0);
    own.slave.reset();
    std::string own_out = co_await read_to_eof(own.master.get());
    CHECK(without_cr(own_out) == "not a tty\nisatty\n");
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, spec));
}

TEST_CASE("an exec is killed when its hang-up pipe closes, and runs on while it is open") {
  world w;
  io::reactor r;
  auto spec = w.spec("c-hangup", {"sleep", "100"});
  r.block_on([](world& w, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    CO_REQUIRE(co_await k->create(spec));
    CO_REQUIRE(co_await k->start(spec.id));

    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    unique_fd hangup_read(p[0]), hangup_write(p[1]);
    // Ends by itself while the pipe stays open: its own exit code.
    auto quick = w.exec_spec(spec.id, {"sh", "-c", "exit 4"});
    ringcri::exec::stdio_fds none;
    auto res = co_await k->exec(quick, none, 0ms, hangup_read.get());
    REQUIRE(res);
    CHECK(res->exit_code == 4);

    std::optional<ringcri::result<keeper::exec_result>> pending;
    auto run_exec = [](keeper::client& k, ringcri::exec::exec_spec cmd, int hangup,
                       std::optional<ringcri::result<keeper::exec_result>>& out) -> io::task<void> {
      ringcri::exec::stdio_fds none;
      out = co_await k.exec(cmd, none, 0ms, hangup);
    };
    auto slow = w.exec_spec(spec.id, {"sleep", "100"});
    io::reactor::current()->spawn(run_exec(*k, slow, hangup_read.get(), pending));
    co_await io::sleep_for(300ms);
    REQUIRE_FALSE(pending.has_value());
    hangup_write.reset();
    bool done = co_await eventually_async([&] { return pending.has_value(); }, 5s);
    REQUIRE(done);
    INFO(((*pending) ? std::string() : pending->error().message()));
    REQUIRE(*pending);
    CHECK((*pending)->exit_code == 137);
    CHECK_FALSE((*pending)->timed_out);
    // The container itself is untouched.
    auto list = co_await k->list();
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    CHECK_FALSE((*list)[0].exited);
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, spec));
}

TEST_CASE("attach gets the live output also logged; a detach leaves the container running") {
  world w;
  io::reactor r;
  auto spec = w.spec("c-attach", counter);
  r.block_on([](world& w, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    CO_REQUIRE(co_await k->create(spec));
    CO_REQUIRE(co_await k->start(spec.id));

    auto first = co_await k->attach(spec.id);
    INFO((first ? std::string() : first.error().message()) << "\n" << w.keeper_log());
    REQUIRE(first);
    CHECK_FALSE(first->tty);
    REQUIRE(first->out);
    CHECK(first->err);
    CHECK_FALSE(first->in);  // no stdin_open
    CHECK_FALSE(first->terminal);

    std::string seen = co_await read_lines(first->out.get(), 3);
    auto lines = split_lines(seen);
    REQUIRE(lines.size() >= 3);
    for (const auto& l : lines) CHECK(l.rfind("line", 0) == 0);
    // What the attachment got is what the log has.
    bool logged = co_await eventually_async([&] {
      auto log = log_lines(spec.log_path);
      return std::all_of(lines.begin(), lines.end(),
                         [&](const std::string& l) { return contains(log, "stdout F " + l); });
    });
    CHECK(logged);

    // Two at once both get the output.
    auto second = co_await k->attach(spec.id);
    REQUIRE(second);
    auto a = split_lines(co_await read_lines(first->out.get(), 3));
    auto b = split_lines(co_await read_lines(second->out.get(), 3));
    CHECK(a.size() >= 3);
    CHECK(b.size() >= 3);

    // Detach the first: the container and its log go on, the second still reads.
    first->out.reset();
    first->err.reset();
    std::size_t before = log_lines(spec.log_path).size();
    auto c = split_lines(co_await read_lines(second->out.get(), 5));
    CHECK(c.size() >= 5);
    bool grew =
        co_await eventually_async([&] { return log_lines(spec.log_path).size() >= before + 5; });
    CHECK(grew);
    auto list = co_await k->list();
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    CHECK_FALSE((*list)[0].exited);

    // The container's end is the attachment's end of file.
    CO_REQUIRE(co_await k->remove(spec.id));
    (void)co_await read_to_eof(second->out.get());
    CHECK(at_eof(second->out.get()));
    bool err_ended = co_await eventually_async([&] { return at_eof(second->err.get()); }, 5s);
    CHECK(err_ended);
  }(w, spec));
}

TEST_CASE("an attacher that does not read is dropped; the log gets everything") {
  world w;
  io::reactor r;
  exits ex;
  // About 2 MB of output, more than an attach pipe holds.
  auto spec = w.spec("c-slow-reader", {"sh", "-c", "sleep 0.5; seq 1 300000"});
  r.block_on([](world& w, exits& ex, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, &ex);
    CO_REQUIRE(co_await k->create(spec));
    CO_REQUIRE(co_await k->start(spec.id));
    auto a = co_await k->attach(spec.id);
    REQUIRE(a);
    bool got = co_await eventually_async([&] { return ex.find(spec.id) != nullptr; });
    REQUIRE(got);
    CHECK(ex.find(spec.id)->exit_code == 0);
    std::string copy = co_await read_to_eof(a->out.get());
    CHECK(copy.size() > 0);
    CHECK(split_lines(copy).size() < 300000);
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, ex, spec));
  std::string log = slurp(spec.log_path);
  REQUIRE(log.size() > 20);
  CHECK(log.substr(log.rfind('\n', log.size() - 2) + 1).find(" stdout F 300000\n") !=
        std::string::npos);
  CHECK(std::count(log.begin(), log.end(), '\n') == 300000);
}

TEST_CASE("input through attach reaches the container; close_stdin ends it") {
  world w;
  io::reactor r;
  exits ex;
  auto spec = w.spec("c-cat", {"cat"});
  spec.stdin_open = true;
  r.block_on([](world& w, exits& ex, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, &ex);
    CO_REQUIRE(co_await k->create(spec));
    CO_REQUIRE(co_await k->start(spec.id));
    auto a = co_await k->attach(spec.id);
    REQUIRE(a);
    REQUIRE(a->in);
    REQUIRE(write_all(a->in.get(), "hello\n"));
    std::string echoed = co_await read_lines(a->out.get(), 1);
    CHECK(echoed == "hello\n");
    bool logged = co_await eventually_async(
        [&] { return contains(log_lines(spec.log_path), "stdout F hello"); });
    CHECK(logged);

    // The keeper's end and then ours: cat reads end of file.
    CO_REQUIRE(co_await k->close_stdin(spec.id));
    CO_REQUIRE(co_await k->close_stdin(spec.id));  // again: fine
    a->in.reset();
    bool ended = co_await eventually_async([&] { return ex.find(spec.id) != nullptr; });
    REQUIRE(ended);
    CHECK(ex.find(spec.id)->exit_code == 0);
    std::string after = co_await read_to_eof(a->out.get());
    CHECK(after.empty());
    CHECK(at_eof(a->out.get()));

    // Exited: nothing to attach to.
    auto late = co_await k->attach(spec.id);
    REQUIRE_FALSE(late);
    CHECK(late.error().kind() == ringcri::error_kind::failed_precondition);
    CO_REQUIRE(co_await k->remove(spec.id));
    auto unknown = co_await k->attach(spec.id);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().kind() == ringcri::error_kind::not_found);
    auto unknown_close = co_await k->close_stdin(spec.id);
    REQUIRE_FALSE(unknown_close);
    CHECK(unknown_close.error().kind() == ringcri::error_kind::not_found);
  }(w, ex, spec));
}

TEST_CASE("attach to a container not started yet is refused") {
  world w;
  io::reactor r;
  auto spec = w.spec("c-not-started", {"sleep", "100"});
  r.block_on([](world& w, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    CO_REQUIRE(co_await k->create(spec));
    auto a = co_await k->attach(spec.id);
    REQUIRE_FALSE(a);
    CHECK(a.error().kind() == ringcri::error_kind::failed_precondition);
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, spec));
}

TEST_CASE("a tty container: attach resizes its terminal, takes input, and close_stdin sends EOF") {
  world w;
  io::reactor r;
  exits ex;
  auto spec =
      with_terminal(w.spec("c-tty-attach", {"sh", "-c", "read x; stty size; read y; echo done"}));
  spec.stdin_open = true;
  r.block_on([](world& w, exits& ex, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, &ex);
    CO_REQUIRE(co_await k->create(spec));
    CO_REQUIRE(co_await k->start(spec.id));
    auto a = co_await k->attach(spec.id);
    INFO((a ? std::string() : a.error().message()) << "\n" << w.keeper_log());
    REQUIRE(a);
    CHECK(a->tty);
    CHECK_FALSE(a->err);
    REQUIRE(a->in);
    REQUIRE(a->terminal);

    winsize size{};
    size.ws_row = 33;
    size.ws_col = 101;
    REQUIRE(::ioctl(a->terminal.get(), TIOCSWINSZ, &size) == 0);
    REQUIRE(write_all(a->in.get(), "\n"));
    std::string out = co_await read_until(
        a->out.get(), [](const std::string& s) { return s.find("33 101") != std::string::npos; });
    INFO(out);
    CHECK(out.find("33 101") != std::string::npos);

    // ^D ends `read y` as end of input would.
    CO_REQUIRE(co_await k->close_stdin(spec.id));
    bool ended = co_await eventually_async([&] { return ex.find(spec.id) != nullptr; });
    REQUIRE(ended);
    CHECK(ex.find(spec.id)->exit_code == 0);
    std::string rest = co_await read_to_eof(a->out.get());
    CHECK(without_cr(out + rest).find("done\n") != std::string::npos);
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, ex, spec));
  auto lines = tty_log_lines(spec.log_path);
  CHECK(contains(lines, "stdout F 33 101"));
  CHECK(contains(lines, "stdout F done"));
}

TEST_CASE("a tty container without stdin gives no input but a terminal to resize") {
  world w;
  io::reactor r;
  // No /dev/pts of its own: the pty is the keeper's.
  auto spec = w.spec("c-tty-no-stdin", {"sh", "-c", "test -t 0 && echo isatty; exec sleep 100"});
  spec.process.terminal = true;
  r.block_on([](world& w, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    CO_REQUIRE(co_await k->create(spec));
    CO_REQUIRE(co_await k->start(spec.id));
    auto a = co_await k->attach(spec.id);
    REQUIRE(a);
    CHECK(a->tty);
    CHECK_FALSE(a->in);
    REQUIRE(a->terminal);
    winsize size{};
    size.ws_row = 10;
    size.ws_col = 20;
    CHECK(::ioctl(a->terminal.get(), TIOCSWINSZ, &size) == 0);
    bool logged = co_await eventually_async(
        [&] { return contains(tty_log_lines(spec.log_path), "stdout F isatty"); });
    CHECK(logged);
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, spec));
}
