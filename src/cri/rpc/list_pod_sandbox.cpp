#include "cri/rpc/handlers.hpp"
#include "cri/views/pod_sandbox_view.hpp"

namespace ringcri::cri::rpc {

task<result<void>> list_pod_sandbox(context& ctx, const v1::ListPodSandboxRequest& req,
                                    v1::ListPodSandboxResponse& resp) {
  for (const auto& pod : ctx.state.list_pods(req.has_filter() ? &req.filter() : nullptr))
    *resp.add_items() = pod_sandbox_of(pod);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
