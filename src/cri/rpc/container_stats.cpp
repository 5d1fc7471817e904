#include <fmt/format.h>

#include "cri/rpc/handlers.hpp"
#include "cri/stats/collect.hpp"

namespace ringcri::cri::rpc {

task<result<void>> container_stats(context& ctx, const v1::ContainerStatsRequest& req,
                                   v1::ContainerStatsResponse& resp) {
  auto id = ctx.state.resolve_container(req.container_id());
  if (!id) co_return tl::unexpected(id.error());
  auto c = ctx.state.get_container(*id);
  if (!c) co_return fail(error_kind::not_found, fmt::format("container \"{}\" not found", req.container_id()));
  auto stats = co_await stats::container_stats_of(ctx, *c);
  if (!stats) co_return tl::unexpected(stats.error());
  *resp.mutable_stats() = std::move(*stats);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
