#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/crash_point.hpp"
#include "cri/events.hpp"
#include "cri/container_process.hpp"
#include "cri/pod_resources.hpp"
#include "cri/records_io.hpp"
#include "cri/rpc/handlers.hpp"

namespace ringcri::cri::rpc {

// Kills and removes every container of the pod, then everything the pod
// holds. A pod that is already gone is not an error (the CRI asks for
// idempotence here).
task<result<void>> remove_pod_sandbox(context& ctx, const v1::RemovePodSandboxRequest& req,
                                      v1::RemovePodSandboxResponse&) {
  auto id = ctx.state.resolve_pod(req.pod_sandbox_id());
  if (!id) {
    if (id.error().kind() == error_kind::not_found) co_return result<void>{};
    co_return tl::unexpected(id.error());
  }
  auto context_of = [&](error e) { return tl::unexpected(std::move(e).context(fmt::format("remove pod sandbox \"{}\"", id->value))); };
  for (const auto& c : ctx.state.containers_of(*id)) {
    container_id cid{c.id()};
    if (auto stopped = co_await stop_container_process(ctx, cid, std::chrono::seconds(0)); !stopped)
      co_return context_of(stopped.error());
    auto latest = ctx.state.get_container(cid);
    if (!latest) continue;
    if (auto removed = co_await remove_container_resources(ctx, *latest); !removed)
      co_return context_of(removed.error());
    ctx.state.remove_container(cid);
    if (auto dropped = co_await ctx.store.remove(containers_kind, c.id()); !dropped) co_return context_of(dropped.error());
    publish_container_event(ctx, *latest, v1::CONTAINER_DELETED_EVENT);
  }
  crash_point(point("remove_pod_sandbox.after_containers"));
  auto pod = ctx.state.get_pod(*id);
  if (!pod) co_return result<void>{};
  if (auto removed = co_await remove_pod_resources(ctx, *pod); !removed) co_return context_of(removed.error());
  crash_point(point("remove_pod_sandbox.after_resources"));
  if (auto gone = ctx.state.remove_pod(*id); !gone) co_return tl::unexpected(gone.error());
  if (auto dropped = co_await ctx.store.remove(pods_kind, id->value); !dropped) co_return context_of(dropped.error());
  crash_point(point("remove_pod_sandbox.after_record"));
  publish_pod_event(ctx, *pod, v1::CONTAINER_DELETED_EVENT);
  spdlog::info("msg=\"pod sandbox removed\" id={}", id->value);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
