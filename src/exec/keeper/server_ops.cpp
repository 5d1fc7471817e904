// The keeper's container ops: create, start, pod_init, reopen_log, remove,
// list. (exec is in server_exec.cpp, attach and close_stdin in
// server_attach.cpp.)

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "base/sys/pipe.hpp"
#include "base/crash_point.hpp"
#include "exec/keeper/fd_passing.hpp"
#include "exec/keeper/protocol.hpp"
#include "exec/keeper/server.hpp"
#include "exec/spec_json.hpp"
#include "reactor/ops.hpp"

namespace ringcri::exec::keeper {

namespace io = ringcri::reactor;
using nlohmann::json;

namespace {

result<unique_fd> open_log(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return fail_errno(ec.value(), fmt::format("create the directory of log {}", path));
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return fail_errno(errno, fmt::format("open log {}", path));
  return unique_fd(fd);
}

result<unique_fd> dup_fd(int fd) {
  int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) return fail_errno(errno, "dup a pidfd");
  return unique_fd(d);
}

}  // namespace

// The reply to create and pod_init: the pid, and a pidfd of the daemon's own.
result<server::response> server::pid_reply(const held_process& c) {
  auto pidfd = dup_fd(c.proc.pidfd.get());
  if (!pidfd) return tl::unexpected(std::move(pidfd.error()));
  response r;
  std::vector<unique_fd> fds;
  fds.push_back(std::move(*pidfd));
  r.packets.emplace_back(json{{"pid", c.proc.pid}}, std::move(fds));
  return r;
}

result<server::process_ptr> server::find_held(const std::string& id) const {
  auto it = processes_.find(id);
  if (it == processes_.end()) return fail(error_kind::not_found, fmt::format("the keeper holds no container {}", id));
  return it->second;
}

reactor::task<void> server::drop_failed_setup(process_ptr c) {
  siginfo_t info{};
  co_await io::waitid(c->proc.pidfd.get(), &info);
  c->exited = true;
  if (auto it = processes_.find(c->id); it != processes_.end() && it->second == c) processes_.erase(it);
  c->exit_done.set();
  check_idle();
}

namespace {

// The child's own failure, as the daemon should see it.
error child_error(const exec::report& r) {
  return error(protocol::kind_of_child_errno(r.sys_errno), r.message, r.sys_errno);
}

}  // namespace

