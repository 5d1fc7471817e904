#include "cri/container_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "base/sys/remove_tree.hpp"
#include "base/crash_point.hpp"
#include "cri/events.hpp"
#include "cri/keeper_link.hpp"
#include "cri/paths.hpp"
#include "cri/records_io.hpp"
#include "reactor/blocking.hpp"
#include "reactor/ops.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;
namespace io = reactor;

namespace {

// ESRCH (already exited) is not an error: the exit is on its way.
result<void> send_signal(int pidfd, int sig, const container_id& id) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0 || errno == ESRCH) return {};
  return fail_errno(errno, fmt::format("signal {} to container \"{}\"", sig, id.value));
}

// Whether the process behind `pidfd` ended within `timeout`.
reactor::task<bool> exited_within(int pidfd, std::chrono::milliseconds timeout) {
  auto ready = co_await io::poll(pidfd, POLLIN).with_timeout(timeout);
  co_return ready.has_value();
}

// The keeper records an exit (after draining the output) before it tells
// us; wait for that to reach the state.
reactor::task<result<void>> wait_exited_state(context& ctx, const container_id& id,
                                              std::chrono::milliseconds timeout) {
  auto deadline = reactor::clock::now() + timeout;
  for (;;) {
    auto c = ctx.state.get_container(id);
    if (!c || c->state() == v1::CONTAINER_EXITED) co_return result<void>{};
    if (reactor::clock::now() > deadline)
      co_return fail(error_kind::deadline_exceeded,
                     fmt::format("container \"{}\" exited but its exit was not recorded within {} ms",
                                 id.value, timeout.count()));
    co_await io::sleep_for(std::chrono::milliseconds(2));
  }
}

