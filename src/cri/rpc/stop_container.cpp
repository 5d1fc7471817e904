#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cri/container_process.hpp"
#include "cri/rpc/handlers.hpp"

namespace ringcri::cri::rpc {

// The image's StopSignal (SIGTERM by default), SIGKILL after `timeout`
// seconds; answers once the exit is recorded. A container that is not
// running is already stopped, and one that is gone too (the CRI's stop is
// idempotent: critest asks it of an unknown id).
task<result<void>> stop_container(context& ctx, const v1::StopContainerRequest& req,
                                  v1::StopContainerResponse&) {
  auto id = ctx.state.resolve_container(req.container_id());
  if (!id) {
    if (id.error().kind() == error_kind::not_found) co_return result<void>{};
    co_return tl::unexpected(id.error());
  }
  auto timeout = std::chrono::seconds(req.timeout() > 0 ? req.timeout() : 0);
  auto stopped = co_await stop_container_process(ctx, *id, timeout);
  if (!stopped) co_return tl::unexpected(stopped.error().context(fmt::format("stop container \"{}\"", id->value)));
  spdlog::debug("msg=\"container stopped\" id={}", id->value);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
