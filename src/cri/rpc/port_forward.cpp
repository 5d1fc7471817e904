// PortForward: checks the pod and answers with a one-time URL of the
// streaming server, which connects to ports inside the pod's network
// namespace.

#include <fmt/format.h>

#include "cri/rpc/handlers.hpp"
#include "cri/state/transitions.hpp"
#include "cri/streaming/server.hpp"

namespace ringcri::cri::rpc {

task<result<void>> port_forward(context& ctx, const v1::PortForwardRequest& req, v1::PortForwardResponse& resp) {
  auto id = ctx.state.resolve_pod(req.pod_sandbox_id());
  if (!id) co_return tl::unexpected(id.error());
  auto pod = ctx.state.get_pod(*id);
  if (!pod) co_return fail(error_kind::not_found, fmt::format("pod sandbox \"{}\" not found", req.pod_sandbox_id()));
  if (pod->state() != v1::SANDBOX_READY)
    co_return fail(error_kind::failed_precondition,
                   fmt::format("pod sandbox \"{}\" is not ready ({})", id->value, state::state_name(pod->state())));

  streaming::port_forward_request stored;
  stored.pod_id = id->value;
  for (auto port : req.port()) {
    if (port < 1 || port > 65535)
      co_return fail(error_kind::invalid_argument, fmt::format("PortForward: port {} is not in 1..65535", port));
    stored.ports.push_back(static_cast<std::uint16_t>(port));
  }
  auto url = ctx.streaming->url_for(std::move(stored));
  if (!url) co_return tl::unexpected(url.error());
  resp.set_url(*url);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
