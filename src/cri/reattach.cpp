#include "cri/reattach.hpp"

#include <filesystem>
#include <map>

#include <spdlog/spdlog.h>

#include "cri/container_process.hpp"
#include "cri/keeper_link.hpp"
#include "cri/paths.hpp"
#include "cri/records_io.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::cri {

namespace v1 = ::runtime::v1;

reactor::task<result<void>> reattach(context& ctx) {
  auto listed = co_await ctx.keeper->list();
  if (!listed) co_return tl::unexpected(listed.error().context("list what the keeper holds"));
  std::map<std::string, keeper::held> held;
  for (auto& h : *listed) held.emplace(h.id, std::move(h));

  std::size_t alive = 0, exited = 0, lost = 0;
  for (const auto& pod : ctx.state.list_pods(nullptr)) {
    if (pod.init_pid() <= 0) continue;
    auto it = held.find(pod.id());
    if (it != held.end() && !it->second.exited) {
      ctx.processes.put(pod.id(), std::move(it->second.pidfd));
      continue;
    }
    // Its init is gone with a keeper (or ended): the pod's pid namespace
    // is no more, and the pod is not ready.
    kill_held_process(ctx, pod.id());
    if (pod.state() == v1::SANDBOX_READY) {
      auto updated = ctx.state.update_pod(sandbox_id{pod.id()}, v1::SANDBOX_NOTREADY,
                                          [](records::pod_sandbox& p) { p.set_init_pid(0); });
      if (updated) (void)co_await persist(ctx, *updated);
      spdlog::warn("msg=\"pod's init lost with the keeper: pod not ready\" pod={}", pod.id());
    }
  }
  for (const auto& c : ctx.state.list_containers(nullptr)) {
    if (c.state() != v1::CONTAINER_CREATED && c.state() != v1::CONTAINER_RUNNING) continue;
    auto it = held.find(c.id());
    if (it != held.end() && !it->second.exited) {
      ctx.processes.put(c.id(), std::move(it->second.pidfd));
      ++alive;
      // Started, but the daemon went before it saved so.
      if (c.state() == v1::CONTAINER_CREATED && it->second.started) {
        auto started_at = it->second.started_at;
        auto updated = ctx.state.update_container(container_id{c.id()}, v1::CONTAINER_RUNNING,
                                                  [&](records::container& r) { r.set_started_at(started_at); });
        if (updated) (void)co_await persist(ctx, *updated);
      }
      continue;
    }
    if (it != held.end() && c.state() == v1::CONTAINER_CREATED && it->second.started) {
      auto started_at = it->second.started_at;
      (void)ctx.state.amend_container(container_id{c.id()}, [&](records::container& r) { r.set_started_at(started_at); });
    }
    exec::keeper::exit_status exit;
    if (it != held.end()) {
      exit = it->second.exit;
    } else if (auto record = exec::keeper::read_exit_record(exit_path_of(ctx.cfg, c.id())); record) {
      exit = *record;
    } else {
      // Nobody holds its output or will see its exit.
      container_id id{c.id()};
      co_await lose_with_keeper(ctx, id);
      ++lost;
      continue;
    }
    exit.id = c.id();
    co_await apply_exit(ctx, exit);
    ++exited;
  }
  // What the keeper holds with no record: a daemon killed between the
  // keeper's create and the record's write. Nobody can name it; remove it.
  std::size_t orphans = 0;
  for (auto& [id, h] : held) {
    if (ctx.state.get_container(container_id{id}) || ctx.state.get_pod(sandbox_id{id})) continue;
    if (auto removed = co_await ctx.keeper->remove(id); !removed)
      spdlog::warn("msg=\"orphan not removed\" id={} error=\"{}\"", id, removed.error().message());
    std::filesystem::path dir = container_dir_of(ctx.cfg, id);
    co_await reactor::run_blocking([&] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);  // its writable layer: nothing is mounted there on the host
    });
    ++orphans;
  }
  spdlog::info("msg=\"containers reattached\" running={} exited_meanwhile={} lost={} orphans_removed={}", alive,
               exited, lost, orphans);
  co_return result<void>{};
}

}  // namespace ringcri::cri
