#include <chrono>

#include "cri/rpc/handlers.hpp"
#include "cri/views/container_view.hpp"
#include "cri/views/pod_sandbox_view.hpp"

namespace ringcri::cri::rpc {

task<result<void>> pod_sandbox_status(context& ctx, const v1::PodSandboxStatusRequest& req,
                                      v1::PodSandboxStatusResponse& resp) {
  auto id = ctx.state.resolve_pod(req.pod_sandbox_id());
  if (!id) co_return tl::unexpected(id.error());
  auto pod = ctx.state.get_pod(*id);
  if (!pod) co_return fail(error_kind::not_found, "pod sandbox \"" + req.pod_sandbox_id() + "\" not found");
  *resp.mutable_status() = pod_sandbox_status_of(*pod);
  for (const auto& c : ctx.state.containers_of(*id)) *resp.add_containers_statuses() = container_status_of(c);
  resp.set_timestamp(std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  if (req.verbose()) (*resp.mutable_info())["info"] = pod_sandbox_info(*pod);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
