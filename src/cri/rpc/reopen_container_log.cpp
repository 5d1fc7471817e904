#include <fmt/format.h>

#include "cri/keeper_link.hpp"
#include "cri/rpc/handlers.hpp"

namespace ringcri::cri::rpc {

// The kubelet renamed the log file (rotation); the keeper opens a fresh
// one at the same path.
task<result<void>> reopen_container_log(context& ctx, const v1::ReopenContainerLogRequest& req,
                                        v1::ReopenContainerLogResponse&) {
  auto id = ctx.state.resolve_container(req.container_id());
  if (!id) co_return tl::unexpected(id.error());
  auto c = ctx.state.get_container(*id);
  if (!c || c->state() != v1::CONTAINER_RUNNING)
    co_return fail(error_kind::failed_precondition,
                   fmt::format("container \"{}\" is not running: its log cannot be reopened", id->value));
  auto reopened = co_await ctx.keeper->reopen_log(id->value);
  if (!reopened) co_return tl::unexpected(reopened.error().context(fmt::format("reopen the log of container \"{}\"", id->value)));
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
