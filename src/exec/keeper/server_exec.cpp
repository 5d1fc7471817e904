// exec: a command run inside a running container with the daemon's stdio,
// replied to once it exited (or was killed at its deadline, or when the
// daemon hung up).

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>

#include "exec/keeper/protocol.hpp"
#include "exec/keeper/server.hpp"
#include "exec/spec_json.hpp"
#include "reactor/ops.hpp"

namespace ringcri::exec::keeper {

namespace io = ringcri::reactor;
using nlohmann::json;

reactor::task<result<server::response>> server::do_exec(const json& args,
                                                        std::vector<unique_fd> fds) {
  auto request = protocol::exec_request_from_json(args);
  if (!request) co_return tl::unexpected(std::move(request.error()));
  exec_spec& spec = request->spec;
  const std::int64_t timeout_ms = request->timeout_ms;
  const std::vector<std::string>& names = request->fd_names;
  if (names.size() != fds.size()) {
    co_return fail(
        error_kind::invalid_argument,
        fmt::format("exec request names {} fds but carries {}", names.size(), fds.size()));
  }
  exec::stdio_fds stdio;
  unique_fd hangup;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "in")
      stdio.in = fds[i].get();
    else if (names[i] == "out")
      stdio.out = fds[i].get();
    else if (names[i] == "err")
      stdio.err = fds[i].get();
    else if (names[i] == "hangup")
      hangup = std::move(fds[i]);
  }

  auto held = find_held(spec.container_id);
  if (!held) co_return tl::unexpected(std::move(held.error()));
  process_ptr c = *held;
  if (!c->started || c->exited || !c->proc.pidfd) {
    co_return fail(error_kind::failed_precondition,
                   fmt::format("container {} is not running", spec.container_id));
  }

  // The first child, then the process that execs: both are ours to reap,
  // and neither is known to us until the clone returns and the first
  // reports the second's pid, so the orphan reaper holds off meanwhile.
  spawn_hold hold(this, false);
  const int container_pidfd = c->proc.pidfd.get();
  std::vector<named_fd> spawn_fds = stdio_named(stdio);
  spawn_fds.push_back(named_fd{std::string("container"), container_pidfd});
  auto child = co_await spawn(protocol::op_exec, args, std::move(spawn_fds),
                              [&] { return exec::clone_exec(spec, container_pidfd, stdio); });
  // The command has its stdio now; ours would keep the daemon's pipes open.
  fds.clear();
  if (!child) {
    co_return tl::unexpected(
        std::move(child.error()).context("exec in container " + spec.container_id));
  }
  exec_pids_.insert(child->pid);
  pid_t first_pid = child->pid;
  pid_t pid = 0;
  struct forget_pids {
    server* s;
    pid_t& first;
    pid_t& second;
    ~forget_pids() {
      s->exec_pids_.erase(first);
      if (second > 0) s->exec_pids_.erase(second);
      s->check_idle();
    }
  } forget{this, first_pid, pid};

  auto report = co_await await_report(child->report.get());
  if (report && report->kind == exec::report_kind::spawned) {
    pid = report->pid;
    exec_pids_.insert(pid);
    hold.release();
    // The first child exits once it has reported: reap it, and hold the
    // second by a pidfd of its own (our child: its pid stays its own
    // until we reap it).
    siginfo_t first_info{};
    co_await io::waitid(child->pidfd.get(), &first_info);
    unique_fd second(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!second) {
      int e = errno;
      ::kill(pid, SIGKILL);
      co_return fail_errno(e, fmt::format("open a pidfd for exec {} in container {}", pid,
                                          spec.container_id));
    }
    child->pidfd = std::move(second);
    child->pid = pid;
    report = co_await await_report(child->report.get());
  }
  hold.release();
  child->report.reset();
  if (!report || report->kind != exec::report_kind::exec_done) {
    // The first child's failure, or the second's before its execve.
    siginfo_t info{};
    co_await io::waitid(child->pidfd.get(), &info);
    if (!report)
      co_return tl::unexpected(
          std::move(report.error()).context("exec in container " + spec.container_id));
    if (report->kind != exec::report_kind::error)
      co_return fail(error_kind::internal,
                     fmt::format("exec in container {}: unexpected spawn report", spec.container_id));
    co_return tl::unexpected(error(protocol::kind_of_child_errno(report->sys_errno),
                                   report->message, report->sys_errno));
  }

  // The daemon's hang-up pipe: watched while the command runs, and the
  // watch ended (so it never outlives this frame) once it exited.
  reactor::cancellation stop_watch;
  bool hung_up = false;
  event watch_ended;
  if (hangup)
    start_task(watch_hangup(hangup.get(), child->pidfd.get(), stop_watch, hung_up, watch_ended));
  else
    watch_ended.set();

  siginfo_t info{};
  bool timed_out = false;
  auto wait = io::waitid(child->pidfd.get(), &info);
  if (timeout_ms > 0) wait.with_timeout(std::chrono::milliseconds(timeout_ms));
  auto waited = co_await io::op_ref(wait);
  if (!waited && waited.error().value() == ETIMEDOUT) {
    timed_out = true;
    ::syscall(SYS_pidfd_send_signal, child->pidfd.get(), SIGKILL, nullptr, 0);
    info = siginfo_t{};
    auto wait_killed = io::waitid(child->pidfd.get(), &info);
    waited = co_await io::op_ref(wait_killed);
  }
  stop_watch.cancel();
  co_await watch_ended.wait();
  if (!waited) {
    co_return fail_errno(waited.error().value(),
                         fmt::format("wait for an exec in container {}", spec.container_id));
  }
  int exit_code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
  spdlog::debug("msg=\"exec ended\" container={} pid={} exit_code={} timed_out={} hung_up={}",
                spec.container_id, child->pid, exit_code, timed_out, hung_up);
  response r;
  r.packets.emplace_back(json{{"exit_code", exit_code}, {"timed_out", timed_out}},
                         std::vector<unique_fd>{});
  co_return r;
}

reactor::task<void> server::watch_hangup(int hangup_fd, int pidfd, reactor::cancellation& stop,
                                         bool& hung_up, event& ended) {
  // Readable or hung up: the daemon closed its end (its client went away,
  // or the daemon died) or wrote to it. Either way, nobody waits any more.
  auto ready = co_await io::poll(hangup_fd, POLLIN).with_cancel(stop);
  if (ready) {
    hung_up = true;
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  }
  ended.set();
}

}  // namespace ringcri::exec::keeper
