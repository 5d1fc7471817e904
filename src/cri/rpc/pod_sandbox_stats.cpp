#include <fmt/format.h>

#include "cri/rpc/handlers.hpp"
#include "cri/stats/collect.hpp"

namespace ringcri::cri::rpc {

task<result<void>> pod_sandbox_stats(context& ctx, const v1::PodSandboxStatsRequest& req,
                                     v1::PodSandboxStatsResponse& resp) {
  auto id = ctx.state.resolve_pod(req.pod_sandbox_id());
  if (!id) co_return tl::unexpected(id.error());
  auto pod = ctx.state.get_pod(*id);
  if (!pod) co_return fail(error_kind::not_found, fmt::format("pod sandbox \"{}\" not found", req.pod_sandbox_id()));
  auto stats = co_await stats::pod_stats_of(ctx, *pod);
  if (!stats) co_return tl::unexpected(stats.error());
  *resp.mutable_stats() = std::move(*stats);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
