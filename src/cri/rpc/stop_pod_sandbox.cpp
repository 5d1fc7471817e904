#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/crash_point.hpp"
#include "cri/events.hpp"
#include "cri/container_process.hpp"
#include "cri/pod_resources.hpp"
#include "cri/records_io.hpp"
#include "cri/rpc/handlers.hpp"

namespace ringcri::cri::rpc {

// Kills every container of the pod (the kubelet has already stopped them
// gracefully when it cares) and releases the pod's namespaces. Stopping a
// stopped pod does it all again, harmlessly; stopping one that is gone
// succeeds (the CRI's stop is idempotent).
task<result<void>> stop_pod_sandbox(context& ctx, const v1::StopPodSandboxRequest& req,
                                    v1::StopPodSandboxResponse&) {
  auto id = ctx.state.resolve_pod(req.pod_sandbox_id());
  if (!id) {
    if (id.error().kind() == error_kind::not_found) co_return result<void>{};
    co_return tl::unexpected(id.error());
  }
  for (const auto& c : ctx.state.containers_of(*id)) {
    container_id cid{c.id()};  // a named local: no temporaries with destructors inside co_await
    auto stopped = co_await stop_container_process(ctx, cid, std::chrono::seconds(0));
    if (!stopped) co_return tl::unexpected(stopped.error().context(fmt::format("stop pod sandbox \"{}\"", id->value)));
  }
  crash_point(point("stop_pod_sandbox.after_containers"));
  auto pod = ctx.state.get_pod(*id);
  if (!pod) co_return result<void>{};  // removed meanwhile
  auto released = co_await release_pod_namespaces(ctx, *pod);
  if (!released) co_return tl::unexpected(released.error().context(fmt::format("stop pod sandbox \"{}\"", id->value)));
  crash_point(point("stop_pod_sandbox.after_cni_del"));
  auto updated = ctx.state.update_pod(*id, v1::SANDBOX_NOTREADY, [](records::pod_sandbox& p) {
    p.set_init_pid(0);
    p.set_netns_path("");
    p.set_ipc_ns_path("");
    p.set_uts_ns_path("");
    p.set_cni_network("");  // detached: nothing left for a later DEL
    p.set_cni_result("");
  });
  if (!updated) co_return tl::unexpected(updated.error());
  if (auto saved = co_await persist(ctx, *updated); !saved) co_return saved;
  publish_pod_event(ctx, *updated, v1::CONTAINER_STOPPED_EVENT);
  spdlog::info("msg=\"pod sandbox stopped\" id={}", id->value);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
