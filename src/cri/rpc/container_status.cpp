#include "cri/rpc/handlers.hpp"
#include "cri/views/container_view.hpp"

namespace ringcri::cri::rpc {

task<result<void>> container_status(context& ctx, const v1::ContainerStatusRequest& req,
                                    v1::ContainerStatusResponse& resp) {
  auto id = ctx.state.resolve_container(req.container_id());
  if (!id) co_return tl::unexpected(id.error());
  auto c = ctx.state.get_container(*id);
  if (!c) co_return fail(error_kind::not_found, "container \"" + req.container_id() + "\" not found");
  *resp.mutable_status() = container_status_of(*c);
  if (req.verbose()) (*resp.mutable_info())["info"] = container_info(*c);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
