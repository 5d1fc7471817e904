#include <spdlog/spdlog.h>

#include "cri/rpc/handlers.hpp"

namespace ringcri::cri::rpc {

// The kubelet sends the node's pod CIDR; it is kept durably so a restarted
// daemon hands it to CNI without waiting for the kubelet to send it again.
task<result<void>> update_runtime_config(context& ctx, const v1::UpdateRuntimeConfigRequest& req,
                                         v1::UpdateRuntimeConfigResponse&) {
  const auto& network = req.runtime_config().network_config();
  if (network.pod_cidr() == ctx.settings.pod_cidr()) co_return result<void>{};
  auto saved = co_await ctx.store.put(runtime_kind, "network", network.SerializeAsString());
  if (!saved) co_return tl::unexpected(std::move(saved.error()).context("store pod CIDR"));
  ctx.settings.set_pod_cidr(network.pod_cidr());
  spdlog::info("msg=\"pod CIDR set\" cidr={}", network.pod_cidr());
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
