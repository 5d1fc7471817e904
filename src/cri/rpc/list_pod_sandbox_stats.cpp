#include "cri/rpc/handlers.hpp"
#include "cri/stats/collect.hpp"

namespace ringcri::cri::rpc {

// The stats of every ready pod, filtered as ListPodSandbox filters.
task<result<void>> list_pod_sandbox_stats(context& ctx, const v1::ListPodSandboxStatsRequest& req,
                                          v1::ListPodSandboxStatsResponse& resp) {
  v1::PodSandboxFilter filter;
  filter.set_id(req.filter().id());
  *filter.mutable_label_selector() = req.filter().label_selector();
  filter.mutable_state()->set_state(v1::SANDBOX_READY);
  const auto pods = ctx.state.list_pods(&filter);
  for (const auto& pod : pods) {
    auto stats = co_await stats::pod_stats_of(ctx, pod);
    if (stats) *resp.add_stats() = std::move(*stats);  // one removed meanwhile is left out
  }
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
