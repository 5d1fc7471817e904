#include "cri/rpc/handlers.hpp"
#include "cri/stats/collect.hpp"

namespace ringcri::cri::rpc {

// The stats of every container that has a cgroup with processes to count
// (created or running), filtered as ListContainers filters.
task<result<void>> list_container_stats(context& ctx, const v1::ListContainerStatsRequest& req,
                                        v1::ListContainerStatsResponse& resp) {
  v1::ContainerFilter filter;
  filter.set_id(req.filter().id());
  filter.set_pod_sandbox_id(req.filter().pod_sandbox_id());
  *filter.mutable_label_selector() = req.filter().label_selector();
  const auto containers = ctx.state.list_containers(&filter);
  for (const auto& c : containers) {
    if (c.state() != v1::CONTAINER_RUNNING && c.state() != v1::CONTAINER_CREATED) continue;
    auto stats = co_await stats::container_stats_of(ctx, c);
    if (stats) *resp.add_stats() = std::move(*stats);  // one removed meanwhile is left out
  }
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
