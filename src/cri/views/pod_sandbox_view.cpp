#include "cri/views/pod_sandbox_view.hpp"

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

namespace ringcri::cri {

namespace v1 = ::runtime::v1;

v1::PodSandbox pod_sandbox_of(const records::pod_sandbox& pod) {
  v1::PodSandbox out;
  out.set_id(pod.id());
  *out.mutable_metadata() = pod.config().metadata();
  out.set_state(pod.state());
  out.set_created_at(pod.created_at());
  *out.mutable_labels() = pod.config().labels();
  *out.mutable_annotations() = pod.config().annotations();
  out.set_runtime_handler(pod.runtime_handler());
  return out;
}

v1::PodSandboxStatus pod_sandbox_status_of(const records::pod_sandbox& pod) {
  v1::PodSandboxStatus out;
  out.set_id(pod.id());
  *out.mutable_metadata() = pod.config().metadata();
  out.set_state(pod.state());
  out.set_created_at(pod.created_at());
  if (!pod.ips().empty()) {
    out.mutable_network()->set_ip(pod.ips(0));
    for (int i = 1; i < pod.ips_size(); ++i) out.mutable_network()->add_additional_ips()->set_ip(pod.ips(i));
  }
  const auto& sc = pod.config().linux().security_context();
  if (sc.has_namespace_options())
    *out.mutable_linux()->mutable_namespaces()->mutable_options() = sc.namespace_options();
  *out.mutable_labels() = pod.config().labels();
  *out.mutable_annotations() = pod.config().annotations();
  out.set_runtime_handler(pod.runtime_handler());
  return out;
}

// What `crictl inspectp` shows under "info": where the pod's namespaces,
// files and cgroup are, and the config it was made with.
std::string pod_sandbox_info(const records::pod_sandbox& pod) {
  nlohmann::json info;
  info["pid"] = pod.init_pid();
  info["netNamespacePath"] = pod.netns_path();
  info["ipcNamespacePath"] = pod.ipc_ns_path();
  info["utsNamespacePath"] = pod.uts_ns_path();
  info["cgroupPath"] = pod.cgroup_path();
  info["podDir"] = pod.pod_dir();
  info["hostsPath"] = pod.hosts_path();
  info["resolvConfPath"] = pod.resolv_conf_path();
  info["runtimeHandler"] = pod.runtime_handler();
  // How each CNI plugin ran at ADD: in-process or exec'd, and why exec'd.
  if (!pod.cni_plugins().empty()) info["cniPlugins"] = pod.cni_plugins();
  std::string config;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(pod.config(), &config, options);
  auto parsed = nlohmann::json::parse(config, nullptr, false);
  if (!parsed.is_discarded()) info["config"] = std::move(parsed);
  return info.dump();
}

}  // namespace ringcri::cri
