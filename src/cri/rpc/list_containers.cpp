#include "cri/rpc/handlers.hpp"
#include "cri/views/container_view.hpp"

namespace ringcri::cri::rpc {

task<result<void>> list_containers(context& ctx, const v1::ListContainersRequest& req,
                                   v1::ListContainersResponse& resp) {
  for (const auto& c : ctx.state.list_containers(req.has_filter() ? &req.filter() : nullptr))
    *resp.add_containers() = container_of(c);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