reactor::task<result<server::response>> server::do_create(const json& args,
                                                          std::vector<unique_fd> fds) {
  // The one fd a create may carry: its rootfs, made ahead by the daemon.
  const json names = args.value("fds", json::array());
  if (!names.is_array() || names.size() != fds.size() || fds.size() > 1 ||
      (fds.size() == 1 && names[0] != "rootfs")) {
    co_return fail(error_kind::invalid_argument,
                   fmt::format("create request names {} fds but carries {}", names.dump(), fds.size()));
  }
  unique_fd rootfs_mount = fds.empty() ? unique_fd() : std::move(fds.front());
  auto parsed = protocol::create_request_from_json(args);
  if (!parsed) co_return tl::unexpected(std::move(parsed.error()));
  container_spec spec = std::move(*parsed);
  if (spec.id.empty()) co_return fail(error_kind::invalid_argument, "container spec without an id");
  if (processes_.count(spec.id)) {
    co_return fail(error_kind::already_exists,
                   fmt::format("the keeper already holds container {}", spec.id));
  }

  auto c = std::make_shared<held_process>();
  c->id = spec.id;
  c->log_path = spec.log_path;
  c->exit_path = spec.exit_path;
  c->tty = spec.process.terminal;
  c->stdin_open = spec.stdin_open;

  // The child's ends (closed here once it has them: ours would keep the
  // pipes from ever ending) and ours. A terminal is opened once the setup
  // made the container's /dev/pts, and its slave goes with the release.
  sys::pipe_fds out, err, in;
  exec::stdio_fds stdio;
  if (!c->tty) {
    // The keeper's end of an output pipe is non-blocking (its pump reads
    // it on the ring); the container's end and stdin's ends block.
    auto o = sys::make_pipe(sys::nonblocking_end::read);
    if (!o) co_return tl::unexpected(std::move(o.error()).context("stdout pipe"));
    out = std::move(*o);
    auto e = sys::make_pipe(sys::nonblocking_end::read);
    if (!e) co_return tl::unexpected(std::move(e.error()).context("stderr pipe"));
    err = std::move(*e);
    if (spec.stdin_open) {
      auto p = sys::make_pipe();
      if (!p) co_return tl::unexpected(std::move(p.error()).context("stdin pipe"));
      in = std::move(*p);
    }
    stdio = {in.read ? in.read.get() : -1, out.write.get(), err.write.get()};
  }
  if (!spec.log_path.empty()) {
    auto log = open_log(spec.log_path);
    if (!log)
      co_return tl::unexpected(std::move(log.error()).context("create container " + spec.id));
    c->log = std::make_shared<unique_fd>(std::move(*log));
  }

  const int rootfs_fd = rootfs_mount ? rootfs_mount.get() : -1;
  spawn_hold hold(this, true);
  // (Named one by one: g++ 12 cannot take a braced list into co_await.)
  std::vector<named_fd> spawn_fds = stdio_named(stdio);
  spawn_fds.push_back(named_fd{std::string("rootfs"), rootfs_fd});
  auto child = co_await spawn(protocol::op_create, args, std::move(spawn_fds), [&] {
    return exec::clone_container(spec, stdio, rootfs_fd, options_.mount_base);
  });
  rootfs_mount.reset();
  if (!child)
    co_return tl::unexpected(std::move(child.error()).context("create container " + spec.id));
  if (processes_.count(spec.id)) {  // created meanwhile by another request
    ::syscall(SYS_pidfd_send_signal, child->pidfd.get(), SIGKILL, nullptr, 0);  // reaped as an orphan
    co_return fail(error_kind::already_exists,
                   fmt::format("the keeper already holds container {}", spec.id));
  }
  out.write.reset();
  err.write.reset();
  in.read.reset();
  c->proc = std::move(*child);
  c->stdout_read = std::move(out.read);
  c->stderr_read = std::move(err.read);
  c->stdin_write = std::move(in.write);
  processes_[c->id] = c;
  hold.release();
  spdlog::info("msg=\"cloned\" container={} pid={} by={}", c->id, c->proc.pid,
               options_.spawner ? "spawner" : "keeper");
  crash_point(point("keeper.after_clone"));

  auto report = co_await await_report(c->proc.report.get());
  if (!report || report->kind != exec::report_kind::ready) {
    co_await drop_failed_setup(c);
    if (!report)
      co_return tl::unexpected(std::move(report.error()).context("create container " + c->id));
    if (report->kind == exec::report_kind::error) co_return tl::unexpected(child_error(*report));
    co_return fail(error_kind::internal,
                   fmt::format("container {}: the process ended during its setup", c->id));
  }
  if (c->tty) {
    // The child opened its pty in its own /dev/pts and sent the master.
    auto master = exec::take_terminal(c->proc);
    if (!master) {
      ::syscall(SYS_pidfd_send_signal, c->proc.pidfd.get(), SIGKILL, nullptr, 0);
      co_await drop_failed_setup(c);
      co_return tl::unexpected(std::move(master.error()).context("create container " + c->id));
    }
    c->stdout_read = std::move(*master);
  }
  c->created = true;
  start_watching(c);

  co_return pid_reply(*c);
}

reactor::task<result<server::response>> server::do_start(const json& args) {
  auto id = protocol::string_arg(args, "container");
  if (!id) co_return tl::unexpected(std::move(id.error()));
  auto held = find_held(*id);
  if (!held) co_return tl::unexpected(std::move(held.error()));
  process_ptr c = *held;
  if (!c->created || c->started || c->exited || c->removed || !c->proc.release) {
    co_return fail(error_kind::failed_precondition,
                   fmt::format("container {} is not waiting to start", *id));
  }
  auto released = exec::release(c->proc);
  if (!released)
    co_return tl::unexpected(std::move(released.error()).context("start container " + *id));
  auto report = co_await await_report(c->proc.report.get());
  c->proc.report.reset();
  if (!report)
    co_return tl::unexpected(std::move(report.error()).context("start container " + *id));
  if (report->kind == exec::report_kind::error) co_return tl::unexpected(child_error(*report));
  c->started = true;
  c->started_at = now_unix_ns();
  spdlog::info("msg=\"started\" container={} pid={}", c->id, c->proc.pid);
  crash_point(point("keeper.after_start"));
  response r;
  r.packets.emplace_back(json{{"started_at", c->started_at}}, std::vector<unique_fd>{});
  co_return r;
}

