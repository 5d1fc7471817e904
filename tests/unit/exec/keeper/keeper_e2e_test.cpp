// The keeper end to end: a real keeper process (keeper_host, started by the
// client as the daemon would start `ringcri keeper`), real containers on a
// busybox rootfs, checked from outside: log files, exit records, /proc,
// signals through pidfds. Needs root, overlayfs and /bin/busybox (static).

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "exec/keeper/client.hpp"
#include "exec/spawn/spawn.hpp"
#include "keeper_world.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "support/cpus.hpp"
#include "support/io_checks.hpp"

using namespace keeper_test;
using ringcri::unique_fd;

namespace {

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::istringstream children(slurp(task.path() / "children"));
    for (pid_t child; children >> child;) out.push_back(child);
  }
  return out;
}

std::string comm_of(pid_t pid) {
  std::string comm = slurp("/proc/" + std::to_string(pid) + "/comm");
  if (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm;
}

std::vector<pid_t> spawners_of(pid_t keeper) {
  std::vector<pid_t> out;
  for (pid_t child : children_of(keeper))
    if (comm_of(child) == "ringcri-spawner") out.push_back(child);
  return out;
}

// The "PPid:" line of /proc/<pid>/status.
pid_t parent_of(pid_t pid) {
  std::istringstream status(slurp("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("PPid:", 0) == 0) return std::stoi(line.substr(5));
  return -1;
}

std::size_t open_fds(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++n;
  return n;
}

}  // namespace

TEST_CASE("a container's output goes to its CRI log, its exit code to the event and the record") {
  world w;
  io::reactor r;
  exits ex;
  auto spec = w.spec("c-exit3", {"sh", "-c", "echo out1; echo err1 >&2; echo out2; exit 3"});
  r.block_on([](world& w, exits& ex, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, &ex);
    auto created = co_await k->create(spec);
    INFO((created ? std::string() : created.error().message()) << "\n" << w.keeper_log());
    REQUIRE(created);
    CHECK(created->pid > 0);
    CHECK(created->pidfd);
    auto started = co_await k->start(spec.id);
    INFO((started ? std::string() : started.error().message()));
    REQUIRE(started);
    CHECK(started->started_at > 0);
    bool got = co_await eventually_async([&] { return ex.find(spec.id) != nullptr; });
    REQUIRE(got);
    auto list = co_await k->list();
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    CHECK((*list)[0].exited);
    CHECK((*list)[0].exit.exit_code == 3);
    CHECK_FALSE((*list)[0].pidfd);
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, ex, spec));

  const auto* e = ex.find(spec.id);
  REQUIRE(e);
  CHECK(e->exit_code == 3);
  CHECK(e->signal == 0);
  CHECK(e->finished_at > 0);
  auto record = keeper::read_exit_record(spec.exit_path);
  REQUIRE(record);
  CHECK(record->exit_code == 3);
  CHECK(record->signal == 0);

  auto lines = log_lines(spec.log_path);
  CHECK(lines.size() == 3);
  CHECK(contains(lines, "stdout F out1"));
  CHECK(contains(lines, "stdout F out2"));
  CHECK(contains(lines, "stderr F err1"));
  CHECK((fs::status(spec.log_path).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
}

TEST_CASE("a create carrying its rootfs made ahead runs the container in it") {
  world w;
  io::reactor r;
  exits ex;
  auto spec = w.spec("c-ahead", {"sh", "-c", "echo made ahead > /newfile; cat /newfile"});
  auto made = ringcri::exec::make_detached_overlay(spec.rootfs);
  INFO((made ? "" : made.error().message()));
  REQUIRE(made);
  r.block_on([](world& w, exits& ex, ringcri::exec::container_spec spec, int rootfs) -> io::task<void> {
    auto k = co_await connect(w.opts, &ex);
    auto created = co_await k->create(spec, rootfs);
    INFO((created ? std::string() : created.error().message()) << "\n" << w.keeper_log());
    REQUIRE(created);
    CO_REQUIRE(co_await k->start(spec.id));
    bool got = co_await eventually_async([&] { return ex.find(spec.id) != nullptr; });
    REQUIRE(got);
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, ex, spec, made->get()));
  made->reset();
  const auto* e = ex.find(spec.id);
  REQUIRE(e);
  CHECK(e->exit_code == 0);
  CHECK(contains(log_lines(spec.log_path), "stdout F made ahead"));
  CHECK(slurp(spec.rootfs.upper + "/newfile") == "made ahead\n");
}

TEST_CASE("a container killed by SIGKILL exits 137 with signal 9") {
  world w;
  io::reactor r;
  exits ex;
  auto spec = w.spec("c-killed", {"sleep", "100"});
  r.block_on([](world& w, exits& ex, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, &ex);
    auto created = co_await k->create(spec);
    REQUIRE(created);
    CO_REQUIRE(co_await k->start(spec.id));
    // The daemon's pidfd works for signals.
    REQUIRE(::syscall(SYS_pidfd_send_signal, created->pidfd.get(), SIGKILL, nullptr, 0) == 0);
    bool got = co_await eventually_async([&] { return ex.find(spec.id) != nullptr; });
    REQUIRE(got);
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, ex, spec));
  const auto* e = ex.find(spec.id);
  REQUIRE(e);
  CHECK(e->exit_code == 137);
  CHECK(e->signal == 9);
  auto record = keeper::read_exit_record(spec.exit_path);
  REQUIRE(record);
  CHECK(record->exit_code == 137);
  CHECK(record->signal == 9);
}

TEST_CASE("a command that does not exist fails create with the child's message") {
  world w;
  io::reactor r;
  auto spec = w.spec("c-missing", {"/no/such/command"});
  r.block_on([](world& w, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    auto created = co_await k->create(spec);
    REQUIRE_FALSE(created);
    INFO(created.error().message());
    CHECK(created.error().kind() == ringcri::error_kind::not_found);
    CHECK(created.error().message().find("/no/such/command") != std::string::npos);
    auto list = co_await k->list();
    REQUIRE(list);
    CHECK(list->empty());
  }(w, spec));
  CHECK_FALSE(fs::exists(spec.exit_path));
}

TEST_CASE("the keeper survives its client going away and a new client finds its containers") {
  world w;
  io::reactor r;
  auto spec = w.spec("c-survivor", {"sleep", "100"});
  pid_t pid = r.block_on([](world& w, ringcri::exec::container_spec spec) -> io::task<pid_t> {
    auto k = co_await connect(w.opts, nullptr);
    auto created = co_await k->create(spec);
    REQUIRE(created);
    CO_REQUIRE(co_await k->start(spec.id));
    co_return created->pid;
    // The client goes away here.
  }(w, spec));
  pid_t keeper_before = w.keeper_pid();

  // Let the keeper see the disconnect.
  r.block_on([]() -> io::task<void> { co_await io::sleep_for(100ms); }());
  CHECK(::kill(pid, 0) == 0);
  CHECK_FALSE(process_gone(keeper_before));

  r.block_on([](world& w, ringcri::exec::container_spec spec, pid_t pid) -> io::task<void> {
    exits ex;
    auto k = co_await connect(w.opts, &ex);
    auto list = co_await k->list();
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    auto& h = (*list)[0];
    CHECK(h.id == spec.id);
    CHECK(h.pid == pid);
    CHECK(h.started);
    CHECK_FALSE(h.exited);
    REQUIRE(h.pidfd);
    CHECK(::syscall(SYS_pidfd_send_signal, h.pidfd.get(), 0, nullptr, 0) == 0);
    CO_REQUIRE(co_await k->remove(spec.id));
    CHECK(process_gone(pid));
  }(w, spec, pid));
  CHECK(w.keeper_pid() == keeper_before);
  // A removed container that had started still has its exit recorded.
  auto record = keeper::read_exit_record(spec.exit_path);
  REQUIRE(record);
  CHECK(record->exit_code == 137);
}

TEST_CASE("a second keeper for the same state dir exits at once") {
  world w;
  io::reactor r;
  r.block_on([](world& w) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    pid_t first = w.keeper_pid();
    REQUIRE(first > 0);

    std::string binary = w.opts.binary.string();
    std::string state = w.opts.state_dir.string();
    pid_t second = ::fork();
    if (second == 0) {
      ::execl(binary.c_str(), binary.c_str(), "keeper", "--state", state.c_str(), nullptr);
      ::_exit(127);
    }
    REQUIRE(second > 0);
    int status = 0;
    REQUIRE(::waitpid(second, &status, 0) == second);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    // The first one still serves.
    CHECK(w.keeper_pid() == first);
    auto list = co_await k->list();
    CHECK(list);
  }(w));
}

TEST_CASE("the keeper exits by itself when it holds nothing and nobody is connected") {
  world w;
  io::reactor r;
  auto spec = w.spec("c-short", {"true"});
  r.block_on([](world& w, ringcri::exec::container_spec spec) -> io::task<void> {
    exits ex;
    auto k = co_await connect(w.opts, &ex);
    CO_REQUIRE(co_await k->create(spec));
    CO_REQUIRE(co_await k->start(spec.id));
    bool got = co_await eventually_async([&] { return ex.find(spec.id) != nullptr; });
    REQUIRE(got);
  }(w, spec));
  pid_t pid = w.keeper_pid();
  REQUIRE(pid > 0);
  CHECK(eventually([pid] { return process_gone(pid); }));
  CHECK_FALSE(fs::exists(w.opts.state_dir / "keeper.sock"));
  CHECK(w.keeper_log().find("nothing left to keep") != std::string::npos);
}

TEST_CASE("exec returns the command's output and exit code, and kills it at its deadline") {
  world w;
  io::reactor r;
  auto spec = w.spec("c-exec", {"sleep", "100"});
  r.block_on([](world& w, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    CO_REQUIRE(co_await k->create(spec));
    CO_REQUIRE(co_await k->start(spec.id));

    int out[2], err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    unique_fd out_r(out[0]), out_w(out[1]), err_r(err[0]), err_w(err[1]);
    ringcri::exec::stdio_fds stdio{-1, out_w.get(), err_w.get()};
    auto cmd = w.exec_spec(spec.id, {"sh", "-c", "echo hi; echo oops >&2; exit 5"});
    auto res = co_await k->exec(cmd, stdio, 0ms);
    INFO((res ? std::string() : res.error().message()) << "\n" << w.keeper_log());
    REQUIRE(res);
    CHECK(res->exit_code == 5);
    CHECK_FALSE(res->timed_out);
    out_w.reset();
    err_w.reset();
    // The keeper and the command hold no copy any more: EOF after the output.
    CHECK(slurp("/proc/self/fd/" + std::to_string(out_r.get())) == "hi\n");
    CHECK(slurp("/proc/self/fd/" + std::to_string(err_r.get())) == "oops\n");

    auto slow = w.exec_spec(spec.id, {"sleep", "10"});
    ringcri::exec::stdio_fds none;
    auto timed = co_await k->exec(slow, none, 200ms);
    REQUIRE(timed);
    CHECK(timed->timed_out);
    CHECK(timed->exit_code == 137);

    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, spec));
}

TEST_CASE("reopen_log sends new output to a fresh file at the log path") {
  world w;
  io::reactor r;
  auto spec = w.spec("c-rotate", {"sh", "-c", "echo one; exec sleep 100"});
  r.block_on([](world& w, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    CO_REQUIRE(co_await k->create(spec));
    CO_REQUIRE(co_await k->start(spec.id));
    bool first = co_await eventually_async(
        [&] { return slurp(spec.log_path).find("stdout F one") != std::string::npos; });
    REQUIRE(first);

    fs::rename(spec.log_path, spec.log_path + ".1");
    CO_REQUIRE(co_await k->reopen_log(spec.id));
    // A second line from inside the container, straight into its stdout pipe.
    auto echo = w.exec_spec(spec.id, {"sh", "-c", "echo two > /proc/1/fd/1"});
    ringcri::exec::stdio_fds none;
    auto res = co_await k->exec(echo, none, 0ms);
    REQUIRE(res);
    CHECK(res->exit_code == 0);
    bool second = co_await eventually_async(
        [&] { return slurp(spec.log_path).find("stdout F two") != std::string::npos; });
    CHECK(second);
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, spec));
  auto rotated = log_lines(spec.log_path + ".1");
  auto fresh = log_lines(spec.log_path);
  CHECK(rotated == std::vector<std::string>{"stdout F one"});
  CHECK(fresh == std::vector<std::string>{"stdout F two"});
}

TEST_CASE(
    "an orphan holding the output open delays the exit by the drain limit only, and is reaped") {
  world w;
  io::reactor r;
  exits ex;
  // No pid namespace: the background sleep is orphaned to the keeper (the
  // subreaper) and keeps the stdout pipe open.
  auto spec = w.spec("c-orphan", {"sh", "-c", "echo before; sleep 100 & exit 4"});
  spec.namespaces = {{"mount", ""}, {"ipc", ""}, {"uts", ""}};
  r.block_on([](world& w, exits& ex, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, &ex);
    pid_t keeper_pid = w.keeper_pid();
    CO_REQUIRE(co_await k->create(spec));
    CO_REQUIRE(co_await k->start(spec.id));
    bool got = co_await eventually_async([&] { return ex.find(spec.id) != nullptr; });
    REQUIRE(got);
    CO_REQUIRE(co_await k->remove(spec.id));

    // The orphan is the keeper's child now; once killed, the keeper reaps
    // it (the client stays connected so the keeper stays).
    std::vector<pid_t> orphans;
    for (pid_t child : children_of(keeper_pid))
      if (comm_of(child) != "ringcri-spawner") orphans.push_back(child);
    REQUIRE(orphans.size() == 1);
    std::string proc = "/proc/" + std::to_string(orphans[0]);
    CHECK(slurp(proc + "/cmdline").find("sleep") == 0);
    REQUIRE(::kill(orphans[0], SIGKILL) == 0);
    bool reaped = co_await eventually_async([&] { return !fs::exists(proc); });
    CHECK(reaped);
  }(w, ex, spec));
  const auto* e = ex.find(spec.id);
  REQUIRE(e);
  CHECK(e->exit_code == 4);
  CHECK(log_lines(spec.log_path) == std::vector<std::string>{"stdout F before"});
}

