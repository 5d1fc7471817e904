#include <nlohmann/json.hpp>

#include "base/sys/mount_setattr.hpp"
#include "cri/pod_network.hpp"
#include "cri/rpc/handlers.hpp"
#include "version.hpp"

namespace ringcri::cri::rpc {

namespace {

// What a pod of `handler` may ask for. Every handler spawns the same way
// today, so these are the node's; a handler setting of its own (user
// namespaces by default, say) decides its entry here.
void fill_features(v1::RuntimeHandlerFeatures& features, const config::runtime_handler_config&,
                   bool node_has_user_namespaces) {
  features.set_recursive_read_only_mounts(sys::kernel_has_mount_setattr());
  features.set_user_namespaces(node_has_user_namespaces);
}

}  // namespace

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

  // The default handler as "" and by its name (containerd lists its
  // default runtime both ways too), then each configured one.
  auto add_handler = [&](const std::string& name, const config::runtime_handler_config& handler) {
    auto* entry = resp.add_runtime_handlers();
    entry->set_name(name);
    fill_features(*entry->mutable_features(), handler, ctx.user_namespaces);
  };
  const auto& default_handler = *ctx.cfg.runtime_handler("");
  add_handler("", default_handler);
  add_handler(config::default_runtime_handler, default_handler);
  for (const auto& [name, handler] : ctx.cfg.runtimes)
    if (name != config::default_runtime_handler) add_handler(name, handler);
  resp.mutable_features()->set_supplemental_groups_policy(true);

  if (req.verbose()) {
    nlohmann::json config = {
        {"root", ctx.cfg.root_dir.string()},
        {"state", ctx.cfg.state_dir.string()},
        // containerd's names for the same, which crictl and critest read.
        {"rootDir", ctx.cfg.root_dir.string()},
        {"stateDir", ctx.cfg.state_dir.string()},
        {"socket", ctx.cfg.socket_path().string()},
        {"cores", ctx.pool.size()},
        {"logLevel", ctx.live.get()->log_level},
        {"cgroupDriver", ctx.cfg.cgroup_driver},
        {"podCIDR", ctx.settings.pod_cidr()},
        {"cniConfDir", ctx.live.get()->cni.conf_dir.string()},
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
