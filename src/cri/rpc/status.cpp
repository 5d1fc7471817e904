#include <nlohmann/json.hpp>

#include "cri/pod_network.hpp"
#include "cri/rpc/handlers.hpp"
#include "version.hpp"

namespace ringcri::cri::rpc {

task<result<void>> status(context& ctx, const v1::StatusRequest& req, v1::StatusResponse& resp) {
  auto* conditions = resp.mutable_status();
  auto* runtime = conditions->add_conditions();
  runtime->set_type("RuntimeReady");
  runtime->set_status(true);

  // Ready when the node has a CNI network config that loads; kubelet
  // keeps pods off the node until then.
  auto not_ready = co_await network_not_ready_reason(ctx);
  auto* network = conditions->add_conditions();
  network->set_type("NetworkReady");
  network->set_status(!not_ready);
  if (not_ready) {
    network->set_reason("NetworkPluginNotReady");
    network->set_message(*not_ready);
  }

  auto* handler = resp.add_runtime_handlers();
  handler->set_name("");  // the default handler
  handler->mutable_features()->set_recursive_read_only_mounts(false);
  handler->mutable_features()->set_user_namespaces(ctx.user_namespaces);

  if (req.verbose()) {
    nlohmann::json config = {
        {"root", ctx.cfg.root_dir.string()},
        {"state", ctx.cfg.state_dir.string()},
        // The names containerd gives them, which critest and crictl read.
        {"rootDir", ctx.cfg.root_dir.string()},
        {"stateDir", ctx.cfg.state_dir.string()},
        {"socket", ctx.cfg.socket_path().string()},
        {"cores", ctx.pool.size()},
        {"logLevel", ctx.cfg.log_level},
        {"cgroupDriver", ctx.cfg.cgroup_driver},
        {"podCIDR", ctx.settings.pod_cidr()},
        {"cniConfDir", ctx.cfg.cni.conf_dir.string()},
        {"pidsLimit", ctx.cfg.pids_limit},
    };
    (*resp.mutable_info())["config"] = config.dump();
    (*resp.mutable_info())["version"] = nlohmann::json{{"version", ringcri::version}}.dump();
    nlohmann::json objects = {{"podSandboxes", ctx.state.pod_count()},
                              {"containers", ctx.state.container_count()}};
    (*resp.mutable_info())["objects"] = objects.dump();
  }
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