TEST_CASE("a broken keeper connection fails the calls in flight; the next call starts a keeper") {
  world w;
  io::reactor r;
  auto spec = w.spec("c-broken", {"sleep", "100"});
  r.block_on([](world& w, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    auto created = co_await k->create(spec);
    REQUIRE(created);
    CO_REQUIRE(co_await k->start(spec.id));
    pid_t first = w.keeper_pid();

    // An exec that would run for long, in flight when the keeper dies.
    std::optional<ringcri::result<keeper::exec_result>> pending;
    auto run_exec = [](keeper::client& k, ringcri::exec::exec_spec cmd,
                       std::optional<ringcri::result<keeper::exec_result>>& out) -> io::task<void> {
      ringcri::exec::stdio_fds none;
      out = co_await k.exec(cmd, none, 0ms);
    };
    io::reactor::current()->spawn(run_exec(*k, w.exec_spec(spec.id, {"sleep", "100"}), pending));
    co_await io::sleep_for(200ms);
    REQUIRE_FALSE(pending.has_value());
    REQUIRE(::kill(first, SIGKILL) == 0);
    bool failed = co_await eventually_async([&] { return pending.has_value(); });
    REQUIRE(failed);
    REQUIRE_FALSE(*pending);
    CHECK(pending->error().kind() == ringcri::error_kind::unavailable);
    CHECK(pending->error().message().find((w.opts.state_dir / "keeper.sock").string()) !=
          std::string::npos);
    // The container outlived its keeper; it is ours to end now.
    ::syscall(SYS_pidfd_send_signal, created->pidfd.get(), SIGKILL, nullptr, 0);
    bool gone = co_await eventually_async([first] { return process_gone(first); });
    REQUIRE(gone);

    auto list = co_await k->list();
    INFO((list ? std::string() : list.error().message()));
    REQUIRE(list);
    CHECK(list->empty());
    CHECK(w.keeper_pid() != first);
  }(w, spec));
}

