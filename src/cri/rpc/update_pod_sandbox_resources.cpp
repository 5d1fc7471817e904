#include <fmt/format.h>

#include "cri/rpc/handlers.hpp"

namespace ringcri::cri::rpc {

// The kubelet sets the pod cgroup's limits itself (its pod-level resize
// writes them before and after the containers'); the runtime's part is to
// pass the new totals to its NRI plugins. containerd 2.1 and CRI-O do
// exactly that and answer OK, NOT_FOUND for an unknown pod. ringcri has no
// NRI, so a known pod is all there is to check.
task<result<void>> update_pod_sandbox_resources(context& ctx,
                                                const v1::UpdatePodSandboxResourcesRequest& req,
                                                v1::UpdatePodSandboxResourcesResponse&) {
  auto id = ctx.state.resolve_pod(req.pod_sandbox_id());
  if (!id) co_return tl::unexpected(id.error());
  if (!ctx.state.get_pod(*id))
    co_return fail(error_kind::not_found,
                   fmt::format("pod sandbox \"{}\" not found", req.pod_sandbox_id()));
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