// Kills what is left in the container's cgroup: a container without a
// pid namespace of its own (the pod's, or the host's) leaves the children
// of its main process running when that ends. Returns once the cgroup is
// empty, or fails naming what is still there after 10 s.
reactor::task<result<void>> kill_leftovers(context& ctx, const std::string& cgroup) {
  if (cgroup.empty()) co_return result<void>{};
  for (int round = 0;; ++round) {
    auto left = co_await reactor::run_blocking([&]() -> result<std::vector<pid_t>> {
      auto pids = ctx.cgroups->pids(cgroup);
      if (!pids || pids->empty()) return pids;
      if (auto killed = ctx.cgroups->kill_all(cgroup); !killed) return tl::unexpected(killed.error());
      return pids;
    });
    if (!left) co_return tl::unexpected(left.error().context("kill what is left in cgroup " + cgroup));
    if (left->empty()) co_return result<void>{};
    if (round == 0) spdlog::debug("msg=\"killing processes left in a container's cgroup\" cgroup={} count={}", cgroup, left->size());
    if (round >= 1000)
      co_return fail(error_kind::deadline_exceeded,
                     fmt::format("cgroup {} still holds {} processes 10 s after SIGKILL (pid {} first)",
                                 cgroup, left->size(), left->front()));
    co_await io::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

reactor::task<void> apply_exit(context& ctx, exec::keeper::exit_status exit) {
  container_id id{exit.id};
  ctx.processes.erase(exit.id);
  auto c = ctx.state.get_container(id);
  if (!c || c->state() == v1::CONTAINER_EXITED) co_return;
  // Killed by the OOM killer, if its memory cgroup counted a kill.
  std::string cgroup = c->cgroup_path();
  auto oom_kills = co_await reactor::run_blocking([&] { return cgroup.empty() ? 0 : ctx.cgroups->oom_kills(cgroup); });
  const char* reason = oom_kills > 0 ? "OOMKilled" : exit.exit_code == 0 ? "Completed" : "Error";
  auto updated = ctx.state.update_container(id, v1::CONTAINER_EXITED, [&](records::container& r) {
    r.set_exit_code(exit.exit_code);
    r.set_finished_at(exit.finished_at);
    r.set_reason(reason);
    r.set_pid(0);
  });
  if (!updated) {
    spdlog::error("msg=\"exit not applied\" container={} error=\"{}\"", exit.id, updated.error().message());
    co_return;
  }
  if (auto saved = co_await persist(ctx, *updated); !saved)
    spdlog::error("msg=\"exit not saved\" container={} error=\"{}\"", exit.id, saved.error().message());
  publish_container_event(ctx, *updated, v1::CONTAINER_STOPPED_EVENT);
  spdlog::info("msg=\"container exited\" id={} exit_code={}", exit.id, exit.exit_code);
}

void kill_held_process(context& ctx, const std::string& id) {
  if (auto pidfd = ctx.processes.get(id); pidfd)
    ::syscall(SYS_pidfd_send_signal, pidfd->get(), SIGKILL, nullptr, 0);
  ctx.processes.erase(id);
}

reactor::task<void> lose_with_keeper(context& ctx, const container_id& id) {
  kill_held_process(ctx, id.value);
  auto updated = ctx.state.update_container(id, v1::CONTAINER_EXITED, [&](records::container& r) {
    r.set_exit_code(128 + SIGKILL);
    r.set_finished_at(now_ns());
    r.set_reason("KeeperLost");
    r.set_message("the keeper holding the container's output and exit status ended; the container was killed");
    r.set_pid(0);
  });
  if (!updated) co_return;  // exited, or removed, meanwhile
  publish_container_event(ctx, *updated, v1::CONTAINER_STOPPED_EVENT);
  if (auto saved = co_await persist(ctx, *updated); !saved)
    spdlog::error("msg=\"loss not saved\" container={} error=\"{}\"", id.value, saved.error().message());
  spdlog::warn("msg=\"container lost with its keeper: killed\" id={}", id.value);
}

void on_exit_reported(context& ctx, const exec::keeper::exit_status& exit) {
  auto c = ctx.state.get_container(container_id{exit.id});
  if (!c) return;  // a pod's init, or a container being removed
  ctx.pool.spawn(ctx.core_of(sandbox_id{c->pod_sandbox_id()}), [&ctx, exit] { return apply_exit(ctx, exit); });
}

reactor::task<result<void>> stop_container_process(context& ctx, const container_id& id,
                                                    std::chrono::seconds timeout) {
  auto c = ctx.state.get_container(id);
  if (!c) co_return fail(error_kind::not_found, fmt::format("container \"{}\" not found", id.value));
  if (c->state() == v1::CONTAINER_CREATED) co_return result<void>{};
  auto pidfd = ctx.processes.get(id.value);
  if (c->state() == v1::CONTAINER_RUNNING && pidfd) {
    bool gone = false;
    if (timeout.count() > 0) {
      int sig = c->stop_signal() > 0 ? c->stop_signal() : SIGTERM;
      if (auto sent = send_signal(pidfd->get(), sig, id); !sent) co_return sent;
      crash_point(point("stop_container.after_signal"));
      gone = co_await exited_within(pidfd->get(), timeout);
    }
    if (!gone) {
      if (auto sent = send_signal(pidfd->get(), SIGKILL, id); !sent) co_return sent;
      // Bound to a local: g++ 12 miscompiles `if (!co_await ...)`.
      bool killed = co_await exited_within(pidfd->get(), std::chrono::seconds(10));
      if (!killed)
        co_return fail(error_kind::deadline_exceeded,
                       fmt::format("container \"{}\" did not die within 10 s of SIGKILL", id.value));
    }
  }
  if (c->state() == v1::CONTAINER_RUNNING) {
    if (auto recorded = co_await wait_exited_state(ctx, id, std::chrono::seconds(5)); !recorded)
      co_return recorded;
    crash_point(point("stop_container.after_exit_recorded"));
  }
  // The main process has ended; whatever it left behind goes too.
  std::string cgroup = c->cgroup_path();
  co_return co_await kill_leftovers(ctx, cgroup);
}

reactor::task<result<void>> remove_container_resources(context& ctx, const records::container& c) {
  auto forgotten = co_await ctx.keeper->remove(c.id());
  if (!forgotten) {
    // A keeper that is gone holds nothing any more: what it started is
    // killed below, through the pidfd and the cgroup, and a keeper that
    // comes back forgets entries nobody names (reattach.cpp).
    if (forgotten.error().kind() != error_kind::unavailable)
      co_return tl::unexpected(forgotten.error().context("keeper"));
    kill_held_process(ctx, c.id());
  }
  crash_point(point("remove_container.after_keeper_remove"));
  ctx.processes.erase(c.id());
  std::filesystem::path dir = container_dir_of(ctx.cfg, c.id());
  std::string cgroup = c.cgroup_path();
  // The lambda captures by reference only: g++ 12 destroys a co_await
  // operand's temporaries twice when they have destructors.
  if (auto killed = co_await kill_leftovers(ctx, cgroup); !killed) co_return killed;
  auto removed = co_await reactor::run_blocking([&]() -> result<void> {
    if (!cgroup.empty()) {
      if (auto ok = ctx.cgroups->remove(cgroup); !ok) return ok;
    }
    unique_fd parent(::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent) return errno == ENOENT ? result<void>{} : fail_errno(errno, "open " + dir.parent_path().string());
    return sys::remove_tree(parent.get(), dir.filename().string());
  });
  co_return removed;
}

}  // namespace ringcri::cri