reactor::task<result<server::response>> server::do_pod_init(const json& args) {
  auto id = protocol::string_arg(args, "pod");
  if (!id) co_return tl::unexpected(std::move(id.error()));
  if (processes_.count(*id)) {
    co_return fail(error_kind::already_exists, fmt::format("the keeper already holds {}", *id));
  }
  spawn_hold hold(this, true);
  auto child = co_await spawn(protocol::op_pod_init, args, std::vector<named_fd>(), [&] {
    return exec::clone_pod_init(*id, options_.empty_dir.string(), options_.mount_base);
  });
  if (!child)
    co_return tl::unexpected(std::move(child.error()).context("start the init of pod " + *id));
  if (processes_.count(*id)) {  // started meanwhile by another request
    ::syscall(SYS_pidfd_send_signal, child->pidfd.get(), SIGKILL, nullptr, 0);  // reaped as an orphan
    co_return fail(error_kind::already_exists, fmt::format("the keeper already holds {}", *id));
  }
  auto c = std::make_shared<held_process>();
  c->id = *id;
  c->pod_init = true;
  c->proc = std::move(*child);
  processes_[c->id] = c;
  hold.release();

  auto report = co_await await_report(c->proc.report.get());
  c->proc.report.reset();
  if (!report || report->kind != exec::report_kind::ready) {
    co_await drop_failed_setup(c);
    if (!report)
      co_return tl::unexpected(std::move(report.error()).context("start the init of pod " + *id));
    if (report->kind == exec::report_kind::error) co_return tl::unexpected(child_error(*report));
    co_return fail(error_kind::internal, fmt::format("the init of pod {} ended at once", *id));
  }
  c->created = true;
  c->started = true;
  c->started_at = now_unix_ns();
  start_watching(c);
  spdlog::info("msg=\"pod init started\" pod={} pid={}", c->id, c->proc.pid);

  co_return pid_reply(*c);
}

reactor::task<result<server::response>> server::do_reopen_log(const json& args) {
  auto id = protocol::string_arg(args, "container");
  if (!id) co_return tl::unexpected(std::move(id.error()));
  auto held = find_held(*id);
  if (!held) co_return tl::unexpected(std::move(held.error()));
  process_ptr c = *held;
  response r;
  r.packets.emplace_back(json::object(), std::vector<unique_fd>{});
  // An exited container writes no more: nothing to reopen.
  if (c->exited || c->log_path.empty() || !c->log) co_return r;
  auto log = open_log(c->log_path);
  if (!log) co_return tl::unexpected(std::move(log.error()).context("reopen the log of " + *id));
  // Writes in flight keep the old file (they hold its owner) and finish there.
  c->log = std::make_shared<unique_fd>(std::move(*log));
  spdlog::info("msg=\"log reopened\" container={} path={}", c->id, c->log_path);
  co_return r;
}

reactor::task<result<server::response>> server::do_remove(const json& args) {
  auto id = protocol::string_arg(args, "container");
  if (!id) co_return tl::unexpected(std::move(id.error()));
  response r;
  r.packets.emplace_back(json::object(), std::vector<unique_fd>{});
  auto it = processes_.find(*id);
  if (it == processes_.end()) co_return r;
  process_ptr c = it->second;
  c->removed = true;
  if (!c->exited) {
    // A container still waiting for release exits once the release pipe
    // closes; the kill covers any copy of that pipe held elsewhere.
    if (!c->started) c->proc.release.reset();
    if (c->proc.pidfd) {
      if (::syscall(SYS_pidfd_send_signal, c->proc.pidfd.get(), SIGKILL, nullptr, 0) != 0 &&
          errno != ESRCH) {
        spdlog::warn("msg=\"cannot kill\" container={} error=\"{}\"", c->id, std::strerror(errno));
      }
    }
    co_await c->exit_done.wait();
  }
  if (auto again = processes_.find(*id); again != processes_.end() && again->second == c) {
    processes_.erase(again);
  }
  spdlog::info("msg=\"removed\" container={}", c->id);
  co_return r;
}

reactor::task<result<server::response>> server::do_list() {
  while (unlisted_clones_ > 0) co_await clones_listed_.wait();
  response r;
  json entries = json::array();
  std::vector<unique_fd> fds;
  auto flush = [&](bool more) {
    json result{{"entries", std::move(entries)}, {"more", more}};
    r.packets.emplace_back(std::move(result), std::move(fds));
    entries = json::array();
    fds.clear();
  };
  for (const auto& [id, c] : processes_) {
    held h;
    h.id = c->id;
    h.pid = c->proc.pid;
    h.started = c->started;
    h.started_at = c->started_at;
    h.exited = c->exited;
    if (c->exited) h.exit = c->exit;
    json entry = protocol::held_to_json(h);
    entry["pidfd"] = false;
    if (!c->exited && c->proc.pidfd) {
      auto d = dup_fd(c->proc.pidfd.get());
      if (!d) co_return tl::unexpected(std::move(d.error()));
      if (fds.size() == max_fds_per_packet) flush(true);
      fds.push_back(std::move(*d));
      entry["pidfd"] = true;
    }
    entries.push_back(std::move(entry));
  }
  flush(false);
  co_return r;
}

}  // namespace ringcri::exec::keeper
