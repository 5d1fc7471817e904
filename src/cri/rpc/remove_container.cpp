#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/crash_point.hpp"
#include "cri/events.hpp"
#include "cri/container_process.hpp"
#include "cri/rpc/handlers.hpp"

namespace ringcri::cri::rpc {

// Kills the container if it still runs, then removes everything it holds
// and its record. Removing a removed container is not an error.
task<result<void>> remove_container(context& ctx, const v1::RemoveContainerRequest& req,
                                    v1::RemoveContainerResponse&) {
  auto id = ctx.state.resolve_container(req.container_id());
  if (!id) {
    if (id.error().kind() == error_kind::not_found) co_return result<void>{};
    co_return tl::unexpected(id.error());
  }
  const std::string what = fmt::format("remove container \"{}\"", id->value);
  if (auto stopped = co_await stop_container_process(ctx, *id, std::chrono::seconds(0)); !stopped)
    co_return tl::unexpected(stopped.error().context(what));
  auto c = ctx.state.get_container(*id);
  if (!c) co_return result<void>{};
  if (auto removed = co_await remove_container_resources(ctx, *c); !removed)
    co_return tl::unexpected(removed.error().context(what));
  crash_point(point("remove_container.after_resources"));
  ctx.state.remove_container(*id);
  if (auto dropped = co_await ctx.store.remove(containers_kind, id->value); !dropped)
    co_return tl::unexpected(dropped.error().context(what));
  publish_container_event(ctx, *c, v1::CONTAINER_DELETED_EVENT);
  spdlog::debug("msg=\"container removed\" id={}", id->value);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