TEST_CASE("a removed container that never started leaves no exit record") {
  world w;
  io::reactor r;
  exits ex;
  auto spec = w.spec("c-never", {"sleep", "100"});
  r.block_on([](world& w, exits& ex, ringcri::exec::container_spec spec) -> io::task<void> {
    auto k = co_await connect(w.opts, &ex);
    auto created = co_await k->create(spec);
    REQUIRE(created);
    CO_REQUIRE(co_await k->remove(spec.id));
    CHECK(process_gone(created->pid));
    auto list = co_await k->list();
    REQUIRE(list);
    CHECK(list->empty());
    // Unknown ids are fine.
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w, ex, spec));
  CHECK_FALSE(fs::exists(spec.exit_path));
  CHECK(ex.find(spec.id) == nullptr);
}

TEST_CASE("a pod's init runs in its own pid namespace and is held until removed") {
  world w;
  io::reactor r;
  r.block_on([](world& w) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    auto init = co_await k->start_pod_init("pod-1");
    INFO((init ? std::string() : init.error().message()));
    REQUIRE(init);
    CHECK(init->pid > 0);
    REQUIRE(init->pidfd);
    std::error_code ec;
    auto theirs = fs::read_symlink("/proc/" + std::to_string(init->pid) + "/ns/pid", ec);
    CHECK(theirs != fs::read_symlink("/proc/self/ns/pid"));
    auto list = co_await k->list();
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    CHECK((*list)[0].id == "pod-1");
    CHECK((*list)[0].started);
    CO_REQUIRE(co_await k->remove("pod-1"));
    CHECK(process_gone(init->pid));
  }(w));
}

TEST_CASE("keeper-wrong-json-type: a request with a field of the wrong type gets an error, the keeper serves on") {
  world w;
  io::reactor r;
  r.block_on([](world& w) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    pid_t keeper = w.keeper_pid();
    REQUIRE(keeper > 0);

    // Straight onto the keeper's socket, as any client of it could.
    unique_fd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    REQUIRE(sock);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = (w.opts.state_dir / "keeper.sock").string();
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    REQUIRE(::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const std::vector<std::string> bad = {
        R"({"id":"1","op":"list"})",
        R"({"id":2,"op":5})",
        R"({"id":3,"op":"create","spec":"not a spec"})",
        R"({"id":4,"op":"create","spec":{"id":7}})",
        R"({"id":5,"op":"exec","spec":{"container_id":"x"},"timeout_ms":"soon"})",
        R"({"id":6,"op":"start","container":42})",
        R"({"id":7,"op":"remove","container":["x"]})",
        R"({"id":8,"op":"attach","container":"x","streams":"all"})",
        R"({"id":9,"op":"create","fds":"rootfs","spec":{"id":"x"}})",
        R"({"id":10,"op":"create","fds":["rootfs"],"spec":{"id":"x"}})",
    };
    for (const auto& request : bad) {
      INFO(request);
      REQUIRE(::send(sock.get(), request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
      char buf[4096];
      pollfd p{sock.get(), POLLIN, 0};
      REQUIRE(::poll(&p, 1, 10'000) == 1);
      ssize_t n = ::recv(sock.get(), buf, sizeof buf, 0);
      REQUIRE(n > 0);
      auto reply = nlohmann::json::parse(std::string(buf, static_cast<std::size_t>(n)), nullptr, false);
      REQUIRE(reply.is_object());
      INFO(reply.dump());
      CHECK(reply.contains("error"));
    }
    // Still the same keeper, still serving.
    CHECK(w.keeper_pid() == keeper);
    auto list = co_await k->list();
    CHECK(list);
  }(w));
}

TEST_CASE("spawners clone containers, execs and pod inits as the keeper's children; a killed one is replaced") {
  world w;
  io::reactor r;
  r.block_on([](world& w) -> io::task<void> {
    auto k = co_await connect(w.opts, nullptr);
    const pid_t keeper_pid = w.keeper_pid();
    // Small processes of the keeper's, holding a few fds (the keeper's
    // socket, stderr, the mount base), not the keeper's table.
    auto spawners = spawners_of(keeper_pid);
    REQUIRE_FALSE(spawners.empty());
    for (pid_t s : spawners) CHECK(open_fds(s) <= 6);

    auto spec = w.spec("c-spawned", {"sleep", "100"});
    auto created = co_await k->create(spec);
    INFO((created ? std::string() : created.error().message()) << "\n" << w.keeper_log());
    REQUIRE(created);
    CHECK(parent_of(created->pid) == keeper_pid);
    CHECK(w.keeper_log().find("container=c-spawned pid=" + std::to_string(created->pid) +
                              " by=spawner") != std::string::npos);
    CO_REQUIRE(co_await k->start(spec.id));

    // A spawner killed between requests: the next clone forks another.
    for (pid_t s : spawners) REQUIRE(::kill(s, SIGKILL) == 0);
    bool reaped = co_await eventually_async([&] {
      for (pid_t s : spawners)
        if (fs::exists("/proc/" + std::to_string(s))) return false;
      return true;
    });
    CHECK(reaped);  // the keeper reaped them: no zombie left

    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    unique_fd out_r(out[0]), out_w(out[1]);
    auto cmd = w.exec_spec(spec.id, {"sh", "-c", "echo $PPID"});
    auto res = co_await k->exec(cmd, ringcri::exec::stdio_fds{-1, out_w.get(), -1}, 0ms);
    INFO((res ? std::string() : res.error().message()) << "\n" << w.keeper_log());
    REQUIRE(res);
    CHECK(res->exit_code == 0);
    out_w.reset();
    CHECK_FALSE(slurp("/proc/self/fd/" + std::to_string(out_r.get())).empty());
    CHECK(w.keeper_log().find("msg=\"spawner forked\"") != std::string::npos);
    auto now = spawners_of(keeper_pid);
    CHECK(now.size() >= 1);
    for (pid_t s : now) CHECK(std::find(spawners.begin(), spawners.end(), s) == spawners.end());

    auto init = co_await k->start_pod_init("pod-spawned");
    INFO((init ? std::string() : init.error().message()));
    REQUIRE(init);
    CHECK(parent_of(init->pid) == keeper_pid);

    auto again = w.spec("c-spawned-2", {"sleep", "100"});
    auto second = co_await k->create(again);
    REQUIRE(second);
    CHECK(parent_of(second->pid) == keeper_pid);
    CO_REQUIRE(co_await k->remove(again.id));
    CO_REQUIRE(co_await k->remove("pod-spawned"));
    CO_REQUIRE(co_await k->remove(spec.id));
  }(w));
}

TEST_CASE("keeper-pinned: a keeper started from a thread pinned to one core runs on the process's CPUs") {
  const cpu_set_t process = ringcri::testing::own_cpus();
  if (CPU_COUNT(&process) < 2) {
    WARN("skipped: this process may run on one CPU only");
    return;
  }
  world w;
  // Read while the client is connected (the keeper stays for it).
  struct seen {
    bool connected = false;
    std::vector<cpu_set_t> keeper_and_spawners;
  } got;
  // As the daemon's reactor threads are: pinned to one core each.
  std::thread pinned([&] {
    if (!ringcri::testing::pin_to_first_of(process)) return;
    io::reactor r;
    r.block_on([](world& w, seen& got) -> io::task<void> {
      auto k = co_await connect(w.opts, nullptr);
      got.connected = k != nullptr;
      if (!k) co_return;
      std::vector<pid_t> pids{w.keeper_pid()};
      for (pid_t s : spawners_of(w.keeper_pid())) pids.push_back(s);
      for (pid_t p : pids) {
        cpu_set_t set;
        CPU_ZERO(&set);
        ::sched_getaffinity(p, sizeof set, &set);
        got.keeper_and_spawners.push_back(set);
      }
    }(w, got));
  });
  pinned.join();
  REQUIRE(got.connected);
  REQUIRE(got.keeper_and_spawners.size() ==
          1 + std::min<std::size_t>(4, static_cast<std::size_t>(CPU_COUNT(&process))));
  for (cpu_set_t& set : got.keeper_and_spawners) CHECK(CPU_EQUAL(&set, &process));
}
